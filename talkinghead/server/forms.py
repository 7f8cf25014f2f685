"""The render options as HTTP form fields, generated from `Controls` (one source of truth with the CLI).

`controls_form` returns a FastAPI dependency whose signature has one optional form field per `Controls`
field, so the OpenAPI page documents each option with its help text and default, and a new option
appears in the API, the CLI and the web page without touching this file.

Options whose value is a path on the machine (`CONTENT_OPTIONS`, `SERVER_ONLY`) are never taken as paths
from a client: the three that read a file take the file's content instead (an upload, or inline text),
which the server stores in the job's folder; ``motion_out`` (writes a file) is CLI/API-only. A client
naming a server path could otherwise make the server read or overwrite any file it may touch.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections import Counter
from dataclasses import MISSING, fields
from typing import Any

from fastapi import File, Form, UploadFile

from talkinghead.controls import CROPS, EMOTION_NAMES, GAZE_RANGE, LABEL_POSITIONS, MAX_SIZE, MIN_SIZE, Controls
from talkinghead.errors import TalkingHeadError

# option -> (file name in the job's folder, size limit in bytes)
CONTENT_OPTIONS = {
    "motion_in": ("motion-in.json", 20 * 2**20),
    "emotion_schedule": ("emotion-schedule.json", 2**20),
    "transcript_file": ("transcript.txt", 2**20),
}
SERVER_ONLY = ("motion_out",)
TUPLE_HELP = ' Over HTTP: "10,-5" in one field, or the field twice (gaze=10, gaze=-5).'
UPLOADS = ("portrait", "audio", "consent")
TIMES_TAKEN = {"gaze": 2}  # a pair may come as the field twice; every other field comes once
CONTENT_HELP = " Over HTTP: the file's content (an upload or inline text), never a path."

# What the web page needs beyond type and default to draw a proper widget: the choices and ranges Controls
# checks (its constants, or the bounds of its range checks), a plain-words label, and where the option goes.
CHOICES = {"crop": CROPS, "emotion": EMOTION_NAMES, "label_position": LABEL_POSITIONS}
RANGES = {  # name -> (min, max, step); the bounds Controls.__post_init__ enforces
    "size": (MIN_SIZE, MAX_SIZE, 2), "fps": (1, 120, 1), "head_distance": (0.6, 2.0, 0.05),
    "motion_scale": (0.0, 3.0, 0.1), "label_scale": (0.5, 4.0, 0.1), "intensity": (0.0, 2.0, 0.1),
    "gaze": (-GAZE_RANGE[0], GAZE_RANGE[0], 1), "max_audio_seconds": (1, 24 * 3600, 1),
}
GAZE_PITCH_RANGE = (-GAZE_RANGE[1], GAZE_RANGE[1], 1)
LABELS = {"motion_scale": "Liveliness", "head_distance": "Head distance", "text": "Text to say",
          "fps": "Frame rate (fps)", "size": "Size (pixels)", "gaze": "Gaze (yaw, pitch in degrees)"}
SUGGESTIONS = {"voice": ("en-us", "en-gb", "en-us+f2", "de", "fr", "es", "it", "pt", "nl"),
               "language": ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "zh", "ja")}
OPTION_NAMES = {spec.name for spec in fields(Controls)}
COMMON = ("emotion", "intensity", "gaze", "head_distance", "motion_scale", "size")  # shown first
SPEECH = ("text", "voice")  # shown with the speech when it is typed text
SPEECH_ANY = ("language",)  # shown with the speech whatever its source (an upload, a recording, text)
SPEECH_RECORDED = ("transcript",)  # shown with an upload or a recording (typed text is its own transcript)
GROUPS = {**dict.fromkeys(COMMON, "common"), **dict.fromkeys(SPEECH, "speech"),
          **dict.fromkeys(SPEECH_ANY, "speech-any"), **dict.fromkeys(SPEECH_RECORDED, "speech-recorded")}


def control_specs() -> list[dict[str, Any]]:
    """Each option's name, type, default, help, label, choices, range and group, for the web page."""
    hints = typing.get_type_hints(Controls)
    specs = []
    for spec in fields(Controls):
        if spec.name in SERVER_ONLY:
            continue
        kind = _base_type(hints[spec.name])
        default = spec.default if spec.default is not MISSING else None
        help_text = spec.metadata.get("help", "") + (CONTENT_HELP if spec.name in CONTENT_OPTIONS else "")
        help_text = _without_flags(help_text)
        low, high, step = RANGES.get(spec.name, (None, None, None))
        specs.append({"name": spec.name, "type": kind.__name__, "default": default, "help": help_text,
                      "label": LABELS.get(spec.name, spec.name.replace("_", " ").capitalize()),
                      "choices": CHOICES.get(spec.name), "suggestions": SUGGESTIONS.get(spec.name),
                      "min": low, "max": high, "step": step, "group": GROUPS.get(spec.name, "advanced"),
                      "content": spec.name in CONTENT_OPTIONS})
        if spec.name == "gaze":
            specs[-1]["pitch_range"] = GAZE_PITCH_RANGE
    return specs


