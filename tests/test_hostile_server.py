"""The server under hostile and careless clients (issue 14): each case here broke the server before.

No server path from a client, cross-site requests refused, token auth, image bombs never decoded, a gone
video is a 4xx, damaged stores refused before serving, leftovers cleaned, live sessions that always end
and give their slot back, renders isolated in worker processes.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from talkinghead.cli import main

from .hostile_cases import png_declaring
from .media import encoded_media, espeak
from .serving import free_port, multipart, request, running_server, submit, wait_for

MB = 2**20


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak("Hello there.", tmp_path_factory.mktemp("hostile") / "hello.wav")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("hostile-server"), "--max-portrait-mb", "2", "--max-live", "1") as s:
        yield s


def post_form(server, fields: dict[str, str], files: dict[str, tuple[str, bytes]],
              headers: dict[str, str] | None = None) -> tuple[int, dict]:
    body, content_type = multipart(fields, files)
    headers = {"Content-Type": content_type, **(headers or {})}
    status, _, data = request(server.url + "/v1/videos", "POST", body, headers)
    return status, json.loads(data or b"{}")


def peak_rss_mb(server) -> float:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def live_sessions(server) -> int:
    metrics = request(server.url + "/metrics")[2].decode()
    return int(next(line.split()[1] for line in metrics.splitlines() if line.startswith("talkinghead_live_sessions ")))


# --- no server paths from clients -------------------------------------------------------------------------


def test_path_options_are_never_paths(server, portrait: Path, short_speech: Path, tmp_path: Path) -> None:
    target = tmp_path / "overwritten.json"
    files = {"portrait": ("p.png", portrait.read_bytes()), "audio": ("a.wav", short_speech.read_bytes())}
    status, body = post_form(server, {"consent": "yes", "motion_out": str(target)}, files)
    assert status == 422 and "motion_out" in body["detail"] and not target.exists()
    status, body = post_form(server, {"consent": "yes", "motion_out": "../../escape.json"}, files)
    assert status == 422
    # the file-reading options take content: a path is just (bad) text, never opened
    status, body = post_form(server, {"consent": "yes", "size": "128", "transcript_file": "/dev/zero",
                                      "emotion_schedule": "/etc/passwd", "motion_in": "../../jobs.sqlite3"}, files)
    assert status == 202, body
    folder = server.log.parent / "jobs" / body["id"]
    assert (folder / "transcript.txt").read_text() == "/dev/zero"
    assert (folder / "emotion-schedule.json").read_text() == "/etc/passwd"
    assert body["controls"]["motion_in"] == "motion-in.json"
    done = wait_for(server, body["id"])
    assert done["status"] == "failed" and "root:" not in done["error"] and str(folder) not in done["error"]
    assert request(f"{server.url}/v1/videos/{body['id']}", "DELETE")[0] == 200
    assert not folder.exists()


def test_unknown_form_fields_are_refused(server, portrait: Path, short_speech: Path) -> None:
    files = {"portrait": ("p.png", portrait.read_bytes()), "audio": ("a.wav", short_speech.read_bytes())}
    status, body = post_form(server, {"consent": "yes", "output": "/tmp/x.mp4"}, files)
    assert status == 422 and "unknown form field" in body["detail"] and "'output'" in body["detail"]


def test_error_texts_do_not_reveal_whether_a_server_path_exists(server, portrait: Path, short_speech: Path) -> None:
    """A path-valued option used to answer "not found" for a missing file and a parse error for an existing
    one: a probe of the server's disk. Now the value is the content, so both fail alike."""
    files = {"portrait": ("p.png", portrait.read_bytes()), "audio": ("a.wav", short_speech.read_bytes())}
    errors = []
    for probe in ("/etc/hostname", "/no/such/file"):
        status, body = post_form(server, {"consent": "yes", "size": "128", "motion_in": probe}, files)
        assert status == 202, body
        done = wait_for(server, body["id"])
        assert done["status"] == "failed" and probe not in done["error"], done
        errors.append(done["error"])
    assert errors[0] == errors[1]
    status, body = post_form(server, {"consent": "yes"}, {**files, "audio": ("/etc/passwd", b"RIFF\0\0\0\0WAVEx")})
    assert status == 400 and str(server.log.parent) not in body["detail"]


# --- cross-site requests and tokens ---------------------------------------------------------------------------


