"""`MotionTrack`: what the face does, frame by frame — the contract between motion and rendering.

A track is a frame rate plus one float array per named channel, all the same length. Every channel rests
at 0 (head as in the photo, eyes open and looking as in the photo, lips together, no added expression), and
a missing channel is at rest. It is plain data: build one by hand, edit it, save it as JSON, and the
renderer draws it. (A rig's ``neutral`` values reproduce its photo exactly, open mouth included.)

Channels and units:
- mouth (0..1 unless noted; absolute: 0 = lips together, whatever the photo shows): ``jaw_open``,
  ``lips_open``, ``lip_width`` (-1 round .. +1 spread), ``lip_pucker``, ``lower_lip_tuck``,
  ``upper_lip_raise``, ``tongue_show``;
- head: ``head_yaw`` (+ turns towards the image's right), ``head_pitch`` (+ nods down), ``head_roll``
  (+ tilts clockwise), all in degrees; ``head_x``, ``head_y`` (shift as a share of the frame size, + right /
  down); ``head_scale`` (relative size change, 0.1 = 10% larger);
- eyes: ``blink_left``, ``blink_right`` (0 open .. 1 closed; subject's left/right), ``gaze_yaw``,
  ``gaze_pitch`` (degrees, eye-in-head, with the head's signs: + towards the image's right, + down);
- brows and expression (0..1): ``brow_raise``, ``brow_furrow``, ``smile`` (down to -1: corners pulled
  down; absolute like the mouth: 0 is a relaxed mouth even on a grinning photo), ``cheek_raise``,
  ``photo_expression`` (share of the photo's own smile kept on top of ``smile``: 0 releases it, 1 keeps it).

docs/motion-track.md documents the JSON form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from talkinghead.errors import TalkingHeadError

MOUTH_CHANNELS = ("jaw_open", "lips_open", "lip_width", "lip_pucker", "lower_lip_tuck", "upper_lip_raise",
                  "tongue_show")
HEAD_CHANNELS = ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y", "head_scale")
EYE_CHANNELS = ("blink_left", "blink_right", "gaze_yaw", "gaze_pitch")
FACE_CHANNELS = ("brow_raise", "brow_furrow", "smile", "cheek_raise", "photo_expression")
CHANNELS = MOUTH_CHANNELS + HEAD_CHANNELS + EYE_CHANNELS + FACE_CHANNELS


@dataclass
class MotionTrack:
    """Per-frame motion at ``fps``: ``channels[name]`` is a float32 array of ``n_frames`` values.

    >>> track = MotionTrack.still(fps=25, n_frames=3)
    >>> track.channels["jaw_open"][1] = 0.5
    >>> track.frame(1)["jaw_open"], track.n_frames
    (0.5, 3)
    """

    fps: float
    channels: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.channels) - set(CHANNELS))
        if unknown:
            raise TalkingHeadError(f"unknown motion channel(s): {', '.join(unknown)}")
        lengths = {len(v) for v in self.channels.values()}
        if len(lengths) > 1:
            raise TalkingHeadError(f"motion channels differ in length: {sorted(lengths)}")
        self.channels = {k: np.asarray(v, dtype=np.float32) for k, v in self.channels.items()}

    @classmethod
    def still(cls, fps: float, n_frames: int) -> MotionTrack:
        """A track of ``n_frames`` with every channel at rest."""
        return cls(fps, {name: np.zeros(n_frames, np.float32) for name in CHANNELS})

    @property
    def n_frames(self) -> int:
        return len(next(iter(self.channels.values()))) if self.channels else 0

    def frame(self, index: int) -> dict[str, float]:
        """One frame's channel values (channels absent from the track are at rest, 0)."""
        return {name: float(values[index]) for name, values in self.channels.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"fps": self.fps, "n_frames": self.n_frames,
                "channels": {k: np.round(v, 5).tolist() for k, v in self.channels.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MotionTrack:
        try:
            return cls(float(data["fps"]), {k: np.asarray(v, np.float32) for k, v in data["channels"].items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise TalkingHeadError(f"not a motion track (it needs \"fps\" and \"channels\"; see docs/motion-track.md): "
                                   f"{exc!r}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def load(cls, path: str | Path) -> MotionTrack:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise TalkingHeadError(f"cannot read motion track {path}: {exc}") from None
