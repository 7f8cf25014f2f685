"""`talkinghead batch`: manifest validation, the local pool, Ray, resuming, and workers killed mid-job.

One manifest of six short jobs (128 px, ~1 s of speech): four good, two that fail when rendered (a photo
without a face, audio that is not audio). One local Ray session serves the whole module.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from talkinghead import cli
from talkinghead.batch import (
    DONE,
    FAILED,
    REPORT,
    SKIPPED,
    Job,
    JobResult,
    ManifestError,
    read_manifest,
    render_job,
    run_batch,
)
from talkinghead.errors import TalkingHeadError

from .media import encoded_media, espeak

GOOD = ["seed-1.mp4", "seed-2.mp4", "other-words.mp4", "no-label.mp4"]
BAD = {"no-face.mp4": "no face found", "not-audio.mp4": "cannot read audio"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, portrait: Path) -> Path:
    folder = tmp_path_factory.mktemp("batch-inputs")
    shutil.copy(portrait, folder / "portrait.png")
    espeak("Hello there.", folder / "hello.wav")
    espeak("Good morning.", folder / "morning.wav")
    cv2.imwrite(str(folder / "wall.png"), np.full((160, 160, 3), 120, np.uint8))
    (folder / "noise.wav").write_bytes(os.urandom(2000))
    return folder


@pytest.fixture(scope="module")
def manifest(inputs: Path) -> Path:
    rows = [
        "portrait,audio,output,size,seed,label",
        "portrait.png,hello.wav,seed-1.mp4,128,1,",
        "portrait.png,hello.wav,seed-2.mp4,128,2,",
        "portrait.png,morning.wav,other-words.mp4,128,1,",
        "wall.png,hello.wav,no-face.mp4,128,,",
        "portrait.png,noise.wav,not-audio.mp4,128,,",
        "portrait.png,morning.wav,no-label.mp4,128,3,false",
    ]
    path = inputs / "jobs.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module (starting one takes seconds); the runners reuse it."""
    pytest.importorskip("ray", reason="ray is installed by `make setup-dev`")
    import ray

    from talkinghead.batch.ray_runner import connect

    assert connect("local", 2)
    yield ray
    ray.shutdown()


def cli_run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "talkinghead", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def read_report(folder: Path) -> dict[str, dict]:
    lines = (folder / REPORT).read_text().splitlines()
    report = {entry["output"]: entry for entry in map(json.loads, lines)}
    assert len(report) == len(lines), "a job was reported twice"
    return report


@pytest.fixture(scope="module")
def pool_out(tmp_path_factory: pytest.TempPathFactory, manifest: Path) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("pool") / "videos"
    return out, cli_run("batch", manifest, "--out", out, "--workers", "2")


def test_pool_renders_good_jobs_and_reports_bad_ones(pool_out) -> None:
    out, result = pool_out
    assert result.returncode == 1, result.stderr  # some jobs failed
    assert sorted(p.name for p in out.iterdir()) == sorted([*GOOD, REPORT])  # no partial files either
    report = read_report(out)
    assert set(report) == set(GOOD) | set(BAD)
    for name in GOOD:
        assert report[name]["status"] == DONE and report[name]["frames"] > 10
    for name, reason in BAD.items():
        assert report[name]["status"] == FAILED and reason in report[name]["reason"]
    assert "rendered       4" in result.stderr and "failed         2" in result.stderr
    assert "videos/min" in result.stderr and "row 4 no-face.mp4: no face found" in result.stderr


def test_same_seed_same_bytes_and_seed_matters(pool_out) -> None:
    out, _ = pool_out
    assert encoded_media(out / "seed-1.mp4") != encoded_media(out / "seed-2.mp4")


def test_ray_gives_byte_identical_outputs(tmp_path: Path, manifest: Path, pool_out, ray_session) -> None:
    pool_folder, _ = pool_out
    summary = run_batch(read_manifest(manifest), tmp_path, ray="local", progress=False)
    assert summary.counts == {DONE: 4, FAILED: 2}
    for name in GOOD:
        assert encoded_media(tmp_path / name) == encoded_media(pool_folder / name), name
    assert {name for name, entry in read_report(tmp_path).items() if entry["status"] == FAILED} == set(BAD)