def test_cross_site_requests_are_refused(server, portrait: Path, short_speech: Path) -> None:
    files = {"portrait": ("p.png", portrait.read_bytes()), "audio": ("a.wav", short_speech.read_bytes())}
    fields = {"consent": "yes", "size": "128"}
    assert post_form(server, fields, files, {"Origin": "http://evil.example"})[0] == 403
    assert post_form(server, fields, files, {"Origin": "null"})[0] == 403
    assert post_form(server, fields, files, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    status, _, _ = request(server.url + "/v1/videos/x", "DELETE", headers={"Origin": "http://evil.example"})
    assert status == 403
    host = server.url.removeprefix("http://")
    same_origin = {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"}
    assert post_form(server, {**fields, "consent": "no"}, files, same_origin)[0] == 422  # through to the form check
    assert "access-control-allow-origin" not in {k.lower() for k in request(server.url + "/healthz")[1]}
    with pytest.raises(InvalidStatus):
        connect(server.url.replace("http", "ws") + "/v1/live", origin="http://evil.example")


def test_token_is_required_when_set(tmp_path: Path) -> None:
    token = "s3cret-token-of-some-length"
    with running_server(tmp_path, "--token", token) as server:
        assert request(server.url + "/healthz")[0] == 200
        assert request(server.url + "/v1/controls")[0] == 401
        assert request(server.url + "/v1/controls", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert request(server.url + "/v1/controls", headers={"Authorization": f"Bearer {token}"})[0] == 200
        status, headers, _ = request(server.url + f"/?token={token}")
        assert status == 200 and "HttpOnly" in headers["set-cookie"]
        assert request(server.url + "/v1/controls", headers={"Cookie": f"talkinghead_token={token}"})[0] == 200
        with pytest.raises(InvalidStatus):
            connect(server.url.replace("http", "ws") + "/v1/live")


def test_public_address_needs_a_token(tmp_path: Path) -> None:
    for flags in (["--host", "0.0.0.0"], ["--host", "::", "--token", "short"]):
        command = [sys.executable, "-m", "talkinghead", "serve", "--port", str(free_port()),
                   "--data-dir", str(tmp_path), *flags]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "--token" in done.stderr and "serving on" not in done.stderr, done.stderr


# --- memory: image bombs are never decoded ------------------------------------------------------------------


@pytest.mark.parametrize("side", [32000, 100000])
def test_image_bomb_is_refused_from_its_header(server, short_speech: Path, side: int) -> None:
    bomb = png_declaring(side, side)
    files = {"portrait": ("bomb.png", bomb), "audio": ("a.wav", short_speech.read_bytes())}
    status, body = post_form(server, {"consent": "yes"}, files)
    assert status == 400 and "megapixels" in body["detail"], body
    assert peak_rss_mb(server) < 1500


def test_live_image_bomb_is_refused(server) -> None:
    with connect(server.url.replace("http", "ws") + "/v1/live", max_size=None) as ws:
        ws.send(png_declaring(32000, 32000))
        ws.send(json.dumps({"consent": "yes", "sample_rate": 16000, "controls": {"size": 128}}))
        reply = json.loads(ws.recv(timeout=30))
        assert reply["type"] == "error" and "megapixels" in reply["message"]
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=10)
    assert closed.value.rcvd.code == 1008
    assert peak_rss_mb(server) < 1500


# --- live sessions that always end ---------------------------------------------------------------------------

SETUP = {"consent": "yes", "sample_rate": 16000, "controls": {"size": 128}}
BEFORE_SETUP = {
    "text before the portrait": lambda p: [json.dumps(SETUP)],
    "two binaries in a row": lambda p: [p, p],
    "set-up as a list": lambda p: [p, "[1, 2]"],
    "set-up not JSON": lambda p: [p, "hello"],
    "controls as a list": lambda p: [p, json.dumps({**SETUP, "controls": [128]})],
    "lookahead as a string": lambda p: [p, json.dumps({**SETUP, "lookahead": "soon"})],
    "size as a string": lambda p: [p, json.dumps({**SETUP, "controls": {"size": "big"}})],
    "a path option": lambda p: [p, json.dumps({**SETUP, "controls": {"motion_out": "/tmp/x.json"}})],
    "over the frame budget": lambda p: [p, json.dumps({**SETUP, "controls": {"size": 2048}})],
}
AFTER_SETUP = {
    "non-JSON text": ["hello"],
    "a JSON list": ["[]"],
    "one 1 MB chunk (16 s of audio)": [b"\0" * MB],
    "one 4 MB chunk (over the transport limit here)": [b"\0" * (4 * MB)],
    "odd bytes": [b"\0" * 5],
}


def expect_error_close(ws) -> dict:
    """Read until the server closes: the last text message must be an error, the close code 1008 (or 1009,
    "message too big", when the message is over the WebSocket's own size limit and never reaches the app)."""
    error = None
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            message = ws.recv(timeout=60)
            if isinstance(message, str) and json.loads(message).get("type") == "error":
                error = json.loads(message)
    code = closed.value.rcvd.code if closed.value.rcvd else None
    assert (error is not None and code == 1008) or code == 1009, (error, code)
    return error or {"message": "message too big"}


def wait_slots_free(server) -> None:
    deadline = time.monotonic() + 10
    while live_sessions(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_sessions(server) == 0


@pytest.mark.parametrize("way", list(BEFORE_SETUP))
def test_live_protocol_errors_before_setup_close_with_1008(server, portrait: Path, way: str) -> None:
    with connect(server.url.replace("http", "ws") + "/v1/live", max_size=None) as ws:
        for message in BEFORE_SETUP[way](portrait.read_bytes()):
            ws.send(message)
        expect_error_close(ws)
    wait_slots_free(server)


def test_live_protocol_errors_after_setup_close_and_free_the_slot(server, portrait: Path) -> None:
    """--max-live 1: a leaked slot would turn every later session away with 1013."""
    for way, messages in [*AFTER_SETUP.items(), ("client leaves mid-stream", None)]:
        with connect(server.url.replace("http", "ws") + "/v1/live", max_size=None) as ws:
            ws.send(portrait.read_bytes())
            ws.send(json.dumps(SETUP))
            assert json.loads(ws.recv(timeout=60))["type"] == "ready", way
            if messages is None:
                ws.send(b"\0" * 6400)
                continue  # leaves without "end"
            for message in messages:
                ws.send(message)
            error = expect_error_close(ws)
            assert error["message"], way
        wait_slots_free(server)


# --- results, deletion, metrics ------------------------------------------------------------------------------


def test_gone_video_is_410_and_delete_removes_files(server, portrait: Path, short_speech: Path) -> None:
    files = {"portrait": ("p.png", portrait.read_bytes()), "audio": ("a.wav", short_speech.read_bytes()),
             "transcript_file": ("said.txt", b"Hello there.")}  # file options take content: upload or inline
    schedule = json.dumps([{"time": 0, "emotion": "happy"}, {"time": 0.5, "emotion": "calm"}])
    status, first = post_form(server, {"consent": "yes", "size": "128", "emotion_schedule": schedule}, files)
    assert status == 202, first
    ids = [first["id"], submit(server, portrait, short_speech, size=128)[2]["id"]]
    for job_id in ids:
        assert wait_for(server, job_id)["status"] == "done"
    (server.log.parent / "jobs" / ids[0] / "video.mp4").unlink()  # e.g. removed by an operator
    status, _, body = request(f"{server.url}/v1/videos/{ids[0]}/file")
    assert status == 410, body
    status, _, body = request(f"{server.url}/v1/videos/{ids[1]}", "DELETE")
    assert status == 200 and json.loads(body)["status"] == "done"
    assert not (server.log.parent / "jobs" / ids[1]).exists()
    assert request(f"{server.url}/v1/videos/{ids[1]}/file")[0] == 410
    metrics = request(server.url + "/metrics")[2].decode()
    assert "talkinghead_http_server_errors_total 0" in metrics


def test_metrics_count_server_errors() -> None:
    from talkinghead.server.metrics import Metrics

    metrics = Metrics()
    metrics.count_request(500)
    metrics.count_request(503)
    assert "talkinghead_http_server_errors_total 2" in metrics.render({}, 1, 0.0)


# --- process isolation ---------------------------------------------------------------------------------------


def test_voice_overflow_does_not_kill_the_server(server, portrait: Path) -> None:
    """espeak-ng aborted the whole server on a long voice name; now a worker dies at most."""
    status, _, body = submit(server, portrait, None, size=128, text="Hello.", voice="en+" + "a" * 60)
    if status == 202:  # the library let it through to espeak-ng: the worker crashes, twice, then it fails
        done = wait_for(server, body["id"])
        assert done["status"] == "failed" and done["error"], done
    else:
        assert status == 422 and "voice" in body["detail"]
    assert server.process.poll() is None and request(server.url + "/healthz")[0] == 200


def test_a_native_crash_fails_the_job_after_one_retry(tmp_path: Path) -> None:
    from talkinghead.batch.jobs import FAILED, Job
    from talkinghead.batch.pool import RESULT, RETRY, WorkerPool

    from .crashing_work import crash_natively

    pool = WorkerPool(1, crash_natively)
    pool.submit("poison", Job(1, 1, tmp_path / "p.png", None, "x.mp4"), str(tmp_path))
    events = []
    try:
        deadline = time.monotonic() + 60
        while pool.has_work() and time.monotonic() < deadline:
            events += pool.wait(1.0)
    finally:
        pool.close()
    assert [e.kind for e in events] == [RETRY, RESULT]
    assert events[-1].result.status == FAILED
    assert events[-1].result.reason == "worker crashed 2 time(s) (killed by SIGSEGV)"


# --- the job store --------------------------------------------------------------------------------------------


def serve_error(capsys: pytest.CaptureFixture[str], *flags: str) -> str:
    assert main(["serve", "--port", "1", *flags]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("talkinghead: error: ") and "serving on" not in err, err
    return err


def test_unusable_store_or_data_dir_stops_before_serving(tmp_path: Path, capsys) -> None:
    (tmp_path / "store-dir").mkdir()
    assert "is a folder" in serve_error(capsys, "--data-dir", str(tmp_path / "d1"), "--db", str(tmp_path / "store-dir"))
    (tmp_path / "a-file").write_text("x")
    assert "is a file" in serve_error(capsys, "--data-dir", str(tmp_path / "a-file"))
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"this is not a database" * 1000)
    assert "damaged" in serve_error(capsys, "--data-dir", str(tmp_path / "d2"), "--db", str(garbage))
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    assert "damaged" in serve_error(capsys, "--data-dir", str(tmp_path / "d3"), "--db", str(empty))
    assert garbage.read_bytes() == b"this is not a database" * 1000 and empty.stat().st_size == 0  # left as found


def test_damaged_store_page_is_refused_and_kept(tmp_path: Path, capsys) -> None:
    from talkinghead.server.jobs import JobStore

    data = tmp_path / "data"
    store = JobStore(data / "jobs.sqlite3", data)
    for n in range(300):
        store.add(f"job{n}", {"size": 128, "note": "x" * 200}, "portrait.png", None, "yes", "", 10**6)
    store.close()
    with sqlite3.connect(data / "jobs.sqlite3") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray((data / "jobs.sqlite3").read_bytes())
    page = 4096
    raw[page * 3 : page * 3 + 200] = b"\xff" * 200  # scribble over a b-tree page
    (data / "jobs.sqlite3").write_bytes(bytes(raw))
    message = serve_error(capsys, "--data-dir", str(data))
    assert "damaged" in message and "mv " in message
    assert (data / "jobs.sqlite3").read_bytes() == bytes(raw)


def test_leftovers_are_cleaned_at_start_and_retention_deletes_files(tmp_path: Path) -> None:
    from talkinghead.server.jobs import JobStore

    data = tmp_path / "data"
    store = JobStore(data / "jobs.sqlite3", data)
    job_id, folder = store.new_folder()
    (folder / "portrait.png").write_bytes(b"x")
    store.add(job_id, {}, "portrait.png", None, "yes", "", 8)
    (folder / ".video.mp4.1234abcd.partial.mp4").write_bytes(b"partial")  # a render killed mid-write
    _, orphan = store.new_folder()  # a kill while the upload was checked: a folder with no job
    (orphan / "portrait.png").write_bytes(b"x")
    store.close()
    store = JobStore(data / "jobs.sqlite3", data)
    store.recover()
    assert not orphan.exists() and (folder / "portrait.png").exists()
    assert not (folder / ".video.mp4.1234abcd.partial.mp4").exists()
    store.update(job_id, status="done")
    assert store.delete_expired(3600) == 0
    with store._lock:
        store._db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time() - 7200, job_id))
    assert store.delete_expired(3600) == 1 and not folder.exists()
    assert store.get(job_id).public()["file"] is None
    store.close()


# --- concurrency -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_two_workers_four_jobs_match_the_cli(tmp_path: Path, portrait: Path, short_speech: Path) -> None:
    """`serve --workers 2` with 4 jobs at once (it crashed with a segfault): all done, byte-identical to the CLI."""
    expected = {}
    for seed in (1, 2):
        out = tmp_path / f"cli-{seed}.mp4"
        assert main(["render", str(portrait), str(short_speech), "-o", str(out), "--size", "128",
                     "--seed", str(seed)]) == 0
        expected[seed] = encoded_media(out)
    with running_server(tmp_path / "data", "--workers", "2") as server:
        jobs = [(seed, submit(server, portrait, short_speech, size=128, seed=seed)[2]["id"]) for seed in (1, 2, 1, 2)]
        finished = [(seed, wait_for(server, job_id)) for seed, job_id in jobs]
        assert all(done["status"] == "done" for _, done in finished), finished
        for seed, done in finished:
            (tmp_path / "served.mp4").write_bytes(request(server.url + done["file"])[2])
            assert encoded_media(tmp_path / "served.mp4") == expected[seed]
        assert server.process.poll() is None
