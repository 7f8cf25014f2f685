"""End to end through the real command line: renders decoded with PyAV and measured with dlib."""

import itertools
import os
import subprocess
import sys
import wave
from pathlib import Path

import cv2
import numpy as np
import pytest

import talkinghead
from talkinghead.errors import TalkingHeadError
from talkinghead.eval.face_metrics import decode_video, mouth_opening

from .media import encoded_media


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "talkinghead", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, portrait: Path, speech_then_silence: Path):
    out = tmp_path_factory.mktemp("render") / "talk.mp4"
    result = cli("render", portrait, speech_then_silence, "-o", out)
    assert result.returncode == 0, result.stderr
    return out, result, speech_then_silence


def test_render_makes_a_browser_playable_mp4(rendered) -> None:
    out, result, audio = rendered
    assert result.stdout.strip() == str(out)
    frames, info = decode_video(out)
    # default size: the photo's own resolution around the face (the bundled portrait's face crop is 256 px)
    assert (info["width"], info["height"], info["fps"]) == (256, 256, 25)
    assert (info["video_codec"], info["pix_fmt"], info["audio_codec"]) == ("h264", "yuv420p", "aac")
    from talkinghead.audio import load_speech

    duration = load_speech(audio).duration
    assert abs(len(frames) / 25 - duration) <= 1 / 25
    assert abs(info["audio_seconds"] - duration) <= 1 / 25
    assert "AI-generated" in info["metadata"]["comment"]
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left


def test_mouth_opens_in_speech_and_rests_in_silence(rendered) -> None:
    """Measured on the decoded video by dlib's landmarks, a different model than the renderer's."""
    out, _, _ = rendered
    frames, _ = decode_video(out)
    silent_tail = [mouth_opening(f) for f in frames[-30:-5]]
    speaking = [mouth_opening(f) for f in frames[5:-60:2]]
    assert None not in silent_tail and None not in speaking
    rest = float(np.median(silent_tail))
    assert np.ptp(silent_tail) < 0.05  # still in silence
    assert np.percentile(speaking, 90) > rest + 0.08  # clearly open while speaking
    assert np.std(speaking) > 2 * np.std(silent_tail)


def test_visible_label_is_drawn(rendered) -> None:
    out, _, _ = rendered
    frames, _ = decode_video(out)
    corner = frames[0][-40:, -160:].astype(int)
    assert corner.std() > 20  # white text on a dark box


