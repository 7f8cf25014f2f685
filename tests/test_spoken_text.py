"""Whisper's written forms become the words people say, so every spoken word is aligned."""

from __future__ import annotations

import pytest

from talkinghead.audio.align import transcript_words
from talkinghead.audio.transcribe import fits_in


@pytest.mark.parametrize(("written", "said"), [
    ("five 5% more", ["five", "5", "percent", "more"]),
    ("$5 million", ["5", "million", "dollars"]),
    ("$1", ["1", "dollar"]),
    ("£2.50", ["2", "pounds", "50", "cents"]),
    ("at 3:30 pm", ["at", "3", "30", "p", "m"]),
    ("at 10:00 a.m.", ["at", "10", "o'clock", "a", "m"]),
    ("Dr. Smith & Mrs. Jones", ["doctor", "smith", "and", "missus", "jones"]),
    ("1,200 people", ["1200", "people"]),
    ("the 21st", ["the", "21st"]),
    ("2.5 km", ["2", "point", "5", "km"]),
    ("no. I said no.", ["no", "i", "said", "no"]),
])
def test_written_forms_become_spoken_words(written: str, said: list[str]) -> None:
    assert transcript_words(written) == said


def test_text_said_twice_does_not_fit_the_speech() -> None:
    sentence = "the quick brown fox jumps over the lazy dog near the river bank"
    assert fits_in(sentence, 3.0)
    assert not fits_in(f"{sentence} {sentence}", 3.0)
    assert not fits_in("$5 million " * 6, 2.0)
