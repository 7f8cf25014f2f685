"""Eye channels: blinks at human rates, quick to close and slower to open."""

from __future__ import annotations

import numpy as np

BLINK_MEAN_GAP_S = 3.6
BLINK_DURATION_S = (0.16, 0.30)


def eye_channels(rng: np.random.Generator, fps: float, n: int) -> dict[str, np.ndarray]:
    """Both eyes blink together."""
    blinks = blink_curve(rng, n, fps)
    return {"blink_left": blinks, "blink_right": blinks.copy()}


def blink_curve(rng: np.random.Generator, n: int, fps: float) -> np.ndarray:
    """0..1 lid closure per frame: blinks at ~15/min, quick close, slower open."""
    curve = np.zeros(n, np.float32)
    times = np.arange(n) / fps
    start = rng.uniform(0.6, 2.5)
    while start < n / fps:
        duration = rng.uniform(*BLINK_DURATION_S)
        close = 0.35 * duration
        phase = times - start
        closing = (phase >= 0) & (phase < close)
        opening = (phase >= close) & (phase < duration)
        curve[closing] = np.maximum(curve[closing], np.sin(0.5 * np.pi * phase[closing] / close))
        rise = (phase[opening] - close) / (duration - close)
        curve[opening] = np.maximum(curve[opening], np.cos(0.5 * np.pi * rise) ** 2)
        start += duration + rng.gamma(2.0, BLINK_MEAN_GAP_S / 2.0)
    return curve
