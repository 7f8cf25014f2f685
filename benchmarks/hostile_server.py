"""Hostile inputs against a real `talkinghead serve`: peak memory per case, 5xx count, live slots, crashes.

    .venv/bin/python benchmarks/hostile_server.py [--sessions 20]

Starts a server (2 workers) on a free port in a temporary folder, runs each case, and prints one line per
case: the server process's peak RSS (VmHWM, cumulative) and its current RSS, the largest worker peak, and
what the server answered. Ends with the number of 5xx answers (from the battery and from /metrics), the
live-session slots after 20 misbehaving sessions, and whether the server process is still the same one.
Memory is read from /proc (Linux), no psutil.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from tests.serving import multipart, request, running_server, wait_for

MB = 2**20


def proc_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found + [grandchild for child in found for grandchild in children(child)]


def png_declaring(width: int, height: int, payload: int = MB) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(b"\0" * (payload * 8), 9)[:payload]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


class Battery:
    def __init__(self, server) -> None:
        self.server = server
        self.pid = server.process.pid
        self.statuses: list[int] = []
        self.worker_peak_kb = 0

    def post(self, fields: dict[str, str], files: dict[str, tuple[str, bytes]], headers=None) -> tuple[int, dict]:
        body, content_type = multipart(fields, files)
        status, _, data = request(self.server.url + "/v1/videos", "POST", body,
                                  {"Content-Type": content_type, **(headers or {})}, timeout=120)
        self.statuses.append(status)
        try:
            return status, json.loads(data or b"{}")
        except ValueError:
            return status, {"raw": data[:200].decode(errors="replace")}

    def report(self, case: str, outcome: str) -> None:
        for child in children(self.pid):
            self.worker_peak_kb = max(self.worker_peak_kb, proc_kb(child, "VmHWM"))
        print(f"{case:<46} server peak {proc_kb(self.pid, 'VmHWM') / 1024:7.0f} MB  now "
              f"{proc_kb(self.pid, 'VmRSS') / 1024:6.0f} MB  worker peak {self.worker_peak_kb / 1024:6.0f} MB  "
              f"{outcome}", flush=True)


def live(url: str, messages: list, wait_ready: bool = False, origin: str | None = None) -> str:
    """Run one live session with ``messages`` (after the ready message when ``wait_ready``)."""
    last = ""
    try:
        with connect(url, max_size=None, origin=origin, open_timeout=30) as ws:
            sent = 0
            if wait_ready:
                ws.send(messages[0])
                ws.send(messages[1])
                reply = json.loads(ws.recv(timeout=120))
                if reply["type"] != "ready":
                    return f"refused at set-up: {reply.get('message', '')[:60]}"
                sent = 2
            for message in messages[sent:]:
                ws.send(message)
            while True:
                message = ws.recv(timeout=120)
                if isinstance(message, str):
                    last = json.loads(message).get("message", message)[:70]
    except ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}: {last}"
    except InvalidStatus as refused:
        return f"refused HTTP {refused.response.status_code}"
    except TimeoutError:
        return "TIMEOUT (no answer in 120 s)"


def live_slots(server) -> int:
    text = request(server.url + "/metrics")[2].decode()
    return int(next(line.split()[1] for line in text.splitlines() if line.startswith("talkinghead_live_sessions ")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    portrait = DEMO_PORTRAIT.read_bytes()
    speech = DEMO_SPEECH.read_bytes()
    with tempfile.TemporaryDirectory() as folder, running_server(Path(folder), "--workers", "2",
                                                                 "--max-live", "2") as server:
        battery = Battery(server)
        ws_url = server.url.replace("http", "ws") + "/v1/live"
        base = {"consent": "yes", "size": "128"}
        files = {"portrait": ("p.png", portrait), "audio": ("speech.flac", speech)}
        battery.report("idle", "")
        for side in (32000, 100000):
            status, body = battery.post({"consent": "yes"}, {"portrait": ("bomb.png", png_declaring(side, side)),
                                                             "audio": ("speech.flac", speech)})
            battery.report(f"PNG declaring {side}x{side}", f"{status} {body.get('detail', '')[:60]}")
        target = Path(folder) / "overwritten.json"
        status, body = battery.post({**base, "motion_out": str(target)}, files)
        battery.report("motion_out=<server path>", f"{status}; file created: {target.exists()}")
        status, body = battery.post({**base, "transcript_file": "/dev/zero", "emotion_schedule": "/dev/urandom"},
                                    files)
        outcome = f"{status}"
        if status == 202:
            done = wait_for(server, body["id"], timeout=300)
            outcome += f" -> {done['status']}: {done['error'][:50]}"
        battery.report("transcript_file=/dev/zero (as text)", outcome)
        status, body = battery.post(base, files, {"Origin": "http://evil.example"})
        battery.report("cross-site form POST", f"{status}")
        status, body = battery.post({**base, "output": "/tmp/x"}, files)
        battery.report("unknown form field", f"{status}")
        status, body = battery.post({"consent": "yes", "size": "128", "text": "Hello.", "voice": "en+" + "a" * 60},
                                    {"portrait": ("p.png", portrait)})
        outcome = f"{status}"
        if status == 202:
            done = wait_for(server, body["id"], timeout=300)
            outcome += f" -> {done['status']}: {done['error'][:60]}"
        battery.report("voice name of 63 characters", outcome)
        ids = []
        for seed in range(4):
            status, body = battery.post({**base, "seed": str(seed)}, files)
            ids.append(body.get("id"))
        finished = [wait_for(server, job_id, timeout=600)["status"] for job_id in ids if job_id]
        battery.report("4 concurrent jobs, 2 workers", f"{finished}")
        status, _, _ = request(f"{server.url}/v1/videos/{ids[0]}", "DELETE")
        status, _, _ = request(f"{server.url}/v1/videos/{ids[0]}/file")
        battery.statuses.append(status)
        battery.report("GET /file after DELETE", f"{status}")
        setup = json.dumps({"consent": "yes", "sample_rate": 8000, "controls": {"size": 2048, "fps": 25}})
        battery.report("live 2048 px at 25 fps", live(ws_url, [portrait, setup]))
        setup = json.dumps({"consent": "yes", "sample_rate": 8000, "controls": {"size": 2048, "fps": 7}})
        outcome = live(ws_url, [portrait, setup, b"\0" * (4 * MB)], wait_ready=True)
        time.sleep(1.0)
        battery.report("live 2048 px, 7 fps, 8 kHz, one 4 MB chunk", f"{outcome}; slots {live_slots(server)}")
        good = json.dumps({"consent": "yes", "sample_rate": 16000, "controls": {"size": 128}})
        ways = [
            ("text first", [good], False), ("two binaries", [portrait, portrait], False),
            ("list set-up", [portrait, "[1]"], False),
            ("controls list", [portrait, json.dumps({"consent": "yes", "sample_rate": 16000, "controls": [1]})],
             False),
            ("lookahead string", [portrait, json.dumps({"consent": "yes", "sample_rate": 16000,
                                                        "lookahead": "x"})], False),
            ("non-JSON after set-up", [portrait, good, "hello"], True),
            ("list after set-up", [portrait, good, "[]"], True),
            ("leaves mid-stream", [portrait, good, b"\0" * 6400], True),
        ]
        outcomes = []
        for n in range(args.sessions):
            name, messages, ready = ways[n % len(ways)]
            if name == "leaves mid-stream":
                with connect(ws_url, max_size=None) as ws:
                    ws.send(messages[0])
                    ws.send(messages[1])
                    ws.recv(timeout=120)
                    ws.send(messages[2])
                outcome = "left"
            else:
                outcome = live(ws_url, messages, ready)
            deadline = time.monotonic() + 10
            while live_slots(server) and time.monotonic() < deadline:
                time.sleep(0.1)
            outcomes.append((name, outcome, live_slots(server)))
        battery.report(f"{args.sessions} misbehaving live sessions",
                       f"slots after each: {[slots for _, _, slots in outcomes]}")
        for name, outcome, _ in outcomes[: len(ways)]:
            print(f"    {name:<24} {outcome}")
        metrics = request(server.url + "/metrics")[2].decode()
        errors = next(line for line in metrics.splitlines() if line.startswith("talkinghead_http_server_errors_total"))
        alive = server.process.poll() is None and request(server.url + "/healthz")[0] == 200
        print(f"5xx in the battery: {sum(s >= 500 for s in battery.statuses)}; /metrics: {errors}; "
              f"server alive (same process {battery.pid}): {alive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
