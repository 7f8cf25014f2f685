"""The server against a real uvicorn on 127.0.0.1: jobs, errors, limits, restarts, overload, live."""

from __future__ import annotations

import json
import struct
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from websockets.sync.client import connect

from talkinghead.live import LOOKAHEAD_S

from .media import read_mono, write_audio
from .serving import job, request, running_server, submit, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("server"), "--max-portrait-mb", "2", "--max-audio-mb", "1") as s:
        yield s


def test_render_job_end_to_end(server, portrait: Path, speech_wav: Path) -> None:
    status, headers, created = submit(server, portrait, speech_wav, size=128, seed=3)
    assert status == 202, created
    assert headers["location"] == f"/v1/videos/{created['id']}"
    assert created["status"] == "queued" and created["controls"] == {"size": 128, "seed": 3}
    done = wait_for(server, created["id"])
    assert done["status"] == "done", done
    assert done["progress"] == 1.0 and done["frames"] > 50
    status, headers, data = request(server.url + done["file"])
    assert status == 200 and headers["content-type"] == "video/mp4"
    path = Path(server.log.parent / "result.mp4")
    path.write_bytes(data)
    with av.open(str(path)) as video:
        stream = video.streams.video[0]
        assert (stream.width, stream.height) == (128, 128)
        assert sum(1 for _ in video.decode(stream)) == done["frames"]
        assert video.metadata.get("synthetic") == "true"


def test_text_job_needs_no_audio_and_verifies(server, portrait: Path, tmp_path: Path) -> None:
    """A job that gives text instead of audio is spoken by espeak-ng; its video carries the watermark."""
    status, _, created = submit(server, portrait, None, size=256, text="Hello from the server.")
    assert status == 202, created
    done = wait_for(server, created["id"])
    assert done["status"] == "done", done
    path = tmp_path / "text.mp4"
    path.write_bytes(request(server.url + done["file"])[2])
    from talkinghead.cli import main

    assert main(["verify", str(path)]) == 0
    assert submit(server, portrait, None, size=128)[0] == 422  # neither audio nor text


def test_service_endpoints(server) -> None:
    assert json.loads(request(server.url + "/healthz")[2])["status"] == "ok"
    status, _, page = request(server.url + "/")
    assert status == 200 and b'id="render-form"' in page
    assert request(server.url + "/docs")[0] == 200
    schema = json.loads(request(server.url + "/openapi.json")[2])
    form = schema["components"]["schemas"]["Body_submit_v1_videos_post"]
    assert {"portrait", "audio", "consent", "size", "fps", "seed", "head_distance"} <= set(form["properties"])
    assert set(form["required"]) == {"portrait", "consent"}  # audio or text: one of them
    assert "text" in form["properties"]
    controls = json.loads(request(server.url + "/v1/controls")[2])
    assert {c["name"] for c in controls} >= {"size", "seed", "motion_scale"}
    metrics = request(server.url + "/metrics")[2].decode()
    assert "talkinghead_queue_depth " in metrics and 'talkinghead_jobs{status="queued"}' in metrics


def test_bad_requests_say_why(server, portrait: Path, speech_wav: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    status, _, body = submit(server, text, speech_wav)
    assert status == 400
    assert body["detail"] == "cannot read notes.txt as an image (PNG, JPEG, WebP, BMP or TIFF expected)"
    status, _, body = submit(server, portrait, text)
    assert status == 400 and "notes.txt" in body["detail"] and "cannot read audio" in body["detail"]
    status, _, body = submit(server, portrait, speech_wav, size=255)
    assert status == 422 and body["detail"].startswith("--size must be an even number")
    status, _, body = submit(server, portrait, speech_wav, consent=None)
    assert status == 422 and "consent" in json.dumps(body)
    status, _, body = submit(server, portrait, speech_wav, consent="no")
    assert status == 422 and "consent" in body["detail"]
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 1_500_000)
    status, _, body = submit(server, portrait, big)
    assert status == 413 and "audio" in body["detail"]
    declared_huge = {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(500 * 2**20)}
    status, _, body = request(server.url + "/v1/videos", "POST", b"--x--\r\n", declared_huge)
    assert status == 413 and "over the limit" in json.loads(body)["detail"]
    assert request(server.url + "/v1/videos/nope")[0] == 404
    assert request(server.url + "/v1/videos/nope/file")[0] == 404


