"""Captions from timed words: phrase-sized cues of readable length, written as SRT or WebVTT.

A cue holds at most two lines of `MAX_LINE` characters and lasts `MIN_SECONDS`-`MAX_SECONDS` (common
subtitle guidance: about 42 characters a line, two lines, one to seven seconds). A cue ends at a sentence's
end, at a pause of `PAUSE_SECONDS` or more, or when the next word would not fit. It starts when its first
word starts and ends when its last word ends; a short cue is held up to `MIN_SECONDS` if the next cue
leaves room, so nothing flashes by too fast to read.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from talkinghead.audio.words import Word

MAX_LINE = 42
MAX_LINES = 2
MIN_SECONDS = 1.0
MAX_SECONDS = 7.0
PAUSE_SECONDS = 0.5
SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "prof.", "sr.", "jr.", "vs.", "etc.", "e.g.", "i.e."})


@dataclass(frozen=True)
class Caption:
    """One cue: ``lines`` of text shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def wrap(text: str) -> list[str]:
    """``text`` in lines of at most `MAX_LINE` characters (a longer single word stays whole)."""
    return textwrap.wrap(text, MAX_LINE, break_long_words=False, break_on_hyphens=False) or [text]


def caption_cues(words: Sequence[Word], duration: float | None = None) -> list[Caption]:
    """Group ``words`` into readable cues (see the module's docstring)."""
    groups: list[list[Word]] = []
    for word in words:
        current = groups[-1] if groups else None
        if current and not _ends_cue(current, word):
            current.append(word)
        else:
            groups.append([word])
    cues = []
    for k, group in enumerate(groups):
        start, end = group[0].start, group[-1].end
        room = groups[k + 1][0].start if k + 1 < len(groups) else (duration if duration is not None else end)
        end = max(end, min(start + MIN_SECONDS, room))
        cues.append(Caption(start, end, tuple(wrap(" ".join(w.text for w in group)))))
    return cues


def _ends_cue(group: list[Word], word: Word) -> bool:
    """Whether ``word`` must start a new cue after ``group``."""
    text = " ".join([*(w.text for w in group), word.text])
    return (_ends_sentence(group[-1].text) or word.start - group[-1].end >= PAUSE_SECONDS
            or word.end - group[0].start > MAX_SECONDS or len(wrap(text)) > MAX_LINES)


def _ends_sentence(text: str) -> bool:
    last = text.split()[-1].lower() if text.split() else ""
    return text.endswith(SENTENCE_END) and last not in ABBREVIATIONS


def _clock(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}{separator}{ms % 1000:03d}"


def srt_text(cues: Sequence[Caption]) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text, a blank line.

    >>> print(srt_text([Caption(0.5, 1.75, ("Hello there.",))]), end="")
    1
    00:00:00,500 --> 00:00:01,750
    Hello there.
    <BLANKLINE>
    """
    return "".join(f"{k}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n\n"
                   for k, c in enumerate(cues, start=1))


def vtt_text(cues: Sequence[Caption]) -> str:
    """WebVTT: the ``WEBVTT`` header, then cues with ``HH:MM:SS.mmm`` times (``&``, ``<`` and ``>`` escaped)."""
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    body = "".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{escape(c.text)}\n\n" for c in cues)
    return "WEBVTT\n\n" + body


WRITERS = {"srt": srt_text, "vtt": vtt_text}
