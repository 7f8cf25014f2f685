"""`Controls`: the one options dataclass behind the CLI flags, the Python API and the server's fields.

Each field carries its help text and, where useful, its flag name in ``metadata``; the CLI builds its
arguments from these fields, so an option is added once, here. Validation lives in ``__post_init__`` so
every entry point rejects the same bad values with the same message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any

from talkinghead.errors import TalkingHeadError
from talkinghead.fonts import SCRIPTS
from talkinghead.languages import is_language_code

MIN_SIZE, MAX_SIZE = 128, 2048
CROPS = ("face", "full")
GAZE_RANGE = (25.0, 20.0)  # yaw, pitch: beyond this the eyes would show mostly white
EMOTION_NAMES = ("neutral", "happy", "sad", "angry", "surprised", "calm", "photo")  # presets: motion/expression.py
LABEL_POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right")
CAPTION_FORMATS = ("srt", "vtt")


def _opt(default: Any, help: str, **extra: Any) -> Any:
    return field(default=default, metadata={"help": help, **extra})


def parse_gaze(text: str) -> tuple[float, float]:
    """``"YAW,PITCH"`` in degrees -> (yaw, pitch).

    >>> parse_gaze("10,-5")
    (10.0, -5.0)
    """
    try:
        yaw, pitch = (float(part) for part in str(text).split(","))
    except ValueError:
        raise TalkingHeadError(f"--gaze must be YAW,PITCH in degrees, e.g. 10,-5; got {text!r}") from None
    return yaw, pitch


@dataclass(frozen=True)
class Controls:
    """How to render: output format, framing, liveliness and provenance.

    >>> Controls(size=256, fps=30).size
    256
    >>> Controls(size=255)
    Traceback (most recent call last):
    ...
    talkinghead.errors.TalkingHeadError: --size must be an even number of pixels between 128 and 2048, got 255
    """

    size: int | None = _opt(None, "output width and height in pixels (even, 128-2048); the longer side with --crop "
                                  "full (default: the photo's own resolution around the face, at most 512)")
    fps: float = _opt(25.0, "output frame rate (frames per second, 1-120)")
    seed: int = _opt(0, "random seed for head motion and blinks: same inputs and seed give the same video")
    transcript: str | None = _opt(
        None, "what is said in the audio (kept with the render; used by phoneme alignment where available)"
    )
    crop: str = _opt("face", "framing: 'face' (a face-centred square) or 'full' (the whole photo animated)")
    transcript_file: str | None = _opt(None, "read the transcript from this text file (instead of --transcript)")
    text: str | None = _opt(None, "say this text with espeak-ng instead of giving AUDIO (lip sync from its phonemes)")
    voice: str | None = _opt(None, "espeak-ng voice for --text, e.g. en-us, en-gb, de, en-us+f2 (see espeak-ng "
                                   "--voices; default: the voice of --language, en-us for English)")
    language: str = _opt("en", "language spoken (ISO code): English gets phoneme lip sync; other languages the "
                               "visemes of the sound itself (--text phonemes are exact in any language)")
    head_distance: float = _opt(
        1.0, "framing scale: >1 shows more around the head, <1 zooms in (0.6-2.0)"
    )
    motion_scale: float = _opt(1.0, "how lively the head moves: 0 keeps it still, 2 doubles the motion (0-3)")
    label: bool = _opt(True, "draw the visible 'AI-generated' label (the watermark and metadata are always added)")
    label_text: str = _opt("AI-generated", f"text of the visible label, in any script its fonts draw ({SCRIPTS})")
    label_position: str = _opt("bottom-right", "corner of the visible label: top-left, top-right, bottom-left "
                               "or bottom-right")
    label_scale: float = _opt(1.0, "size of the visible label relative to the default (0.5-4)")
    max_audio_seconds: float = _opt(600.0, "refuse audio longer than this many seconds")
    gaze: tuple[float, float] = _opt(
        (0.0, 0.0), "main gaze direction in degrees, YAW,PITCH (+ towards the image's right, + down; "
        f"within +-{GAZE_RANGE[0]:g},+-{GAZE_RANGE[1]:g})", parse=parse_gaze,
        metavar="YAW,PITCH", shown="0,0")
    emotion: str = _opt("neutral", f"emotion of the face: {', '.join(EMOTION_NAMES)}")
    intensity: float = _opt(1.0, "strength of the emotion: 0 neutral, 1 full, 2 exaggerated (0-2)")
    emotion_schedule: str | None = _opt(
        None, 'JSON file: a list of {"time": seconds, "emotion": name} (optional "intensity") changing the emotion '
        "over time", metavar="PATH")
    motion_in: str | None = _opt(
        None, "render this MotionTrack JSON instead of generating motion (see docs/motion-track.md)", metavar="PATH")
    motion_out: str | None = _opt(None, "also write the MotionTrack JSON that is rendered to this file",
                                  metavar="PATH")
    export: str | None = _opt(None, "also write these exports beside the video, comma-separated: rhubarb, "
                              "rhubarb-json, rhubarb-xml, moho, opentoonz, oculus-csv, oculus-json, arkit-csv, "
                              "motion, json, tsv (see docs/exports.md)", metavar="FORMATS")
    extended_shapes: str = _opt("GHX", "Rhubarb's optional mouth shapes in rhubarb and moho exports, any of G, H, X; "
                                "'' for the basic A-F only")
    captions: str | None = _opt(None, "also write captions beside the video: srt or vtt (word-timed phrases)",
                                metavar="FORMAT")
    embed_captions: bool = _opt(True, "add the captions to the MP4 as a soft subtitle track when the words are "
                                "known (--text, --transcript or speech recognition)")
    burn_captions: bool = _opt(False, "draw the captions into the frames (they cannot be turned off later)")

    def __post_init__(self) -> None:
        _check_text_and_paths(self)
        if self.size is not None and (isinstance(self.size, bool) or not isinstance(self.size, int)):
            raise TalkingHeadError(f"--size must be a whole number of pixels, got {self.size!r}")
        if self.size is not None and (self.size % 2 or not MIN_SIZE <= self.size <= MAX_SIZE):
            raise TalkingHeadError(
                f"--size must be an even number of pixels between {MIN_SIZE} and {MAX_SIZE}, got {self.size}"
            )
        _check_range("--fps", self.fps, 1.0, 120.0)
        if self.crop not in CROPS:
            raise TalkingHeadError(f"--crop must be one of {', '.join(CROPS)}, got {self.crop!r}")
        _check_range("--head-distance", self.head_distance, 0.6, 2.0)
        _check_range("--motion-scale", self.motion_scale, 0.0, 3.0)
        _check_range("--label-scale", self.label_scale, 0.5, 4.0)
        if self.label_position not in LABEL_POSITIONS:
            raise TalkingHeadError(f"--label-position must be one of {', '.join(LABEL_POSITIONS)}, "
                                   f"got {self.label_position!r}")
        from talkinghead.provenance.label import label_text_problem  # here: the label module imports this one

        problem = label_text_problem(self.label_text)
        if problem:
            raise TalkingHeadError(f"--label-text {problem}, got {self.label_text!r}")
        _check_range("--max-audio-seconds", self.max_audio_seconds, 1.0, 24 * 3600.0)
        if self.transcript is not None and self.transcript_file is not None:
            raise TalkingHeadError("give --transcript or --transcript-file, not both")
        if self.text is not None and not str(self.text).strip():
            raise TalkingHeadError("--text is empty: give the words to say")
        if self.voice is not None and (not isinstance(self.voice, str) or not self.voice.strip()):
            raise TalkingHeadError(f"--voice must name an espeak-ng voice, got {self.voice!r}")
        _check_text_options(self)
        if not is_language_code(self.language):
            raise TalkingHeadError(f"--language must be an ISO 639-1 language code such as en, de or fr, "
                                   f"got {self.language!r}")
        _check_outputs(self)
        object.__setattr__(self, "gaze", _check_gaze(self.gaze))
        if self.emotion not in EMOTION_NAMES:
            raise TalkingHeadError(f"--emotion must be one of {', '.join(EMOTION_NAMES)}, got {self.emotion!r}")
        _check_range("--intensity", self.intensity, 0.0, 2.0)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**63:
            raise TalkingHeadError(f"--seed must be a whole number >= 0, got {self.seed!r}")

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Controls:
        """Build Controls from keyword options, naming any unknown one clearly."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise TalkingHeadError(f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)


