"""Copies of benchmark speech under worse conditions: white noise at a given SNR, or an 8 kHz telephone band.

Usage: python benchmarks/degrade_speech.py SRC_DIR OUT_DIR (--snr 10 | --telephone) [--seed 0]

Every ``*.wav`` with its ground truth (``.json``, or ``.phone.json`` + ``.txt``) is copied; only the sound
changes, so `benchmarks/lipsync.py OUT_DIR` scores the same phones under the new condition.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt
from wav_files import write_wav

from talkinghead.audio import load_speech


def noisy(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """White noise at ``snr_db`` below the speech's power (measured where the speech is, not in pauses)."""
    loud = samples[np.abs(samples) > 0.02 * np.abs(samples).max()]
    power = float(np.mean(loud**2))
    return samples + rng.standard_normal(samples.size) * np.sqrt(power / 10 ** (snr_db / 10))


def telephone(samples: np.ndarray, rate: int) -> np.ndarray:
    """300-3400 Hz at 8 kHz, back at ``rate``: what a phone call leaves of the sound."""
    narrow = resample_poly(samples, 8000, rate)
    narrow = sosfiltfilt(butter(6, [300, 3400], "bandpass", fs=8000, output="sos"), narrow)
    return resample_poly(narrow, rate, 8000)[: samples.size]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--snr", type=float)
    kind.add_argument("--telephone", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for wav in sorted(args.source.glob("*.wav")):
        speech = load_speech(wav)
        samples, rate = speech.original.mean(axis=0), speech.original_rate
        changed = telephone(samples, rate) if args.telephone else noisy(samples, args.snr, rng)
        write_wav(args.out / wav.name, changed / max(1.0, float(np.abs(changed).max())), rate)
        for truth in (wav.with_suffix(".json"), wav.with_suffix(".phone.json"), wav.with_suffix(".txt")):
            if truth.exists():
                shutil.copy(truth, args.out / truth.name)


if __name__ == "__main__":
    main()
