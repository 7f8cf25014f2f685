"""``WS /v1/live``: a `LiveSession` over a WebSocket (protocol in docs/server.md).

1. client -> binary message: the portrait (JPEG, PNG, WebP, ... bytes);
2. client -> text message: JSON ``{"consent": "yes", "sample_rate": 16000, "controls": {...}}``;
3. server -> text ``{"type": "ready", "width", "height", "fps", "lookahead"}``;
4. client -> binary messages: mono float32 little-endian PCM at ``sample_rate`` (20-40 ms each is typical);
   text ``{"type": "end"}`` when done;
5. server -> one binary message per frame: 12-byte header (``<I`` frame index, ``<d`` stream time in
   seconds the frame starts at) followed by a JPEG; after "end", the held-back frames and
   ``{"type": "end", "frames": N}``. Problems: ``{"type": "error", "message": ...}`` then the socket closes
   (1008 for anything the client sent wrong).

With no audio for half a second the server feeds silence, so the face stays alive (blinks, head motion).

Every session ends, whatever the client does: one supervisor (`asyncio.TaskGroup`) runs the reader and the
renderer, the first failure of either ends both, and the slot is given back on every way out. Memory per
session is bounded: a chunk is at most `MAX_CHUNK_SECONDS` of audio, at most `QUEUE_CHUNKS` chunks wait, the
renderer draws at most `STEP_SECONDS` of audio's frames at a time (encoded to JPEG as they come), and the
frame size times the frame rate is within `MAX_PIXELS_PER_SECOND`. When the client goes away the session
stops after the step it is drawing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import struct
import threading
import time
from collections import deque
from typing import Any

import cv2
import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face.framing import AUTO_MAX_SIZE
from talkinghead.face.image import MAX_PIXELS, image_size
from talkinghead.live import LOOKAHEAD_S, MAX_RATE, MIN_RATE, LiveFrame, LiveSession
from talkinghead.server.forms import CONTENT_OPTIONS, SERVER_ONLY
from talkinghead.server.metrics import Metrics

log = logging.getLogger("talkinghead.server")

FRAME_HEADER = struct.Struct("<Id")
IDLE_AFTER_S = 0.5
JPEG_QUALITY = 80
CLOSE_BAD_INPUT, CLOSE_BUSY = 1008, 1013
SETUP_TIMEOUT_S = 60.0  # for the portrait and the set-up message each
MAX_SETUP_BYTES = 64 * 1024
MAX_CHUNK_SECONDS = 1.0
QUEUE_CHUNKS = 16
STEP_SECONDS = 0.2
MAX_PIXELS_PER_SECOND = 1024 * 1024 * 30  # e.g. 1024x1024 at 30 fps; 2048x2048 needs fps <= 7.5
SETUP_KEYS = ("consent", "sample_rate", "controls", "lookahead")
NOT_LIVE = (*CONTENT_OPTIONS, *SERVER_ONLY, "text", "transcript")  # file renders only
_RIG_LOCK = threading.Lock()  # the face analysis redirects the process's stderr: one rig build at a time


class ProtocolError(TalkingHeadError):
    """The client broke the protocol; the session ends with an error message and close code 1008."""


class ClientGone(Exception):
    """The client closed the connection."""


class LiveEndpoint:
    """Accepts live sessions up to ``limit`` at a time."""

    def __init__(self, metrics: Metrics, limit: int, max_portrait_bytes: int) -> None:
        self.metrics = metrics
        self.limit = limit
        self.max_portrait_bytes = max_portrait_bytes
        self.active = 0

    async def __call__(self, socket: WebSocket) -> None:
        await socket.accept()
        if self.active >= self.limit:
            await _fail(socket, f"busy: {self.limit} live session(s) already running; try again later", CLOSE_BUSY)
            return
        self.active += 1
        self.metrics.live_open(1)
        try:
            await self._serve(socket)
        except* (ClientGone, WebSocketDisconnect):
            pass
        except* TalkingHeadError as group:
            await _fail(socket, str(_first(group)), CLOSE_BAD_INPUT)
        except* Exception as group:
            log.error("live session failed", exc_info=_first(group))
            await _fail(socket, "internal error; please report it", 1011)
        finally:
            self.active -= 1
            self.metrics.live_open(-1)

    async def _serve(self, socket: WebSocket) -> None:
        portrait = await _receive(socket, "binary", SETUP_TIMEOUT_S, "first, the portrait")
        if len(portrait) > self.max_portrait_bytes:
            raise ProtocolError(f"portrait is {len(portrait)} bytes; the limit is {self.max_portrait_bytes}")
        setup = parse_setup(await _receive(socket, "text", SETUP_TIMEOUT_S, "after the portrait, the set-up JSON"))
        session = await asyncio.to_thread(_open_session, portrait, setup)
        try:
            await socket.send_json({"type": "ready", "width": session.size[0], "height": session.size[1],
                                    "fps": session.fps, "lookahead": session.lookahead})
            chunks: asyncio.Queue[Any] = asyncio.Queue(QUEUE_CHUNKS)
            async with asyncio.TaskGroup() as supervisor:
                supervisor.create_task(self._read_audio(socket, chunks, session.rate))
                supervisor.create_task(self._stream(socket, session, chunks))
        finally:
            session.close()

    async def _read_audio(self, socket: WebSocket, chunks: asyncio.Queue, rate: int) -> None:
        """Queue the client's chunks (stamped with their arrival); silence when the client goes quiet."""
        last_audio = time.monotonic()
        max_bytes = 4 * math.ceil(MAX_CHUNK_SECONDS * rate)
        while True:
            try:
                message = await asyncio.wait_for(socket.receive(), timeout=IDLE_AFTER_S / 2)
            except TimeoutError:
                quiet = time.monotonic() - last_audio
                if quiet >= IDLE_AFTER_S:
                    last_audio = time.monotonic()
                    await chunks.put((np.zeros(round(min(quiet, MAX_CHUNK_SECONDS) * rate), np.float32), last_audio))
                continue
            kind, data = audio_message(message, max_bytes)
            if kind == "end":
                await chunks.put(None)
                return
            last_audio = time.monotonic()
            await chunks.put((data, last_audio))

    async def _stream(self, socket: WebSocket, session: LiveSession, chunks: asyncio.Queue) -> None:
        arrivals: deque[tuple[float, float]] = deque()  # (stream time the chunk ends, when it arrived)
        step = max(1, round(STEP_SECONDS * session.rate))
        while True:
            item = await chunks.get()
            ended = item is None
            samples = np.zeros(0, np.float32) if ended else item[0]
            if not ended:
                arrivals.append((session.received_seconds + samples.size / session.rate, item[1]))
            for start in range(0, max(samples.size, 1), step):
                piece = samples[start : start + step]
                last = ended or start + step >= samples.size
                frames = await asyncio.to_thread(_feed_and_encode, session, piece, ended and last)
                for frame, jpeg in frames:
                    await socket.send_bytes(FRAME_HEADER.pack(frame.index, frame.time) + jpeg)
                    if arrivals:
                        shown = frame.time + 0.5 / session.fps
                        self.metrics.live_frame(time.monotonic() - _arrival_of(arrivals, shown))
            while len(arrivals) > 1 and arrivals[1][0] < session.frames_made / session.fps:
                arrivals.popleft()
            if ended:
                await socket.send_json({"type": "end", "frames": session.frames_made})
                await socket.close()
                return


