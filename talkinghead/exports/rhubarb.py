"""Rhubarb Lip Sync's mouth shapes (TSV, JSON, XML) and Moho's switch data file (``.dat``).

Rhubarb names nine mouth shapes (its README, "Mouth shapes"): A closed (P B M), B slightly open with
clenched teeth (most consonants, and EE), C open (EH, AE), D wide open (AA), E slightly rounded (AO, ER),
F puckered (UW, OW, W); and three optional extended shapes: G upper teeth on the lower lip (F V), H tongue
raised behind the upper teeth (long L), X idle / rest. Without an extended shape Rhubarb uses its basic
stand-in: G -> B, H -> C, X -> A. When the phones are known each phone picks its shape (so an L can get H);
otherwise each viseme does, and ``nn`` (n, ng and l together) takes B, never H.

Times are in seconds, truncated to centiseconds as Rhubarb writes them; each cue ends where the next
begins. The TSV ends with one more line: the end of the recording with a closed mouth.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from talkinghead.audio.phonemes import SILENCE
from talkinghead.exports import ExportSource

BASIC_SHAPES = "ABCDEF"
BASIC_STAND_IN = {"G": "B", "H": "C", "X": "A"}
PRESTON_BLAIR = {"A": "MBP", "B": "etc", "C": "E", "D": "AI", "E": "O", "F": "U", "G": "FV", "H": "L", "X": "rest"}

SHAPE_OF_PHONE = {
    SILENCE: "X", "P": "A", "B": "A", "M": "A", "F": "G", "V": "G", "L": "H",
    "IY": "B", "Y": "B", "EH": "C", "AE": "C", "AH": "C", "EY": "C", "IH": "C", "AA": "D", "AY": "D", "AW": "D",
    "AO": "E", "ER": "E", "R": "E", "UH": "E", "UW": "F", "OW": "F", "OY": "F", "W": "F",
}  # every other consonant: B
SHAPE_OF_VISEME = {"sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "B", "SS": "B",
                   "nn": "B", "RR": "E", "aa": "D", "E": "C", "I": "B", "O": "E", "U": "F"}


def shape_cues(source: ExportSource) -> list[tuple[float, float, str]]:
    """(start, end, shape) on Rhubarb's centisecond grid, neighbours with the same shape merged."""
    if source.phones is not None:
        timed = [(p.start, SHAPE_OF_PHONE.get(p.label, "B")) for p in source.phones]
    else:
        timed = [(c.start, SHAPE_OF_VISEME.get(c.viseme, "B")) for c in source.cues]
    end = _centiseconds(source.duration)
    slots: list[tuple[int, str]] = []
    for start, shape in timed:
        at = min(_centiseconds(start), end)
        if slots and slots[-1][0] >= at:  # two shapes in one centisecond: the later one wins it
            slots[-1] = (slots[-1][0], to_target_shapes(shape, source.extended_shapes))
        else:
            slots.append((at, to_target_shapes(shape, source.extended_shapes)))
    merged: list[tuple[int, str]] = []
    for at, shape in slots or [(0, to_target_shapes("X", source.extended_shapes))]:
        if not merged or merged[-1][1] != shape:
            merged.append((at, shape))
    merged[0] = (0, merged[0][1])  # Rhubarb's first cue always starts at 0.00
    bounds = [at for at, _ in merged[1:]] + [end]
    cues = [(at / 100, stop / 100, shape) for (at, shape), stop in zip(merged, bounds, strict=True) if stop > at]
    return cues or [(0.0, end / 100, merged[0][1])]


def to_target_shapes(shape: str, extended: str) -> str:
    """``shape`` itself when it is basic or allowed, else Rhubarb's basic stand-in for it."""
    return shape if shape in BASIC_SHAPES or shape in extended else BASIC_STAND_IN[shape]


def _centiseconds(seconds: float) -> int:
    return int(seconds * 100 + 1e-6)


def tsv(source: ExportSource) -> str:
    """Rhubarb's TSV: ``time<TAB>shape`` per cue, then the end of the recording with a closed mouth."""
    cues = shape_cues(source)
    closed = to_target_shapes("X", source.extended_shapes)
    lines = [f"{start:.2f}\t{shape}" for start, _, shape in cues]
    lines.append(f"{cues[-1][1]:.2f}\t{closed}")
    return "\n".join(lines) + "\n"


def json_text(source: ExportSource) -> str:
    """Rhubarb's JSON: ``metadata`` (soundFile, duration) and ``mouthCues`` (start, end, value)."""
    cues = shape_cues(source)
    body = ",\n".join(f'    {{ "start": {a:.2f}, "end": {b:.2f}, "value": "{s}" }}' for a, b, s in cues)
    return ('{\n  "metadata": {\n'
            f'    "soundFile": {json.dumps(source.sound_file)},\n'
            f'    "duration": {_centiseconds(source.duration) / 100:.2f}\n'
            '  },\n  "mouthCues": [\n' + body + "\n  ]\n}\n")


def xml_text(source: ExportSource) -> str:
    """Rhubarb's XML: ``<rhubarbResult>`` with ``<metadata>`` and ``<mouthCues>``."""
    cues = shape_cues(source)
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<rhubarbResult>", "  <metadata>",
             f"    <soundFile>{escape(source.sound_file)}</soundFile>",
             f"    <duration>{_centiseconds(source.duration) / 100:.2f}</duration>", "  </metadata>", "  <mouthCues>"]
    lines += [f'    <mouthCue start="{a:.2f}" end="{b:.2f}">{s}</mouthCue>' for a, b, s in cues]
    lines += ["  </mouthCues>", "</rhubarbResult>"]
    return "\n".join(lines) + "\n"


def moho_dat(source: ExportSource, preston_blair: bool = False) -> str:
    """Moho's switch data: ``MohoSwitch1``, then ``frame shape`` lines (frames count from 1 at the fps).

    A shape that would start on the same frame as the one before is dropped; the last line closes the
    mouth at the end of the recording.
    """
    def frame(seconds: float) -> int:
        return 1 + int(seconds * source.fps + 1e-6)

    def name(shape: str) -> str:
        return PRESTON_BLAIR[shape] if preston_blair else shape

    lines, last = ["MohoSwitch1"], 0
    cues = shape_cues(source)
    for start, _, shape in cues:
        number = frame(start)
        if number != last:
            lines.append(f"{number} {name(shape)}")
            last = number
    end = frame(cues[-1][1])
    lines.append(f"{end + 1 if end == last else end} {name(to_target_shapes('X', source.extended_shapes))}")
    return "\n".join(lines) + "\n"


def opentoonz_dat(source: ExportSource) -> str:
    """`moho_dat` with Preston Blair's shape names, the only ones OpenToonz reads."""
    return moho_dat(source, preston_blair=True)
