"""The API surface the web app stands on, against a real server: the options spec with choices and ranges,
gaze over HTTP, the job list, stage and ETA, offline /docs. Jobs are tiny (128 px, "Hi.")."""

from __future__ import annotations

import io
import json
import re
import secrets
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from talkinghead.batch.jobs import DONE as JOB_DONE
from talkinghead.batch.jobs import Job as RenderJob
from talkinghead.batch.jobs import JobResult
from talkinghead.batch.pool import ANALYSIS, PROGRESS, RESULT, Event, WorkerPool
from talkinghead.controls import EMOTION_NAMES, GAZE_RANGE, MAX_SIZE, MIN_SIZE, Controls
from talkinghead.server.app import SESSION_COOKIE, STATIC
from talkinghead.server.jobs import DONE, RUNNING, Dispatcher, Job, JobStore

from .serving import Server, request, running_server, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("server")) as s:
        yield s


SESSION = {"Cookie": f"{SESSION_COOKIE}={secrets.token_urlsafe(32)}"}  # the job list is this session's


def get(server: Server, path: str) -> tuple[int, Any]:
    status, _, body = request(server.url + path, headers=SESSION)
    return status, json.loads(body)


def post(server: Server, portrait: Path, fields: dict[str, str | list[str]]) -> tuple[int, dict]:
    """A tiny text job; a list value sends its field once per item."""
    boundary = uuid.uuid4().hex
    pairs = [("consent", "yes"), ("text", "Hi."), ("size", "128")]
    pairs += [(name, item) for name, value in fields.items() for item in ([value] if isinstance(value, str) else value)]
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n'.encode() for n, v in pairs]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="portrait"; filename="p.png"\r\n\r\n'.encode()
                 + portrait.read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    status, _, body = request(server.url + "/v1/videos", "POST", b"".join(parts),
                              {"Content-Type": f"multipart/form-data; boundary={boundary}", **SESSION})
    return status, json.loads(body)


def test_options_spec_gives_widgets_what_they_need(server: Server) -> None:
    specs = {spec["name"]: spec for spec in get(server, "/v1/controls")[1]}
    assert specs["emotion"]["choices"] == list(EMOTION_NAMES) and specs["emotion"]["group"] == "common"
    assert (specs["size"]["min"], specs["size"]["max"]) == (MIN_SIZE, MAX_SIZE)
    assert specs["gaze"]["type"] == "tuple" and specs["gaze"]["max"] == GAZE_RANGE[0]
    assert specs["gaze"]["pitch_range"][1] == GAZE_RANGE[1]
    assert specs["motion_scale"]["label"] == "Liveliness"
    assert specs["text"]["group"] == "speech" and specs["fps"]["group"] == "advanced"
    assert specs["language"]["group"] == "speech-any"  # recorded speech has a language too
    assert specs["transcript"]["group"] == "speech-recorded"  # typed text is its own transcript
    assert specs["motion_in"]["content"] and "motion_out" not in specs
    assert not any("--" in spec["help"] for spec in specs.values())  # the page speaks no CLI


@pytest.mark.parametrize("fields", [{"gaze": "10,-5"}, {"gaze": ["10", "-5"]}], ids=["one-field", "two-fields"])
def test_gaze_over_http(server: Server, portrait: Path, fields: dict) -> None:
    status, job = post(server, portrait, fields)
    assert status == 202, job
    assert job["controls"]["gaze"] == [10.0, -5.0]
    assert wait_for(server, job["id"])["status"] == "done"


@pytest.mark.parametrize("value", ["a,b", "10", ["1", "2", "3"], ["x", "y"], "90,0"])
def test_bad_gaze_is_a_clear_422(server: Server, portrait: Path, value) -> None:
    status, body = post(server, portrait, {"gaze": value})
    assert status == 422, body
    assert "gaze" in str(body["detail"]) or "YAW,PITCH" in str(body["detail"])


