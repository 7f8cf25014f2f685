"""The one WAV writer the benchmark scripts share (16-bit mono PCM, what every decoder reads), and the one writer of
timed test clips (WAV + phone timings JSON, the layout of ../shared/data/dev/speech)."""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write float ``samples`` (-1..1, clipped) to ``path`` as 16-bit mono PCM at ``rate`` Hz."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())
    return path


def write_timed_clip(stem: Path, made: Any, text: str, voice: str, rate: int) -> float:
    """``stem``.wav and ``stem``.json (text, voice, rate, phone timings) for one synthesised clip; its seconds."""
    write_wav(stem.with_suffix(".wav"), made.samples, made.rate)
    phones = [{"phone": name, "start_s": start, "end_s": end} for name, start, end in made.events]
    seconds = made.samples.size / made.rate
    stem.with_suffix(".json").write_text(json.dumps({
        "text": text, "voice": voice, "rate": rate, "sample_rate": made.rate, "duration_s": seconds,
        "phones": phones}, ensure_ascii=False))
    print(f"{stem.name}: {voice} at {rate} wpm, {seconds:.1f} s")
    return seconds
