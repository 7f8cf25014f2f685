"""Reading a MotionTrack a person made or edited (``--motion-in``) and writing the one rendered (``--motion-out``).

A track from a file must match the render: the same frame rate, and one frame per video frame of the
audio (a one-frame difference from rounding is absorbed by holding the last frame or dropping it).
Channels it leaves out rest at 0. Anything else is refused with a message that says what to change.
The format is documented in docs/motion-track.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.input_files import MOTION_TRACK_BYTES, read_json
from talkinghead.motion.track import CHANNELS, MotionTrack

DEGREE_CHANNELS = ("head_yaw", "head_pitch", "head_roll", "gaze_yaw", "gaze_pitch")
# How far a channel read from a file may go: well past anything the generator makes or a person would want,
# and far short of values that would throw the face out of the frame by orders of magnitude (1e30).
CHANNEL_LIMITS = {name: (-90.0, 90.0) if name in DEGREE_CHANNELS else (-2.0, 2.0) for name in CHANNELS}
CHANNEL_LIMITS.update({"head_x": (-1.0, 1.0), "head_y": (-1.0, 1.0), "head_scale": (-0.9, 3.0)})


def read_motion_track(path: str | Path, fps: float, n_frames: int) -> MotionTrack:
    """The track in ``path``, checked against a render of ``n_frames`` at ``fps``, with every channel."""
    track = parse_motion_track(read_json(path, "motion track", MOTION_TRACK_BYTES), f"motion track {path}")
    if abs(track.fps - fps) > 1e-6:
        raise TalkingHeadError(f"motion track {path} is at {track.fps:g} fps but the video is at {fps:g} fps: "
                               f"render with --fps {track.fps:g}")
    if abs(track.n_frames - n_frames) > 1 and track.channels:
        raise TalkingHeadError(
            f"motion track {path} has {track.n_frames} frames ({track.n_frames / fps:.2f} s) but the audio needs "
            f"{n_frames} frames ({n_frames / fps:.2f} s at {fps:g} fps)"
        )
    channels = {}
    for name in CHANNELS:
        values = track.channels.get(name, np.zeros(n_frames, np.float32))
        if len(values) < n_frames:
            values = np.concatenate([values, np.repeat(values[-1:], n_frames - len(values))])
        channels[name] = values[:n_frames]
    return MotionTrack(fps, channels)


def parse_motion_track(data: Any, where: str) -> MotionTrack:
    """A `MotionTrack` from parsed JSON, every type and value checked first (see docs/motion-track.md)."""
    if not isinstance(data, dict) or "fps" not in data or not isinstance(data.get("channels"), dict):
        raise TalkingHeadError(f"{where} is not a motion track: it needs \"fps\" and an object of \"channels\" "
                               "(see docs/motion-track.md)")
    fps = data["fps"]
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not 1.0 <= fps <= 120.0:
        raise TalkingHeadError(f"{where}: \"fps\" must be a number between 1 and 120, got {_shown(fps)}")
    channels = {}
    for name, values in data["channels"].items():
        if name not in CHANNEL_LIMITS:
            raise TalkingHeadError(f"{where}: unknown motion channel {_shown(name)}; known: {', '.join(CHANNELS)}")
        if not isinstance(values, list) or not values or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            raise TalkingHeadError(f"{where}: channel {name} must be a non-empty flat list of numbers")
        low, high = CHANNEL_LIMITS[name]
        try:
            array = np.asarray(values, dtype=np.float64)
        except OverflowError:  # an integer with hundreds of digits
            array = np.array([np.inf])
        if not (np.all(np.isfinite(array)) and low <= array.min() and array.max() <= high):
            raise TalkingHeadError(f"{where}: channel {name} has values outside {low:g}..{high:g}")
        channels[name] = array.astype(np.float32)
    return MotionTrack(float(fps), channels)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def write_motion_track(track: MotionTrack, path: str | Path) -> None:
    """Save ``track`` as JSON, all or nothing (a temporary file renamed into place)."""
    path = Path(path)
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp",
                                         delete=False) as handle:
            temporary = Path(handle.name)
        track.save(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise TalkingHeadError(f"cannot write motion track {path}: {exc.strerror or exc}") from None
