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
from talkinghead.blas import one_blas_thread
from talkinghead.captions import Caption
from talkinghead.captions.burn import CaptionBurner
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face import FaceRig, build_rig
from talkinghead.motion import MotionTrack, generate_motion, n_frames_for
from talkinghead.motion.expression import load_emotion_schedule
from talkinghead.motion.track_file import read_motion_track, write_motion_track
from talkinghead.progress import ANALYSING, ENCODING, READING, RENDERING
from talkinghead.provenance import FrameMarker, new_video_id, video_id_for, video_metadata
from talkinghead.provenance.credentials import sign_video, signing_config
from talkinghead.python_api import speaks_python, with_options_help
from talkinghead.render import Renderer
from talkinghead.sidecars import captions_for, check_sidecars, write_sidecars
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
    captions: list[Caption] | None = None  # word-timed cues, when the words are known and captions are asked for


@dataclass
class RenderResult:
    """What `render` made: ``fps`` is the video's frame rate, `render_fps` how fast it was rendered."""

    path: Path
    n_frames: int
    fps: float
    duration: float
    video_id: str
    seconds: float
    notes: list[str] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)  # captions and exports written beside the video

    @property
    def render_fps(self) -> float:
        """Render speed: video frames made per wall-clock second (not the video's frame rate, `fps`)."""
        return self.n_frames / self.seconds if self.seconds > 0 else float("inf")

    @property
    def speed(self) -> float:
        """Same as `render_fps` (the older name)."""
        return self.render_fps


def prepare(portrait: Portrait, audio: str | Path | None, controls: Controls,
            stage: Notify | None = None) -> Prepared:
    """Decode (or, for ``controls.text``, synthesise) the audio, rig the portrait and plan the motion (fails
    fast on bad input: every input is checked before ``stage`` hears that the slow analysis starts)."""
    speech = speech_for(audio, controls)
    rig = build_rig(portrait, controls.size, controls.head_distance, controls.crop)
    track = plan_motion(speech, controls, stage)
    return Prepared(controls, speech, rig, track, video_id_for(portrait, audio, controls),
                    captions_for(speech, controls))


def plan_motion(speech: Speech, controls: Controls, stage: Notify | None = None) -> MotionTrack:
    """The track to render: read from ``--motion-in`` or generated; saved to ``--motion-out`` if asked."""
    if controls.motion_in:
        track = read_motion_track(controls.motion_in, controls.fps, n_frames_for(speech.duration, controls.fps))
    else:
        if controls.emotion_schedule:
            load_emotion_schedule(controls.emotion_schedule)  # a bad file is refused before the slow part
        if stage:
            stage(ANALYSING)
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
        from talkinghead.languages import default_voice

        voice = controls.voice or default_voice(controls.language)
        return text_speech(controls.text, voice, controls.max_audio_seconds)
    transcript = controls.transcript
    if controls.transcript_file is not None:
        from talkinghead.audio.phonetics import read_transcript

        transcript = read_transcript(controls.transcript_file)
    return load_speech(audio, controls.max_audio_seconds, transcript)


def iter_frames(prepared: Prepared) -> Iterator[np.ndarray]:
    """Lazily draw every frame, labelled when the controls ask for the label, always watermarked."""
    controls, rig = prepared.controls, prepared.rig
    marker = FrameMarker(controls, rig.width, rig.height, prepared.video_id)
    label_top = getattr(marker.label, "y0", None) if controls.label_position.startswith("bottom") else None
    burner = CaptionBurner(prepared.captions, (rig.width, rig.height), label_top) if (
        controls.burn_captions and prepared.captions) else None
    for index, frame in enumerate(Renderer(prepared.rig).frames(prepared.track)):
        if burner is not None:
            burner.apply(frame, index / prepared.track.fps)
        yield marker.apply(frame)


@speaks_python
def frames(portrait: Portrait, audio: str | Path | None, **options: Any) -> Iterator[np.ndarray]:
    """RGB uint8 frames of the talking head for ``audio``, one at a time (options as `Controls`)."""
    return iter_frames(prepare(portrait, audio, Controls.from_options(options)))


