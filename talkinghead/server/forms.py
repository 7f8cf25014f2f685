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
import typing
from dataclasses import MISSING, fields
from typing import Any

from fastapi import File, Form, UploadFile

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError

# option -> (file name in the job's folder, size limit in bytes)
CONTENT_OPTIONS = {
    "motion_in": ("motion-in.json", 20 * 2**20),
    "emotion_schedule": ("emotion-schedule.json", 2**20),
    "transcript_file": ("transcript.txt", 2**20),
}
SERVER_ONLY = ("motion_out",)
UPLOADS = ("portrait", "audio", "consent")
CONTENT_HELP = " Over HTTP: the file's content (an upload or inline text), never a path."


def control_specs() -> list[dict[str, Any]]:
    """Each option's name, type, default and help, for the web page's form."""
    hints = typing.get_type_hints(Controls)
    specs = []
    for spec in fields(Controls):
        if spec.name in SERVER_ONLY:
            continue
        kind = _base_type(hints[spec.name])
        default = spec.default if spec.default is not MISSING else None
        help_text = spec.metadata.get("help", "") + (CONTENT_HELP if spec.name in CONTENT_OPTIONS else "")
        specs.append({"name": spec.name, "type": kind.__name__, "default": default,
                      "help": help_text, "choices": spec.metadata.get("choices")})
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
        else:
            annotation, default = _base_type(hints[spec.name]) | None, Form(None, description=help_text)
        parameters.append(inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                            default=default))

    def collect(**values: Any) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value is not None}

    collect.__signature__ = inspect.Signature(parameters, return_annotation=dict)  # type: ignore[attr-defined]
    return collect


def check_field_names(names: typing.Iterable[str]) -> None:
    """Refuse (as a user error) form fields that are not options, uploads or consent, naming them."""
    known = {spec.name for spec in fields(Controls)} - set(SERVER_ONLY) | set(UPLOADS)
    names = set(names)
    server_only = sorted(names & set(SERVER_ONLY))
    if server_only:
        raise TalkingHeadError(f"{', '.join(server_only)} names a file on the server and is not accepted over "
                               "HTTP; it is a CLI and Python API option only")
    unknown = sorted(names - known)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise TalkingHeadError(f"unknown form field(s) {shown}; known: {', '.join(sorted(known))}")


def _base_type(hint: Any) -> type:
    """``int`` for ``int``, ``str`` for ``str | None``."""
    return next((t for t in typing.get_args(hint) if t is not type(None)), hint)


def _default_text(default: Any) -> str:
    return "" if default is MISSING or default is None else f" (default: {default})"
