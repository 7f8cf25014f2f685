"""Which phones a recording contains, by the best route available.

Known phones (from the synthesiser) are used as they are; with a transcript they are force-aligned. Without
one, Whisper transcribes each phrase and its words are force-aligned; phrases it cannot transcribe get the
streaming viseme model's phones (or, without its weights, what a phone recogniser hears; so do all phrases
when Whisper is not installed). Without PocketSphinx there are none, and the mouth falls back to loudness.

Whisper's words and the viseme model, weighed frame by frame (`weighed_phones`). Whisper's mistakes sound
like what was said, but not always like it looks: "films" for "sells", "new" for "blue", whole phrases
garbled through a telephone band, words dropped from read numbers; and PocketSphinx's times are loose on
voices far from its acoustic model. The viseme model hears the mouth shapes directly but is often unsure.
So the aligned phones are a prior on the model's posteriors: each frame's aligned viseme gets a bonus in
log-odds, from `TRUST_UNSURE` for a word Whisper doubted (its probability 0) to `TRUST_SURE` for one it was
sure of (1), and the frame takes the most likely viseme after the bonus, closed lips favoured as in the live
mode where the words are in doubt. A sure, right word keeps its phones unless the model is far surer of
another shape; a doubted word yields wherever the model hears otherwise. Words PocketSphinx could not align
are timed on the model itself and get the low bonus: their times carry no evidence of their own.

Speed. The viseme model reads the whole recording while Whisper transcribes it, in a second thread: both
release the GIL in their compiled code, so on a 2-core machine the model's 0.03 s per second of audio hides
under Whisper's 0.07 s (PocketSphinx's alignment holds the GIL, so it runs alone).

Noise. In heavy noise (`NOISY_RANGE_DB`) PocketSphinx still times the words and each keeps Whisper's rating,
but closed lips get the bonus everywhere, as where the words are doubted: noise blurs PocketSphinx's closure
times, and the model hears a closure as silence under the noise. Timing the words on the model, or doubting
them all, kept closures a little better but lost the rest of the mouth where Whisper heard right (a festival
voice at 10 dB: 0.65 against 0.77 balanced accuracy; docs/lip-sync.md, "Beam search").
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import numpy as np

from talkinghead.ahead import beside
from talkinghead.audio import Speech, transcribe, viseme_model
from talkinghead.audio.features import loudness_range_db
from talkinghead.audio.phonemes import Phone, contiguous
from talkinghead.audio.sphinx import available
from talkinghead.audio.viseme_model import (
    CLOSURE_BONUS,
    FRAME_S,
    VISEMES,
    viseme_posteriors,
    visemes_to_phones,
)
from talkinghead.audio.words import Word, shifted
from talkinghead.input_files import TRANSCRIPT_BYTES, read_text
from talkinghead.motion.visemes import viseme_of
from talkinghead.progress import analysed

# Log-odds bonus for the aligned phone's viseme in each frame (see the module docstring): `TRUST_UNSURE` for
# a word Whisper gave probability 0 (and words timed on the model itself), `TRUST_SURE` for probability 1 and
# for pauses between words, linear between. Chosen on validation speech of our own (36 new English sentences
# in held-out voices, clean and through a telephone band, and the two dev LibriVox clips) against the two
# witnesses' rules this replaced (0.818 / 0.761 / 0.987 balanced accuracy): a flat bonus of 2 scored 0.897 /
# 0.821 / 0.938, 3 scored 0.875 / 0.803 / 0.976, and 1 + 2p (this) 0.890 / 0.818 / 0.971 (closures 0.996 /
# 0.985 / 1.0). The LibriVox truth is PocketSphinx's own alignment, so any change from it counts as an error.
# Held-out figures: docs/lip-sync.md.
TRUST_UNSURE, TRUST_SURE = 1.0, 3.0
# A recording whose loud frames are less than this far above its floor (white noise about 14 dB under the
# speech) favours closed lips wherever the model hears them, sure words or not (see the module docstring).
NOISY_RANGE_DB = 20.0


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
    """Phones phrase by phrase: Whisper's words aligned, or the recognised phones where it gave no usable text,
    then weighed against the viseme model (`weighed_phones`). The aligned words go to ``speech.words`` (None
    when no phrase had any).

    Each phrase is aligned (PocketSphinx, one thread) while the next is transcribed (Whisper): on 8 minutes of
    speech on two cores, 88 s -> 76 s, the same phones. One alignment runs at a time, in phrase order."""
    noisy = loudness_range_db(speech.energy_db) < NOISY_RANGE_DB
    phones: list[Phone] = []
    words: list[Word] = []
    trust = np.full(round(speech.duration / FRAME_S), TRUST_SURE, np.float32)
    posteriors = beside(viseme_posteriors, speech.samples) if viseme_model.available() else None
    aligning: tuple[float, Future[list[Phone]]] | None = None  # a phrase's end and its alignment
    for phrase in transcribe.transcribe(speech.samples, speech.activity, speech.feature_rate):
        if aligning is not None:
            phones.extend(_aligned(aligning, speech.duration))
        aligning = phrase.end, beside(_phrase_phones, speech, phrase, trust, words)  # beside the next phrase
    if aligning is not None:
        phones.extend(_aligned(aligning, speech.duration))
    speech.words = words or None
    phones = contiguous(phones, speech.duration)
    if posteriors is None:
        return phones
    return weighed_phones(phones, trust, posteriors.result(), closures_everywhere=noisy)


def _aligned(aligning: tuple[float, Future[list[Phone]]], duration: float) -> list[Phone]:
    """A phrase's phones once aligned; then the analysis has done the speech up to the phrase's end."""
    end, phones = aligning
    result = phones.result()
    analysed(end, duration)  # a long recording takes a while: say how far it is
    return result


def _phrase_phones(speech: Speech, phrase: transcribe.Phrase, trust: np.ndarray, words: list[Word]) -> list[Phone]:
    """One phrase's phones in the recording's time: its words aligned (appended to ``words``, their trust
    written into ``trust``), or what the recogniser hears where it has no text."""
    from talkinghead.audio.align import align
    from talkinghead.audio.recognize import recognize_phones

    rate, per_s = speech.rate, speech.feature_rate
    samples = speech.samples[round(phrase.start * rate):round(phrase.end * rate)]
    activity = speech.activity[round(phrase.start * per_s):round(phrase.end * per_s)]
    span = slice(round(phrase.start / FRAME_S), round(phrase.end / FRAME_S))
    if phrase.text is None:  # no prior: the viseme model decides there, else what allphone hears
        trust[span] = 0.0
        found = [] if viseme_model.available() else recognize_phones(samples, activity, per_s)
    else:
        aligned = align(samples, activity, per_s, phrase.text)
        found = aligned.phones
        timed = shifted(aligned.words, phrase.start)
        words.extend(timed)
        if aligned.by_model:
            trust[span] = TRUST_UNSURE
        else:
            for word, prob in zip(timed, matched_probabilities(aligned.words, phrase.word_probs), strict=True):
                trust[round(word.start / FRAME_S):round(word.end / FRAME_S)] = (
                    TRUST_UNSURE + (TRUST_SURE - TRUST_UNSURE) * prob)
    return [Phone(p.label, p.start + phrase.start, p.end + phrase.start) for p in found]


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


def weighed_phones(phones: list[Phone], trust: np.ndarray, log_posteriors: np.ndarray,
                   closures_everywhere: bool = False) -> list[Phone]:
    """The viseme model's phones with ``phones`` as a prior: each frame's aligned viseme gets ``trust`` (log-odds,
    one value per 10 ms frame) added to its log-posterior, and each frame takes its most likely viseme
    (`visemes_to_phones`: no run shorter than 30 ms but closures). Closed lips get the live mode's bonus
    (`CLOSURE_BONUS`) in proportion to the doubt: in full where the words are doubted or absent, none where
    Whisper was sure (there the words' own p/b/m close the lips; with the bonus the model's short false
    closures on real speech flapped the mouth); in full everywhere with ``closures_everywhere`` (heavy noise).

    >>> post = np.log(np.full((10, len(VISEMES)), 0.5 / (len(VISEMES) - 1))); post[:, VISEMES.index("aa")] = np.log(0.5)
    >>> [p.label for p in weighed_phones([Phone("UW", 0.0, 0.1)], np.full(10, 3.0), post)]
    ['UW']
    >>> [p.label for p in weighed_phones([Phone("UW", 0.0, 0.1)], np.full(10, 1.0), post)]
    ['AA']
    """
    n = min(log_posteriors.shape[0], trust.size)
    if n == 0:
        return phones
    prior = np.zeros((n, len(VISEMES)), np.float32)
    for phone in phones:
        a, b = max(0, round(phone.start / FRAME_S)), min(n, round(phone.end / FRAME_S))
        prior[a:b, VISEMES.index(viseme_of(phone.label))] = trust[a:b]
    scores = log_posteriors[:n] + prior
    doubt = 1.0 if closures_everywhere else np.clip((TRUST_SURE - trust[:n]) / (TRUST_SURE - TRUST_UNSURE), 0, 1)
    scores[:, VISEMES.index("PP")] += CLOSURE_BONUS * doubt
    weighed = visemes_to_phones([VISEMES[k] for k in np.argmax(scores, axis=1)])
    return contiguous(weighed, phones[-1].end if phones else n * FRAME_S)


def read_transcript(path: str | Path) -> str:
    """The text of a transcript file (UTF-8, within `TRANSCRIPT_BYTES`); raises TalkingHeadError otherwise."""
    return read_text(path, "transcript", TRANSCRIPT_BYTES)
