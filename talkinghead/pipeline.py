"""The pipeline: audio -> motion -> render -> provenance -> video, as lazy steps.

`render` makes a file; `frames` yields the frames for people who composite themselves. Both share
`prepare` and `iter_frames`, and frames stream from renderer to encoder one at a time, so memory does not
grow with the length of the audio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from talkinghead.ahead import read_ahead
from talkinghead.audio import Speech, load_speech
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face import FaceRig, build_rig
from talkinghead.motion import MotionTrack, generate_motion, n_frames_for
from talkinghead.motion.track_file import read_motion_track, write_motion_track
from talkinghead.provenance import FrameMarker, new_video_id, video_id_for, video_metadata
from talkinghead.provenance.credentials import sign_video, signing_config
from talkinghead.render import Renderer
from talkinghead.video import Mp4Writer, check_output_path

Portrait = str | Path | np.ndarray
Notify = Callable[[str], None]


@dataclass
class Prepared:
    """Everything decided before the first frame: controls, speech, rig and motion."""

    controls: Controls
    speech: Speech
    rig: FaceRig
    track: MotionTrack
    video_id: str = field(default_factory=new_video_id)  # carried by the watermark and the metadata


@dataclass
class RenderResult:
    """What `render` made."""

    path: Path
    n_frames: int
    fps: float
    duration: float
    video_id: str
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def speed(self) -> float:
        """Rendered frames per wall-clock second."""
        return self.n_frames / self.seconds if self.seconds > 0 else float("inf")


def prepare(portrait: Portrait, audio: str | Path | None, controls: Controls) -> Prepared:
    """Decode (or, for ``controls.text``, synthesise) the audio, rig the portrait and plan the motion (fails
    fast on bad input)."""
    speech = speech_for(audio, controls)
    rig = build_rig(portrait, controls.size, controls.head_distance, controls.crop)
    return Prepared(controls, speech, rig, plan_motion(speech, controls), video_id_for(portrait, audio, controls))


def plan_motion(speech: Speech, controls: Controls) -> MotionTrack:
    """The track to render: read from ``--motion-in`` or generated; saved to ``--motion-out`` if asked."""
    if controls.motion_in:
        track = read_motion_track(controls.motion_in, controls.fps, n_frames_for(speech.duration, controls.fps))
    else:
        track = generate_motion(speech, controls)
    if controls.motion_out:
        write_motion_track(track, controls.motion_out)
    return track


def speech_for(audio: str | Path | None, controls: Controls) -> Speech:
    """The speech to animate: ``audio`` decoded, or ``controls.text`` said by espeak-ng (exactly one)."""
    if (audio is None) == (controls.text is None):
        raise TalkingHeadError("give either AUDIO or --text (exactly one of them)")
    if controls.text is not None:
        from talkinghead.audio.tts import text_speech

        return text_speech(controls.text, controls.voice, controls.max_audio_seconds)
    transcript = controls.transcript
    if controls.transcript_file is not None:
        from talkinghead.audio.phonetics import read_transcript

        transcript = read_transcript(controls.transcript_file)
    return load_speech(audio, controls.max_audio_seconds, transcript)


def iter_frames(prepared: Prepared) -> Iterator[np.ndarray]:
    """Lazily draw every frame, labelled when the controls ask for the label, always watermarked."""
    controls, rig = prepared.controls, prepared.rig
    marker = FrameMarker(controls, rig.width, rig.height, prepared.video_id)
    for frame in Renderer(prepared.rig).frames(prepared.track):
        yield marker.apply(frame)


def frames(portrait: Portrait, audio: str | Path | None, **options: Any) -> Iterator[np.ndarray]:
    """RGB uint8 frames of the talking head for ``audio``, one at a time (options as `Controls`)."""
    return iter_frames(prepare(portrait, audio, Controls.from_options(options)))


def render(portrait: Portrait, audio: str | Path | None, out: str | Path, *, overwrite: bool = True,
           progress: Callable[[int, int], None] | None = None, notify: Notify | None = None,
           **options: Any) -> RenderResult:
    """Render ``portrait`` speaking ``audio`` into the MP4 file ``out``.

    Options are the fields of `Controls` (``size``, ``fps``, ``seed``, ...). ``progress(done, total)`` is
    called after each frame; ``notify(message)`` receives notes such as "several faces found".

    Example::

        import talkinghead
        talkinghead.render("me.jpg", "hello.wav", "hello.mp4", size=512, seed=1)
        talkinghead.render("me.jpg", None, "hi.mp4", text="Hi there!", voice="en-gb")
    """
    started = time.perf_counter()
    controls = Controls.from_options(options)
    path = check_output_path(out, overwrite)
    signing = signing_config()  # a half-configured signer is refused before any slow work; made on first use
    prepared = prepare(portrait, audio, controls)
    for note in prepared.rig.notes:
        if notify:
            notify(note)
    video_id = prepared.video_id
    total = prepared.track.n_frames
    speech = prepared.speech
    frame_size = (prepared.rig.width, prepared.rig.height)
    with Mp4Writer(path, frame_size, controls.fps, speech.original, speech.original_rate,
                   video_metadata(video_id, controls)) as writer:
        for index, frame in enumerate(read_ahead(iter_frames(prepared)), start=1):
            writer.write(frame)
            if progress:
                progress(index, total)
    if signing.config:
        sign_video(path, video_id, signing.config)
    elif notify and signing.note:
        notify(signing.note)
    return RenderResult(path, total, controls.fps, speech.duration, video_id, time.perf_counter() - started,
                        list(prepared.rig.notes))


# The streaming driver of the same stages (audio chunks in, frames out): see talkinghead/live.py.
from talkinghead.live import LiveFrame, LiveSession  # noqa: E402

__all__ = ["LiveFrame", "LiveSession", "Prepared", "RenderResult", "frames", "iter_frames", "prepare", "render"]
