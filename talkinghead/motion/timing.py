"""Time helpers shared by the motion models: frame counts and resampling feature series to frames."""

from __future__ import annotations

import numpy as np


def n_frames_for(duration_s: float, fps: float) -> int:
    """Frames for a clip: round(duration x fps), at least one."""
    return max(1, round(duration_s * fps))


def resample_to_frames(values: np.ndarray, rate: float, fps: float, n: int) -> np.ndarray:
    """Sample a ``rate`` Hz series at the centres of ``n`` video frames."""
    source_times = np.arange(len(values)) / rate
    frame_times = (np.arange(n) + 0.5) / fps
    return np.interp(frame_times, source_times, values).astype(np.float32)
