"""Exports: the speech's mouth shapes and the MotionTrack in the formats animation tools read.

One writer per format, all behind `FORMATS` (name -> `Format`): `talkinghead visemes --format NAME` prints
one, `talkinghead render --export NAME[,NAME...]` writes them beside the video. Every writer takes the same
`ExportSource` and returns the file's text; how each file is read by its tool is in docs/exports.md.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from talkinghead.audio.phonemes import Phone
from talkinghead.errors import TalkingHeadError
from talkinghead.motion.track import MotionTrack
from talkinghead.motion.visemes import Cue


@dataclass
class ExportSource:
    """What every writer may draw on.

    Attributes:
        duration: length of the recording in seconds.
        cues: viseme cues (internal viseme names) covering the recording.
        phones: timed ARPAbet phones when a phone model found them (None: mouth from loudness only).
        track: the MotionTrack rendered (or planned), at ``track.fps``; None where a format does not need it.
        fps: frame rate of per-frame formats (the track's when there is one).
        sound_file: the recording's path as the user gave it (Rhubarb's metadata), "" if none.
        extended_shapes: Rhubarb's optional mouth shapes to use, any of "GHX" ("" = the basic A-F only).
    """

    duration: float
    cues: list[Cue]
    phones: list[Phone] | None = None
    track: MotionTrack | None = None
    fps: float = 25.0
    sound_file: str = ""
    extended_shapes: str = "GHX"


@dataclass(frozen=True)
class Format:
    """One export format: its file ``suffix`` beside the video, its writer and a one-line description."""

    name: str
    suffix: str
    write: Callable[[ExportSource], str]
    description: str
    needs_track: bool = False
    default_fps: float = 25.0  # of `talkinghead visemes` without --fps (a render uses the video's)


def _formats() -> dict[str, Format]:
    from talkinghead.exports import arkit, oculus, rhubarb

    listed = [
        Format("json", ".visemes.json", oculus.cues_json, 'viseme cues as JSON: {"cues": [{start, end, viseme}]}'),
        Format("tsv", ".visemes.tsv", oculus.cues_tsv, "viseme cues as start<TAB>end<TAB>viseme lines"),
        Format("rhubarb", ".rhubarb.tsv", rhubarb.tsv, "Rhubarb Lip Sync TSV: time<TAB>mouth shape (A-F, G H X)"),
        Format("rhubarb-json", ".rhubarb.json", rhubarb.json_text, "Rhubarb Lip Sync JSON (metadata + mouthCues)"),
        Format("rhubarb-xml", ".rhubarb.xml", rhubarb.xml_text, "Rhubarb Lip Sync XML (rhubarbResult)"),
        Format("moho", ".dat", rhubarb.moho_dat, "Moho switch data file (MohoSwitch1) at the fps",
               default_fps=24.0),
        Format("opentoonz", ".opentoonz.dat", rhubarb.opentoonz_dat,
               "the same switch data with Preston Blair names (MBP, etc, E, AI, O, U, FV, L, rest) for OpenToonz",
               default_fps=24.0),
        Format("oculus-csv", ".oculus.csv", oculus.weights_csv,
               "Oculus 15 viseme weights per frame, with head pose and eyes, as CSV", needs_track=True),
        Format("oculus-json", ".oculus.json", oculus.weights_json,
               "Oculus 15 viseme weights per frame, with head pose and eyes, as JSON", needs_track=True),
        Format("arkit-csv", ".livelink.csv", arkit.live_link_csv,
               "ARKit 52 blendshapes + head and eye angles in Live Link Face's CSV layout", needs_track=True),
        Format("motion", ".motion.json", _motion_json, "the MotionTrack JSON (render it again with --motion-in)",
               needs_track=True),
    ]
    return {f.name: f for f in listed}


def _motion_json(source: ExportSource) -> str:
    import json

    if source.track is None:
        raise TalkingHeadError("the motion export needs a MotionTrack")
    return json.dumps(source.track.to_dict())


FORMATS: dict[str, Format] = _formats()
FORMAT_NAMES = tuple(FORMATS)
SHAPE_LETTERS = "GHX"


def parse_formats(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"rhubarb,arkit-csv"`` (or a list) -> known format names, in order, without repeats.

    >>> parse_formats("rhubarb, moho,rhubarb")
    ('rhubarb', 'moho')
    """
    if text is None:
        return ()
    parts = text.split(",") if isinstance(text, str) else list(text)
    names: list[str] = []
    for part in (str(p).strip() for p in parts):
        if part not in FORMATS:
            raise TalkingHeadError(f"--export: unknown format {part!r}; choose from {', '.join(FORMAT_NAMES)}")
        if part not in names:
            names.append(part)
    if not names:
        raise TalkingHeadError(f"--export needs at least one format: {', '.join(FORMAT_NAMES)}")
    return tuple(names)


def check_extended_shapes(shapes: str) -> str:
    """Rhubarb's ``--extendedShapes``: any of G, H, X (upper case, each once); "" for the basic six only."""
    if not isinstance(shapes, str) or any(c not in SHAPE_LETTERS for c in shapes) or len(set(shapes)) != len(shapes):
        raise TalkingHeadError(f"--extended-shapes must be made of G, H and X (each at most once; \"\" for "
                               f"the basic shapes A-F only), got {shapes!r}")
    return shapes


def export_text(name: str, source: ExportSource) -> str:
    """The text of format ``name`` for ``source``."""
    return FORMATS[name].write(source)


def export_path(video: Path, name: str) -> Path:
    """Where ``render --export NAME`` writes beside ``video``: ``talk.mp4`` -> ``talk.rhubarb.tsv``."""
    return video.with_name(video.stem + FORMATS[name].suffix)


def write_exports(names: Sequence[str], source: ExportSource, video: Path) -> list[Path]:
    """Write every format in ``names`` beside ``video``, each file all or nothing."""
    return [write_atomically(export_path(video, name), export_text(name, source)) for name in names]


def write_atomically(path: Path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place."""
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False, newline="") as handle:
            handle.write(text)
        os.replace(handle.name, path)
    except OSError as exc:
        raise TalkingHeadError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
