"""Audio stage: decode speech and describe it over time (`Speech`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

from talkinghead.audio.decode import ANALYSIS_RATE, decode_audio
from talkinghead.audio.features import FEATURE_RATE, frame_energy_db, speech_activity
from talkinghead.audio.phonemes import Phone
from talkinghead.audio.words import Word


@dataclass
class Speech:
    """Speech ready for the motion stage, plus the original sound for the video.

    Attributes:
        samples: mono float32 at ``rate`` (16 kHz) for analysis.
        rate: sample rate of ``samples``.
        original: float32 (channels, n) at ``original_rate``: what goes into the output's sound track.
        original_rate: sample rate of ``original``.
        energy_db: 100 Hz loudness (dBFS).
        activity: 100 Hz speech activity, 0 (silence) .. 1 (speech).
        transcript: what is said, if known.
        phones: timed phones (ARPAbet) covering the recording, once known (see `audio.phonetics`).
        words: timed words as written, once known (for captions; see `audio.words`).
        f0_hz: 100 Hz pitch, once known (a live window takes it from the windows before it; see
            `audio.prosody.RunningPitch`); the motion stage tracks it itself when None.
    """

    samples: np.ndarray
    rate: int
    original: np.ndarray
    original_rate: int
    energy_db: np.ndarray
    activity: np.ndarray
    transcript: str | None = None
    phones: list[Phone] | None = None
    words: list[Word] | None = None
    f0_hz: np.ndarray | None = None

    @property
    def duration(self) -> float:
        """Length in seconds, from the original track (the one the viewer hears)."""
        return self.original.shape[1] / self.original_rate

    @property
    def feature_rate(self) -> int:
        return FEATURE_RATE


def load_speech(path: str | Path, max_seconds: float = 600.0, transcript: str | None = None) -> Speech:
    """Decode ``path`` and compute its features; raises TalkingHeadError on bad input."""
    analysis, original, original_rate = decode_audio(path, max_seconds)
    return speech_from_samples(analysis, original, original_rate, transcript)


def to_analysis_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mono ``samples`` at ``rate`` as float32 at `ANALYSIS_RATE` (what every analysis of the audio stage reads)."""
    samples = np.asarray(samples, np.float32)
    if rate == ANALYSIS_RATE:
        return samples
    return resample_poly(samples, ANALYSIS_RATE, rate).astype(np.float32)


def speech_from_audio(samples: np.ndarray, rate: int, transcript: str | None = None) -> Speech:
    """A `Speech` for mono sound already in memory at any ``rate`` (synthesised speech, a live window),
    analysed exactly as a decoded file is; ``samples`` themselves become the sound track."""
    samples = np.asarray(samples, np.float32)
    return speech_from_samples(to_analysis_rate(samples, rate), samples[None, :], rate, transcript)


def speech_from_samples(analysis: np.ndarray, original: np.ndarray, original_rate: int,
                        transcript: str | None = None) -> Speech:
    """A `Speech` from decoded sound: mono ``analysis`` at `ANALYSIS_RATE` and the (channels, n) ``original``.
    The one place a `Speech` is made (files, synthesised speech and live windows all come here)."""
    energy = frame_energy_db(analysis, ANALYSIS_RATE)
    return Speech(
        samples=analysis,
        rate=ANALYSIS_RATE,
        original=original,
        original_rate=original_rate,
        energy_db=energy,
        activity=speech_activity(energy),
        transcript=transcript,
    )


__all__ = ["ANALYSIS_RATE", "FEATURE_RATE", "Phone", "Speech", "load_speech", "speech_from_audio",
           "speech_from_samples", "to_analysis_rate"]
