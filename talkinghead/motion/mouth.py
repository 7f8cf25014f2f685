"""Mouth channels from speech: a first, loudness-driven model.

The mouth opens with the speech's loudness relative to the recording's own speaking level, averaged over
each video frame so nothing flickers. Phoneme-driven visemes replace this behind `mouth_channels`.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from talkinghead.audio import Speech
from talkinghead.motion.timing import resample_to_frames


def mouth_channels(speech: Speech, fps: float, n: int) -> dict[str, np.ndarray]:
    """``jaw_open`` and ``lips_open`` per video frame."""
    openness = mouth_openness(speech, fps, n)
    return {"jaw_open": 0.8 * openness**1.2, "lips_open": 0.6 * openness}


def mouth_openness(speech: Speech, fps: float, n: int) -> np.ndarray:
    """0..1 per video frame from loudness relative to the recording's own speaking level."""
    level = speech.energy_db
    floor = float(np.percentile(level, 10))
    loud = float(np.percentile(level, 97))
    if loud - floor < 6.0:
        return np.zeros(n, np.float32)
    open_ = np.clip((level - floor - 8.0) / (loud - floor - 8.0 + 1e-6), 0.0, 1.0) * speech.activity
    per_frame = uniform_filter1d(open_, size=max(1, round(speech.feature_rate / fps)), mode="nearest")
    return np.clip(resample_to_frames(per_frame, speech.feature_rate, fps, n), 0.0, 1.0).astype(np.float32)
