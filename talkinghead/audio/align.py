"""Phones from a transcript: PocketSphinx forced alignment, with a fallback that cannot fail.

Words missing from PocketSphinx's dictionary get a pronunciation from espeak-ng's letter-to-sound rules.
When the aligner finds no path through the whole transcript (it happens on some voices), the phones the
recogniser heard are matched to the transcript's phones by edit distance, and each transcript phone takes
the time of what it matched; so a transcript always yields its phones, in order, at plausible times.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import numpy as np

from talkinghead.audio.phonemes import SILENCE, Phone, arpabet, contiguous, espeak_to_arpabet
from talkinghead.audio.recognize import recognize_phones
from talkinghead.audio.sphinx import align_decoder, decode, padded_pcm, unpad

MAX_MATCH_CELLS = 3_000_000  # edit-distance table size (about 2 minutes of speech) for the fallback


def transcript_words(text: str) -> list[str]:
    """Lower-case words PocketSphinx can look up (letters and apostrophes).

    >>> transcript_words("Hello, Mr. O'Brien -- 42!")
    ['hello', 'mr', "o'brien"]
    """
    return re.findall(r"[a-z]+(?:'[a-z]+)*", text.lower())


def align_phones(samples: np.ndarray, activity: np.ndarray, feature_rate: int, transcript: str) -> list[Phone]:
    """Timed ARPAbet phones of ``transcript`` in 16 kHz ``samples``, contiguous over the recording."""
    duration = samples.size / 16_000
    words = transcript_words(transcript)
    if not words:
        return recognize_phones(samples, activity, feature_rate)
    decoder = align_decoder()
    pronunciations = [_pronunciation(decoder, word) for word in words]
    words = [w for w, p in zip(words, pronunciations, strict=True) if p]
    pcm = padded_pcm(samples)
    aligned = _force_align(decoder, pcm, " ".join(words))
    if aligned is not None:
        return contiguous(aligned, duration)
    expected = [phone for p in pronunciations if p for phone in p]
    heard = recognize_phones(samples, activity, feature_rate)
    if len(expected) * len(heard) > MAX_MATCH_CELLS:  # too long to match quickly: what was heard will do
        return heard
    return contiguous(match_timing(expected, heard), duration)


def _force_align(decoder: Any, pcm: bytes, text: str) -> list[Phone] | None:
    try:
        decoder.set_align_text(text)
        decode(decoder, pcm)
        if decoder.hyp() is None or decoder.hyp().hypstr.split() != text.split():
            return None
        decoder.set_alignment()
        decode(decoder, pcm)
        return [unpad(phone.name, phone.start, phone.duration) for word in decoder.get_alignment() for phone in word]
    except RuntimeError:
        return None


def _pronunciation(decoder: Any, word: str) -> list[str]:
    """ARPAbet phones for ``word``; out-of-dictionary words are added with espeak-ng's pronunciation."""
    known = decoder.lookup_word(word)
    if known:
        return [arpabet(p) for p in known.split()]
    phones = [p for p in espeak_pronunciation(word) if p != SILENCE]
    if phones:
        decoder.add_word(word, " ".join(phones), True)
    return phones


def espeak_pronunciation(word: str) -> list[str]:
    """ARPAbet phones of ``word`` by espeak-ng's letter-to-sound rules (empty when espeak-ng is missing)."""
    if shutil.which("espeak-ng") is None:
        return []
    out = subprocess.run(["espeak-ng", "-q", "-v", "en-us", "--sep=_", "-x", word], capture_output=True,
                         text=True, check=False).stdout
    return [espeak_to_arpabet(name) for name in re.split(r"[_\s]+", out) if name.strip()]


def match_timing(expected: list[str], heard: list[Phone]) -> list[Phone]:
    """Give each ``expected`` phone the time of the ``heard`` phone(s) it matches by edit distance.

    Heard silences stay silences; expected phones the recogniser missed share the time of their neighbours.
    """
    speech = [p for p in heard if p.label != SILENCE]
    if not speech:
        return []
    owners = _edit_path(expected, [p.label for p in speech])
    spans: list[list[float] | None] = [None] * len(expected)
    for h, r in enumerate(owners):
        if r is None:  # an inserted phone: its time goes to the expected phone before it
            r = max((i for i, s in enumerate(spans) if s is not None), default=None)
            if r is None:
                continue
        span = spans[r]
        spans[r] = [speech[h].start, speech[h].end] if span is None else [span[0], speech[h].end]
    return _share_missing(expected, spans) + [p for p in heard if p.label == SILENCE]


def _edit_path(ref: list[str], hyp: list[str]) -> list[int | None]:
    """For each hyp index, the ref index it is aligned to (None for an insertion)."""
    n, m = len(ref), len(hyp)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j - 1] + (ref[i - 1] != hyp[j - 1]), cost[i - 1, j] + 1.0,
                             cost[i, j - 1] + 1.0)
    owners: list[int | None] = [None] * m
    i, j = n, m
    while i > 0 and j > 0:
        if cost[i, j] == cost[i - 1, j - 1] + (0.0 if ref[i - 1] == hyp[j - 1] else 1.0):
            owners[j - 1] = i - 1
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1.0:
            i -= 1
        else:
            j -= 1
    return owners


def _share_missing(expected: list[str], spans: list[list[float] | None]) -> list[Phone]:
    """Phones for every expected label: runs without a span split the span of the phone before (or after)."""
    out: list[Phone] = []
    i = 0
    while i < len(expected):
        if spans[i] is not None:
            j = i + 1
            while j < len(expected) and spans[j] is None:
                j += 1
            start, end = spans[i]
            edges = np.linspace(start, end, j - i + 1)
            out.extend(Phone(expected[k], edges[k - i], edges[k - i + 1]) for k in range(i, j))
            i = j
        else:  # leading phones the recogniser missed: they share the first matched phone's time
            j = next((k for k in range(i, len(expected)) if spans[k] is not None), None)
            if j is None:
                break
            start, end = spans[j]
            edges = np.linspace(start, end, j - i + 2)
            out.extend(Phone(expected[k], edges[k - i], edges[k - i + 1]) for k in range(i, j + 1))
            i = j + 1
    return out
