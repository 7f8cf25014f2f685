"""`talkinghead render` and `talkinghead demo`: portrait + speech -> MP4."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from talkinghead.cli_support import PROG, add_control_flags, add_output_flags, controls_from_args
from talkinghead.controls import Controls


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("render", help="render PORTRAIT speaking AUDIO into an MP4",
                                 description="Render PORTRAIT speaking AUDIO into an MP4 (H.264 + AAC).")
    parser.add_argument("portrait", type=Path, help="photo with one clearly visible face (PNG, JPEG, WebP, ...)")
    parser.add_argument("audio", type=Path, nargs="?",
                        help="speech: WAV, MP3, FLAC, OGG, M4A or a video's sound track (omit it with --text)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the MP4 file to write")
    add_output_flags(parser)
    add_control_flags(parser)
    return parser


def add_demo_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("demo", help="render the bundled portrait speaking a bundled recording",
                                 description="Render the bundled portrait (NASA astronaut photo) speaking a "
                                             "bundled LibriVox recording; no arguments needed.")
    parser.add_argument("-o", "--output", type=Path, default=Path("talkinghead-demo.mp4"),
                        help="the MP4 file to write (default: talkinghead-demo.mp4)")
    add_output_flags(parser, overwrite_default=True)
    add_control_flags(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    return _render(args.portrait, args.audio, args, controls_from_args(args))


def run_demo(args: argparse.Namespace) -> int:
    from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH, DEMO_TRANSCRIPT

    options = controls_from_args(args)
    options["transcript"] = options["transcript"] or DEMO_TRANSCRIPT
    return _render(DEMO_PORTRAIT, DEMO_SPEECH, args, options)


def _render(portrait: Path, audio: Path, args: argparse.Namespace, options: dict[str, Any]) -> int:
    from talkinghead.pipeline import render_file as render
    from talkinghead.progress import StageProgress

    Controls.from_options(options)  # reject bad options before any slow work
    with StageProgress(disabled=args.quiet) as progress:
        result = render(portrait, audio, args.output, overwrite=args.overwrite, progress=progress.update,
                        notify=progress.note, stage=progress.stage, **options)
    if not args.quiet:
        print(f"{PROG}: wrote {result.path} ({result.n_frames} frames at {result.fps:g} fps, "
              f"{result.duration:.1f} s; render speed {result.render_fps:.0f} frames/s)", file=sys.stderr)
        for path in result.sidecars:
            print(f"{PROG}: wrote {path}", file=sys.stderr)
        print(result.path)
    return 0
