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


def frames_of(times_s: np.ndarray, fps: float, n: int) -> np.ndarray:
    """The video frame (index) that shows each time, clipped to the track."""
    return np.clip(np.floor(np.asarray(times_s) * fps).astype(int), 0, max(0, n - 1))


def pulse_train(onsets_s: np.ndarray, amplitudes: np.ndarray, rise_s: float, fps: float, n: int) -> np.ndarray:
    """Sum of smooth gestures, one per onset: a bump that peaks ``rise_s`` after it and fades over ~4x that.

    The bump is (t/rise) * exp(1 - t/rise): zero at onset with zero slope, peak 1 at ``rise_s``, so a
    gesture never jumps between frames.
    """
    out = np.zeros(n, np.float64)
    times = (np.arange(n) + 0.5) / fps
    reach = int(np.ceil(8 * rise_s * fps)) + 1
    for onset, amplitude in zip(np.asarray(onsets_s, float), np.asarray(amplitudes, float), strict=True):
        first = max(0, int(np.floor(onset * fps)))
        window = slice(first, min(n, first + reach))
        phase = np.maximum(times[window] - onset, 0.0) / rise_s
        out[window] += amplitude * phase * np.exp(1.0 - phase)
    return out
