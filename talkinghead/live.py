"""`LiveSession`: the pipeline fed incrementally — audio chunks in, frames out at the video frame rate.

The same stages as a file render, driven by a stream (DESIGN.md: one pipeline, two drivers):

- **audio + mouth**: each time enough audio has arrived for new frames, the last ``context`` seconds of
  audio (plus the ``lookahead`` past the newest frame, for coarticulation) become a `Speech` (what
  `load_speech` makes of a file; see `audio.speech_from_audio`) and go through `generate_motion` as a file does; the
  new frames take the speech-driven channels (mouth, brows, expression) from that window. The mouth's
  phones come from the streaming viseme model (`audio.viseme_model`), fed every chunk as it arrives: any
  language, ~60 ms look-ahead, well under a millisecond per 10 ms of audio (without its weights, the
  language-agnostic acoustic mouth takes over).
- **head + eyes**: these carry state (a nod in progress, a blink half done) and must not restart with every
  window, so they come from a continuous seeded track made by the same motion stage over silence, in
  blocks cross-faded into each other, and the head moves more while speech is heard.
- **render + provenance**: one `Renderer` for the session, the visible label when the controls ask for it
  and the invisible watermark always.

A frame shows the instant at its middle (the motion stage samples every channel there), so it is ready once
audio up to its middle plus ``lookahead`` has arrived: the delay from an audio chunk to the frame that shows
it is the look-ahead plus the compute. The default look-ahead is the viseme model's own (`LOOKAHEAD_S`, 60 ms):
waiting longer would only delay the mouth, which holds the newest decided viseme over the rest of the window.
With no speech (silence, or `idle`) the face stays alive: it moves its head a little and blinks. Same audio,
controls and seed give the same frames.
"""

from __future__ import annotations

import gc
import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from talkinghead.audio import ANALYSIS_RATE, FEATURE_RATE, speech_from_audio, to_analysis_rate, viseme_model
from talkinghead.audio.phonemes import SILENCE, Phone
from talkinghead.audio.prosody import RunningPitch
from talkinghead.blas import one_blas_thread
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face import FaceRig, build_rig
from talkinghead.motion import MotionTrack, generate_motion
from talkinghead.motion.track import EYE_CHANNELS, HEAD_CHANNELS
from talkinghead.provenance import FrameMarker, video_id_for
from talkinghead.render import Renderer

ACOUSTIC_MOUTH_LANGUAGE = "und"  # ISO 639 "undetermined": the motion stage's language-agnostic mouth

STATEFUL_CHANNELS = frozenset(HEAD_CHANNELS + EYE_CHANNELS)
STEADY_BLOCK_S = 30.0  # the continuous head/eye track is made this many seconds at a time
STEADY_FADE_S = 1.0  # and consecutive blocks cross-fade over this long
SPEAKING_TIME_CONSTANT_S = 0.6  # how fast the head's liveliness follows speech
MIN_RATE, MAX_RATE = 8000, 96000
LOOKAHEAD_S = viseme_model.DELAY_FRAMES * viseme_model.FRAME_S  # when a frame's mouth is decided
_open_sessions = 0
_open_sessions_lock = threading.Lock()
_blas_limit = None  # held while any session streams


def _hold_still_for_streaming() -> None:
    """Move everything alive now (the libraries, the rig, the renderer) out of the garbage collector's sight
    while a session streams. A full collection scans every object tracked: with the stack loaded that takes
    ~90 ms, over two frames' time at 25 fps, and one came every 30-60 s of streaming, a late frame each time.
    What a stream allocates afterwards is short-lived and cheap to scan."""
    global _open_sessions, _blas_limit
    with _open_sessions_lock:
        _open_sessions += 1
        gc.collect()
        gc.freeze()
        if _blas_limit is None:
            _blas_limit = one_blas_thread()  # spinning BLAS threads took a core (see `talkinghead.blas`)


def _release_after_streaming() -> None:
    """Give the frozen objects back to the collector once no session streams (so a closed session's cycles
    are collected as usual)."""
    global _open_sessions, _blas_limit
    with _open_sessions_lock:
        _open_sessions -= 1
        if _open_sessions == 0:
            gc.unfreeze()
            if _blas_limit is not None:
                _blas_limit.restore_original_limits()
                _blas_limit = None


