"""Phones from a transcript: PocketSphinx forced alignment, with fallbacks that cannot fail.

Words missing from PocketSphinx's dictionary get a pronunciation from espeak-ng's letter-to-sound rules.
When the aligner finds no path through the whole transcript (it happens on some voices, and on read
numbers), the transcript's phones are timed on the viseme model's posteriors (`model_align`); without the
model's weights, the phones a recogniser heard are matched to the transcript's by edit distance, and each
transcript phone takes the time of what it matched. So a transcript always yields its phones, in order, at
plausible times.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from talkinghead.audio import viseme_model
from talkinghead.audio.decode import ANALYSIS_RATE
from talkinghead.audio.model_align import fits, model_aligned
from talkinghead.audio.phonemes import SILENCE, Phone, arpabet, contiguous, espeak_to_arpabet
from talkinghead.audio.recognize import recognize_phones
from talkinghead.audio.sphinx import align_decoder, decode, padded_pcm, unpad
from talkinghead.audio.words import Word, display_words

MAX_MATCH_CELLS = 3_000_000  # edit-distance table size (about 2 minutes of speech) for the fallback


def transcript_words(text: str) -> list[str]:
    """Lower-case words (letters and apostrophes) and numbers as they are said (`spoken_form`); espeak-ng
    says the numbers and unknown words.

    >>> transcript_words("Hello, Mr. O'Brien -- 42!")
    ['hello', 'mister', "o'brien", '42']
    """
    return re.findall(r"[a-z]+(?:'[a-z]+)*|[0-9]+(?:st|nd|rd|th)?", spoken_form(text).lower())


_ABBREVIATIONS = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miz", "st": "saint", "jr": "junior",
                  "sr": "senior", "vs": "versus", "etc": "et cetera", "prof": "professor"}
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "#": " number ", "°": " degrees ",
            "½": " and a half "}
_CURRENCIES = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
               "¥": ("yen", "yen")}
_SCALE = r"(?:\s*(thousand|million|billion|trillion|k|m|bn)\b)?"


def spoken_form(text: str) -> str:
    """English text with numbers, money, percentages, times, abbreviations and symbols written as they
    are said, so that every spoken word is aligned (Whisper writes "5%", "$5 million", "3:30 pm", "Dr.").

    >>> spoken_form("Dr. Smith paid $5 million, 5% more, at 3:30 pm & 1,200.5 km")
    'doctor Smith paid 5 million dollars, 5 percent more, at 3 30 p m  and  1200 point 5 km'
    """
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    for symbol, (one, many) in _CURRENCIES.items():
        pattern = re.escape(symbol) + r"\s?(\d+(?:\.\d+)?)" + _SCALE
        text = re.sub(pattern, lambda m, one=one, many=many: _money(m, one, many), text)
    text = re.sub(r"(\d)\s?%", r"\1 percent", text)
    text = re.sub(r"\b(\d{1,2}):00\b", r"\1 o'clock", text)
    text = re.sub(r"\b(\d{1,2}):0(\d)\b", r"\1 oh \2", text)
    text = re.sub(r"\b(\d{1,2}):(\d{2})\b", r"\1 \2", text)
    text = re.sub(r"\b([ap])\.?m\.?(?=\W|$)", r"\1 m", text, flags=re.IGNORECASE)
    text = re.sub(r"(\d)\.(\d+)", lambda m: m[1] + " point " + " ".join(m[2]), text)
    text = re.sub(r"\b([A-Za-z]+)\.", lambda m: _ABBREVIATIONS.get(m[1].lower(), m[0]), text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    return text


def _money(match: re.Match, one: str, many: str) -> str:
    amount, scale = match[1], match[2]
    scale = {"k": "thousand", "m": "million", "bn": "billion"}.get((scale or "").lower(), scale)
    if "." in amount and not scale:
        whole, cents = amount.split(".")
        return f"{whole} {one if whole == '1' else many} {int(cents.ljust(2, '0')[:2])} cents"
    unit = one if amount == "1" and not scale else many
    return f"{amount} {scale} {unit}" if scale else f"{amount} {unit}"


@dataclass
class Alignment:
    """Phones covering the recording, and the transcript's words as written, timed (empty when unknown)."""

    phones: list[Phone]
    words: list[Word] = field(default_factory=list)
    by_model: bool = False  # timed on the viseme model's posteriors, not by PocketSphinx


def align_phones(samples: np.ndarray, activity: np.ndarray, feature_rate: int, transcript: str) -> list[Phone]:
    """Timed ARPAbet phones of ``transcript`` in 16 kHz ``samples``, contiguous over the recording."""
    return align(samples, activity, feature_rate, transcript).phones