def test_job_list_newest_first_with_stage(server: Server, portrait: Path) -> None:
    first = post(server, portrait, {})[1]["id"]
    second = post(server, portrait, {"seed": "2"})[1]["id"]
    jobs = get(server, "/v1/videos")[1]["jobs"]
    assert [j["id"] for j in jobs][:2] == [second, first]
    assert jobs[0]["stage"] in ("queued", "analysing speech", "rendering", "encoding", "done")
    assert "eta_s" in jobs[0] and "total_frames" in jobs[0]
    assert [j["id"] for j in get(server, "/v1/videos?limit=1")[1]["jobs"]] == [second]
    assert get(server, "/v1/videos?status=bogus")[0] == 422
    assert get(server, "/v1/videos?limit=0")[0] == 422
    assert request(f"{server.url}/v1/videos/{second}", "DELETE")[0] == 200  # answers a typed job too
    done = wait_for(server, first)
    assert done["stage"] == "done" and done["total_frames"] == done["frames"] and done["eta_s"] is None
    assert first in [j["id"] for j in get(server, "/v1/videos?status=done")[1]["jobs"]]


def test_stage_and_eta_follow_the_frames() -> None:
    job = Job("j", RUNNING, 0.0, 0.0, 0.0, {}, "p.png", None, "yes", "", 1, 0, 0.0, "", "")
    assert job.stage == "analysing speech"
    job.frames, job.progress = 25, 0.25
    assert job.stage == "rendering" and job.public()["total_frames"] == 100
    job.frames, job.progress = 100, 1.0
    assert job.stage == "encoding"

    dispatcher = Dispatcher(None, 1)  # type: ignore[arg-type]  # eta_s needs no store
    job.frames, job.progress = 0, 0.0
    assert dispatcher.analysis_progress(job) is None  # nothing reported yet
    dispatcher._record(Event("j", ANALYSIS, 1, done=31, total=62))
    assert dispatcher.analysis_progress(job) == 0.5
    job.frames, job.progress = 50, 0.5
    assert dispatcher.analysis_progress(job) is None  # rendering now
    dispatcher._first_frames = {"j": (time.monotonic() - 4.0, 10)}  # 40 frames in 4 s: 10 fps, 50 to go
    assert 4.0 <= dispatcher.eta_s(job) <= 5.1


def test_docs_and_page_need_no_other_site(server: Server) -> None:
    status, _, docs = request(server.url + "/docs")
    assert status == 200 and b"/static/docs.js" in docs
    assert request(server.url + "/redoc")[0] == 404
    spec = get(server, "/openapi.json")[1]
    assert "/v1/videos" in spec["paths"] and "get" in spec["paths"]["/v1/videos"]
    job_schema = spec["components"]["schemas"]["JobView"]["properties"]
    assert "analysing speech" in job_schema["stage"]["enum"] and "eta_s" in job_schema
    assert {"413", "422", "429"} <= set(spec["paths"]["/v1/videos"]["post"]["responses"])
    for path in STATIC.iterdir():  # no CDN, font or script from elsewhere
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", path.read_text()), path.name
    status, headers, _ = request(server.url + "/v1/sample-speech")
    assert status == 200 and headers["content-type"] == "audio/flac"



def test_captions_and_verify_of_a_finished_job(server: Server, portrait: Path) -> None:
    """The web page's <track> and provenance box stand on these: WebVTT of the words, and verify's findings."""
    import webvtt

    job = wait_for(server, post(server, portrait, {})[1]["id"])
    assert job["status"] == "done" and job["captions"] == f"/v1/videos/{job['id']}/captions.vtt"
    status, headers, body = request(server.url + job["captions"])
    assert status == 200 and headers["content-type"].startswith("text/vtt")
    cues = webvtt.from_buffer(io.StringIO(body.decode()))  # a standard WebVTT parser
    assert [cue.text for cue in cues] == ["Hi."]
    assert request(f"{server.url}/v1/videos/{job['id']}/captions.srt")[0] == 404  # only what the job asked for
    assert request(f"{server.url}/v1/videos/{job['id']}/captions.txt")[0] == 422
    started = time.monotonic()
    status, report = get(server, f"/v1/videos/{job['id']}/verify")
    first_s = time.monotonic() - started
    assert status == 200, report
    assert report["talkinghead_provenance"] and "path" not in report
    found = {f["check"]: f["found"] for f in report["findings"]}
    assert found == {"watermark": True, "metadata": True, "manifest": True, "label": True}, report
    started = time.monotonic()
    assert get(server, f"/v1/videos/{job['id']}/verify")[1] == report  # kept with the job: not checked again
    assert time.monotonic() - started < first_s
    assert get(server, "/v1/videos/nope/verify")[0] == 404


