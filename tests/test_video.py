from pathlib import Path

import av
import numpy as np
import pytest

from talkinghead.errors import TalkingHeadError
from talkinghead.eval.face_metrics import decode_video
from talkinghead.video import Mp4Writer, check_output_path


def _tone(seconds: float, rate: int = 48000) -> np.ndarray:
    return (0.2 * np.sin(2 * np.pi * 330 * np.arange(int(seconds * rate)) / rate)).astype(np.float32)[None, :]


def test_writes_h264_aac_with_exact_length(tmp_path: Path) -> None:
    audio = _tone(1.98)
    n_frames = round(1.98 * 25)
    rng = np.random.default_rng(0)
    with Mp4Writer(tmp_path / "out.mp4", 96, 25, audio, 48000, {"comment": "hello"}) as writer:
        for _ in range(n_frames):
            writer.write(rng.integers(0, 255, (96, 96, 3), dtype=np.uint8))
    frames, info = decode_video(tmp_path / "out.mp4")
    assert len(frames) == n_frames
    assert (info["width"], info["height"], info["fps"]) == (96, 96, 25)
    assert (info["video_codec"], info["pix_fmt"], info["audio_codec"]) == ("h264", "yuv420p", "aac")
    assert info["audio_seconds"] == pytest.approx(1.98, abs=1 / 25)
    assert info["metadata"]["comment"] == "hello"
    assert list(tmp_path.iterdir()) == [tmp_path / "out.mp4"]


def test_the_stream_says_how_to_turn_it_back_into_the_colours_written(tmp_path: Path) -> None:
    """Players that follow the stream's colour tags (PyAV does) get the frame's colours back; untagged, many
    players guess BT.709 at HD sizes while the frames were converted with BT.601."""
    colours = np.array([[200, 40, 40], [40, 160, 60], [212, 156, 136], [30, 40, 200]], np.uint8)
    frame = np.repeat(np.repeat(colours[None], 64, axis=0), 64, axis=1)  # four 64x64 patches side by side
    with Mp4Writer(tmp_path / "out.mp4", (256, 64), 25, None, 48000, crf=10) as writer:
        for _ in range(3):
            writer.write(frame)
    with av.open(str(tmp_path / "out.mp4")) as container:
        context = container.streams.video[0].codec_context
        tags = (context.colorspace, context.color_primaries, context.color_trc, context.color_range)
        decoded = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert tags == (6, 1, 13, 1)  # BT.601 matrix, BT.709 primaries, sRGB transfer, limited range
    centres = decoded[24:40].reshape(16, 4, 64, 3)[:, :, 24:40].mean(axis=(0, 2))
    assert np.abs(centres - colours).max() <= 3


def test_faststart_puts_the_index_first(tmp_path: Path) -> None:
    with Mp4Writer(tmp_path / "out.mp4", 64, 25, _tone(0.5), 48000) as writer:
        for _ in range(12):
            writer.write(np.zeros((64, 64, 3), np.uint8))
    head = (tmp_path / "out.mp4").read_bytes()[:4096]
    assert head.find(b"moov") != -1 and head.find(b"moov") < max(head.find(b"mdat"), 4096)


def test_failed_render_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), Mp4Writer(tmp_path / "out.mp4", 64, 25, _tone(1.0), 48000) as writer:
        writer.write(np.zeros((64, 64, 3), np.uint8))
        raise RuntimeError("render failed half way")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [("out.avi", "must end in"), ("missing/out.mp4", "does not exist"), ("file.txt/out.mp4", "does not exist")],
)
def test_unwritable_outputs_are_refused_up_front(tmp_path: Path, name: str, message: str) -> None:
    (tmp_path / "file.txt").write_text("a file, not a folder")
    with pytest.raises(TalkingHeadError, match=message):
        check_output_path(tmp_path / name, overwrite=True)


def test_existing_output_needs_overwrite(tmp_path: Path) -> None:
    (tmp_path / "out.mp4").write_bytes(b"old")
    with pytest.raises(TalkingHeadError, match="-y"):
        check_output_path(tmp_path / "out.mp4", overwrite=False)
    assert check_output_path(tmp_path / "out.mp4", overwrite=True) == tmp_path / "out.mp4"
