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

from talkinghead.audio import Speech, load_speech
from talkinghead.controls import Controls
from talkinghead.face import FaceRig, build_rig
from talkinghead.motion import MotionTrack, generate_motion
from talkinghead.provenance import VisibleLabel, new_video_id, video_metadata
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


def prepare(portrait: Portrait, audio: str | Path, controls: Controls) -> Prepared:
    """Decode the audio, rig the portrait and plan the motion (fails fast on bad input)."""
    speech = load_speech(audio, controls.max_audio_seconds, controls.transcript)
    rig = build_rig(portrait, controls.size, controls.head_distance, controls.crop)
    return Prepared(controls, speech, rig, generate_motion(speech, controls))


def iter_frames(prepared: Prepared) -> Iterator[np.ndarray]:
    """Lazily draw every frame, labelled when the controls ask for the label."""
    label = VisibleLabel(min(prepared.rig.width, prepared.rig.height)) if prepared.controls.label else None
    for frame in Renderer(prepared.rig).frames(prepared.track):
        yield label.apply(frame) if label else frame


def frames(portrait: Portrait, audio: str | Path, **options: Any) -> Iterator[np.ndarray]:
    """RGB uint8 frames of the talking head for ``audio``, one at a time (options as `Controls`)."""
    return iter_frames(prepare(portrait, audio, Controls.from_options(options)))


def render(portrait: Portrait, audio: str | Path, out: str | Path, *, overwrite: bool = True,
           progress: Callable[[int, int], None] | None = None, notify: Notify | None = None,
           **options: Any) -> RenderResult:
    """Render ``portrait`` speaking ``audio`` into the MP4 file ``out``.

    Options are the fields of `Controls` (``size``, ``fps``, ``seed``, ...). ``progress(done, total)`` is
    called after each frame; ``notify(message)`` receives notes such as "several faces found".

    Example::

        import talkinghead
        talkinghead.render("me.jpg", "hello.wav", "hello.mp4", size=512, seed=1)
    """
    started = time.perf_counter()
    controls = Controls.from_options(options)
    path = check_output_path(out, overwrite)
    prepared = prepare(portrait, audio, controls)
    for note in prepared.rig.notes:
        if notify:
            notify(note)
    video_id = new_video_id()
    total = prepared.track.n_frames
    speech = prepared.speech
    with Mp4Writer(path, (prepared.rig.width, prepared.rig.height), controls.fps, speech.original, speech.original_rate,
                   video_metadata(video_id)) as writer:
        for index, frame in enumerate(iter_frames(prepared), start=1):
            writer.write(frame)
            if progress:
                progress(index, total)
    return RenderResult(path, total, controls.fps, speech.duration, video_id, time.perf_counter() - started,
                        list(prepared.rig.notes))


# The streaming driver of the same stages (audio chunks in, frames out): see talkinghead/live.py.
from talkinghead.live import LiveFrame, LiveSession  # noqa: E402

__all__ = ["LiveFrame", "LiveSession", "Prepared", "RenderResult", "frames", "iter_frames", "prepare", "render"]