def test_demo_needs_no_arguments(tmp_path: Path) -> None:
    result = cli("demo", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = Path("talkinghead-demo.mp4")
    assert result.stdout == "" and (tmp_path / out).stat().st_size > 50_000  # -q: nothing printed on success
    frames, info = decode_video(tmp_path / out)
    assert len(frames) == round(7.1 * 25) and info["audio_codec"] == "aac"
    assert frames[0].shape == (512, 512, 3)  # the whole photo at its own size (the face alone is 256 px)
    assert result.stderr == ""


def test_demo_says_text_instead_of_its_recording(tmp_path: Path) -> None:
    result = cli("demo", "-q", "--text", "Hello.", "--size", "128", "-o", "said.mp4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    frames, _ = decode_video(tmp_path / "said.mp4")
    assert 10 < len(frames) < 3 * 25  # "Hello." is about a second long, not the recording's 7.1 s


def test_python_api(tmp_path: Path, portrait: Path, silence_wav: Path) -> None:
    result = talkinghead.render(portrait, silence_wav, tmp_path / "still.mp4", size=128, fps=10, seed=2)
    assert result.n_frames == 30 and result.path.exists()
    with pytest.raises(TalkingHeadError, match="unknown option"):
        talkinghead.render(portrait, silence_wav, tmp_path / "x.mp4", colour="red")
    frames = list(talkinghead.frames(portrait, silence_wav, size=128, fps=5, label=False))
    assert len(frames) == 15 and frames[0].shape == (128, 128, 3)


def test_silent_audio_renders_a_still_but_alive_face(tmp_path: Path, portrait: Path, silence_wav: Path) -> None:
    out = tmp_path / "silent.mp4"
    result = cli("render", portrait, silence_wav, "-o", out, "--size", "256", "--seed", "5")
    assert result.returncode == 0, result.stderr
    frames, _ = decode_video(out)
    changes = [np.abs(a.astype(int) - b).mean() for a, b in itertools.pairwise(frames)]
    assert max(changes) > 0.1  # it moves (head, blinks)
    assert np.abs(frames[0].astype(int) - frames[-1]).mean() < 12  # but stays the same picture


def _bad_inputs(tmp: Path, portrait: Path, speech: Path) -> dict[str, tuple[list, str]]:
    empty = tmp / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp / "corrupt.mp3"
    corrupt.write_bytes(np.random.default_rng(0).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    text = tmp / "notes.txt"
    text.write_text("hello\n" * 100)
    noise = tmp / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    tiny = tmp / "tiny.png"
    cv2.imwrite(str(tiny), np.full((40, 40, 3), 128, np.uint8))
    zero_samples = tmp / "zero.wav"
    with wave.open(str(zero_samples), "wb") as header_only:
        header_only.setnchannels(1)
        header_only.setsampwidth(2)
        header_only.setframerate(16000)
    blocker = tmp / "blocker"
    blocker.write_text("a file")
    out = tmp / "out.mp4"
    return {
        "missing portrait": ([tmp / "nobody.jpg", speech, "-o", out], "portrait file not found"),
        "missing audio": ([portrait, tmp / "nothing.wav", "-o", out], "audio file not found"),
        "image without a face": ([noise, speech, "-o", out], "no face found"),
        "tiny image": ([tiny, speech, "-o", out], "at least 64 px"),
        "portrait that is not an image": ([text, speech, "-o", out], "cannot read"),
        "empty audio file": ([portrait, empty, "-o", out], "cannot read audio"),
        "audio without samples": ([portrait, zero_samples, "-o", out], "no audio samples"),
        "corrupt audio": ([portrait, corrupt, "-o", out], "cannot"),
        "text as audio": ([portrait, text, "-o", out], "has no audio track"),
        "too long audio": ([portrait, speech, "-o", out, "--max-audio-seconds", "1"], "over the limit"),
        "unwritable output": ([portrait, speech, "-o", blocker / "out.mp4"], "does not exist"),
        "odd size": ([portrait, speech, "-o", out, "--size", "511"], "--size must be an even number"),
        "huge size": ([portrait, speech, "-o", out, "--size", "4096"], "--size must be an even number"),
        "bad fps": ([portrait, speech, "-o", out, "--fps", "0"], "--fps must be"),
        "wrong output format": ([portrait, speech, "-o", tmp / "out.gif"], "must end in"),
    }


CASES = ["missing portrait", "missing audio", "image without a face", "tiny image", "portrait that is not an image",
         "empty audio file", "audio without samples", "corrupt audio", "text as audio", "too long audio",
         "unwritable output", "odd size", "huge size", "bad fps", "wrong output format"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gives_one_line_and_exit_2(tmp_path: Path, portrait: Path, speech_wav: Path, case: str) -> None:
    args, message = _bad_inputs(tmp_path, portrait, speech_wav)[case]
    result = cli("render", *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("talkinghead: error:"), result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob(".*partial*"))


def test_existing_output_is_kept_without_y(tmp_path: Path, portrait: Path, silence_wav: Path) -> None:
    out = tmp_path / "keep.mp4"
    out.write_bytes(b"precious")
    result = cli("render", portrait, silence_wav, "-o", out, "--size", "128")
    assert result.returncode == 2 and "-y" in result.stderr
    assert out.read_bytes() == b"precious"
    assert cli("render", portrait, silence_wav, "-o", out, "--size", "128", "-y").returncode == 0
    assert out.read_bytes() != b"precious"


def test_help_everywhere() -> None:
    for args in ([], ["render"], ["demo"]):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "usage: talkinghead" in result.stdout
    assert "--head-distance" in cli("render", "--help").stdout


def test_full_crop_animates_the_whole_photo(tmp_path: Path, portrait: Path, silence_wav: Path) -> None:
    wide = tmp_path / "wide.png"
    photo = cv2.imread(str(portrait))
    cv2.imwrite(str(wide), np.hstack([photo, np.full((512, 256, 3), 90, np.uint8)]))  # 768 x 512, grey on the right
    result = cli("render", wide, silence_wav, "-o", tmp_path / "full.mp4", "--crop", "full", "--size", "300")
    assert result.returncode == 0, result.stderr
    frames, info = decode_video(tmp_path / "full.mp4")
    assert (info["width"], info["height"]) == (300, 200)
    still = cv2.resize(cv2.cvtColor(cv2.imread(str(wide)), cv2.COLOR_BGR2RGB), (300, 200), interpolation=cv2.INTER_AREA)
    # the rest of the photo is there (up to the invisible watermark, a few levels in flat areas)
    assert np.abs(frames[0][:150, 215:].astype(int) - still[:150, 215:]).mean() < 6
    assert cli("render", wide, silence_wav, "-o", tmp_path / "x.mp4", "--crop", "side").returncode == 2


def test_same_render_same_bytes_on_any_number_of_cores(tmp_path: Path, portrait: Path, speech_wav: Path) -> None:
    """Batch jobs on a cluster rely on it: x264's thread count is fixed, not taken from the machine."""
    import shutil

    if shutil.which("taskset") is None:
        pytest.fail("taskset (util-linux) is missing")
    one_core = subprocess.run(["taskset", "-c", "0", sys.executable, "-m", "talkinghead", "render", str(portrait),
                               str(speech_wav), "-o", str(tmp_path / "one.mp4"), "--size", "128", "-q"],
                              capture_output=True, text=True, timeout=300)
    assert one_core.returncode == 0, one_core.stderr
    assert cli("render", portrait, speech_wav, "-o", tmp_path / "all.mp4", "--size", "128", "-q").returncode == 0
    assert encoded_media(tmp_path / "one.mp4") == encoded_media(tmp_path / "all.mp4")
