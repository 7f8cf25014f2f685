"""Which phones a recording contains, by the best route available.

Known phones (from the synthesiser) are used as they are; with a transcript they are force-aligned. Without
one, Whisper transcribes each phrase and its words are force-aligned; phrases it cannot transcribe reliably
get the streaming viseme model's phones (or, without its weights, what a phone recogniser hears; so do all
phrases when Whisper is not installed). Without PocketSphinx
there are none, and the mouth falls back to loudness.
"""

from __future__ import annotations

from pathlib import Path

from talkinghead.audio import Speech, transcribe, viseme_model
from talkinghead.audio.phonemes import Phone, contiguous
from talkinghead.audio.sphinx import available
from talkinghead.audio.viseme_model import streamed_phones
from talkinghead.audio.words import Word, shifted
from talkinghead.input_files import TRANSCRIPT_BYTES, read_text


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
    return contiguous(phones, speech.duration)


def read_transcript(path: str | Path) -> str:
    """The text of a transcript file (UTF-8, within `TRANSCRIPT_BYTES`); raises TalkingHeadError otherwise."""
    return read_text(path, "transcript", TRANSCRIPT_BYTES)
