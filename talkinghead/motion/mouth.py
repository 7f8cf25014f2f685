"""Mouth channels from speech: visemes from the speech's phones, or loudness when no phones are known.

With phones (from espeak-ng's events, forced alignment or recognition) the mouth takes the viseme model's
articulation (`motion.visemes`). The loudness model stays as the language-agnostic fallback and the baseline
the lip-sync benchmark compares against: the mouth opens with the speech's loudness relative to the
recording's own speaking level, averaged over each video frame so nothing flickers.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from talkinghead.audio import Phone, Speech
from talkinghead.audio.phonetics import find_phones
from talkinghead.audio.spectrum import rounding_cue
from talkinghead.audio.viseme_model import model_phones
from talkinghead.motion.articulators import at_frames, closure_intervals, fine_times, move_articulators
from talkinghead.motion.timing import resample_to_frames
from talkinghead.motion.visemes import Cue, articulation, viseme_of

OPEN_CUE = 0.45  # loudness openness above which the baseline's cue is an open vowel
CLOSURE_SEARCH_S = (0.04, 0.06)  # the lips of a p/b/m may shut this long before / after its aligned start
CLOSURE_DROP_DB = 6.0  # a fall of the level at least this steep (dB per 20 ms) is where the lips shut


def mouth_channels(speech: Speech, fps: float, n: int, language: str = "en") -> dict[str, np.ndarray]:
    """Articulation channels per video frame: visemes when the phones can be known (English speech or
    ``--text``), from the streaming viseme model in other languages, else the acoustic estimate."""
    phones = find_phones(speech) if language.lower()[:2] == "en" else speech.phones or model_phones(speech)
    if phones is None:
        return acoustic_channels(speech, fps, n)
    phones = closures_where_sound_stops(phones, speech.energy_db, speech.feature_rate)
    return articulation(phones, fps, n, speech_loudness(speech), speech.feature_rate)


def closures_where_sound_stops(phones: list[Phone], energy_db: np.ndarray, rate: float) -> list[Phone]:
    """``phones`` with each p/b/m after a sound starting where the level falls most steeply near its start.

    Sealed lips stop the sound (silence in a /p/, the quieter nasal murmur in an /m/), so that fall is when
    they shut. Forced alignment puts the boundary up to ~60 ms early (the vowel's fading tail goes to the
    stop), and a mouth shut while the vowel still sounds looks dubbed. Searched within `CLOSURE_SEARCH_S` of
    the aligned start (and the phone's first 60%, so the fall at the end of a final /m/ is never taken); a fall
    under `CLOSURE_DROP_DB` leaves the phone as it was."""
    out = list(phones)
    fall = np.zeros_like(energy_db)
    fall[1:-1] = energy_db[:-2] - energy_db[2:]  # dB lost over the 20 ms around each frame
    for k in range(1, len(out)):
        phone, before = out[k], out[k - 1]
        if viseme_of(phone.label) != "PP" or viseme_of(before.label) in ("sil", "PP"):
            continue
        lo = max(round((phone.start - CLOSURE_SEARCH_S[0]) * rate), 1)
        hi = min(round((phone.start + min(CLOSURE_SEARCH_S[1], 0.6 * phone.duration)) * rate), fall.size - 1)
        if hi <= lo:
            continue
        steepest = lo + int(np.argmax(fall[lo:hi]))
        if fall[steepest] < CLOSURE_DROP_DB:
            continue
        start = float(np.clip(steepest / rate, before.start + 0.02, phone.end - 0.02))
        if before.start + 0.02 < start < phone.end - 0.02:
            out[k - 1] = Phone(before.label, before.start, start)
            out[k] = Phone(phone.label, start, phone.end)
    return out


def acoustic_channels(speech: Speech, fps: float, n: int) -> dict[str, np.ndarray]:
    """A language-agnostic mouth: opens with loudness, rounds when the spectrum sinks (low formants), and
    closes the lips in the short silences inside speech (where stops and pauses between syllables are).

    Rounding is the spectral rounding cue relative to the recording's own speech (its 60th .. 95th
    percentiles map to 0 .. 1), so it adapts to the voice."""
    channels = loudness_channels(speech, fps, n)
    active = speech.activity > 0.3
    cue = rounding_cue(speech.samples, speech.rate)[: active.size]
    if active.sum() < 10:
        return _with_dynamics(channels, fps, n, [])
    low, high = np.percentile(cue[active], [60, 95])
    rounding = np.clip((cue - low) / (high - low + 1e-6), 0.0, 1.0) * active
    rounding = uniform_filter1d(rounding, size=max(1, round(speech.feature_rate / fps)) * 2, mode="nearest")
    rounding = resample_to_frames(rounding, speech.feature_rate, fps, n)
    channels["lip_pucker"] = (0.8 * rounding).astype(np.float32)
    channels["lip_width"] = (-0.6 * rounding).astype(np.float32)
    return _with_dynamics(channels, fps, n, _gaps_in_speech(speech))


def _with_dynamics(channels: dict[str, np.ndarray], fps: float, n: int,
                   closures: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """Per-frame channels through the articulators' dynamics, the lips shut over ``closures`` (seconds)."""
    grid = fine_times(n, fps)
    frame_times = (np.arange(n) + 0.5) / fps
    fine = {name: np.interp(grid, frame_times, values).astype(np.float32) for name, values in channels.items()}
    fine = move_articulators(fine, grid, closure_intervals(closures, fps))
    return {name: at_frames(values, grid, fps, n) for name, values in fine.items()}


