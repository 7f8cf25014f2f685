"""A soft subtitle track (MP4's ``mov_text``, what browsers and players switch on and off) from captions.

PyAV's subtitle encoder takes each cue as an ASS dialogue event and writes the MP4 text sample; the track
is muxed beside the video and sound, so players list it under their captions menu.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from av.subtitles.subtitle import SubtitleSet

from talkinghead.captions import Caption

TIME_BASE = Fraction(1, 1000)
# The encoder needs an ASS header; only the style's existence matters for mov_text.
ASS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    "MarginR, MarginV, Encoding\n"
    "Style: Default,Sans,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)


class SubtitleTrack:
    """A ``mov_text`` stream in ``container`` for ``cues``; `mux` writes them (once, before closing)."""

    def __init__(self, container: Any, cues: Sequence[Caption], language: str = "und") -> None:
        self.cues = list(cues)
        self.stream = container.add_stream("mov_text")
        self.stream.codec_context.subtitle_header = ASS_HEADER.encode()
        self.stream.codec_context.time_base = TIME_BASE
        self.stream.time_base = TIME_BASE
        self.stream.metadata["language"] = _iso_639_2(language)
        self.stream.metadata["handler_name"] = "Captions"
        self.container = container

    def mux(self) -> None:
        for index, cue in enumerate(self.cues):
            start, end = round(cue.start * 1000), round(cue.end * 1000)
            if end <= start:
                continue
            event = f"{index},0,Default,,0,0,0,,{_ass_text(cue)}"
            packet = self.stream.codec_context.encode_subtitle(SubtitleSet.create(event.encode(), 0, end - start,
                                                                                  pts=start))
            packet.stream = self.stream
            packet.pts = packet.dts = start
            packet.duration = end - start
            packet.time_base = TIME_BASE
            self.container.mux(packet)


def _ass_text(cue: Caption) -> str:
    """Cue text as an ASS event's text: lines joined by ``\\N``, braces (ASS override tags) made plain."""
    return "\\N".join(line.replace("{", "(").replace("}", ")").replace("\\", "/") for line in cue.lines)


_TWO_TO_THREE = {"en": "eng", "de": "deu", "fr": "fra", "es": "spa", "it": "ita", "pt": "por", "nl": "nld",
                 "ru": "rus", "zh": "zho", "ja": "jpn", "ko": "kor", "ar": "ara", "hi": "hin", "pl": "pol",
                 "sv": "swe", "tr": "tur", "uk": "ukr", "cs": "ces", "el": "ell", "fi": "fin", "da": "dan"}


def _iso_639_2(language: str) -> str:
    """MP4 tags a track's language with ISO 639-2 (three letters); unknown ones stay undetermined."""
    return _TWO_TO_THREE.get(language.lower(), "und")
