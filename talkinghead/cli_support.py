"""Pieces every CLI subcommand shares: flags generated from `Controls`, output flags, notes, progress."""

from __future__ import annotations

import argparse
import sys
import typing
from dataclasses import MISSING, fields
from typing import Any

from talkinghead.controls import Controls

PROG = "talkinghead"


def add_control_flags(parser: argparse.ArgumentParser, defaults: dict[str, Any] | None = None) -> None:
    """One flag per `Controls` field: ``--name`` (and ``--no-name`` for switches); ``defaults`` replaces the
    fields' own defaults for this command."""
    hints = typing.get_type_hints(Controls)
    group = parser.add_argument_group("render options")
    for spec in fields(Controls):
        flag = "--" + spec.name.replace("_", "-")
        kind = hints[spec.name]
        default = (defaults or {}).get(spec.name, spec.default if spec.default is not MISSING else None)
        help_text = spec.metadata.get("help", "")
        if kind is bool:
            group.add_argument(flag, dest=spec.name, action=argparse.BooleanOptionalAction, default=default,
                               help=help_text)
            continue
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        if default is None:
            shown = ""
        elif isinstance(default, float):
            shown = f" (default: {default:g})"
        else:
            shown = f" (default: {default})"
        if "parse" in spec.metadata:
            shown = f" (default: {spec.metadata.get('shown', default)})" if default is not None else ""
        group.add_argument(flag, dest=spec.name, type=_parser(spec.metadata.get("parse"), base), default=default,
                           metavar=spec.metadata.get("metavar", spec.name.upper()), help=help_text + shown)


def _parser(hook: Any, base: Any) -> Any:
    """The flag's value parser: ``base`` (int, float, str), or the field's own ``parse`` hook, whose
    error message argparse then shows as it is."""
    if hook is None:
        return base

    def parse(text: str) -> Any:
        try:
            return hook(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def controls_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The `Controls` keyword options from parsed flags."""
    return {spec.name: getattr(args, spec.name) for spec in fields(Controls)}


def add_output_flags(parser: argparse.ArgumentParser, overwrite_default: bool = False) -> None:
    parser.add_argument("-y", "--overwrite", action="store_true", default=overwrite_default,
                        help="overwrite the output if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def note(message: str) -> None:
    """Tell the user something worth knowing (not an error) on stderr."""
    print(f"{PROG}: note: {message}", file=sys.stderr)


class Progress:
    """A tqdm bar on stderr that appears only for work that takes more than two seconds."""

    def __init__(self, disabled: bool, desc: str) -> None:
        self.disabled = disabled
        self.desc = desc
        self.bar: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()

    def update(self, done: int, total: int) -> None:
        if self.disabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="frame", delay=2.0, file=sys.stderr, dynamic_ncols=True,
                            desc=self.desc)
        self.bar.update(done - self.bar.n)