def controls_form() -> Any:
    """A dependency that collects the form's option fields into a dict of the ones the client sent."""
    hints = typing.get_type_hints(Controls)
    parameters = []
    for spec in fields(Controls):
        if spec.name in SERVER_ONLY:
            continue
        help_text = spec.metadata.get("help", "") + _default_text(spec.default)
        if spec.name in CONTENT_OPTIONS:
            annotation: Any = UploadFile | str | None
            default = File(None, description=help_text + CONTENT_HELP)
        elif _base_type(hints[spec.name]) is tuple:  # gaze: "10,-5" in one field, or the field twice
            annotation, default = list[str] | None, Form(None, description=help_text + TUPLE_HELP)
        else:
            annotation, default = _base_type(hints[spec.name]) | None, Form(None, description=help_text)
        parameters.append(inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                            default=default))

    def collect(**values: Any) -> dict[str, Any]:
        return {name: _one_or_pair(value) for name, value in values.items() if value is not None}

    collect.__signature__ = inspect.Signature(parameters, return_annotation=dict)  # type: ignore[attr-defined]
    return collect


def check_field_names(sent: typing.Iterable[str]) -> None:
    """Refuse (as a user error) form fields that are not options, uploads or consent, and fields sent more
    often than they take (a repeated ``size`` would otherwise silently keep one of its values), naming them."""
    known = {spec.name for spec in fields(Controls)} - set(SERVER_ONLY) | set(UPLOADS)
    sent = list(sent)
    repeated = sorted(name for name, count in Counter(sent).items() if count > TIMES_TAKEN.get(name, 1))
    if repeated:
        shown = ", ".join(repr(name[:40]) for name in repeated[:5])
        raise TalkingHeadError(f"form field(s) {shown} sent more than once; send each option once (gaze: once "
                               "as 'YAW,PITCH' or twice as two numbers)")
    names = set(sent)
    server_only = sorted(names & set(SERVER_ONLY))
    if server_only:
        raise TalkingHeadError(f"{', '.join(server_only)} names a file on the server and is not accepted over "
                               "HTTP; it is a CLI and Python API option only")
    unknown = sorted(names - known)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise TalkingHeadError(f"unknown form field(s) {shown}; known: {', '.join(sorted(known))}")


def _without_flags(text: str) -> str:
    """Help text for the page: a CLI flag of an option ("--crop full") becomes its label ("'Crop' full")."""
    def label(match: re.Match[str]) -> str:
        name = match.group(1).replace("-", "_")
        if name not in OPTION_NAMES:
            return match.group(0)
        return f"'{LABELS.get(name, name.replace('_', ' ').capitalize())}'"
    text = re.sub(r"see espeak-ng --voices; ", "", text)  # a command to run: no help on a web page
    return re.sub(r"--([a-z][a-z-]*)", label, text).replace("giving AUDIO", "giving an audio file")


def _one_or_pair(value: Any) -> Any:
    """A repeated form field (a list) as its one value ("10,-5"), or as a pair of numbers (10, -5)."""
    if not isinstance(value, list):
        return value
    if len(value) == 1:
        return value[0]
    if len(value) == 2:
        try:
            return [float(part) for part in value]
        except ValueError:
            pass
    raise TalkingHeadError(f"expected one value 'YAW,PITCH' or two numbers, got {', '.join(map(repr, value))[:80]}")


def _base_type(hint: Any) -> type:
    """``int`` for ``int``, ``str`` for ``str | None``, ``tuple`` for ``tuple[float, float]``."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = next(t for t in typing.get_args(hint) if t is not type(None))
    return typing.get_origin(hint) or hint


def _default_text(default: Any) -> str:
    return "" if default is MISSING or default is None else f" (default: {default})"
