"""Command line: `talkinghead render`, `talkinghead demo`.

Render flags are generated from the fields of `Controls`, so the CLI, the Python API and the server
share one list of options. User errors print one line and exit 2; nothing is left half-written.
"""

from __future__ import annotations

import argparse
import sys
import typing
from collections.abc import Sequence
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

from talkinghead import __version__
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
PROG = "talkinghead"


def add_control_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per `Controls` field: ``--name`` (``--no-name`` for switches that default to on)."""
    hints = typing.get_type_hints(Controls)
    group = parser.add_argument_group("render options")
    for spec in fields(Controls):
        flag = "--" + spec.name.replace("_", "-")
        kind = hints[spec.name]
        default = spec.default if spec.default is not MISSING else None
        help_text = spec.metadata.get("help", "")
        if kind is bool:
            group.add_argument(flag, dest=spec.name, action=argparse.BooleanOptionalAction, default=default,
                               help=help_text)
            continue
        base = next((t for t in typing.get_args(kind) if t is not type(None)), kind)
        shown = "" if default is None else f" (default: {default:g})" if isinstance(default, float) else \
            f" (default: {default})"
        group.add_argument(flag, dest=spec.name, type=base, default=default, metavar=spec.name.upper(),
                           help=help_text + shown)


def controls_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {spec.name: getattr(args, spec.name) for spec in fields(Controls)}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Turn one portrait photo and a speech recording into a talking-head video.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="render PORTRAIT speaking AUDIO into an MP4",
                                 description="Render PORTRAIT speaking AUDIO into an MP4 (H.264 + AAC).")
    render.add_argument("portrait", type=Path, help="photo with one clearly visible face (PNG, JPEG, WebP, ...)")
    render.add_argument("audio", type=Path, help="speech: WAV, MP3, FLAC, OGG, M4A or a video's sound track")
    render.add_argument("-o", "--output", type=Path, required=True, help="the MP4 file to write")
    _add_common(render)
    add_control_flags(render)

    demo = commands.add_parser("demo", help="render the bundled portrait speaking a bundled recording",
                               description="Render the bundled portrait (NASA astronaut photo) speaking a "
                                           "bundled LibriVox recording; no arguments needed.")
    demo.add_argument("-o", "--output", type=Path, default=Path("talkinghead-demo.mp4"),
                      help="the MP4 file to write (default: talkinghead-demo.mp4)")
    _add_common(demo, overwrite_default=True)
    add_control_flags(demo)
    return parser


def _add_common(parser: argparse.ArgumentParser, overwrite_default: bool = False) -> None:
    parser.add_argument("-y", "--overwrite", action="store_true", default=overwrite_default,
                        help="overwrite the output if it exists")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH, DEMO_TRANSCRIPT
    from talkinghead.pipeline import render

    options = controls_from_args(args)
    if args.command == "demo":
        portrait, audio = DEMO_PORTRAIT, DEMO_SPEECH
        options["transcript"] = options["transcript"] or DEMO_TRANSCRIPT
    else:
        portrait, audio = args.portrait, args.audio
    Controls.from_options(options)  # reject bad options before any slow work
    with _Progress(disabled=args.quiet) as progress:
        result = render(portrait, audio, args.output, overwrite=args.overwrite, progress=progress.update,
                        notify=None if args.quiet else _note, **options)
    if not args.quiet:
        print(f"{PROG}: wrote {result.path} ({result.n_frames} frames, {result.duration:.1f} s, "
              f"{result.speed:.0f} fps)", file=sys.stderr)
    print(result.path)
    return 0


def _note(message: str) -> None:
    print(f"{PROG}: note: {message}", file=sys.stderr)


class _Progress:
    """A tqdm bar on stderr that appears only for renders that take more than two seconds."""

    def __init__(self, disabled: bool) -> None:
        self.disabled = disabled
        self.bar: Any = None

    def __enter__(self) -> _Progress:
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
                            desc="rendering")
        self.bar.update(done - self.bar.n)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args)
    except TalkingHeadError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except MemoryError:
        print(f"{PROG}: error: out of memory; try a smaller --size or shorter audio", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug, not bad input: one line, and how to see more
        print(f"{PROG}: internal error: {type(exc).__name__}: {exc} (set TALKINGHEAD_DEBUG=1 for a traceback; "
              "please report it)", file=sys.stderr)
        if _debug():
            raise
        return 1


def _debug() -> bool:
    import os

    return os.environ.get("TALKINGHEAD_DEBUG", "") not in ("", "0")


if __name__ == "__main__":
    sys.exit(main())