def test_every_bad_row_reported_before_rendering(tmp_path: Path, inputs: Path) -> None:
    manifest = inputs / "bad.csv"
    manifest.write_text("portrait,audio,output,size\n"
                        "portrait.png,hello.wav,one.mp4,128\n"
                        "portrait.png,missing.wav,two.mp4,128\n"
                        "portrait.png,hello.wav,three.mp4,128\n"
                        "portrait.png,hello.wav,four.mp4,127\n")
    result = cli_run("batch", manifest, "--out", tmp_path / "videos")
    assert result.returncode == 2
    assert "row 2 (line 3): audio" in result.stderr and "missing.wav does not exist" in result.stderr
    assert "row 4 (line 5): --size must be an even number" in result.stderr
    assert "2 bad row(s) out of 4; nothing was rendered" in result.stderr
    assert not (tmp_path / "videos").exists()


def test_resume_renders_only_what_is_missing(tmp_path: Path, manifest: Path, pool_out) -> None:
    out = tmp_path / "videos"
    shutil.copytree(pool_out[0], out)
    (out / "seed-2.mp4").unlink()
    (out / ".seed-2.mp4.1234abcd.partial.mp4").write_bytes(b"left by a killed worker")
    kept = {name: (out / name).stat().st_mtime_ns for name in GOOD if name != "seed-2.mp4"}
    with pytest.raises(TalkingHeadError, match="pass --resume"):
        run_batch(read_manifest(manifest), out, progress=False)
    summary = run_batch(read_manifest(manifest), out, workers=2, resume=True, progress=False)
    assert summary.counts == {SKIPPED: 3, DONE: 1, FAILED: 2}
    assert encoded_media(out / "seed-2.mp4") == encoded_media(pool_out[0] / "seed-2.mp4")
    assert {name: (out / name).stat().st_mtime_ns for name in kept} == kept
    assert not list(out.glob(".*partial*"))
    assert {name: entry["status"] for name, entry in read_report(out).items() if entry["status"] != FAILED} == {
        **dict.fromkeys(kept, SKIPPED), "seed-2.mp4": DONE}


def test_interrupted_batch_resumes_with_only_the_missing_jobs(tmp_path: Path, inputs: Path) -> None:
    manifest = inputs / "four.csv"
    rows = [f"portrait.png,{audio}.wav,{audio}-{seed}.mp4,128,{seed}"
            for audio in ("hello", "morning") for seed in (1, 2)]
    manifest.write_text("\n".join(["portrait,audio,output,size,seed", *rows]) + "\n")
    out = tmp_path / "videos"
    batch = subprocess.Popen([sys.executable, "-m", "talkinghead", "batch", manifest, "--out", out, "--workers", "1"],
                             stderr=subprocess.PIPE, text=True)
    while not (out / REPORT).exists() or not (out / REPORT).read_text():
        assert batch.poll() is None, batch.stderr.read()
        time.sleep(0.1)
    batch.send_signal(signal.SIGTERM)  # as a scheduler or a Ctrl-C would stop it, mid-render
    assert batch.wait(timeout=60) == 130
    first = sorted(p.name for p in out.iterdir())
    assert REPORT in first and 2 <= len(first) < 5  # one or two videos, the report, no temp files
    summary = run_batch(read_manifest(manifest), out, workers=1, resume=True, progress=False)
    assert summary.counts == {SKIPPED: len(first) - 1, DONE: 5 - len(first)}
    assert len(list(out.glob("*.mp4"))) == 4


def kill_worker_once(job: Job, out_dir: str) -> JobResult:
    """Kill this worker process (SIGKILL, as the out-of-memory killer does) the first time a job comes to it;
    jobs named ``always-*`` kill it every time."""
    marker = Path(out_dir) / f".tried-{job.row}"
    if job.output.startswith("always") or not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return render_job(job, out_dir)


def _crash_manifest(inputs: Path) -> list[Job]:
    path = inputs / "crash.jsonl"
    rows = [{"portrait": "portrait.png", "audio": "hello.wav", "output": name, "size": 128}
            for name in ("killed-once.mp4", "always-killed.mp4")]
    path.write_text("\n".join(map(json.dumps, rows)) + "\n")
    return read_manifest(path)