@dataclass
class LiveFrame:
    """One frame of a live stream: its index, the stream time it shows (its start, seconds) and the image."""

    index: int
    time: float
    image: np.ndarray


class LiveSession:
    """Feed audio as it arrives, get the frames it makes.

    Args:
        portrait: path or RGB array (ignored when ``rig`` is given).
        controls: render options (size, fps, seed, ...); defaults to `Controls()`.
        sample_rate: rate of the float32 mono chunks given to `feed`.
        lookahead: seconds of audio after a frame's middle needed before it is drawn (default: the viseme
            model's look-ahead).
        context: seconds of past audio the speech models see for each new batch of frames.
        rig: a rig already built for this portrait and these controls (saves the face analysis).

    Example::

        session = LiveSession("me.jpg", Controls(size=256), sample_rate=ANALYSIS_RATE)
        for chunk in microphone_chunks():          # 20-40 ms float32 arrays
            for frame in session.feed(chunk):
                show(frame.image)
        for frame in session.finish():
            show(frame.image)
    """

    def __init__(self, portrait: str | Path | np.ndarray | None = None, controls: Controls | None = None, *,
                 sample_rate: int = ANALYSIS_RATE, lookahead: float = LOOKAHEAD_S, context: float = 2.0,
                 rig: FaceRig | None = None) -> None:
        self.controls = controls or Controls()
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or not MIN_RATE <= sample_rate <= MAX_RATE:
            raise TalkingHeadError(f"sample rate must be a whole number of Hz between {MIN_RATE} and {MAX_RATE}, "
                                   f"got {sample_rate!r}")
        if not 0.0 <= lookahead <= 1.0 or not 0.5 <= context <= 30.0:
            raise TalkingHeadError("lookahead must be 0-1 s and context 0.5-30 s")
        if rig is None:
            if portrait is None:
                raise TalkingHeadError("give a portrait (or a rig) to start a live session")
            c = self.controls
            rig = build_rig(portrait, c.size, c.head_distance, c.crop)
        self.rig = rig
        self.rate = sample_rate
        self.fps = float(self.controls.fps)
        self.lookahead = lookahead
        self.renderer = Renderer(rig)
        self.renderer.draw({})  # compiles and warms the renderer now, not on the first live frame
        c = self.controls
        self.video_id = video_id_for(rig.image, None, c)  # same portrait, controls and seed: same frames
        self.marker = FrameMarker(c, rig.width, rig.height, self.video_id)
        self._window_controls = replace(c, language=ACOUSTIC_MOUTH_LANGUAGE)
        # Audio before the stream starts counts as silence, so the first words are judged against a quiet
        # background as in a recording that starts with a pause.
        self._pad_frames = math.ceil(context * self.fps)
        self._context_frames = self._pad_frames
        self._origin = -self._pad_frames / self.fps  # stream time of self._audio[0]
        self._audio = np.zeros(round(self._pad_frames / self.fps * sample_rate), np.float32)
        self._received = 0  # samples of real audio fed so far
        self._next = 0  # index of the next frame to draw
        self._speaking = 0.0
        self._steady: dict[int, Future[MotionTrack]] = {}
        self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="talkinghead-live-motion")
        self._closed = False
        self._steady_values(0, 1)  # the first block of head/eye motion, made before the stream starts
        self._visemes = viseme_model.VisemeStream() if viseme_model.available() else None
        self._viseme_labels: list[str] = []  # the model's viseme per 10 ms of stream time
        self._labels_first = 0  # the stream frame (10 ms) of self._viseme_labels[0]
        self._pitch = RunningPitch(ANALYSIS_RATE, FEATURE_RATE)
        _hold_still_for_streaming()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames."""
        return self.rig.width, self.rig.height

    @property
    def received_seconds(self) -> float:
        """Stream time covered by the audio fed so far."""
        return self._received / self.rate

    @property
    def frames_made(self) -> int:
        return self._next

    def feed(self, chunk: np.ndarray) -> list[LiveFrame]:
        """Add mono float32 samples (any length; 20-40 ms is typical) and return the frames now ready."""
        self._check_open()
        samples = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if samples.size and not np.isfinite(samples).all():
            raise TalkingHeadError("audio chunk contains NaN or infinite samples")
        self._audio = np.concatenate([self._audio, np.clip(samples, -1.0, 1.0)])
        self._received += samples.size
        self._hear(np.clip(samples, -1.0, 1.0))
        return self._draw_until(self.ready_frames(self.received_seconds))

    def ready_frames(self, received_seconds: float) -> int:
        """How many frames can be drawn once ``received_seconds`` of audio have arrived: those whose middle
        is at least the look-ahead older than the newest sample."""
        return max(0, math.floor((received_seconds - self.lookahead) * self.fps + 0.5 + 1e-9))

    def idle(self, seconds: float) -> list[LiveFrame]:
        """No speech for ``seconds``: the face stays alive (blinks, small head motion)."""
        return self.feed(np.zeros(round(seconds * self.rate), np.float32))

    def finish(self) -> list[LiveFrame]:
        """The frames still held back for look-ahead (silence is assumed after the end); then closes."""
        self._check_open()
        end = math.ceil(self.received_seconds * self.fps - 1e-9)
        self._audio = np.concatenate([self._audio, np.zeros(round(self.lookahead * self.rate) + 1, np.float32)])
        if self._visemes is not None:
            self._viseme_labels += viseme_model.frame_visemes(self._visemes.finish())
        frames = self._draw_until(end)
        self.close()
        return frames

    def close(self) -> None:
        if not self._closed:
            _release_after_streaming()
        self._closed = True
        self._background.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise TalkingHeadError("this live session is finished")

    def _draw_until(self, end: int) -> list[LiveFrame]:
        if end <= self._next:
            return []
        first, self._next = self._next, end
        values = self._motion(first, end)
        frames = []
        for offset, index in enumerate(range(first, end)):
            image = self.renderer.draw({name: float(v[offset]) for name, v in values.items()})
            frames.append(LiveFrame(index, index / self.fps, self.marker.apply(image)))
        self._forget_old_audio()
        return frames

    def _motion(self, first: int, end: int) -> dict[str, np.ndarray]:
        """Channel values for frames [first, end): speech channels from the window, the rest steady."""
        window_first = end - self._context_frames
        spoken = self._speech_track(window_first).channels
        steady = self._steady_values(first, end)
        values = {}
        rows = slice(first - window_first, end - window_first)
        for name in spoken:
            values[name] = steady[name] if name in STATEFUL_CHANNELS else _take(spoken[name], rows)
        gain = self._head_gain(values.get("jaw_open", np.zeros(end - first, np.float32)))
        for name in HEAD_CHANNELS:
            values[name] = values[name] * gain
        return values

    def _speech_track(self, window_first: int) -> MotionTrack:
        """The motion stage's track for the audio window starting at frame ``window_first``."""
        start = max(0, round((window_first / self.fps - self._origin) * self.rate))
        speech = speech_from_audio(self._audio[start:], self.rate)
        first = round((self._origin + start / self.rate) * speech.feature_rate)
        speech.f0_hz = self._pitch.track(speech.samples, first, len(speech.activity))
        if self._visemes is not None:
            speech.phones = self._window_phones(self._origin + start / self.rate, speech.duration)
        return generate_motion(speech, self._window_controls, from_photo_pose=False)

    def _hear(self, samples: np.ndarray) -> None:
        """Feed the streaming viseme model (at its 16 kHz) with the newest chunk."""
        if self._visemes is None or samples.size == 0:
            return
        samples = to_analysis_rate(samples, self.rate)
        self._viseme_labels += viseme_model.frame_visemes(self._visemes.feed(samples))

    def _window_phones(self, start: float, duration: float) -> list[Phone]:
        """The model's phones from stream time ``start`` for ``duration`` s (silence before the stream; the
        newest decided viseme held over the look-ahead the model has not decided yet)."""
        labels, offset = self._viseme_labels, self._labels_first
        first = round(start / viseme_model.FRAME_S) - offset
        count = math.ceil(duration / viseme_model.FRAME_S)
        window = [labels[min(max(k, 0), len(labels) - 1)] if k + offset >= 0 and labels else "sil"
                  for k in range(first, first + count)]
        return viseme_model.visemes_to_phones(window)

    def _head_gain(self, jaw_open: np.ndarray) -> np.ndarray:
        """1 in silence up to 2 while speaking, following the mouth smoothly (the head moves more in speech)."""
        keep = math.exp(-1.0 / (SPEAKING_TIME_CONSTANT_S * self.fps))
        gains = np.empty(len(jaw_open), np.float32)
        for i, opening in enumerate(jaw_open):
            self._speaking = keep * self._speaking + (1.0 - keep) * min(1.0, 3.0 * max(0.0, float(opening)))
            gains[i] = 1.0 + self._speaking
        return gains

    def _steady_values(self, first: int, end: int) -> dict[str, np.ndarray]:
        """Head and eye channels for frames [first, end) from the continuous seeded track."""
        block_frames = round(STEADY_BLOCK_S * self.fps)
        fade = round(STEADY_FADE_S * self.fps)
        index = np.arange(first, end)
        block = index // block_frames
        within = index - block * block_frames
        out = {name: np.empty(end - first, np.float32) for name in STATEFUL_CHANNELS}
        for b in np.unique(block):
            rows = block == b
            current = self._steady_block(int(b))
            weight = np.clip((within[rows] + 1) / (fade + 1), 0.0, 1.0) if b > 0 else np.ones(rows.sum())
            previous = self._steady_block(int(b) - 1) if b > 0 else current
            tail = np.minimum(fade + block_frames + within[rows], block_frames + 2 * fade - 1)  # weight 1 past it
            for name in STATEFUL_CHANNELS:
                now = current.channels[name][fade + within[rows]]
                before = previous.channels[name][tail] if b > 0 else now
                out[name][rows] = weight * now + (1.0 - weight) * before
        return out

    def _steady_block(self, block: int) -> MotionTrack:
        """Block ``block`` of the head/eye track (with ``fade`` frames either side), made once and kept.

        The next block is started in the background as soon as this one is first used, so crossing a block
        boundary never stalls the stream."""
        if block not in self._steady:
            self._steady[block] = self._background.submit(self._make_steady_block, block)
            self._steady = {b: t for b, t in self._steady.items() if b >= block - 1}
        if block + 1 not in self._steady:
            self._steady[block + 1] = self._background.submit(self._make_steady_block, block + 1)
        return self._steady[block].result()

    def _make_steady_block(self, block: int) -> MotionTrack:
        fade = round(STEADY_FADE_S * self.fps)
        seconds = STEADY_BLOCK_S + 2 * STEADY_FADE_S
        silence = speech_from_audio(np.zeros(round(seconds * self.rate), np.float32), self.rate)
        # Known to be silent: no phone model runs over it (on a background thread, a model stepping through
        # 30 s frame by frame would hold the interpreter from the live frames for most of a second).
        silence.phones = [Phone(SILENCE, 0.0, silence.duration)]
        seed = (self.controls.seed * 1_000_003 + block) % (2**32)
        track = generate_motion(silence, replace(self._window_controls, seed=seed), from_photo_pose=False)
        need = round(STEADY_BLOCK_S * self.fps) + 2 * fade
        for name in STATEFUL_CHANNELS:
            track.channels[name] = _take(track.channels[name], slice(0, need))
        return track

    def _forget_old_audio(self) -> None:
        """Keep only the audio the next window can need, so memory stays flat over a long stream."""
        keep_from = (self._next - self._context_frames - 1) / self.fps
        drop = round((keep_from - self._origin) * self.rate)
        if drop > self.rate:  # trim in whole seconds, not every frame
            self._audio = self._audio[drop:]
            self._origin += drop / self.rate
            unused = max(0, round(self._origin / viseme_model.FRAME_S) - self._labels_first)
            del self._viseme_labels[:unused]
            self._labels_first += unused


def _take(values: np.ndarray, rows: slice) -> np.ndarray:
    """values[rows], extended with its last value when the motion stage made a frame or two fewer."""
    part = values[rows.start : rows.stop]
    missing = rows.stop - rows.start - len(part)
    if missing > 0:
        part = np.concatenate([part, np.full(missing, part[-1] if len(part) else 0.0, np.float32)])
    return part.astype(np.float32)

