"""Phones -> the 15 visemes of game engines and avatar SDKs -> articulation channels, with coarticulation.

A viseme is a target mouth shape. Real mouths never reach every target: neighbouring phones pull each other
(coarticulation). We blend targets with dominance functions (Cohen & Massaro): each phone exerts, on each
channel, a weight that is flat over the phone and decays exponentially outside it; every channel is the
dominance-weighted mean of the targets. Lip rounding reaches far ahead of rounded sounds (anticipatory
rounding), bilabials dominate lip opening and shut the lips for as long as they last, and long pauses dominate
everything so the mouth rests. Jaw and lips are separate channels (JALI): the jaw follows loudness as well
as the phone, so loud speech opens the jaw more while the lip shapes stay. The blended targets then move
through the articulators' dynamics (`motion.articulators`): bounded speed and acceleration, and p/b/m
closures that last as long as the phone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from talkinghead.audio.phonemes import SILENCE, Phone
from talkinghead.motion.articulators import at_frames, closure_intervals, fine_times, move_articulators

VISEMES = ("sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U")
ARTICULATION = ("jaw_open", "lips_open", "lip_width", "lip_pucker", "lower_lip_tuck", "upper_lip_raise",
                "tongue_show")

VISEME_OF = {
    SILENCE: "sil", "P": "PP", "B": "PP", "M": "PP", "F": "FF", "V": "FF", "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD", "K": "kk", "G": "kk", "HH": "kk", "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS", "N": "nn", "NG": "nn", "L": "nn", "R": "RR", "ER": "RR", "AA": "aa", "AE": "aa",
    "AH": "aa", "AW": "aa", "AY": "aa", "EH": "E", "IH": "I", "IY": "I", "EY": "I", "Y": "I", "AO": "O",
    "OW": "O", "OY": "O", "UH": "U", "UW": "U", "W": "U",
}

# Target shapes, in channel order: jaw, lips open, width (-1 round .. +1 spread), pucker, tuck, raise, tongue.
# What a viewer sees is the opening between the lips the rig draws from jaw, lips and a rounded mouth's arch
# (`benchmarks/mouth_opening.py`). As a share of AA's: EH 0.94 (an open-mid vowel), O 0.64 and U 0.56 (a small
# round opening: most of it is the arch of the pushed-out lips), RR 0.51, I 0.38, the tongue consonants 0.3 (S, Z 0.16),
# CH 0.35, F/V a sliver (0.1, the lower lip tucked under the teeth). Rounded vowels opened 0.7-0.8 of AA before;
# brought down to these, the drawn opening follows the phones' openness more closely (correlation on 28 held-out
# sentences of our own 0.58 -> 0.60, on the real LibriVox readings 0.70 -> 0.73).
TARGETS = {
    "sil": (0.00, 0.00, 0.0, 0.0, 0.0, 0.0, 0.0),
    "PP": (0.08, 0.00, 0.0, 0.0, 0.0, 0.0, 0.0),
    "FF": (0.08, 0.08, 0.1, 0.0, 1.0, 0.3, 0.0),
    "TH": (0.22, 0.30, 0.1, 0.0, 0.0, 0.0, 0.8),
    "DD": (0.22, 0.28, 0.15, 0.0, 0.0, 0.0, 0.2),
    "kk": (0.28, 0.32, 0.1, 0.0, 0.0, 0.0, 0.0),
    "CH": (0.14, 0.18, -0.4, 0.6, 0.0, 0.3, 0.0),
    "SS": (0.10, 0.20, 0.4, 0.0, 0.0, 0.0, 0.0),
    "nn": (0.20, 0.26, 0.1, 0.0, 0.0, 0.0, 0.15),
    "RR": (0.30, 0.32, -0.4, 0.5, 0.0, 0.1, 0.0),
    "aa": (0.85, 0.75, 0.15, 0.0, 0.0, 0.0, 0.0),
    "E": (0.80, 0.70, 0.45, 0.0, 0.0, 0.0, 0.0),
    "I": (0.30, 0.35, 0.75, 0.0, 0.0, 0.0, 0.0),
    "O": (0.38, 0.32, -0.6, 0.7, 0.0, 0.0, 0.0),
    "U": (0.25, 0.20, -0.9, 1.0, 0.0, 0.0, 0.0),
}

# Dominance strength per channel (same order); consonants barely move the jaw, lips follow their own sounds.
_VOWEL = (2.0, 1.5, 1.0, 1.0, 0.5, 0.5, 0.5)
_CONSONANT = (0.6, 1.0, 0.4, 0.4, 0.5, 0.5, 1.0)
DOMINANCE = {
    "sil": (1.0,) * 7,
    "PP": (0.8, 4.0, 0.6, 0.6, 1.0, 1.0, 1.0),
    "FF": (0.8, 3.0, 0.6, 0.6, 6.0, 3.0, 1.0),
    "TH": (0.8, 1.0, 0.4, 0.4, 0.5, 0.5, 6.0),
    "DD": _CONSONANT, "kk": _CONSONANT, "nn": _CONSONANT, "SS": (0.8, 1.5, 1.0, 0.6, 0.5, 0.5, 1.0),
    "CH": (0.8, 1.5, 3.0, 3.0, 0.5, 2.0, 1.0), "RR": (0.8, 1.2, 3.0, 3.0, 0.5, 1.0, 1.0),
    "aa": _VOWEL, "E": _VOWEL, "I": (2.0, 1.5, 2.0, 1.0, 0.5, 0.5, 0.5),
    "O": (2.0, 1.5, 4.0, 4.0, 0.5, 0.5, 0.5), "U": (2.0, 1.5, 4.0, 4.0, 0.5, 0.5, 0.5),
}
REACH_S = 0.035  # how fast a phone's influence fades outside it (the lip shapes: width, rounding, ...)
# The opening fades faster: the articulators' own dynamics (`motion.articulators`) already carry it smoothly
# from one phone to the next, and at 0.035 s a short vowel between two consonants barely opened the mouth (it
# mumbled). On 36 sentences of our own in held-out voices, the correlation of the channels with the phones'
# openness: lips 0.50 -> 0.54, jaw 0.58 -> 0.59. Shorter still (0.015 s) gained a little more but opened the
# mouth from a long /b/ to a vowel by more than half its range in one video frame, a snap.
LIPS_REACH_S = 0.025
JAW_REACH_S = 0.02
ROUNDING_LEAD_S = 0.14  # rounded sounds start shaping the lips this long before they begin
LONG_PAUSE_S = 0.1  # pauses at least this long put the mouth at rest (lips together, jaw up)
PAUSE_EASE_S = 0.03  # the lips reach rest this long after a pause starts and leave it this long before it ends
ROUNDED = frozenset({"O", "U", "RR", "CH"})


@dataclass(frozen=True)
class Cue:
    """One viseme from ``start`` to ``end`` seconds."""

    start: float
    end: float
    viseme: str


def viseme_of(label: str) -> str:
    return VISEME_OF.get(label, "sil")


def cues(phones: Sequence[Phone]) -> list[Cue]:
    """Contiguous viseme cues, neighbours with the same viseme merged."""
    out: list[Cue] = []
    for phone in phones:
        viseme = viseme_of(phone.label)
        if out and out[-1].viseme == viseme:
            out[-1] = Cue(out[-1].start, phone.end, viseme)
        else:
            out.append(Cue(phone.start, phone.end, viseme))
    return out


def articulation(phones: Sequence[Phone], fps: float, n: int, loudness: np.ndarray | None = None,
                 loudness_rate: float = 100.0) -> dict[str, np.ndarray]:
    """The mouth's articulation channels per video frame for ``phones`` (``loudness`` 0..1 scales the jaw).

    Targets are blended on a fine time grid, moved through the articulators' dynamics
    (`motion.articulators`), then the lips are shut over every p/b/m and the result sampled at the frames."""
    grid = fine_times(n, fps)
    spans = [(phone.start, phone.end) for phone in phones if viseme_of(phone.label) == "PP"]
    channels = move_articulators(_blended_targets(phones, grid, loudness, loudness_rate), grid,
                                 closure_intervals(spans, fps), rest_intervals(phones))
    return {name: np.clip(at_frames(values, grid, fps, n), -1.0, 1.0) for name, values in channels.items()}


def rest_intervals(phones: Sequence[Phone]) -> list[tuple[float, float]]:
    """Where the lips rest shut inside pauses of ``LONG_PAUSE_S`` or more: all of each pause but its first and
    last ``PAUSE_EASE_S`` (the lips close and part over about `RELEASE_S` around that), so a pause between
    phrases is never talked through and at least one video frame at 25 fps shows the mouth at rest."""
    return [(phone.start + PAUSE_EASE_S, phone.end - PAUSE_EASE_S) for phone in phones if is_long_pause(phone)]


_FADE_S = np.array([[{"lips_open": LIPS_REACH_S, "jaw_open": JAW_REACH_S}.get(name, REACH_S)]
                    for name in ARTICULATION])  # per channel, as a column


def is_long_pause(phone: Phone) -> bool:
    """A silence of ``LONG_PAUSE_S`` or more (a microsecond's rounding in the timings forgiven)."""
    return viseme_of(phone.label) == "sil" and phone.duration >= LONG_PAUSE_S - 1e-6


def _blended_targets(phones: Sequence[Phone], times: np.ndarray, loudness: np.ndarray | None,
                     loudness_rate: float) -> dict[str, np.ndarray]:
    """Dominance-weighted viseme targets at ``times`` (coarticulation), the jaw scaled by loudness."""
    n = times.size
    weighted = np.zeros((len(ARTICULATION), n))
    total = np.full((len(ARTICULATION), n), 1e-4)  # a faint pull towards rest everywhere
    for phone in phones:
        viseme = viseme_of(phone.label)
        strength = np.asarray(DOMINANCE[viseme], float)[:, None]
        lead = ROUNDING_LEAD_S if viseme in ROUNDED else REACH_S
        lo, hi = np.searchsorted(times, [phone.start - 6 * lead, phone.end + 6 * REACH_S])
        if hi <= lo:
            continue
        t = times[lo:hi]
        before = np.clip(phone.start - t, 0.0, None)
        after = np.clip(t - phone.end, 0.0, None)
        reach = _FADE_S.copy()
        if viseme in ROUNDED:  # anticipatory rounding: width and pucker reach further ahead
            reach[2:4] = ROUNDING_LEAD_S
        shape = np.exp(-before[None, :] / reach - after[None, :] / _FADE_S)
        dominance = strength * shape
        if is_long_pause(phone):  # inside a long pause, rest wins
            dominance[:, (before == 0) & (after == 0)] *= 50.0
        weighted[:, lo:hi] += dominance * np.asarray(TARGETS[viseme], float)[:, None]
        total[:, lo:hi] += dominance
    channels = {name: (weighted[k] / total[k]).astype(np.float32) for k, name in enumerate(ARTICULATION)}
    if loudness is not None:
        _jaw_follows_loudness(channels, times, loudness, loudness_rate)
    return channels


def _jaw_follows_loudness(channels: dict[str, np.ndarray], times: np.ndarray, loudness: np.ndarray,
                          rate: float) -> None:
    """JALI: the jaw opens more in loud speech and less in soft speech; the lips keep their shape."""
    level = np.interp(times, np.arange(len(loudness)) / rate, loudness)
    channels["jaw_open"] = np.clip(channels["jaw_open"] * (0.6 + 0.7 * level), 0.0, 1.0).astype(np.float32)
