"""Which phones a recording contains, by the best route available.

Known phones (from the synthesiser) are used as they are; with a transcript they are force-aligned. Without
one, Whisper transcribes each phrase and its words are force-aligned; phrases it cannot transcribe reliably
get the streaming viseme model's phones (or, without its weights, what a phone recogniser hears; so do all
phrases when Whisper is not installed). Where Whisper's words have no p/b/m but the viseme model is sure it
hears closed lips, a closure is added (`with_heard_closures`): a misheard word must not leave the lips open
through a /b/. Without PocketSphinx there are none, and the mouth falls back to loudness.

Misheard words. Whisper's mistakes sound like what was said, but not always like it looks: "films" for
"sells", "new" for "blue", "one" for "van" move the lips wrongly for the whole word. Such a word is caught
by two independent witnesses that must agree (`misheard_spans`): Whisper itself was unsure of it (its
probability below `UNSURE_WORD`), and the viseme model, which hears the mouth shapes directly, finds the
aligned shapes much less likely than its own best ones there (`MISHEARD_GAP`). Only then do the model's
visemes replace the word's phones. Neither witness alone will do: Whisper is unsure of many right words
("peppers", "Wow"), and the model, trained on synthetic speech, disagrees with many right words of real
speech (gaps of 1-2 nats on "how", "them" in the LibriVox clips, where Whisper is sure of them). The same two
witnesses judge each whole phrase too (its words' mean probability, `UNSURE_PHRASE`; `MISHEARD_PHRASE_GAP`):
through a telephone band Whisper garbles whole phrases of which no single word is doubted enough.

Noise. In heavy noise (`NOISY_RANGE_DB`) the viseme model, trained with noise, gives every phone; Whisper's
words are still aligned, for captions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from talkinghead.audio import Speech, transcribe, viseme_model
from talkinghead.audio.features import loudness_range_db
from talkinghead.audio.phonemes import SILENCE, Phone, contiguous
from talkinghead.audio.sphinx import available
from talkinghead.audio.viseme_model import (
    FRAME_S,
    VISEMES,
    frame_visemes,
    streamed_phones,
    viseme_posteriors,
    visemes_to_phones,
)
from talkinghead.audio.words import Word, shifted
from talkinghead.input_files import TRANSCRIPT_BYTES, read_text
from talkinghead.motion.visemes import viseme_of

# The viseme model's closed-lips probability above which a missing p/b/m is added. With the two-network model
# (its averaged posteriors are less peaked than one network's), every closed-lips run of 20 ms or more at 0.6
# lay on a true p/b/m on held-out English and the dev clips (41 of 41); 0.6 instead of 0.8 lifts bilabial
# closure on other espeak voices 0.883 -> 0.917 and changes nothing on real speech. Re-checked for the
# four-network model on speech of our own (36 new sentences, held-out voices): runs at 0.6 lay on a true p/b/m
# 66 of 66 times clean and 69 of 71 through a telephone band; 0.5 found 77 of 78 and 85 of 93 and changed no
# benchmark figure, so 0.6 stays.
SURE_CLOSURE = 0.6
CLOSURE_LABELS = frozenset({"P", "B", "M"})
NEAR_CLOSURE_S = 0.06  # a heard closure this close to an aligned p/b/m is that one
UNSURE_WORD = 0.5  # Whisper's probability of a word below which it may be misheard (see the module docstring)
# Mean log-likelihood per frame (nats) by which the model's best mouth shapes must beat the aligned ones for an
# unsure word to be called misheard. On the dev clips clearly misheard words score 1.0-1.5 ("films", "new",
# "one"), near-misses 0.3-0.8 ("album", "meds"), unsure right words mostly under 0.6; of 0.5, 0.7, 0.9 and 1.2,
# 0.9 scored best. The one right word above it, "Wow", opens a clip: the model's level normalisation is unsettled.
MISHEARD_GAP = 0.9
# A whole phrase is misheard when Whisper doubted it on average (its words' mean probability below
# `UNSURE_PHRASE`) and the model's shapes beat the aligned ones over it by `MISHEARD_PHRASE_GAP` nats a frame.
# Whisper tiny.en garbles whole phrases of synthetic speech through a telephone band ("Paul makes a plan, piper
# the members of the men", mean 0.46, gap 1.5); right phrases it doubts score gaps of 0.1-0.5 on synthetic speech.
# Of (0.6, 0.9) and (0.7, 0.6) on validation speech of our own (36 sentences, held-out voices), (0.7, 0.6)
# scored best: telephone band 0.677 -> 0.746, clean 0.788 -> 0.812; the dev LibriVox clips are unchanged clean
# and through a telephone band 0.789 -> 0.811 (one of their p/b/m is lost there).
UNSURE_PHRASE = 0.7
MISHEARD_PHRASE_GAP = 0.6
# A recording whose loud frames are less than this far above its floor (white noise about 14 dB under the
# speech) gets the viseme model's phones throughout: trained with noise, it loses less to it than the aligner
# (dev LibriVox clips with white noise 10 dB under the speech: 0.58 against 0.37 balanced accuracy).
NOISY_RANGE_DB = 20.0
SMOOTH_FRAMES = 3  # posteriors are averaged over +-30 ms: alignment and model may disagree on edges by that much
FLOOR = 1e-3  # a shape's probability is never taken as below this (one odd frame must not decide a word)
# Visemes the viewer cannot tell apart, pooled before comparing: the tongue's place does not show on the lips.
MOUTH_SHAPES = (("sil",), ("PP",), ("FF",), ("TH", "DD", "kk", "nn", "SS"), ("CH",), ("RR", "O", "U"),
                ("aa", "E"), ("I",))
SHAPE_OF_VISEME = {v: k for k, shapes in enumerate(MOUTH_SHAPES) for v in shapes}


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
    word_probs: list[float] = []
    phrases: list[Word] = []  # each transcribed phrase as one "word" ...
    phrase_probs: list[float] = []  # ... with the mean probability of its words
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
            probs = matched_probabilities(aligned.words, phrase.word_probs)
            word_probs.extend(probs)
            phrases.append(Word(phrase.text, phrase.start, phrase.end))
            phrase_probs.append(float(np.mean(probs)) if probs else 1.0)
        phones.extend(Phone(p.label, p.start + phrase.start, p.end + phrase.start) for p in found)
    speech.words = words or None
    phones = contiguous(phones, speech.duration)
    if not viseme_model.available():
        return phones
    if loudness_range_db(speech.energy_db) < NOISY_RANGE_DB:
        return streamed_phones(speech.samples)
    log_posteriors = viseme_posteriors(speech.samples)
    spans = misheard_spans(phones, phrases, phrase_probs, log_posteriors, UNSURE_PHRASE, MISHEARD_PHRASE_GAP)
    phones = with_model_where_misheard(phones, spans, log_posteriors, closure_bonus=True)
    phones = with_model_where_misheard(phones, misheard_spans(phones, words, word_probs, log_posteriors),
                                       log_posteriors)
    return with_heard_closures(phones, speech.samples, log_posteriors)


def matched_probabilities(words: list[Word], heard: tuple[tuple[str, float], ...]) -> list[float]:
    """Whisper's probability for each aligned word (the least of the written words it is made of), matched
    in order by text; a word that matches nothing counts as sure (1.0), so it is never replaced.

    >>> matched_probabilities([Word("Hello, --", 0, 1), Word("world!", 1, 2)], (("Hello,", 0.9), ("world!", 0.2)))
    [0.9, 0.2]
    """
    out, cursor = [], 0
    for word in words:
        probs = []
        for token in word.text.split():
            found = next((k for k in range(cursor, min(cursor + 4, len(heard))) if heard[k][0] == token), None)
            if found is not None:
                probs.append(heard[found][1])
                cursor = found + 1
        out.append(min(probs, default=1.0))
    return out


def misheard_spans(phones: list[Phone], words: list[Word], word_probs: list[float], log_posteriors: np.ndarray,
                   unsure: float = UNSURE_WORD, gap: float = MISHEARD_GAP) -> list[tuple[float, float]]:
    """The (start, end) of every word Whisper was unsure of (probability below ``unsure``) whose aligned
    mouth shapes the viseme model finds far less likely than its own best ones: per 10 ms frame, the log of
    the (smoothed, `MOUTH_SHAPES`-pooled) probability of the model's most likely shape minus that of the
    aligned phone's shape, averaged over the word, at least ``gap``. A "word" may be a whole phrase (with
    its words' mean probability: `UNSURE_PHRASE`, `MISHEARD_PHRASE_GAP`)."""
    shapes = _shape_probabilities(log_posteriors)
    n = shapes.shape[0]
    aligned = np.zeros(n, int)
    for phone in phones:
        shape = SHAPE_OF_VISEME[viseme_of(phone.label)]
        aligned[max(0, round(phone.start / FRAME_S)):round(phone.end / FRAME_S)] = shape
    spans = []
    for word, prob in zip(words, word_probs, strict=True):
        a, b = max(0, round(word.start / FRAME_S)), min(n, round(word.end / FRAME_S))
        if prob >= unsure or b <= a:
            continue
        best = np.log(np.maximum(shapes[a:b].max(axis=1), FLOOR))
        said = np.log(np.maximum(shapes[np.arange(a, b), aligned[a:b]], FLOOR))
        if float(np.mean(best - said)) >= gap:
            spans.append((word.start, word.end))
    return spans