def _gaps_in_speech(speech: Speech) -> list[tuple[float, float]]:
    """(start, end) seconds of 30-150 ms dips at least 12 dB below both neighbouring stretches of speech."""
    level = speech.energy_db
    quiet = level < np.maximum(maximum_filter1d(level, size=31, mode="nearest") - 12.0, -55.0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    rate, last = speech.feature_rate, level.size - 1
    return [(a / rate, b / rate) for a, b in zip(edges[::2], edges[1::2], strict=True)
            if 3 <= b - a <= 15 and min(speech.activity[max(a - 5, 0)], speech.activity[min(b + 4, last)]) > 0.3]


def loudness_channels(speech: Speech, fps: float, n: int) -> dict[str, np.ndarray]:
    """``jaw_open`` and ``lips_open`` from loudness alone (any language, no phone model)."""
    openness = mouth_openness(speech, fps, n)
    return {"jaw_open": 0.8 * openness**1.2, "lips_open": 0.6 * openness}


def speech_loudness(speech: Speech) -> np.ndarray:
    """0..1 at the feature rate: loudness relative to the recording's own speaking level."""
    level = speech.energy_db
    floor = float(np.percentile(level, 10))
    loud = float(np.percentile(level, 97))
    if loud - floor < 6.0:
        return np.zeros_like(level)
    return (np.clip((level - floor - 8.0) / (loud - floor - 8.0 + 1e-6), 0.0, 1.0) * speech.activity).astype(
        np.float32)


def mouth_openness(speech: Speech, fps: float, n: int) -> np.ndarray:
    """0..1 per video frame from loudness relative to the recording's own speaking level."""
    per_frame = uniform_filter1d(speech_loudness(speech), size=max(1, round(speech.feature_rate / fps)),
                                 mode="nearest")
    return np.clip(resample_to_frames(per_frame, speech.feature_rate, fps, n), 0.0, 1.0).astype(np.float32)


def loudness_cues(speech: Speech) -> list[Cue]:
    """Viseme cues of the loudness model at 100 Hz (sil, open ``aa`` or a neutral ``DD``): the baseline."""
    openness = speech_loudness(speech)
    labels = np.where(speech.activity < 0.12, "sil", np.where(openness > OPEN_CUE, "aa", "DD"))
    out: list[Cue] = []
    for k, label in enumerate(labels):
        start, end = k / speech.feature_rate, (k + 1) / speech.feature_rate
        if out and out[-1].viseme == label:
            out[-1] = Cue(out[-1].start, end, str(label))
        else:
            out.append(Cue(start, end, str(label)))
    return out
