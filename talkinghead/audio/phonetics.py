"""Which phones a recording contains, by the best route available.

Known phones (from the synthesiser) are used as they are; with a transcript they are force-aligned; without
one they are recognised. Without PocketSphinx there are none, and the mouth falls back to loudness.
"""

from __future__ import annotations

from pathlib import Path

from talkinghead.audio import Speech
from talkinghead.audio.phonemes import Phone
from talkinghead.audio.sphinx import available
from talkinghead.errors import TalkingHeadError


def find_phones(speech: Speech) -> list[Phone] | None:
    """Timed ARPAbet phones covering ``speech`` (cached on it), or None when no phone model is installed."""
    if speech.phones is None and available():
        from talkinghead.audio.align import align_phones
        from talkinghead.audio.recognize import recognize_phones

        if speech.transcript and speech.transcript.strip():
            speech.phones = align_phones(speech.samples, speech.activity, speech.feature_rate, speech.transcript)
        else:
            speech.phones = recognize_phones(speech.samples, speech.activity, speech.feature_rate)
    return speech.phones


def read_transcript(path: str | Path) -> str:
    """The text of a transcript file; raises TalkingHeadError if it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TalkingHeadError(f"cannot read transcript {path}: {getattr(exc, 'strerror', None) or exc}") from None