def audio_message(message: dict[str, Any], max_bytes: int) -> tuple[str, np.ndarray | None]:
    """One client message after set-up: ``("audio", samples)`` or ``("end", None)``; anything else is a
    `ProtocolError` (or `ClientGone` when the client closed)."""
    if message.get("type") == "websocket.disconnect":
        raise ClientGone()
    data, text = message.get("bytes"), message.get("text")
    if data is not None:
        if len(data) > max_bytes:
            raise ProtocolError(f"audio chunk of {len(data)} bytes is over the limit of {max_bytes} "
                                f"({MAX_CHUNK_SECONDS:g} s at the session's sample rate); send smaller chunks")
        if len(data) % 4:
            raise ProtocolError("audio chunks must be float32 samples (a multiple of 4 bytes)")
        samples = np.frombuffer(data, "<f4").astype(np.float32)
        if not np.isfinite(samples).all():
            raise ProtocolError("audio chunk contains NaN or infinite samples")
        return "audio", samples
    if text is None:
        raise ProtocolError("expected a binary audio chunk or the text message {\"type\": \"end\"}")
    try:
        parsed = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise ProtocolError("text messages after set-up must be JSON: {\"type\": \"end\"}") from None
    if not isinstance(parsed, dict) or parsed.get("type") != "end":
        raise ProtocolError("the only text message after set-up is {\"type\": \"end\"}")
    return "end", None