def _shape_probabilities(log_posteriors: np.ndarray) -> np.ndarray:
    """(frames, len(MOUTH_SHAPES)) probabilities: the model's visemes pooled per shape, averaged over
    +-`SMOOTH_FRAMES` frames."""
    pool = np.zeros((len(VISEMES), len(MOUTH_SHAPES)), np.float32)
    for k, viseme in enumerate(VISEMES):
        pool[k, SHAPE_OF_VISEME[viseme]] = 1.0
    shapes = np.exp(log_posteriors) @ pool
    if shapes.shape[0] == 0:  # no audio: nothing to compare
        return shapes
    kernel = np.ones(2 * SMOOTH_FRAMES + 1, np.float32) / (2 * SMOOTH_FRAMES + 1)
    padded = np.pad(shapes, ((SMOOTH_FRAMES, SMOOTH_FRAMES), (0, 0)), mode="edge")
    return np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(shapes.shape[1])], axis=1)


def with_model_where_misheard(phones: list[Phone], spans: list[tuple[float, float]],
                              log_posteriors: np.ndarray, closure_bonus: bool = False) -> list[Phone]:
    """``phones`` with the viseme model's own phones inside each of ``spans``: its most likely viseme per
    frame, by default without the live mode's bonus for closed lips (`viseme_model.CLOSURE_BONUS`). Inside a
    word that bonus closes the lips on vowels ("sells" got a /p/ in its /l/); sure closures are added
    afterwards by `with_heard_closures` anyway. A whole phrase takes the live mode's decoding, bonus
    included: without it the p/b/m of a real speaker's phrase were lost (the model is rarely sure of them on
    real speech), and the phrase's aligned words no longer mark them."""
    if not spans:
        return phones
    cut = [Phone(SILENCE, start, end) for start, end in spans]
    heard = visemes_to_phones(frame_visemes(log_posteriors) if closure_bonus
                              else [VISEMES[k] for k in np.argmax(log_posteriors, axis=1)])
    inside = [Phone(p.label, max(p.start, s.start), min(p.end, s.end)) for p in heard for s in cut
              if p.start < s.end and s.start < p.end]
    return _spliced(phones, cut, inside)


