"""The CLI's promise under hostile input: one line ``talkinghead: error: ...``, exit 2, no traceback, no file
left behind, and bounded memory. The cases (tests/hostile_cases.py) each run in a forked process whose peak
memory is measured; run ``python -m tests.hostile_cases`` for the table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .hostile_cases import cases, make_inputs, one_second_wav, run_all

PEAK_LIMIT_MB = 1536  # issue 14: at most 1.5 GB under any hostile input
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    return run_all(tmp_path_factory.mktemp("hostile"))


def _cases() -> dict[str, tuple[list[str], str]]:
    folder = Path("/nonexistent")
    return cases({key: folder for key in _FILE_KEYS}, folder)


_FILE_KEYS = ("portrait", "speech", "tiny_mp4", "bomb32k.png", "bomb100k.png", "bad_rows.png", "unknown_codec.wav",
              "binary.json",
              "schedule_list_emotion.json", "schedule_1e30.json", "schedule_nan.json", "track_1e30.json",
              "track_types.json", "track_nan.json", "track_deep.json", "fifo")


@pytest.mark.parametrize("case", list(_cases()))
def test_hostile_input_gives_one_line_exit_2_bounded_memory_and_no_leftovers(results: dict, case: str) -> None:
    result, says = results[case], _cases()[case][1]
    lines = result["stderr"].strip().splitlines()
    assert result["rc"] == 2, (result["rc"], result["stderr"][-600:])
    assert len(lines) == 1 and lines[0].startswith("talkinghead: error: "), result["stderr"][-600:]
    assert says in lines[0], lines[0]
    assert "Traceback" not in result["stderr"] and "internal error" not in result["stderr"]
    assert result["peak_mb"] <= PEAK_LIMIT_MB, f"{case}: peak {result['peak_mb']:.0f} MB"
    assert result["leftovers"] == [], result["leftovers"]


def test_case_names_match_the_inputs_made(tmp_path: Path) -> None:
    assert set(make_inputs(tmp_path)) == set(_FILE_KEYS)


def _as_root_in_own_mount_namespace(script: str) -> subprocess.CompletedProcess:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to mount a private tmpfs or a read-only bind")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode:
        pytest.skip("this machine does not allow private mount namespaces")
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)


def test_full_disk_leaves_no_partial_file_and_says_so_in_one_line(tmp_path: Path, portrait: Path) -> None:
    speech = one_second_wav(tmp_path / "speech.wav")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f"mount -t tmpfs -o size=16k tmpfs {disk} && "
              f"{sys.executable} -m talkinghead render {portrait} {speech} -o {disk}/out.mp4 --size 128 -q; "
              f"echo rc=$?; ls -A {disk}")
    done = _as_root_in_own_mount_namespace(script)
    lines = done.stderr.strip().splitlines()
    assert "rc=2" in done.stdout, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "rc=2", f"files left on the full disk: {done.stdout}"
    assert len(lines) == 1 and lines[0].startswith("talkinghead: error: ") and "No space left" in lines[0], lines


def test_works_without_a_writable_home_or_package_folder(tmp_path: Path) -> None:
    """numba's cache beside the code and in ~/.cache both unwritable: import and render code still load."""
    package = ROOT / "talkinghead"
    script = (f"mount --bind -o ro {package} {package} && cd {tmp_path} && unset XDG_CACHE_HOME NUMBA_CACHE_DIR; "
              f"HOME=/etc/hostname TMPDIR={tmp_path} {sys.executable} -c "
              "'import talkinghead.render.warp; print(\"imported\")'")
    done = _as_root_in_own_mount_namespace(script)
    assert done.stdout.strip() == "imported" and not done.stderr.strip(), done.stderr[-800:]
    assert list(tmp_path.glob("talkinghead-numba-*")), "the cache went to a private temporary folder"