@speaks_python
def render(portrait: Portrait, audio: str | Path | None, out: str | Path, *, overwrite: bool = False,
           progress: Callable[[int, int], None] | None = None, notify: Notify | None = None,
           stage: Notify | None = None, **options: Any) -> RenderResult:
    """Render ``portrait`` speaking ``audio`` into the MP4 file ``out``; errors name options as keywords.

    An existing ``out`` is refused unless ``overwrite=True`` (as the CLI refuses without ``-y``).
    ``progress(done, total)`` is called after each frame; ``notify(message)`` receives notes such as
    "several faces found"; ``stage(name)`` is told each stage as it starts ("reading inputs", "analysing
    speech", "rendering", "encoding"). The options are listed below.

    Example::

        import talkinghead
        talkinghead.render("me.jpg", "hello.wav", "hello.mp4", size=512, seed=1)
        talkinghead.render("me.jpg", None, "hi.mp4", text="Hi there!", voice="en-gb")
    """
    return render_file(portrait, audio, out, overwrite=overwrite, progress=progress, notify=notify, stage=stage,
                       **options)


def render_file(portrait: Portrait, audio: str | Path | None, out: str | Path, *, overwrite: bool = False,
                progress: Callable[[int, int], None] | None = None, notify: Notify | None = None,
                stage: Notify | None = None, **options: Any) -> RenderResult:
    """`render`, with errors naming options as the CLI does (``--size``): the CLI's entry point."""
    with one_blas_thread():
        return _render_file(portrait, audio, out, overwrite=overwrite, progress=progress, notify=notify,
                            stage=stage, **options)


def _render_file(portrait: Portrait, audio: str | Path | None, out: str | Path, *, overwrite: bool,
                 progress: Callable[[int, int], None] | None, notify: Notify | None, stage: Notify | None,
                 **options: Any) -> RenderResult:
    started = time.perf_counter()
    controls = Controls.from_options(options)
    path = check_output_path(out, overwrite)
    check_sidecars(path, controls, overwrite)
    signing = signing_config()  # a half-configured signer is refused before any slow work; made on first use
    if stage:
        stage(READING)
    prepared = prepare(portrait, audio, controls, stage)
    if stage:
        stage(RENDERING)
    for note in prepared.rig.notes:
        if notify:
            notify(note)
    video_id = prepared.video_id
    total = prepared.track.n_frames
    speech = prepared.speech
    frame_size = (prepared.rig.width, prepared.rig.height)
    soft_captions = prepared.captions if controls.embed_captions else None
    with Mp4Writer(path, frame_size, controls.fps, speech.original, speech.original_rate,
                   video_metadata(video_id, controls), captions=soft_captions, language=controls.language) as writer:
        for index, frame in enumerate(read_ahead(iter_frames(prepared)), start=1):
            writer.write(frame)
            if progress:
                progress(index, total)
        if stage:
            stage(ENCODING)
    if signing.config:
        try:
            sign_video(path, video_id, signing.config)
        except BaseException:  # a video that was to be signed is not finished without its manifest
            path.unlink(missing_ok=True)
            raise
    elif notify and signing.note:
        notify(signing.note)
    sidecars, notes = write_sidecars(path, controls, speech, prepared.track, prepared.captions,
                                     "" if audio is None else str(audio))
    for message in notes:
        if notify:
            notify(message)
    return RenderResult(path, total, controls.fps, speech.duration, video_id, time.perf_counter() - started,
                        list(prepared.rig.notes) + notes, sidecars)


render.__doc__ = with_options_help(render.__doc__)
frames.__doc__ = with_options_help(frames.__doc__)

# The streaming driver of the same stages (audio chunks in, frames out): see talkinghead/live.py.
from talkinghead.live import LiveFrame, LiveSession  # noqa: E402

__all__ = ["LiveFrame", "LiveSession", "Prepared", "RenderResult", "frames", "iter_frames", "prepare", "render",
           "render_file"]
