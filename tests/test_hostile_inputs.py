"""Hostile input through the library and the batch manifest: types, budgets, header checks, full disks."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talkinghead.batch import ManifestError, read_manifest
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import MAX_PIXELS, image_size, load_image
from talkinghead.input_files import parse_json, read_text
from talkinghead.motion.expression import parse_emotion_schedule
from talkinghead.motion.track import MotionTrack
from talkinghead.motion.track_file import parse_motion_track, write_motion_track
from talkinghead.video import Mp4Writer

from .hostile_cases import one_second_wav, png_declaring


@pytest.mark.parametrize("options", [
    {"transcript": 5}, {"text": 123}, {"voice": 7}, {"voice": "en+" + "a" * 200}, {"motion_out": 5},
    {"motion_in": ["a.json"]}, {"emotion_schedule": {"x": 1}}, {"transcript_file": 3.5}, {"label": "yes"},
    {"seed": 2**70}, {"motion_in": "track\x00.json"}, {"text": "x" * 100_001},
])
def test_every_option_type_is_checked_before_work(options: dict) -> None:
    with pytest.raises(TalkingHeadError, match=r"^--"):
        Controls(**options)


def test_path_options_take_paths(tmp_path: Path) -> None:
    assert Controls(motion_out=tmp_path / "t.json").motion_out == tmp_path / "t.json"


def test_image_size_reads_the_header_only(tmp_path: Path, portrait: Path) -> None:
    assert image_size(png_declaring(32000, 20000)) == (32000, 20000)  # 1 MB of zeros, never decoded
    assert image_size(portrait) == image_size(portrait.read_bytes()) == load_image(portrait)[0].shape[1::-1]
    with pytest.raises(TalkingHeadError, match="as an image"):
        image_size(b"GIF89a not really")


def test_portrait_over_the_pixel_budget_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(png_declaring(10000, MAX_PIXELS // 10000 + 1))
    with pytest.raises(TalkingHeadError, match="megapixels"):
        load_image(path)


def test_unreadable_portrait_is_a_clear_error(tmp_path: Path, portrait: Path, monkeypatch) -> None:
    """Permissions cannot stop root, so the refusal the kernel gives a user is simulated."""
    target = tmp_path / "locked.png"
    target.write_bytes(portrait.read_bytes())
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if os.fspath(path) == str(target):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(TalkingHeadError, match="permission denied"):
        load_image(target)


def test_text_files_have_a_byte_budget(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("word " * 1000)
    with pytest.raises(TalkingHeadError, match="over the limit of 100 bytes"):
        read_text(path, "transcript", 100)


@pytest.mark.parametrize("data, message", [
    ({"fps": 25, "channels": {"head_yaw": [1e30]}}, "outside"),
    ({"fps": 25, "channels": {"head_x": [True]}}, "flat list"),
    ({"fps": "25", "channels": {}}, '"fps" must be'),
    ({"fps": 1e30, "channels": {}}, '"fps" must be'),
    ({"fps": 25, "channels": {"jaw_open": []}}, "non-empty"),
    ({"fps": 25, "channels": {"jaw_open": [10**400]}}, "outside"),
    ({"fps": 25, "channels": [1, 2]}, "not a motion track"),
])
def test_motion_track_values_and_types_are_checked(data: dict, message: str) -> None:
    with pytest.raises(TalkingHeadError, match=message):
        parse_motion_track(data, "track")


@pytest.mark.parametrize("entries, message", [
    ([{"time": 1, "emotion": ["happy"]}], "unknown emotion"),
    ([{"time": 1, "emotion": {"a": 1}}], "unknown emotion"),
    ([{"time": 1e30, "emotion": "sad"}], '"time" must be'),
    ([{"time": 1, "emotion": "sad", "intensity": "2"}], '"intensity" must be'),
    ([{"time": 1, "emotion": "sad", "mood": 1}], "unknown key"),
])
def test_emotion_schedule_types_are_checked(entries: list, message: str) -> None:
    with pytest.raises(TalkingHeadError, match=message):
        parse_emotion_schedule(entries, "schedule")


def test_json_refuses_nan_infinity_and_deep_nesting() -> None:
    for text in ('{"a": NaN}', "[Infinity]", "[" * 50 + "]" * 50, "[" * 100000, "1" * 5000):
        with pytest.raises(TalkingHeadError):
            parse_json(text, "file")


def test_a_full_disk_while_encoding_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    import av.container

    def full(self, packets):
        raise OSError(errno.ENOSPC, "No space left on device")

    writer = Mp4Writer(tmp_path / "out.mp4", 64, 25, np.zeros((1, 16000), np.float32), 16000)
    monkeypatch.setattr(av.container.OutputContainer, "mux", full)
    with pytest.raises(TalkingHeadError, match="No space left on device"), writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
    assert os.listdir(tmp_path) == []


def test_a_full_disk_while_finishing_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    import av.container

    with pytest.raises(TalkingHeadError, match="No space left on device"), \
            Mp4Writer(tmp_path / "out.mp4", 64, 25, None, 16000) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
        monkeypatch.setattr(av.container.OutputContainer, "close",
                            lambda self: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    assert os.listdir(tmp_path) == []


def test_a_full_disk_while_writing_a_track_leaves_no_temporary_file(tmp_path: Path, monkeypatch) -> None:
    def full(self, path):
        Path(path).write_text("{")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(MotionTrack, "save", full)
    with pytest.raises(TalkingHeadError, match="No space left"):
        write_motion_track(MotionTrack.still(25, 3), tmp_path / "track.json")
    assert os.listdir(tmp_path) == []


def test_numba_cache_falls_back_to_a_private_temporary_folder(tmp_path: Path, monkeypatch) -> None:
    from talkinghead import numba_cache

    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(numba_cache.tempfile, "tempdir", None)
    real = numba_cache._writable
    monkeypatch.setattr(numba_cache, "_writable", lambda folder: str(folder).startswith(str(tmp_path))
                        and real(folder))
    config = sys.modules["numba.core.config"]
    monkeypatch.setattr(config, "CACHE_DIR", config.CACHE_DIR)
    numba_cache.ensure_numba_cache()
    chosen = Path(os.environ["NUMBA_CACHE_DIR"])
    assert chosen.parent == tmp_path and chosen.stat().st_mode & 0o077 == 0 and str(chosen) == config.CACHE_DIR


# --- the batch manifest -------------------------------------------------------------------------------------

@pytest.fixture
def folder(tmp_path: Path, portrait: Path) -> Path:
    (tmp_path / "face.png").write_bytes(portrait.read_bytes())
    one_second_wav(tmp_path / "hi.wav")
    (tmp_path / "words.txt").write_text("hello there")
    (tmp_path / "mood.json").write_text('[{"time": 0.5, "emotion": "happy"}]')
    (tmp_path / "binary.json").write_bytes(bytes(range(256)) * 4)
    return tmp_path


def _manifest(folder: Path, rows: list[dict]) -> Path:
    path = folder / "jobs.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return path


ROW = {"portrait": "face.png", "audio": "hi.wav", "output": "a.mp4"}


@pytest.mark.parametrize("extra, message", [
    ({"portrait": 5}, "portrait must be text"),
    ({"output": 7}, "output must be text"),
    ({"audio": ["hi.wav"]}, "audio must be text"),
    ({"transcript": 5}, "--transcript must be text"),
    ({"text": 12, "audio": None}, "--text must be text"),
    ({"voice": 3}, "--voice must be text"),
    ({"emotion_schedule": 1}, "--emotion-schedule must be a file path"),
    ({"motion_in": {"fps": 25}}, "--motion-in must be a file path"),
    ({"label_text": 5}, "--label-text"),
    ({"transcript_file": "/dev/zero"}, "not a regular file"),
    ({"emotion_schedule": "binary.json"}, "not UTF-8 text"),
    ({"motion_in": "binary.json"}, "not UTF-8 text"),
    ({"motion_out": "../escape.json"}, "inside the batch folder"),
    ({"motion_out": "/tmp/escape.json"}, "inside the batch folder"),
    ({"motion_out": "a.mp4"}, "must end in .json"),
    ({"output": "x" * 300 + ".mp4"}, "longer than 255"),
    ({"portrait": "hi.wav"}, "as an image"),
    ({"text": "Hi.", "audio": None, "voice": "en+../../../etc/passwd"}, "unknown espeak-ng voice"),
    ({"text": "Hi.", "audio": None, "voice": "en+" + "a" * 40}, "unknown espeak-ng voice"),
])
def test_manifest_rows_with_bad_values_fail_up_front(folder: Path, extra: dict, message: str) -> None:
    path = _manifest(folder, [ROW, {**ROW, "output": "b.mp4", **extra}])
    with pytest.raises(ManifestError) as caught:
        read_manifest(path, out=folder / "out")
    problems = caught.value.problems
    assert [(p.row, p.line) for p in problems] == [(2, 2)] and message in problems[0].reason, problems


def test_manifest_inputs_are_read_from_its_folder_and_outputs_stay_in_out(folder: Path, tmp_path: Path) -> None:
    path = _manifest(folder, [{**ROW, "transcript_file": "words.txt", "emotion_schedule": "mood.json",
                               "motion_out": "tracks/a.json"}])
    (job,) = read_manifest(path, out=tmp_path / "out")
    assert job.options["transcript_file"] == str(folder / "words.txt")
    assert job.options["emotion_schedule"] == str(folder / "mood.json")
    assert job.options["motion_out"] == str((tmp_path / "out" / "tracks" / "a.json").absolute())


def test_manifest_motion_out_may_not_collide_with_another_output(folder: Path) -> None:
    path = _manifest(folder, [{**ROW, "motion_out": "t.json"}, {**ROW, "output": "b.mp4", "motion_out": "t.json"}])
    with pytest.raises(ManifestError, match="1 bad row"):
        read_manifest(path, out=folder / "out")


def test_batch_cli_names_row_and_line_and_exits_2(folder: Path, capsys: pytest.CaptureFixture) -> None:
    from talkinghead.cli import main

    path = _manifest(folder, [ROW, {**ROW, "output": "b.mp4", "transcript": 5}])
    assert main(["batch", str(path), "--out", str(folder / "out")]) == 2
    stderr = capsys.readouterr().err
    assert "row 2 (line 2): --transcript must be text" in stderr and "Traceback" not in stderr, stderr
    assert not (folder / "out").exists() or not any((folder / "out").iterdir())


# --- fuzzing: parsers and header checks never fail with anything but a TalkingHeadError --------------------------

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                max_size=4), max_leaves=12)
COLUMNS = st.sampled_from(["portrait", "audio", "output", "size", "seed", "fps", "text", "voice", "transcript",
                           "motion_in", "motion_out", "emotion_schedule", "transcript_file", "gaze", "label",
                           "crop", "emotion", "intensity", "head-distance"])
ROWS = st.dictionaries(COLUMNS, JSON | st.sampled_from(["face.png", "hi.wav", "a.mp4", "t.json", "../x"]),
                       max_size=8)


@FUZZ
@given(rows=st.lists(ROWS | JSON, min_size=1, max_size=4), garbage=st.binary(max_size=40))
def test_fuzz_manifest_parser_fails_only_with_a_clear_error(folder: Path, rows: list, garbage: bytes) -> None:
    path = folder / "fuzz.jsonl"
    path.write_bytes(b"\n".join(json.dumps(row).encode() for row in rows) + b"\n" + garbage)
    try:
        jobs = read_manifest(path, out=folder / "out")
    except TalkingHeadError:
        return
    for job in jobs:
        assert job.portrait.is_file() and not Path(job.output).is_absolute()
        if job.options.get("motion_out"):
            assert Path(job.options["motion_out"]).is_relative_to((folder / "out").absolute())


@FUZZ
@given(text=st.text(alphabet=",\"\n\r;=-_.a0 ", max_size=300))
def test_fuzz_csv_manifest_fails_only_with_a_clear_error(folder: Path, text: str) -> None:
    path = folder / "fuzz.csv"
    path.write_text("portrait,audio,output,size,voice\n" + text)
    with contextlib.suppress(TalkingHeadError):
        read_manifest(path, out=folder / "out")


HEADERS = [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBPVP8 ",
           b"BM", b"II*\x00", b"MM\x00*", b"GIF89a", b""]


@FUZZ
@given(prefix=st.sampled_from(HEADERS), tail=st.binary(max_size=200))
def test_fuzz_image_header_check_fails_only_with_a_clear_error(prefix: bytes, tail: bytes) -> None:
    try:
        width, height = image_size(prefix + tail)
    except TalkingHeadError:
        return
    assert width >= 0 and height >= 0


def test_a_gif_frame_over_pillow_s_bomb_limit_is_refused_with_a_clear_error() -> None:
    """Found by the fuzz test above: Pillow's GIF reader checks its own decompression-bomb limit while reading
    the header (a first frame of 3072 x 58368 declared in 22 bytes) and raised its own error."""
    gif = b"GIF89a" + bytes(7) + b",\x00\x00\x00\x00\x00\x0c\x00\xe4"
    with pytest.raises(TalkingHeadError, match="megapixels"):
        image_size(gif)


@FUZZ
@given(width=st.integers(1, 2**31 - 1), height=st.integers(1, 2**31 - 1))
def test_fuzz_png_sizes_are_read_exactly_from_the_header(width: int, height: int) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
    assert image_size(png) == (width, height)


@FUZZ
@given(data=JSON)
def test_fuzz_schedule_and_track_parsers_fail_only_with_a_clear_error(data: object) -> None:
    for parse in (parse_emotion_schedule, parse_motion_track):
        with contextlib.suppress(TalkingHeadError):
            parse(data, "fuzzed")
