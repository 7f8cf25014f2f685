"""Motion stage: speech and controls in, a `MotionTrack` out."""

from __future__ import annotations

from talkinghead.motion.generate import generate_motion
from talkinghead.motion.timing import n_frames_for
from talkinghead.motion.track import CHANNELS, MotionTrack

__all__ = ["CHANNELS", "MotionTrack", "generate_motion", "n_frames_for"]
