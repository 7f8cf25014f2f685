"""The render options as HTTP form fields, generated from `Controls` (one source of truth with the CLI).

`controls_form` returns a FastAPI dependency whose signature has one optional form field per `Controls`
field, so the OpenAPI page documents each option with its help text and default, and a new option
appears in the API, the CLI and the web page without touching this file.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import MISSING, fields
from typing import Any

from fastapi import Form

from talkinghead.controls import Controls


def control_specs() -> list[dict[str, Any]]:
    """Each option's name, type, default and help, for the web page's form."""
    hints = typing.get_type_hints(Controls)
    specs = []
    for spec in fields(Controls):
        kind = _base_type(hints[spec.name])
        default = spec.default if spec.default is not MISSING else None
        specs.append({"name": spec.name, "type": kind.__name__, "default": default,
                      "help": spec.metadata.get("help", ""), "choices": spec.metadata.get("choices")})
    return specs


def controls_form() -> Any:
    """A dependency that collects the form's option fields into a dict of the ones the client sent."""
    hints = typing.get_type_hints(Controls)
    parameters = []
    for spec in fields(Controls):
        kind = _base_type(hints[spec.name])
        parameters.append(inspect.Parameter(
            spec.name, inspect.Parameter.KEYWORD_ONLY, annotation=kind | None,
            default=Form(None, description=spec.metadata.get("help", "") + _default_text(spec.default))))

    def collect(**values: Any) -> dict[str, Any]:
        return {name: value for name, value in values.items() if value is not None}

    collect.__signature__ = inspect.Signature(parameters, return_annotation=dict)  # type: ignore[attr-defined]
    return collect


def _base_type(hint: Any) -> type:
    """``int`` for ``int``, ``str`` for ``str | None``."""
    return next((t for t in typing.get_args(hint) if t is not type(None)), hint)


def _default_text(default: Any) -> str:
    return "" if default is MISSING or default is None else f" (default: {default})"