def parse_setup(text: str) -> dict[str, Any]:
    """The set-up message, checked: consent, a whole sample rate, controls as an object, a numeric
    look-ahead, no other keys. Anything wrong is a `ProtocolError` saying what."""
    if len(text) > MAX_SETUP_BYTES:
        raise ProtocolError(f"the set-up message is over {MAX_SETUP_BYTES} bytes")
    try:
        setup = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError(f"the set-up message must be JSON: {str(exc)[:80]}") from None
    if not isinstance(setup, dict):
        raise ProtocolError("the set-up message must be a JSON object")
    unknown = sorted(str(key)[:40] for key in set(setup) - set(SETUP_KEYS))
    if unknown:
        raise ProtocolError(f"unknown set-up key(s) {', '.join(unknown)}; known: {', '.join(SETUP_KEYS)}")
    if str(setup.get("consent", "")).strip().lower() not in ("yes", "true", "1", "on"):
        raise ProtocolError('consent is required: send "consent": "yes" to attest you may animate this person')
    rate = setup.get("sample_rate")
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise ProtocolError(f"sample_rate must be a whole number of Hz, {MIN_RATE}-{MAX_RATE}")
    lookahead = setup.get("lookahead", LOOKAHEAD_S)
    if isinstance(lookahead, bool) or not isinstance(lookahead, (int, float)) or not 0.0 <= lookahead <= 1.0:
        raise ProtocolError("lookahead must be a number of seconds, 0-1")
    options = setup.get("controls") or {}
    if not isinstance(options, dict):
        raise ProtocolError("controls must be a JSON object of render options")
    refused = sorted(set(options) & set(NOT_LIVE))
    if refused:
        raise ProtocolError(f"{', '.join(refused)} cannot be used in a live session")
    try:
        controls = Controls.from_options(options)
    except (TypeError, ValueError, OverflowError) as exc:  # TalkingHeadError is a ValueError
        raise ProtocolError(str(exc).splitlines()[0][:200] if str(exc) else "bad controls") from None
    side = controls.size or AUTO_MAX_SIZE  # no size: the photo's own resolution, at most AUTO_MAX_SIZE
    if side * side * controls.fps > MAX_PIXELS_PER_SECOND:
        raise ProtocolError(f"size {side} at {controls.fps:g} fps is over the live budget of "
                            f"{MAX_PIXELS_PER_SECOND / 1e6:.1f} megapixels per second; lower size or fps")
    log.info("live session: consent %r, controls %s", setup["consent"], json.dumps(options)[:500])
    return {"consent": setup["consent"], "sample_rate": rate, "lookahead": float(lookahead), "controls": controls}


def _open_session(portrait: bytes, setup: dict[str, Any]) -> LiveSession:
    try:
        width, height = image_size(portrait)
    except TalkingHeadError:
        raise ProtocolError("cannot read the portrait as an image (PNG, JPEG, WebP, BMP or TIFF expected)") from None
    if width * height > MAX_PIXELS:
        raise ProtocolError(f"the portrait declares {width}x{height} pixels; the limit is "
                            f"{MAX_PIXELS // 1_000_000} megapixels")
    image = cv2.imdecode(np.frombuffer(portrait, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape[1] * image.shape[0] > MAX_PIXELS:
        raise ProtocolError("cannot read the portrait as an image (PNG, JPEG, WebP, BMP or TIFF expected)")
    with _RIG_LOCK:
        return LiveSession(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), setup["controls"],
                           sample_rate=setup["sample_rate"], lookahead=setup["lookahead"])


async def _receive(socket: WebSocket, kind: str, timeout: float, expected: str) -> Any:
    """The next message, which must be ``kind`` (binary or text); else a `ProtocolError` naming what was due."""
    try:
        message = await asyncio.wait_for(socket.receive(), timeout)
    except TimeoutError:
        raise ProtocolError(f"nothing received for {timeout:g} s; expected {expected}") from None
    if message.get("type") == "websocket.disconnect":
        raise ClientGone()
    value = message.get("bytes") if kind == "binary" else message.get("text")
    if value is None:
        raise ProtocolError(f"expected {expected} as a {kind} message")
    return value


def _feed_and_encode(session: LiveSession, samples: np.ndarray, ended: bool) -> list[tuple[LiveFrame, bytes]]:
    frames = session.feed(samples) if samples.size else []
    if ended:
        frames += session.finish()
    out = []
    for frame in frames:
        _, jpeg = cv2.imencode(".jpg", cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        out.append((frame, jpeg.tobytes()))
    return out


def _arrival_of(arrivals: deque[tuple[float, float]], stream_time: float) -> float:
    """When the chunk holding ``stream_time`` arrived."""
    for end, arrived in arrivals:
        if end >= stream_time:
            return arrived
    return arrivals[-1][1]


def _first(group: BaseExceptionGroup) -> BaseException:
    """The first plain exception inside a (possibly nested) exception group."""
    exc: BaseException = group
    while isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    return exc


async def _fail(socket: WebSocket, message: str, code: int) -> None:
    try:
        await socket.send_json({"type": "error", "message": message})
        await socket.close(code=code)
    except (RuntimeError, WebSocketDisconnect, OSError):
        pass
