"""Timed phone segments: the common currency of alignment, recognition and synthesis.

Every source (PocketSphinx alignment or recognition, espeak-ng's phoneme events) is turned into a list of
`Phone` with ARPAbet labels (upper case, no stress digits; ``SIL`` for silence), so the viseme model needs
to know one phone set only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SILENCE = "SIL"
_PHONES = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH"
ARPABET = frozenset(_PHONES.split()) | {SILENCE}

# espeak-ng phoneme mnemonics (English voices) -> ARPAbet. Longest prefix wins, so "aI" beats "a".
_ESPEAK_TO_ARPABET = {
    "a": "AE", "a#": "AH", "aa": "AE", "aI": "AY", "aI@": "AY", "aU": "AW", "A": "AA", "A:": "AA", "A@": "AA",
    "0": "AA", "@": "AH", "@2": "AH", "@5": "AH", "@L": "AH", "@r": "ER", "3": "ER", "3:": "ER", "3r": "ER",
    "V": "AH", "E": "EH", "E2": "EH", "e": "EY", "e@": "EH", "eI": "EY", "I": "IH", "I#": "IH", "I2": "IH",
    "i": "IY", "i:": "IY", "i@": "IH", "i@3": "IH", "O": "AO", "O:": "AO", "O@": "AO", "OI": "OY", "o@": "AO",
    "oU": "OW", "o": "OW", "U": "UH", "U@": "UH", "u": "UW", "u:": "UW", "u@": "UW",
    "p": "P", "b": "B", "m": "M", "f": "F", "v": "V", "T": "TH", "D": "DH", "t": "T", "t#": "T", "t2": "T",
    "d": "D", "d#": "D", "n": "N", "n-": "N", "N": "NG", "l": "L", "l/2": "L", "L": "L", "s": "S", "z": "Z",
    "S": "SH", "Z": "ZH", "tS": "CH", "dZ": "JH", "k": "K", "g": "G", "x": "HH", "h": "HH", "r": "R", "r-": "R",
    "j": "Y", "w": "W", "?": "T", "m-": "M",
}


@dataclass(frozen=True)
class Phone:
    """One phone: ARPAbet ``label`` from ``start`` to ``end`` seconds."""

    label: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return 0.5 * (self.start + self.end)


def arpabet(label: str) -> str:
    """Normalise a PocketSphinx phone or word-level label: strip stress digits, map fillers to ``SIL``.

    >>> arpabet("AH0"), arpabet("+NSN+"), arpabet("sil")
    ('AH', 'SIL', 'SIL')
    """
    base = re.sub(r"\d", "", label.strip().upper())
    return base if base in ARPABET else SILENCE


def espeak_to_arpabet(name: str) -> str:
    """ARPAbet for an espeak-ng phoneme mnemonic (stress marks ignored; pauses and unknowns -> ``SIL``).

    >>> espeak_to_arpabet("'aI"), espeak_to_arpabet("tS"), espeak_to_arpabet("_:")
    ('AY', 'CH', 'SIL')
    """
    name = name.strip().lstrip("',%=")
    if not name or name.startswith("_") or name == ";":
        return SILENCE
    for size in range(len(name), 0, -1):
        if name[:size] in _ESPEAK_TO_ARPABET:
            return _ESPEAK_TO_ARPABET[name[:size]]
    return SILENCE


def contiguous(phones: Iterable[Phone], duration: float) -> list[Phone]:
    """Sorted, non-overlapping phones covering 0..``duration``; gaps become ``SIL``, neighbours of the
    same silence merge."""
    out: list[Phone] = []
    cursor = 0.0
    for phone in sorted(phones, key=lambda p: p.start):
        start, end = max(phone.start, cursor), min(phone.end, duration)
        if end - start <= 1e-6:
            continue
        if start - cursor > 1e-6:
            _append(out, Phone(SILENCE, cursor, start))
        _append(out, Phone(phone.label, start, end))
        cursor = end
    if duration - cursor > 1e-6 or not out:
        _append(out, Phone(SILENCE, cursor, max(duration, cursor)))
    return out


def _append(out: list[Phone], phone: Phone) -> None:
    if out and out[-1].label == SILENCE == phone.label:
        out[-1] = Phone(SILENCE, out[-1].start, phone.end)
    else:
        out.append(phone)

