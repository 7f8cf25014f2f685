"""Timed words: what is said and when, for captions.

Words come out of the audio stage wherever they are known: espeak-ng's word events for ``--text``, the
aligner's word pass for a transcript, and Whisper's phrases once aligned. Each source times the words it
can pronounce (lower case, no punctuation); `display_words` puts the text back as the user wrote it, one
`Word` per written token ("Hello," "Mr." "O'Brien"), so captions read like the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

LOOK_AHEAD = 4  # a timed word may be this many places further on than expected (words the aligner dropped)


@dataclass(frozen=True)
class Word:
    """One word: its ``text`` and when it is said, ``start`` to ``end`` seconds."""

    text: str
    start: float
    end: float


def spoken_forms(text: str) -> list[str]:
    """Lower-case words (letters and apostrophes) and numbers in ``text``: how timed words are matched.

    >>> spoken_forms("Hello, Mr. O'Brien -- 42!")
    ['hello', 'mr', "o'brien", '42']
    """
    return re.findall(r"[a-z]+(?:'[a-z]+)*|[0-9]+", text.lower())


def display_words(timed: Sequence[Word], text: str) -> list[Word]:
    """The tokens of ``text`` (split at white space) timed by the ``timed`` words they contain.

    A token none of whose words was timed (punctuation, a word the aligner skipped) joins its neighbour,
    so nothing written is lost; the times are always the timed words' own.

    >>> display_words([Word("hello", 0.1, 0.4), Word("world", 0.5, 0.9)], "Hello, -- world!")
    [Word(text='Hello, --', start=0.1, end=0.4), Word(text='world!', start=0.5, end=0.9)]
    """
    forms = [(spoken_forms(w.text)[:1] or [""])[0] for w in timed]
    out: list[Word] = []
    waiting: list[str] = []  # tokens before the first timed one
    cursor = 0
    for token in text.split():
        matched: list[Word] = []
        for form in spoken_forms(token):
            found = next((k for k in range(cursor, min(cursor + LOOK_AHEAD, len(timed))) if forms[k] == form), None)
            if found is not None:
                matched.append(timed[found])
                cursor = found + 1
        if matched:
            out.append(Word(" ".join([*waiting, token]), matched[0].start, matched[-1].end))
            waiting = []
        elif out:
            out[-1] = Word(f"{out[-1].text} {token}", out[-1].start, out[-1].end)
        else:
            waiting.append(token)
    return out


def shifted(words: Sequence[Word], seconds: float) -> list[Word]:
    """``words`` moved ``seconds`` later (phrase-relative times -> recording times)."""
    return [Word(w.text, w.start + seconds, w.end + seconds) for w in words]
