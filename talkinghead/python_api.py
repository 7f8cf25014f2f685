"""The Python API's own voice: errors that name options as keywords, and help that lists every option.

`Controls` validates once for every entry point, so its messages name options the CLI way (``--size``).
Raised from `talkinghead.render` or `talkinghead.frames`, a message is rewritten to name the keyword
instead (``size=``), and ``help(talkinghead.render)`` lists every `Controls` field with its help text.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError

Function = TypeVar("Function", bound=Callable[..., Any])
_SPELLINGS = [(r"(?<![\w-])-y\b", "overwrite=True"), (r"\bAUDIO\b", "audio")]


def keyword_message(message: str) -> str:
    """``message`` with CLI flags named as Python keywords.

    >>> keyword_message("--size must be even; pass -y to overwrite, or --no-label")
    'size= must be even; pass overwrite=True to overwrite, or label=False'
    """
    for spec in sorted(fields(Controls), key=lambda f: -len(f.name)):
        flag = spec.name.replace("_", "-")
        message = re.sub(rf"--no-{flag}\b(?!-)", f"{spec.name}=False", message)
        message = re.sub(rf"--{flag}\b(?!-)", f"{spec.name}=", message)
    for pattern, keyword in _SPELLINGS:
        message = re.sub(pattern, keyword, message)
    return message


def speaks_python(function: Function) -> Function:
    """Re-raise a `TalkingHeadError` from ``function`` with its options named as keywords."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except TalkingHeadError as exc:
            raise TalkingHeadError(keyword_message(str(exc))) from None

    return typing.cast(Function, wrapper)


def options_help() -> str:
    """Every `Controls` field as ``name (type, default ...): help`` lines, for docstrings."""
    hints = typing.get_type_hints(Controls)
    lines = ["Options (keyword arguments; the fields of `talkinghead.Controls`):", ""]
    for spec in fields(Controls):
        kind = getattr(hints[spec.name], "__name__", None) or str(hints[spec.name]).replace("typing.", "")
        default = spec.default if spec.default is not MISSING else None
        help_text = keyword_message(spec.metadata.get("help", ""))
        lines.append(f"    {spec.name} ({kind}, default {default!r}): {help_text}")
    return "\n".join(lines)


def with_options_help(doc: str | None) -> str:
    """``doc`` (dedented) followed by `options_help`."""
    return f"{inspect.cleandoc(doc or '')}\n\n{options_help()}\n"
