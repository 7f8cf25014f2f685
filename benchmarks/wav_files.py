"""The one WAV writer the benchmark scripts share (16-bit mono PCM, what every decoder reads)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write float ``samples`` (-1..1, clipped) to ``path`` as 16-bit mono PCM at ``rate`` Hz."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return path