def test_cancel_a_job(server, portrait: Path, speech_wav: Path, tmp_path: Path) -> None:
    samples, rate = read_mono(speech_wav)
    long_speech = write_audio(tmp_path / "long.ogg", np.tile(samples, 8), rate)  # ~40 s: still running when cancelled
    _, _, created = submit(server, portrait, long_speech, size=128)
    wait_for(server, created["id"], ("running",), timeout=60)
    status, _, body = request(f"{server.url}/v1/videos/{created['id']}", "DELETE")
    assert status == 200 and json.loads(body)["status"] == "cancelled"
    deadline = time.monotonic() + 60  # the worker stops at its next step (analysis or a frame) and cleans up
    while (server.log.parent / "jobs" / created["id"]).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (server.log.parent / "jobs" / created["id"]).exists()
    assert job(server, created["id"])["status"] == "cancelled"  # stays cancelled: not failed, not done
    assert request(f"{server.url}/v1/videos/{created['id']}/file")[0] == 409


def test_a_restart_loses_no_job(tmp_path: Path, portrait: Path, demo_speech: Path, speech_wav: Path) -> None:
    """Kill the server mid-render (like a crash); the restarted server finishes every job."""
    with running_server(tmp_path) as first:
        ids = [submit(first, portrait, audio, size=128)[2]["id"] for audio in (demo_speech, speech_wav)]
        wait_for(first, ids[0], ("running",), timeout=60)
        first.kill()
    with running_server(tmp_path) as second:
        finished = [wait_for(second, job_id) for job_id in ids]
    assert [j["status"] for j in finished] == ["done", "done"], finished
    assert finished[0]["attempts"] == 2 and finished[0]["note"] == "requeued after a server restart"


def test_overload_gives_accepted_or_busy(tmp_path: Path, portrait: Path, speech_wav: Path) -> None:
    """50 submissions at once against a queue of 3: only 202 or 429 (with Retry-After), and /healthz stays fast."""
    with running_server(tmp_path, "--max-queue", "3") as server:
        answers: list[tuple[int, dict[str, str], dict]] = []
        health: list[float] = []

        def post() -> None:
            answers.append(submit(server, portrait, speech_wav, size=128))

        started = time.monotonic()
        threads = [threading.Thread(target=post) for _ in range(50)]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            before = time.monotonic()
            assert request(server.url + "/healthz", timeout=10)[0] == 200
            health.append(time.monotonic() - before)
            time.sleep(0.2)
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        accepted = [body["id"] for status, _, body in answers if status == 202]
        taken = sum(job(server, job_id)["status"] != "queued" for job_id in accepted)
    statuses = sorted(status for status, _, _ in answers)
    assert len(statuses) == 50 and set(statuses) <= {202, 429}, statuses
    assert 3 <= len(accepted) <= 3 + taken  # the queue holds 3, plus those a worker took off it meanwhile
    assert all(int(headers["retry-after"]) >= 1 for status, headers, _ in answers if status == 429)
    assert max(health) < 3.0, health
    assert elapsed < 90


def test_live_websocket_streams_frames(server, portrait: Path, speech_wav: Path) -> None:
    samples, rate = read_mono(speech_wav)
    samples = samples[: rate * 2]
    frames = []
    with connect(server.url.replace("http", "ws") + "/v1/live", max_size=None) as ws:
        ws.send(portrait.read_bytes())
        ws.send(json.dumps({"consent": "yes", "sample_rate": rate, "controls": {"size": 128, "fps": 25}}))
        ready = json.loads(ws.recv(timeout=60))
        assert ready == {"type": "ready", "width": 128, "height": 128, "fps": 25.0, "lookahead": LOOKAHEAD_S}
        step = rate * 40 // 1000
        for start in range(0, len(samples), step):
            ws.send(samples[start : start + step].astype("<f4").tobytes())
        ws.send(json.dumps({"type": "end"}))
        while True:
            message = ws.recv(timeout=60)
            if isinstance(message, str):
                assert json.loads(message) == {"type": "end", "frames": 50}
                break
            index, stamp = struct.unpack("<Id", message[:12])
            image = cv2.imdecode(np.frombuffer(message[12:], np.uint8), cv2.IMREAD_COLOR)
            frames.append((index, stamp, image.shape))
    assert [f[0] for f in frames] == list(range(50))
    assert all(abs(stamp - index / 25) < 1e-9 and shape == (128, 128, 3) for index, stamp, shape in frames)


def test_live_websocket_refuses_without_consent(server, portrait: Path) -> None:
    with connect(server.url.replace("http", "ws") + "/v1/live") as ws:
        ws.send(portrait.read_bytes())
        ws.send(json.dumps({"sample_rate": 16000}))
        reply = json.loads(ws.recv(timeout=30))
    assert reply["type"] == "error" and "consent" in reply["message"]
