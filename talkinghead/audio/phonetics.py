"""Which phones a recording contains, by the best route available.

Known phones (from the synthesiser) are used as they are; with a transcript they are force-aligned. Without
one, Whisper transcribes each phrase and its words are force-aligned; phrases it cannot transcribe reliably
get the streaming viseme model's phones (or, without its weights, what a phone recogniser hears; so do all
phrases when Whisper is not installed). Where Whisper's words have no p/b/m but the viseme model is sure it
hears closed lips, a closure is added (`with_heard_closures`): a misheard word must not leave the lips open
through a /b/. Without PocketSphinx there are none, and the mouth falls back to loudness.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkinghead.audio import Speech, transcribe, viseme_model
from talkinghead.audio.phonemes import Phone, contiguous
from talkinghead.audio.sphinx import available
from talkinghead.audio.viseme_model import FRAME_S, VISEMES, streamed_phones, viseme_posteriors
from talkinghead.audio.words import Word, shifted
from talkinghead.input_files import TRANSCRIPT_BYTES, read_text

SURE_CLOSURE = 0.8  # the viseme model's closed-lips probability above which a missing p/b/m is added
CLOSURE_LABELS = frozenset({"P", "B", "M"})
NEAR_CLOSURE_S = 0.06  # a heard closure this close to an aligned p/b/m is that one


def find_phones(speech: Speech) -> list[Phone] | None:
    """Timed ARPAbet phones covering ``speech`` (cached on it), or None when no phone model is installed."""
    if speech.phones is None and available():
        from talkinghead.audio.align import align
        from talkinghead.audio.recognize import recognize_phones

        if speech.transcript and speech.transcript.strip():
            aligned = align(speech.samples, speech.activity, speech.feature_rate, speech.transcript)
            speech.phones, speech.words = aligned.phones, aligned.words or None
        elif transcribe.available():
            speech.phones = _transcribed_phones(speech)
        else:
            speech.phones = recognize_phones(speech.samples, speech.activity, speech.feature_rate)
    return speech.phones


def _transcribed_phones(speech: Speech) -> list[Phone]:
    """Phones phrase by phrase: Whisper's words aligned, or the recognised phones where it gave no usable text.
    The aligned words go to ``speech.words`` (None when no phrase had any)."""
    from talkinghead.audio.align import align
    from talkinghead.audio.recognize import recognize_phones

    rate, per_s = speech.rate, speech.feature_rate
    phones: list[Phone] = []
    words: list[Word] = []
    for phrase in transcribe.transcribe(speech.samples, speech.activity, per_s):
        samples = speech.samples[round(phrase.start * rate):round(phrase.end * rate)]
        activity = speech.activity[round(phrase.start * per_s):round(phrase.end * per_s)]
        if phrase.text is None:  # the viseme model hears places of articulation better than allphone
            found = streamed_phones(samples) if viseme_model.available() else recognize_phones(samples, activity,
                                                                                                 per_s)
        else:
            aligned = align(samples, activity, per_s, phrase.text)
            found = aligned.phones
            words.extend(shifted(aligned.words, phrase.start))
        phones.extend(Phone(p.label, p.start + phrase.start, p.end + phrase.start) for p in found)
    speech.words = words or None
    phones = contiguous(phones, speech.duration)
    return with_heard_closures(phones, speech.samples) if viseme_model.available() else phones


def with_heard_closures(phones: list[Phone], samples: np.ndarray) -> list[Phone]:
    """``phones`` plus a /p/ wherever the viseme model gives closed lips a probability of `SURE_CLOSURE` or
    more for two frames or longer and no aligned p/b/m is within `NEAR_CLOSURE_S` (a recognised word that
    lost its /b/: "new" for "blue", a final "book" cut short). On the dev clips this adds one true closure and
    no false one; the model is too unsure of some true closures (0.1-0.2) to remove any."""
    sure = viseme_posteriors(samples)[:, VISEMES.index("PP")] >= np.log(SURE_CLOSURE)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sure.astype(np.int8), [0]])))
    closures = [p for p in phones if p.label in CLOSURE_LABELS]
    added = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        start, end = a * FRAME_S, b * FRAME_S
        if b - a >= 2 and not any(p.start - NEAR_CLOSURE_S < end and start < p.end + NEAR_CLOSURE_S for p in closures):
            added.append(Phone("P", start, end))
    if not added:
        return phones
    duration = phones[-1].end if phones else 0.0
    return contiguous([piece for p in phones for piece in _outside(p, added)] + added, duration)


def _outside(phone: Phone, spans: list[Phone]) -> list[Phone]:
    """The parts of ``phone`` outside every span of ``spans``."""
    pieces = [(phone.start, phone.end)]
    for span in spans:
        pieces = [part for s, e in pieces for part in ((s, min(e, span.start)), (max(s, span.end), e))
                  if part[1] > part[0]]
    return [Phone(phone.label, s, e) for s, e in pieces]


def read_transcript(path: str | Path) -> str:
    """The text of a transcript file (UTF-8, within `TRANSCRIPT_BYTES`); raises TalkingHeadError otherwise."""
    return read_text(path, "transcript", TRANSCRIPT_BYTES)