def test_killed_pool_worker_job_is_retried_or_reported(tmp_path: Path, inputs: Path) -> None:
    summary = run_batch(_crash_manifest(inputs), tmp_path, workers=2, max_attempts=2, progress=False,
                        work=kill_worker_once)
    report = read_report(tmp_path)
    assert report["killed-once.mp4"]["status"] == DONE and report["killed-once.mp4"]["attempts"] == 2
    assert (tmp_path / "killed-once.mp4").stat().st_size > 1000
    assert report["always-killed.mp4"] == {**report["always-killed.mp4"], "status": FAILED, "attempts": 2,
                                           "reason": "worker crashed 2 time(s) (killed by SIGKILL)"}
    assert len(summary.results) == 2


def test_killed_ray_worker_job_is_retried_or_reported(tmp_path: Path, inputs: Path, ray_session) -> None:
    run_batch(_crash_manifest(inputs), tmp_path, ray="local", max_attempts=2, progress=False,
              work=kill_worker_once)
    report = read_report(tmp_path)
    assert report["killed-once.mp4"]["status"] == DONE
    assert report["always-killed.mp4"]["status"] == FAILED
    assert report["always-killed.mp4"]["reason"].startswith("worker crashed")


def test_manifest_jsonl_types_and_column_spellings(tmp_path: Path, inputs: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text(json.dumps({"portrait": str(inputs / "portrait.png"), "audio": str(inputs / "hello.wav"),
                                "output": "sub/a.mp4", "head-distance": 1.2, "label": False}) + "\n\n")
    (job,) = read_manifest(path)
    assert (job.row, job.line, job.output) == (1, 1, "sub/a.mp4")
    assert job.options == {"head_distance": 1.2, "label": False}


def test_manifest_problems_are_all_named(tmp_path: Path, inputs: Path) -> None:
    shutil.copy(inputs / "portrait.png", tmp_path)
    shutil.copy(inputs / "hello.wav", tmp_path)
    path = tmp_path / "jobs.jsonl"
    path.write_text("\n".join([
        json.dumps({"portrait": "portrait.png", "audio": "hello.wav", "output": "a.mp4"}),
        json.dumps({"portrait": "portrait.png", "audio": "hello.wav", "output": "a.mp4"}),
        json.dumps({"portrait": "portrait.png", "audio": "hello.wav", "output": "../b.mp4"}),
        json.dumps({"portrait": "portrait.png", "audio": "hello.wav", "output": "c.avi"}),
        json.dumps({"portrait": "portrait.png", "audio": "hello.wav", "output": "d.mp4", "colour": "red"}),
        json.dumps({"audio": "hello.wav", "output": "e.mp4"}),
        '{"portrait": "portrait.png",',
        json.dumps(["portrait.png", "hello.wav"]),
    ]))
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    problems = {problem.row: problem.reason for problem in caught.value.problems}
    assert sorted(problems) == [2, 3, 4, 5, 6, 7, 8]
    assert "also the output of row 1" in problems[2]
    assert "inside the batch folder" in problems[3]
    assert "must end in .mp4" in problems[4]
    assert "unknown option(s) colour" in problems[5]
    assert "no portrait given" in problems[6]
    assert "not valid JSON" in problems[7]
    assert "must be an object" in problems[8]


def test_csv_cells_become_typed_options(tmp_path: Path, inputs: Path) -> None:
    path = tmp_path / "jobs.csv"
    path.write_text(f"Portrait,Audio,Output,FPS,Motion_Scale,label,transcript\n"
                    f"{inputs / 'portrait.png'},{inputs / 'hello.wav'},a.mp4,30,0.5,no,Hello there\n"
                    f"{inputs / 'portrait.png'},{inputs / 'hello.wav'},b.mp4,fast,,maybe,\n")
    with pytest.raises(ManifestError) as caught:
        read_manifest(path)
    assert [str(p) for p in caught.value.problems] == ["row 2 (line 3): fps must be a number, got 'fast'"]
    path.write_text(path.read_text().splitlines()[0] + "\n" + path.read_text().splitlines()[1] + "\n")
    (job,) = read_manifest(path)
    assert job.options == {"fps": 30.0, "motion_scale": 0.5, "label": False, "transcript": "Hello there"}


def test_ray_flag_without_ray_says_how_to_install(monkeypatch: pytest.MonkeyPatch, manifest: Path,
                                                  tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as if ray were not installed
    assert cli.main(["batch", str(manifest), "--out", str(tmp_path), "--ray", "local"]) == 2
    assert "install ray: make setup-ray" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