def test_a_job_is_done_only_once_its_captions_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The order, without waiting for a race: when the finished video's captions are read back, the store must
    still say "running" (a client that sees "done" fetches the captions at once, and found none when the job
    was marked done first)."""
    import talkinghead.server.jobs as server_jobs

    store = JobStore(tmp_path / "jobs.sqlite3", tmp_path / "data")
    job_id, _ = store.new_folder()
    store.add(job_id, {}, "p.png", None, "yes", "test", max_queued=5)
    assert store.claim().id == job_id
    store.result_path(job_id).write_bytes(b"not read: captions are faked below")
    seen = []

    def captions_read_back(video: Path) -> list:
        seen.append(store.get(job_id).status)
        return []

    monkeypatch.setattr(server_jobs, "soft_captions", captions_read_back)
    Dispatcher(store, 1)._record(Event(job_id, RESULT, 1, result=JobResult(0, "out.mp4", JOB_DONE, frames=25,
                                                                           seconds=1.0)))
    assert seen == [RUNNING] and store.get(job_id).status == DONE


def test_a_worker_reports_the_speech_analysis_before_the_frames(portrait: Path, tmp_path: Path) -> None:
    """The transcription's progress reaches the server from the worker process, before the first frame."""
    from .media import espeak

    speech = espeak("Hello there, this is a test.", tmp_path / "hello.wav")
    pool = WorkerPool(1)
    try:
        pool.submit("j", RenderJob(0, 0, portrait, speech, "out.mp4", {"size": 128, "fps": 10}), str(tmp_path))
        events: list[Event] = []
        while not any(e.kind == RESULT for e in events):
            events += pool.wait(1.0)
    finally:
        pool.close()
    kinds = [e.kind for e in events]
    assert ANALYSIS in kinds and kinds.index(ANALYSIS) < kinds.index(PROGRESS), kinds
    last = [e for e in events if e.kind == ANALYSIS][-1]
    assert last.done == last.total > 0
    assert events[-1].result.status == "done"


def test_batch_manifests_take_gaze_as_the_http_form_does(tmp_path: Path, portrait: Path) -> None:
    """`gaze` in a CSV cell ("10,-5") and in a JSONL row ("10,-5" or [10, -5]), parsed by Controls' own parser."""
    from talkinghead.batch.manifest import ManifestError, read_manifest
    from talkinghead.errors import TalkingHeadError

    from .media import espeak

    shutil.copy(portrait, tmp_path / "p.png")
    espeak("Hi.", tmp_path / "hi.wav")
    (tmp_path / "jobs.csv").write_text('portrait,audio,output,gaze\np.png,hi.wav,a.mp4,"10,-5"\n')
    (tmp_path / "jobs.jsonl").write_text(
        '{"portrait": "p.png", "audio": "hi.wav", "output": "b.mp4", "gaze": "10,-5"}\n'
        '{"portrait": "p.png", "audio": "hi.wav", "output": "c.mp4", "gaze": [10, -5]}\n')
    jobs = read_manifest(tmp_path / "jobs.csv") + read_manifest(tmp_path / "jobs.jsonl")
    assert [Controls.from_options(job.options).gaze for job in jobs] == [(10.0, -5.0)] * 3
    (tmp_path / "bad.csv").write_text('portrait,audio,output,gaze\np.png,hi.wav,a.mp4,"10,x"\n'
                                      'p.png,hi.wav,b.mp4,"90,0"\n')
    with pytest.raises(ManifestError) as refused:
        read_manifest(tmp_path / "bad.csv")
    assert isinstance(refused.value, TalkingHeadError)
    assert [str(problem).count("gaze") >= 1 for problem in refused.value.problems] == [True, True]