def with_heard_closures(phones: list[Phone], samples: np.ndarray,
                        log_posteriors: np.ndarray | None = None) -> list[Phone]:
    """``phones`` plus a /p/ wherever the viseme model gives closed lips a probability of `SURE_CLOSURE` or
    more for two frames or longer and no aligned p/b/m is within `NEAR_CLOSURE_S` (a recognised word that
    lost its /b/: a final "book" cut short). The model is too unsure of some true closures (0.1-0.3: the /b/ of
    "blue" heard as "new") to add those, or to remove any. ``log_posteriors``
    are the model's for ``samples`` when already computed."""
    log_posteriors = viseme_posteriors(samples) if log_posteriors is None else log_posteriors
    sure = log_posteriors[:, VISEMES.index("PP")] >= np.log(SURE_CLOSURE)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], sure.astype(np.int8), [0]])))
    closures = [p for p in phones if p.label in CLOSURE_LABELS]
    added = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        start, end = a * FRAME_S, b * FRAME_S
        if b - a >= 2 and not any(p.start - NEAR_CLOSURE_S < end and start < p.end + NEAR_CLOSURE_S for p in closures):
            added.append(Phone("P", start, end))
    return _spliced(phones, added, added) if added else phones


def _spliced(phones: list[Phone], cut: list[Phone], inserted: list[Phone]) -> list[Phone]:
    """``phones`` with the spans of ``cut`` taken out and ``inserted`` put in, over the same duration."""
    duration = phones[-1].end if phones else 0.0
    return contiguous([piece for p in phones for piece in _outside(p, cut)] + inserted, duration)


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
