"""Speech + Controls -> MotionTrack: each family of channels comes from its own model.

`mouth` (speech -> articulation), `head` (prosody -> pose), `eyes` (blinks, gaze). Each returns a dict of
per-frame arrays; this module only fixes the length, the seed and the order in which randomness is drawn,
so the same inputs and seed always give the same track.
"""

from __future__ import annotations

import numpy as np

from talkinghead.audio import Speech
from talkinghead.controls import Controls
from talkinghead.motion.eyes import eye_channels
from talkinghead.motion.head import head_channels
from talkinghead.motion.mouth import mouth_channels
from talkinghead.motion.timing import n_frames_for
from talkinghead.motion.track import MotionTrack


def generate_motion(speech: Speech, controls: Controls) -> MotionTrack:
    """The full track for ``speech``; same speech and controls (seed included) give the same track."""
    n = n_frames_for(speech.duration, controls.fps)
    head_rng, eye_rng = (np.random.default_rng([controls.seed, stream]) for stream in (1, 2))
    track = MotionTrack.still(controls.fps, n)
    for channels in (
        mouth_channels(speech, controls.fps, n, controls.language),
        head_channels(speech, head_rng, controls.fps, n, controls.motion_scale),
        eye_channels(eye_rng, controls.fps, n),
    ):
        for name, values in channels.items():
            track.channels[name][:] = values
    return track
