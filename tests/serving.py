"""Run `talkinghead serve` for real (uvicorn on 127.0.0.1, a free port) and talk to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

STARTUP_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A `talkinghead serve` process; ``url`` is its base address."""

    def __init__(self, data_dir: Path, *flags: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"server-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "talkinghead", "serve", "--port", str(self.port),
                   "--data-dir", str(data_dir), *flags]
        self.process = subprocess.Popen(command, stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if request(self.url + "/healthz", timeout=1.0)[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """Like a crash: no clean shutdown."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_server(data_dir: Path, *flags: str) -> Iterator[Server]:
    server = Server(data_dir, *flags)
    try:
        yield server
    finally:
        server.stop()


def request(url: str, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one HTTP request; error statuses are returned, not raised."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    """Encode a multipart/form-data body; returns (body, content type)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def submit(server: Server, portrait: Path, audio: Path | None, consent: str | None = "yes",
           **controls: Any) -> tuple[int, dict[str, str], dict[str, Any]]:
    fields = {name: str(value).lower() if isinstance(value, bool) else str(value) for name, value in controls.items()}
    if consent is not None:
        fields["consent"] = consent
    files = {"portrait": (portrait.name, portrait.read_bytes())}
    if audio is not None:
        files["audio"] = (audio.name, audio.read_bytes())
    body, content_type = multipart(fields, files)
    status, headers, data = request(server.url + "/v1/videos", "POST", body, {"Content-Type": content_type})
    return status, headers, json.loads(data or b"{}")


def job(server: Server, job_id: str) -> dict[str, Any]:
    status, _, data = request(f"{server.url}/v1/videos/{job_id}")
    assert status == 200, data
    return json.loads(data)


def wait_for(server: Server, job_id: str, statuses: tuple[str, ...] = ("done", "failed", "cancelled"),
             timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = job(server, job_id)
        if current["status"] in statuses:
            return current
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {current['status']} after {timeout} s")
