"""What a render writes beside its video: caption files (``--captions``) and exports (``--export``).

The captions come from the words the audio stage timed (`Speech.words`); the exports from the speech's
phones and the MotionTrack rendered. Each file is named after the video (``talk.mp4`` -> ``talk.srt``,
``talk.rhubarb.tsv``), checked before any slow work and written all or nothing once the video is done.
"""

from __future__ import annotations

from pathlib import Path

from talkinghead.audio import Speech
from talkinghead.captions import WRITERS, Caption, caption_cues
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.exports import ExportSource, export_path, parse_formats, write_atomically, write_exports
from talkinghead.motion import MotionTrack

NO_WORDS = ("captions skipped: the words are not known (give --text or --transcript, or install Whisper for "
            "English speech)")


def sidecar_paths(video: Path, controls: Controls) -> list[Path]:
    """Every file beside ``video`` the controls ask for."""
    paths = [export_path(video, name) for name in parse_formats(controls.export)]
    if controls.captions:
        paths.append(video.with_suffix("." + controls.captions))
    return paths


def check_sidecars(video: Path, controls: Controls, overwrite: bool) -> None:
    """Refuse, before any work, a sidecar that exists (without ``overwrite``) or collides with the video."""
    for path in sidecar_paths(video, controls):
        if path == video:
            raise TalkingHeadError(f"--captions/--export would overwrite the video {video}")
        if path.exists() and not overwrite:
            raise TalkingHeadError(f"{path} already exists; pass -y to overwrite it")


def captions_for(speech: Speech, controls: Controls) -> list[Caption] | None:
    """The caption cues of ``speech`` when any caption output is asked for and its words are known."""
    if not (controls.captions or controls.embed_captions or controls.burn_captions):
        return None
    if speech.words is None and controls.language.lower() == "en" and (controls.captions or controls.burn_captions):
        from talkinghead.audio.phonetics import find_phones

        find_phones(speech)  # sets the words where a transcript or Whisper gives them
    return caption_cues(speech.words, speech.duration) if speech.words else None


def write_sidecars(video: Path, controls: Controls, speech: Speech, track: MotionTrack,
                   captions: list[Caption] | None, sound_file: str = "") -> tuple[list[Path], list[str]]:
    """Write the asked-for captions and exports beside ``video``: (paths written, notes for the user)."""
    written: list[Path] = []
    notes: list[str] = []
    if controls.captions:
        if captions:
            text = WRITERS[controls.captions](captions)
            written.append(write_atomically(video.with_suffix("." + controls.captions), text))
        else:
            notes.append(NO_WORDS)
    names = parse_formats(controls.export)
    if names:
        written += write_exports(names, export_source(controls, speech, track, sound_file), video)
    return written, notes


def export_source(controls: Controls, speech: Speech, track: MotionTrack, sound_file: str = "") -> ExportSource:
    """The exports' input: phones as the mouth model used them (English: found; else only --text's)."""
    from talkinghead.audio.phonetics import find_phones
    from talkinghead.motion.mouth import loudness_cues
    from talkinghead.motion.visemes import cues

    phones = find_phones(speech) if controls.language.lower() == "en" else speech.phones
    viseme_cues = cues(phones) if phones is not None else loudness_cues(speech)
    return ExportSource(speech.duration, viseme_cues, phones, track, track.fps, sound_file, controls.extended_shapes)
