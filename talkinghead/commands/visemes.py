"""`talkinghead visemes AUDIO`: print the viseme cue track of a recording (JSON, TSV or Rhubarb shapes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from talkinghead.controls import Controls
from talkinghead.exports import FORMAT_NAMES, FORMATS, ExportSource, check_extended_shapes, export_text


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("visemes", help="print the viseme cues (mouth shapes over time) of AUDIO",
                                 description="Print the viseme cues of AUDIO: one of the 15 visemes "
                                             "(sil PP FF TH DD kk CH SS nn RR aa E ih oh ou) per stretch of time, "
                                             "or the mouth shapes and face motion in a format an animation tool "
                                             "reads (see docs/exports.md).")
    parser.add_argument("audio", type=Path, nargs="?",
                        help="speech: WAV, MP3, FLAC, OGG, M4A or a video's sound track (or give --text)")
    transcript = parser.add_mutually_exclusive_group()
    transcript.add_argument("--transcript", metavar="TEXT", help="what is said (aligned for exact timing)")
    transcript.add_argument("--transcript-file", type=Path, metavar="FILE", help="read the transcript from FILE")
    transcript.add_argument("--text", metavar="TEXT",
                            help="no audio: the cues of TEXT spoken by espeak-ng --voice (exact phoneme times)")
    transcript.add_argument("--streaming", action="store_true",
                            help="the cues the live mode shows: the streaming viseme model alone, any language")
    parser.add_argument("--language", default="en",
                        help="language spoken (ISO code): English audio gets Whisper's words aligned; other "
                             "languages the streaming viseme model (default: en)")
    parser.add_argument("--voice", default=None,
                        help="espeak-ng voice for --text (default: the voice of --language, en-us for English)")
    parser.add_argument("--format", choices=FORMAT_NAMES, default="json", metavar="FORMAT",
                        help="; ".join(f"{f.name}: {f.description}" for f in FORMATS.values()) + " (default: json)")
    parser.add_argument("--fps", type=float, default=None,
                        help="frame rate of per-frame formats (default: 24 for moho and opentoonz, as Rhubarb; "
                             "25 for the others)")
    parser.add_argument("--extended-shapes", default="GHX", metavar="SHAPES",
                        help="Rhubarb's optional shapes to use, any of G, H, X; \"\" for the basic A-F only "
                             "(default: GHX)")
    parser.add_argument("--max-audio-seconds", type=float, default=600.0,
                        help="refuse audio longer than this many seconds (default: 600)")
    return parser


def run(args: argparse.Namespace) -> int:
    from talkinghead.audio import viseme_model
    from talkinghead.errors import TalkingHeadError
    from talkinghead.motion.mouth import loudness_cues
    from talkinghead.motion.visemes import cues

    extended = check_extended_shapes(args.extended_shapes)
    fps = args.fps if args.fps is not None else FORMATS[args.format].default_fps
    controls = Controls(fps=fps, max_audio_seconds=args.max_audio_seconds, transcript=args.transcript,
                        text=args.text, voice=args.voice, language=args.language)  # the render's checks
    if (args.audio is None) == (args.text is None):
        raise TalkingHeadError("give either AUDIO or --text")
    if args.streaming and not viseme_model.available():
        raise TalkingHeadError("--streaming needs the viseme model's weights, which this installation lacks")
    speech, phones = _speech_and_phones(args, controls)
    track = None
    if FORMATS[args.format].needs_track:
        from talkinghead.motion import generate_motion

        track = generate_motion(speech, controls)
    source = ExportSource(speech.duration, cues(phones) if phones is not None else loudness_cues(speech), phones,
                          track, fps, str(args.audio or "text"), extended)
    sys.stdout.write(export_text(args.format, source))
    return 0


def _speech_and_phones(args: argparse.Namespace, controls: Controls) -> tuple[Any, list[Any] | None]:
    """The speech (decoded, or said by espeak-ng for --text) and its phones by the route the render takes,
    or the streaming model alone with --streaming."""
    from talkinghead.audio import load_speech, viseme_model
    from talkinghead.audio.phonetics import find_phones, read_transcript
    from talkinghead.pipeline import speech_for

    if args.text is not None:
        speech = speech_for(None, controls)
        return speech, speech.phones or []
    transcript = args.transcript if args.transcript_file is None else read_transcript(args.transcript_file)
    speech = load_speech(args.audio, args.max_audio_seconds, transcript)
    if args.streaming:
        return speech, viseme_model.streamed_phones(speech.samples)
    if transcript is None and args.language.lower()[:2] != "en" and viseme_model.available():
        return speech, viseme_model.model_phones(speech)  # as a render in that language hears it
    return speech, find_phones(speech)
