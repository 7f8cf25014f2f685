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

import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.motion.track import CHANNELS, MotionTrack


def read_motion_track(path: str | Path, fps: float, n_frames: int) -> MotionTrack:
    """The track in ``path``, checked against a render of ``n_frames`` at ``fps``, with every channel."""
    track = MotionTrack.load(path)
    if abs(track.fps - fps) > 1e-6:
        raise TalkingHeadError(f"motion track {path} is at {track.fps:g} fps but the video is at {fps:g} fps: "
                               f"render with --fps {track.fps:g}")
    for name, values in track.channels.items():
        if values.ndim != 1:
            raise TalkingHeadError(f"motion track {path}: channel {name} must be a flat list of numbers")
        if not np.all(np.isfinite(values)):
            raise TalkingHeadError(f"motion track {path}: channel {name} has values that are not finite numbers")
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


def write_motion_track(track: MotionTrack, path: str | Path) -> None:
    """Save ``track`` as JSON, all or nothing (a temporary file renamed into place)."""
    path = Path(path)
    try:
        with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                         delete=False) as handle:
            temporary = Path(handle.name)
        track.save(temporary)
        os.replace(temporary, path)
    except OSError as exc:
        raise TalkingHeadError(f"cannot write motion track {path}: {exc.strerror or exc}") from None
