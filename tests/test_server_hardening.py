"""Loose ends of the server found after the web app landed, each a hostile case that passed before: a form
field sent twice silently kept one value; the job list showed every client's jobs; uploaded audio was opened
by PyAV inside the server's own process."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest
from fastapi import HTTPException

from talkinghead.server import uploads
from talkinghead.server.app import SESSION_COOKIE
from talkinghead.server.jobs import JobStore

from .media import espeak
from .serving import multipart, request, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak("Hi.", tmp_path_factory.mktemp("hardening") / "hi.wav")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("hardening-server")) as s:
        yield s


def session() -> dict[str, str]:
    """A client with a session cookie of its own."""
    return {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"}


def post_pairs(server, pairs: list[tuple[str, str]], portrait: Path, headers: dict[str, str] | None = None,
               portraits: int = 1) -> tuple[int, dict]:
    """POST a text job whose fields are ``pairs`` (a name may repeat), with the portrait ``portraits`` times."""
    _, content_type = multipart({}, {})
    boundary = content_type.split("=", 1)[1]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'.encode() for n, v in pairs]
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="portrait"; filename="p.png"\r\n\r\n'.encode()
    parts += [head + portrait.read_bytes() + b"\r\n"] * portraits
    parts.append(f"--{boundary}--\r\n".encode())
    status, _, data = request(server.url + "/v1/videos", "POST", b"".join(parts),
                              {"Content-Type": content_type, **(headers or {})})
    return status, json.loads(data or b"{}")


BASE = [("consent", "yes"), ("text", "Hi."), ("size", "128")]


@pytest.mark.parametrize("repeated", [[("size", "256")], [("seed", "1"), ("seed", "2")], [("consent", "no")],
                                      [("text", "Bye.")], [("gaze", "1"), ("gaze", "2"), ("gaze", "3")]],
                         ids=["size", "seed", "consent", "text", "gaze-thrice"])
def test_a_field_sent_twice_is_refused(server, portrait: Path, repeated: list[tuple[str, str]]) -> None:
    status, body = post_pairs(server, BASE + repeated, portrait)
    assert status == 422, body
    name = repeated[0][0]
    if name == "gaze":  # the pair's own parser speaks first
        assert "'YAW,PITCH' or two numbers" in body["detail"], body
    else:
        assert f"'{name}'" in body["detail"] and "more than once" in body["detail"], body


def test_a_portrait_sent_twice_is_refused(server, portrait: Path) -> None:
    status, body = post_pairs(server, BASE, portrait, portraits=2)
    assert status == 422 and "'portrait'" in body["detail"], body


def test_the_job_list_shows_only_the_callers_jobs(server, portrait: Path) -> None:
    alice, bob = session(), session()
    status, job = post_pairs(server, BASE, portrait, alice)
    assert status == 202, job

    def listed(headers: dict[str, str]) -> list[str]:
        code, _, body = request(server.url + "/v1/videos", headers=headers)
        assert code == 200
        return [j["id"] for j in json.loads(body)["jobs"]]

    assert job["id"] in listed(alice)
    assert job["id"] not in listed(bob)
    assert listed({}) == []  # no cookie: a new session, which has queued nothing
    assert listed({"Cookie": f"{SESSION_COOKIE}=short"}) == []  # a malformed session is a new one
    _, headers, _ = request(server.url + "/v1/videos")
    assert SESSION_COOKIE in headers.get("set-cookie", "") and "HttpOnly" in headers["set-cookie"]
    assert request(f"{server.url}/v1/videos/{job['id']}", headers=bob)[0] == 200  # its id is its capability
    assert request(f"{server.url}/v1/videos/{job['id']}", "DELETE", headers=alice)[0] == 200


def test_a_store_from_before_owners_opens_and_lists_its_jobs_to_nobody(tmp_path: Path) -> None:
    database = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(database) as old:  # the table as it was, with one job in it
        old.execute("CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, progress REAL NOT NULL DEFAULT 0, "
                    "created REAL NOT NULL, updated REAL NOT NULL, controls TEXT NOT NULL, portrait TEXT NOT NULL, "
                    "audio TEXT, consent TEXT NOT NULL, client TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL "
                    "DEFAULT 0, frames INTEGER NOT NULL DEFAULT 0, render_seconds REAL NOT NULL DEFAULT 0, error TEXT "
                    "NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '')")
        old.execute("INSERT INTO jobs (id, status, created, updated, controls, portrait, consent) "
                    "VALUES ('old', 'done', 1, 1, '{}', 'p.png', 'yes')")
    store = JobStore(database, tmp_path / "data")
    try:
        assert store.get("old").owner == ""
        assert store.recent("", 10) == [] and store.recent("someone", 10) == []
    finally:
        store.close()


def test_uploaded_audio_is_never_opened_in_the_server_process(portrait: Path, short_speech: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The request's audio check (`check_audio`, which `POST /v1/videos` runs on every upload) reads the headers
    in a child: a demuxer that hangs or crashes on a crafted file takes down a throwaway child, not the server."""
    import av

    def opened_here(*args, **kwargs):
        raise AssertionError("PyAV opened an upload inside the server process")

    monkeypatch.setattr(av, "open", opened_here)
    uploads.check_audio(short_speech, "hi.wav", 60.0)  # a good file passes
    garbage = tmp_path / "x.wav"
    garbage.write_bytes(b"RIFF\0\0\0\0WAVEfmt " + bytes(64))
    with pytest.raises(HTTPException, match=r"cannot read audio from x\.wav") as refused:
        uploads.check_audio(garbage, "x.wav", 60.0)
    assert refused.value.status_code == 400
    with pytest.raises(HTTPException, match="no audio track"):
        uploads.check_audio(portrait, "still.png", 60.0)
    with pytest.raises(HTTPException, match=r"the limit is 0\.5 s"):
        uploads.check_audio(short_speech, "hi.wav", 0.5)


def test_a_probe_that_takes_too_long_or_dies_is_a_400(short_speech: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "PROBE_LIMITS", (0.01, 10, 2 << 30))
    with pytest.raises(HTTPException, match="took over") as slow:
        uploads.check_audio(short_speech, "hi.wav", 60.0)
    assert slow.value.status_code == 400
    monkeypatch.setattr(uploads, "PROBE_LIMITS", (20.0, 10, 64 << 20))  # too little memory even to import PyAV
    with pytest.raises(HTTPException, match="reading its headers failed"):
        uploads.check_audio(short_speech, "hi.wav", 60.0)
