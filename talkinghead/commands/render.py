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
                                             "bundled LibriVox recording (or --text); no arguments needed. The "
                                             "whole photo is animated at its own 512 px: the face alone would "
                                             "be a 256-px video, which players show enlarged and soft.")
    parser.add_argument("-o", "--output", type=Path, default=Path("talkinghead-demo.mp4"),
                        help="the MP4 file to write (default: talkinghead-demo.mp4)")
    add_output_flags(parser, overwrite_default=True)
    add_control_flags(parser, {"crop": "full"})
    return parser


def run(args: argparse.Namespace) -> int:
    return _render(args.portrait, args.audio, args, controls_from_args(args))


def run_demo(args: argparse.Namespace) -> int:
    from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH, DEMO_TRANSCRIPT

    options = controls_from_args(args)
    if options["text"] is not None:  # the portrait says the text instead of the recording
        return _render(DEMO_PORTRAIT, None, args, options)
    if options["transcript_file"] is None:
        options["transcript"] = options["transcript"] or DEMO_TRANSCRIPT
    return _render(DEMO_PORTRAIT, DEMO_SPEECH, args, options)


def check_option_files(controls: Controls) -> None:
    """Read and check the small files options name (transcript, emotion schedule, motion track) and the
    motion track's output name now, so a bad one is refused in a moment rather than after the face is rigged."""
    from talkinghead.audio.phonetics import read_transcript
    from talkinghead.input_files import MOTION_TRACK_BYTES, read_json
    from talkinghead.motion.expression import load_emotion_schedule
    from talkinghead.motion.track_file import parse_motion_track
    from talkinghead.video.mp4 import check_name_length

    if controls.transcript_file:
        read_transcript(controls.transcript_file)
    if controls.emotion_schedule:
        load_emotion_schedule(controls.emotion_schedule)
    if controls.motion_in:
        parse_motion_track(read_json(controls.motion_in, "motion track", MOTION_TRACK_BYTES),
                           f"motion track {controls.motion_in}")
    if controls.motion_out:
        check_name_length(Path(controls.motion_out), "--motion-out")


def _render(portrait: Path, audio: Path | None, args: argparse.Namespace, options: dict[str, Any]) -> int:
    from talkinghead.pipeline import render_file as render
    from talkinghead.progress import StageProgress

    check_option_files(Controls.from_options(options))  # reject bad options and files before any slow work
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
