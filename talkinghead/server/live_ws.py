"""``WS /v1/live``: a `LiveSession` over a WebSocket (protocol in docs/server.md).

1. client -> binary message: the portrait (JPEG, PNG, WebP, ... bytes);
2. client -> text message: JSON ``{"consent": "yes", "sample_rate": 16000, "controls": {...}}``;
3. server -> text ``{"type": "ready", "width", "height", "fps", "lookahead"}``;
4. client -> binary messages: mono float32 little-endian PCM at ``sample_rate`` (20-40 ms each is typical);
   text ``{"type": "end"}`` when done;
5. server -> one binary message per frame: 12-byte header (``<I`` frame index, ``<d`` stream time in
   seconds the frame starts at) followed by a JPEG; after "end", the held-back frames and
   ``{"type": "end", "frames": N}``. Problems: ``{"type": "error", "message": ...}`` then the socket closes.

With no audio for half a second the server feeds silence, so the face stays alive (blinks, head motion).
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections import deque
from typing import Any

import cv2
import numpy as np
from fastapi import WebSocket, WebSocketDisconnect

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.live import LiveFrame, LiveSession
from talkinghead.server.metrics import Metrics

log = logging.getLogger("talkinghead.server")

FRAME_HEADER = struct.Struct("<Id")
IDLE_AFTER_S = 0.5
JPEG_QUALITY = 80
CLOSE_BAD_INPUT, CLOSE_BUSY = 1008, 1013


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
        except WebSocketDisconnect:
            pass
        except TalkingHeadError as exc:
            await _fail(socket, str(exc), CLOSE_BAD_INPUT)
        finally:
            self.active -= 1
            self.metrics.live_open(-1)

    async def _serve(self, socket: WebSocket) -> None:
        portrait = await socket.receive_bytes()
        if len(portrait) > self.max_portrait_bytes:
            raise TalkingHeadError(f"portrait is {len(portrait)} bytes; the limit is {self.max_portrait_bytes}")
        setup = _parse_setup(await socket.receive_text())
        session = await asyncio.to_thread(_open_session, portrait, setup)
        await socket.send_json({"type": "ready", "width": session.size[0], "height": session.size[1],
                                "fps": session.fps, "lookahead": session.lookahead})
        chunks: asyncio.Queue[np.ndarray | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_audio(socket, chunks, session.rate))
        try:
            await self._stream(socket, session, chunks)
        finally:
            reader.cancel()
            session.close()

    async def _read_audio(self, socket: WebSocket, chunks: asyncio.Queue, rate: int) -> None:
        """Queue the client's chunks (stamped with their arrival); silence when the client goes quiet."""
        last_audio = time.monotonic()
        while True:
            try:
                message = await asyncio.wait_for(socket.receive(), timeout=IDLE_AFTER_S / 2)
            except TimeoutError:
                quiet = time.monotonic() - last_audio
                if quiet >= IDLE_AFTER_S:
                    last_audio = time.monotonic()
                    await chunks.put((np.zeros(round(quiet * rate), np.float32), last_audio))
                continue
            if message["type"] == "websocket.disconnect":
                await chunks.put(None)
                return
            if message.get("bytes") is not None:
                data = message["bytes"]
                if len(data) % 4:
                    await chunks.put(TalkingHeadError("audio chunks must be float32 samples (a multiple of 4 bytes)"))
                    return
                last_audio = time.monotonic()
                await chunks.put((np.frombuffer(data, "<f4").astype(np.float32), last_audio))
            elif message.get("text") is not None and json.loads(message["text"]).get("type") == "end":
                await chunks.put(None)
                return

    async def _stream(self, socket: WebSocket, session: LiveSession, chunks: asyncio.Queue) -> None:
        arrivals: deque[tuple[float, float]] = deque()  # (stream time the chunk ends, when it arrived)
        while True:
            pending = [await chunks.get()]
            while not chunks.empty():
                pending.append(chunks.get_nowait())
            ended = any(item is None for item in pending)
            for item in pending:
                if isinstance(item, TalkingHeadError):
                    raise item
            audio = [item for item in pending if isinstance(item, tuple)]
            stream_end = session.received_seconds
            for chunk, arrived in audio:
                stream_end += chunk.size / session.rate
                arrivals.append((stream_end, arrived))
            samples = np.concatenate([chunk for chunk, _ in audio]) if audio else np.zeros(0, np.float32)
            frames = await asyncio.to_thread(_feed_and_encode, session, samples, ended)
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


def _open_session(portrait: bytes, setup: dict[str, Any]) -> LiveSession:
    image = cv2.imdecode(np.frombuffer(portrait, np.uint8), cv2.IMREAD_COLOR) if portrait else None
    if image is None:
        raise TalkingHeadError("cannot read the portrait as an image (PNG, JPEG, WebP, BMP or TIFF expected)")
    controls = Controls.from_options(setup.get("controls") or {})
    return LiveSession(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), controls, sample_rate=setup["sample_rate"],
                       lookahead=float(setup.get("lookahead", 0.08)))


def _parse_setup(text: str) -> dict[str, Any]:
    try:
        setup = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TalkingHeadError(f"the set-up message must be JSON: {exc}") from None
    if not isinstance(setup, dict):
        raise TalkingHeadError("the set-up message must be a JSON object")
    if str(setup.get("consent", "")).strip().lower() not in ("yes", "true", "1", "on"):
        raise TalkingHeadError('consent is required: send "consent": "yes" to attest you may animate this person')
    if not isinstance(setup.get("sample_rate"), int):
        raise TalkingHeadError("sample_rate (whole Hz) is required in the set-up message")
    log.info("live session: consent %r, controls %s", setup["consent"], json.dumps(setup.get("controls")))
    return setup


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


async def _fail(socket: WebSocket, message: str, code: int) -> None:
    try:
        await socket.send_json({"type": "error", "message": message})
        await socket.close(code=code)
    except (RuntimeError, WebSocketDisconnect):
        pass