TEXT_LIMITS = {"transcript": 1_000_000, "text": 100_000, "voice": 100}  # characters
PATH_OPTIONS = ("transcript_file", "emotion_schedule", "motion_in", "motion_out")


def _check_text_and_paths(controls: Controls) -> None:
    """Types first, so no later step meets a number where text belongs (or a NUL byte in a path)."""
    for name, limit in TEXT_LIMITS.items():
        value = getattr(controls, name)
        if value is not None and (not isinstance(value, str) or len(value) > limit or "\x00" in value):
            raise TalkingHeadError(f"--{name} must be text of at most {limit} characters, got {_short(value)}")
    if not isinstance(controls.label, bool):
        raise TalkingHeadError(f"--label must be true or false, got {_short(controls.label)}")
    for name in PATH_OPTIONS:
        value = getattr(controls, name)
        text = os.fspath(value) if isinstance(value, os.PathLike) else value
        if value is not None and (not isinstance(text, str) or not text.strip() or "\x00" in text
                                  or len(text) > 4096):
            raise TalkingHeadError(f"--{name.replace('_', '-')} must be a file path, got {_short(value)}")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_outputs(controls: Controls) -> None:
    """Exports and captions: known formats and shapes (the writers live in talkinghead/exports, captions)."""
    from talkinghead.exports import check_extended_shapes, parse_formats

    parse_formats(controls.export)
    check_extended_shapes(controls.extended_shapes)
    if controls.captions is not None and controls.captions not in CAPTION_FORMATS:
        raise TalkingHeadError(f"--captions must be one of {', '.join(CAPTION_FORMATS)}, got {controls.captions!r}")


def _check_text_options(controls: Controls) -> None:
    """--voice belongs to --text and --transcript to recorded speech: given with the other, it would be ignored."""
    if controls.text is None and controls.voice is not None:
        raise TalkingHeadError("--voice chooses the espeak-ng voice of --text; recorded speech keeps its own "
                               "voice (leave --voice out)")
    if controls.text is not None and (controls.transcript is not None or controls.transcript_file is not None):
        raise TalkingHeadError("--transcript is for recorded speech; --text is already the words said "
                               "(leave the transcript out)")


def _check_range(flag: str, value: float, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise TalkingHeadError(f"{flag} must be a number between {low:g} and {high:g}, got {value!r}")


def _check_gaze(value: Any) -> tuple[float, float]:
    if isinstance(value, str):
        value = parse_gaze(value)
    try:
        yaw, pitch = (float(v) for v in value)
    except (TypeError, ValueError):
        raise TalkingHeadError(f"--gaze must be two numbers, yaw and pitch in degrees; got {value!r}") from None
    if not (abs(yaw) <= GAZE_RANGE[0] and abs(pitch) <= GAZE_RANGE[1]):
        raise TalkingHeadError(
            f"--gaze must be within +-{GAZE_RANGE[0]:g} deg yaw and +-{GAZE_RANGE[1]:g} deg pitch, "
            f"got {yaw:g},{pitch:g}"
        )
    return yaw, pitch
