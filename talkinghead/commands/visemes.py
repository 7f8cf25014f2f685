"""`talkinghead visemes AUDIO`: print the viseme cue track of a recording (JSON, TSV or Rhubarb shapes)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from talkinghead.controls import Controls
from talkinghead.motion.visemes import Cue

# Rhubarb Lip Sync's mouth shapes: A closed, B clenched, C open, D wide, E rounded, F puckered, G f/v,
# H tongue (l), X rest.
RHUBARB_SHAPE = {"sil": "X", "PP": "A", "FF": "G", "TH": "H", "DD": "B", "kk": "B", "CH": "B", "SS": "B",
                 "nn": "H", "RR": "E", "aa": "D", "E": "C", "I": "B", "O": "E", "U": "F"}


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("visemes", help="print the viseme cues (mouth shapes over time) of AUDIO",
                                 description="Print the viseme cues of AUDIO: one of the 15 visemes "
                                             "(sil PP FF TH DD kk CH SS nn RR aa E I O U) per stretch of time.")
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
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice for --text (default: en-us)")
    parser.add_argument("--format", choices=("json", "tsv", "rhubarb"), default="json",
                        help="json: {\"cues\": [{start, end, viseme}]}; tsv: start end viseme; "
                             "rhubarb: Rhubarb Lip Sync's time + shape (A-H, X) lines (default: json)")
    parser.add_argument("--max-audio-seconds", type=float, default=600.0,
                        help="refuse audio longer than this many seconds (default: 600)")
    return parser


def run(args: argparse.Namespace) -> int:
    from talkinghead.audio import load_speech, viseme_model
    from talkinghead.audio.phonetics import find_phones, read_transcript
    from talkinghead.audio.tts import text_speech
    from talkinghead.errors import TalkingHeadError
    from talkinghead.motion.mouth import loudness_cues
    from talkinghead.motion.visemes import cues

    Controls(max_audio_seconds=args.max_audio_seconds, transcript=args.transcript, text=args.text,
             voice=args.voice, language=args.language)  # the render's checks
    if (args.audio is None) == (args.text is None):
        raise TalkingHeadError("give either AUDIO or --text")
    if args.text is not None:
        speech = text_speech(args.text, args.voice, args.max_audio_seconds)
        print(format_cues(cues(speech.phones or []), args.format))
        return 0
    if args.streaming and not viseme_model.available():
        raise TalkingHeadError("--streaming needs the viseme model's weights, which this installation lacks")
    transcript = args.transcript if args.transcript_file is None else read_transcript(args.transcript_file)
    speech = load_speech(args.audio, args.max_audio_seconds, transcript)
    if args.streaming or (transcript is None and args.language.lower()[:2] != "en" and viseme_model.available()):
        phones = viseme_model.streamed_phones(speech.samples)
    else:
        phones = find_phones(speech)
    print(format_cues(cues(phones) if phones is not None else loudness_cues(speech), args.format))
    return 0


def format_cues(track: Sequence[Cue], style: str) -> str:
    """Cues as JSON, as ``start<TAB>end<TAB>viseme`` lines, or as Rhubarb's ``time<TAB>shape`` lines."""
    if style == "json":
        return json.dumps({"cues": [{"start": round(c.start, 3), "end": round(c.end, 3), "viseme": c.viseme}
                                    for c in track]})
    if style == "tsv":
        return "\n".join(f"{c.start:.3f}\t{c.end:.3f}\t{c.viseme}" for c in track)
    lines: list[str] = []
    previous = None
    for cue in track:
        shape = RHUBARB_SHAPE[cue.viseme]
        if shape != previous:
            lines.append(f"{cue.start:.2f}\t{shape}")
            previous = shape
    if track:
        lines.append(f"{track[-1].end:.2f}\tX")
    return "\n".join(lines)
