"""Head channels: smooth, seeded random motion that grows with speech and settles in pauses."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from talkinghead.audio import Speech
from talkinghead.motion.timing import resample_to_frames

HEAD_STD = {"head_yaw": 2.2, "head_pitch": 1.6, "head_roll": 1.0, "head_x": 0.004, "head_y": 0.003}
HEAD_SMOOTH_S = 0.45


def head_channels(speech: Speech, rng: np.random.Generator, fps: float, n: int,
                  motion_scale: float) -> dict[str, np.ndarray]:
    """yaw/pitch/roll (degrees) and x/y shift per frame."""
    activity = gaussian_filter1d(speech.activity, 50.0)
    liveliness = 0.5 + 0.5 * resample_to_frames(activity, speech.feature_rate, fps, n)
    return {name: smooth_noise(rng, n, fps) * std * motion_scale * liveliness for name, std in HEAD_STD.items()}


def smooth_noise(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """Unit-variance low-pass noise: smooth enough to have no frame-to-frame jitter."""
    sigma = HEAD_SMOOTH_S * fps
    pad = int(3 * sigma)
    noise = gaussian_filter1d(rng.standard_normal(n + 2 * pad), sigma)[pad : pad + n]
    return (noise / (noise.std() + 1e-9) if n > 1 else noise * 0).astype(np.float32)