def align(samples: np.ndarray, activity: np.ndarray, feature_rate: int, transcript: str) -> Alignment:
    """`align_phones`, with the transcript's words timed too where the alignment gives them. PocketSphinx
    aligns first; where it finds no path, the phones are timed on the viseme model (`model_align`), else
    matched to recognised phones."""
    duration = samples.size / ANALYSIS_RATE
    words = transcript_words(transcript)
    if not words:
        return Alignment(recognize_phones(samples, activity, feature_rate))
    pronunciations = [_pronunciation(align_decoder(), word) for word in words]
    kept = [(w, p) for w, p in zip(words, pronunciations, strict=True) if p]
    pcm = padded_pcm(samples)
    for wide in (False, True):  # a voice far from the acoustic model may need the wider search
        timed: list[Word] = []
        aligned = _force_align(align_decoder(wide), pcm, kept, timed)
        if aligned is not None:
            return Alignment(contiguous(aligned, duration), display_words(timed, transcript))
    expected = [phone for _, p in kept for phone in p]
    if viseme_model.available() and fits([p for _, p in kept], round(duration / viseme_model.FRAME_S)):
        timed_phones = model_aligned([p for _, p in kept], viseme_model.viseme_posteriors(samples))
        spoken = [p for p in timed_phones if p.label != SILENCE]
        return Alignment(contiguous(timed_phones, duration), display_words(_group(spoken, kept), transcript), True)
    heard = recognize_phones(samples, activity, feature_rate)
    if len(expected) * len(heard) > MAX_MATCH_CELLS:  # too long to match quickly: what was heard will do
        return Alignment(heard)
    matched = match_timing(expected, heard)
    return Alignment(contiguous(matched, duration), display_words(_group(matched[:len(expected)], kept), transcript))


def _group(phones: list[Phone], words: list[tuple[str, list[str]]]) -> list[Word]:
    """Words from phones in transcript order, each taking as many phones as its pronunciation has."""
    if len(phones) != sum(len(p) for _, p in words):
        return []
    out, k = [], 0
    for word, pronunciation in words:
        out.append(Word(word, phones[k].start, phones[k + len(pronunciation) - 1].end))
        k += len(pronunciation)
    return out


def _force_align(decoder: Any, pcm: bytes, words: list[tuple[str, list[str]]],
                 timed: list[Word] | None = None) -> list[Phone] | None:
    """Phone timings of ``words`` (with their pronunciations), or None when the words cannot be aligned;
    the words' own times are appended to ``timed``.

    The word pass comes first; the phone pass (state alignment) refines it. When only the word pass succeeds,
    each word's phones share its time, vowels twice as long as consonants.
    """
    timed = [] if timed is None else timed
    text = " ".join(word for word, _ in words)
    for word, phones in words:
        if not decoder.lookup_word(word):
            decoder.add_word(word, " ".join(phones), True)
    try:
        decoder.set_align_text(text)
        decode(decoder, pcm)
        if decoder.hyp() is None or decoder.hyp().hypstr.split() != text.split():
            return None
        spans = [(seg.start_frame, seg.end_frame + 1) for seg in decoder.seg() if _is_word(seg.word)]
    except RuntimeError:
        return None
    if len(spans) == len(words):
        timed.extend(_timed_word(word, a, b - a) for (word, _), (a, b) in zip(words, spans, strict=True))
    try:
        decoder.set_alignment()
        decode(decoder, pcm)
        entries = [entry for entry in decoder.get_alignment() if _is_word(entry.name)]
        if len(entries) == len(words):
            timed[:] = [_timed_word(word, e.start, e.duration) for (word, _), e in zip(words, entries, strict=True)]
        return [unpad(phone.name, phone.start, phone.duration) for word in decoder.get_alignment() for phone in word]
    except RuntimeError:
        if len(spans) != len(words):
            return None
        return [phone for (start, end), (_, phones) in zip(spans, words, strict=True)
                for phone in _spread(phones, start, end)]


def _timed_word(word: str, start_frame: float, n_frames: float) -> Word:
    span = unpad(SILENCE, start_frame, n_frames)
    return Word(word, span.start, span.end)


def _is_word(label: str) -> bool:
    return not (label.startswith(("<", "[", "+")) or label == "sil")


def _spread(phones: list[str], start_frame: int, end_frame: int) -> list[Phone]:
    """``phones`` over a word's frames, a vowel's share twice a consonant's."""
    weights = np.array([2.0 if phone[0] in "AEIOU" else 1.0 for phone in phones])
    edges = start_frame + (end_frame - start_frame) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    return [unpad(phone, a, b - a) for phone, a, b in zip(phones, edges[:-1], edges[1:], strict=True)]


def _pronunciation(decoder: Any, word: str) -> list[str]:
    """ARPAbet phones for ``word``: PocketSphinx's dictionary, else espeak-ng's letter-to-sound rules."""
    known = decoder.lookup_word(word)
    if known:
        return [arpabet(p) for p in known.split()]
    return [p for p in espeak_pronunciation(word) if p != SILENCE]


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
