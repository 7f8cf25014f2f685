"""Provenance: the watermark's payload, strength and robustness, the label options, the video id, `verify`."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

import talkinghead
from talkinghead import Controls, TalkingHeadError
from talkinghead.assets import DEMO_PORTRAIT
from talkinghead.provenance import VisibleLabel, Watermark, video_id_for
from talkinghead.provenance.credentials import read_manifest
from talkinghead.provenance.verify import _label_finding, _metadata_finding
from talkinghead.provenance.watermark import (
    CODED_BITS,
    DECODE_THRESHOLD,
    INFORMED_MAX,
    LIST_PATHS,
    PAYLOAD_BITS,
    Accumulator,
    coded_sums,
    encode,
    frame_pattern,
    informed_gains,
    known_prefix,
    parse_bits,
    payload_bits,
    read_at_period,
    read_frames,
    strength_map,
    viterbi,
)

from .test_cli import cli

VIDEO_ID = "0badc0de"


@pytest.fixture(scope="module")
def portrait_frames() -> list[np.ndarray]:
    """Eight 512x512 views of the bundled portrait, each shifted a little (like a moving head)."""
    image = cv2.cvtColor(cv2.imread(str(DEMO_PORTRAIT)), cv2.COLOR_BGR2RGB)
    image = cv2.resize(image, (560, 560), interpolation=cv2.INTER_AREA)
    return [np.ascontiguousarray(image[d : d + 512, 2 * d : 2 * d + 512]) for d in range(8)]


@pytest.fixture(scope="module")
def portrait_on_textures() -> list[np.ndarray]:
    """Six 512x512 pictures: the bundled portrait (384 px) on a busy texture (blurred noise, 25 levels RMS)."""
    face = cv2.resize(cv2.cvtColor(cv2.imread(str(DEMO_PORTRAIT)), cv2.COLOR_BGR2RGB), (384, 384),
                      interpolation=cv2.INTER_AREA)
    pictures = []
    for seed in range(10, 16):
        field = cv2.GaussianBlur(np.random.default_rng(seed).normal(0, 1, (512, 512, 3)).astype(np.float32),
                                 (0, 0), 2)
        picture = np.clip(128 + field * 25 / field.std(), 0, 255).astype(np.uint8)
        picture[64:448, 64:448] = face
        pictures.append(picture)
    return pictures


def test_known_prefix_is_what_every_mark_of_this_version_starts_with() -> None:
    for other in ("00000000", "ffffffff"):
        assert np.array_equal(encode(payload_bits(other))[:48].astype(np.float32) * 2 - 1, known_prefix())


def _marked(frames: list[np.ndarray], video_id: str = VIDEO_ID) -> list[np.ndarray]:
    watermark = Watermark(video_id, 512, 512)
    return [watermark.apply(f.copy()) for f in frames]


def test_payload_round_trip_and_crc_rejects_flipped_bits() -> None:
    bits = payload_bits(VIDEO_ID)
    assert bits.shape == (PAYLOAD_BITS,)
    payload = parse_bits(bits)
    assert payload is not None and payload.video_id == VIDEO_ID and payload.version == talkinghead.__version__
    for index in (0, 20, PAYLOAD_BITS - 1):
        flipped = bits.copy()
        flipped[index] ^= 1
        assert parse_bits(flipped) is None


def _decoded(soft: np.ndarray):
    return next((p for p in map(parse_bits, viterbi(soft, LIST_PATHS)) if p is not None), None)


def test_code_corrects_noisy_bits_and_rejects_noise() -> None:
    rng = np.random.default_rng(5)
    coded = encode(payload_bits(VIDEO_ID)).astype(np.float64) * 2 - 1
    assert coded.shape == (CODED_BITS,)
    noisy = coded + rng.normal(0, 1.0, CODED_BITS)  # about 16% of the coded bits come out wrong
    assert ((noisy > 0) != (coded > 0)).mean() > 0.1
    payload = _decoded(noisy)
    assert payload is not None and payload.video_id == VIDEO_ID
    assert all(_decoded(rng.normal(0, 1.0, CODED_BITS)) is None for _ in range(30))


def test_watermark_is_invisible_by_psnr(portrait_frames) -> None:
    """46 dB at 512 px (plain areas stay clean), 38-40 dB at 256 px (fine chips, which small copies need);
    the informed gains lift some coded bits, so the PSNR sits a little under the base mean square's."""
    original = portrait_frames[0].astype(np.float64)
    marked = _marked(portrait_frames[:1])[0].astype(np.float64)
    psnr = 10 * np.log10(255**2 / np.mean((marked - original) ** 2))
    assert 45.5 <= psnr < 47.5, psnr
    small = cv2.resize(portrait_frames[0], (256, 256), interpolation=cv2.INTER_AREA)
    marked_small = Watermark(VIDEO_ID, 256, 256).apply(small.copy())
    psnr_small = 10 * np.log10(255**2 / np.mean((marked_small.astype(np.float64) - small) ** 2))
    assert 37.5 <= psnr_small < 41.5, psnr_small


def _half(frame: np.ndarray) -> np.ndarray:
    return cv2.resize(frame, (256, 256), interpolation=cv2.INTER_AREA)


def _crop(frame: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(frame[51:461, 51:461])


def _jpeg(frame: np.ndarray) -> np.ndarray:
    return cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 60])[1], cv2.IMREAD_COLOR)


def _brighter(frame: np.ndarray) -> np.ndarray:
    return np.clip(frame * 1.2, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("attack", [None, _half, _crop, _jpeg, _brighter])
def test_watermark_survives_rescale_crop_compression_and_brightness(portrait_frames, attack) -> None:
    frames = _marked(portrait_frames)
    reading = read_frames(attack(f) for f in frames) if attack else read_frames(frames)
    assert reading.payload is not None and reading.payload.video_id == VIDEO_ID, reading


def _x264(frames: list[np.ndarray], crf: int) -> list[np.ndarray]:
    """Frames through libx264 (yuv420p, one thread so the bytes are the same everywhere) and back."""
    import av

    encoder = av.CodecContext.create("libx264", "w")
    encoder.height, encoder.width = frames[0].shape[:2]
    encoder.pix_fmt, encoder.time_base = "yuv420p", Fraction(1, 25)
    encoder.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
    packets = []
    for index, frame in enumerate(frames):
        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
        picture.pts = index
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    pictures = [p for packet in [*packets, None] for p in decoder.decode(packet)]
    return [p.to_ndarray(format="rgb24") for p in pictures]


@pytest.fixture(scope="module")
def one_second() -> list[np.ndarray]:
    """25 frames (one second) of the bundled portrait as renders are: a still background, a head that moves."""
    image = cv2.cvtColor(cv2.imread(str(DEMO_PORTRAIT)), cv2.COLOR_BGR2RGB)
    frames = []
    for index in range(25):
        frame = image.copy()
        shift = (round(3 * np.sin(index / 7)), round(6 * np.sin(index / 5)))
        frame[60:300, 140:360] = np.roll(image[60:300, 140:360], shift, axis=(0, 1))
        frames.append(frame)
    return frames


def test_watermark_survives_downscale_then_heavy_reencode(one_second) -> None:
    """The hardest ordinary handling: half size, then x264 at a low quality (the benchmark uses crf 32 on
    10 s renders, where x264 spends more on a still background the longer it stays; one second gives less, so
    crf 30 here). The mark carries a quarter of its former energy at 512 px (so that plain areas stay clean):
    it needs a second of video here, not eight frames of a photo."""
    frames = _x264([_half(f) for f in _marked(one_second)], crf=30)
    reading = read_frames(frames)
    assert reading.payload is not None and reading.payload.video_id == VIDEO_ID, reading
    assert read_frames(_x264([_half(f) for f in one_second], crf=30)).payload is None


def test_informed_gains_lift_the_bits_the_picture_works_against(portrait_frames) -> None:
    """On a textured picture some coded bits start pushed the wrong way by the picture itself; the per-bit
    gains must leave more of them right than the plain pattern does, never lower a bit (gains >= 1), and
    stay within their cap."""
    frame = portrait_frames[0]
    coded = encode(payload_bits(VIDEO_ID)).astype(np.float32) * 2 - 1
    strength = strength_map(frame)
    gains = informed_gains(VIDEO_ID, frame, strength)
    assert gains.shape == (CODED_BITS,) and gains.min() >= 1.0 and gains.max() <= INFORMED_MAX
    assert (gains > 1.0).any()

    def right_share(pattern: np.ndarray) -> float:
        marked = np.clip(frame.astype(np.int16) + pattern[..., None], 0, 255).astype(np.uint8)
        return float((coded_sums(marked) * coded > 0).mean())

    plain = right_share(frame_pattern(VIDEO_ID, 512, 512, strength))
    informed = right_share(frame_pattern(VIDEO_ID, 512, 512, strength, gains))
    assert informed > plain and informed >= 0.97, (plain, informed)


@pytest.mark.parametrize("size", [256, 384, 1024])
def test_watermark_reads_at_any_output_size(portrait_frames, size: int) -> None:
    watermark = Watermark(VIDEO_ID, size, size)
    frames = [watermark.apply(cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)) for f in portrait_frames]
    reading = read_frames(frames)
    assert reading.payload is not None and reading.payload.video_id == VIDEO_ID, reading
    assert abs(reading.period - size / 2) < 0.02 * size  # in the frame's pixels, though 1024 is read smaller


@pytest.mark.parametrize(("width", "height"), [(512, 288), (640, 256), (288, 512)])
def test_watermark_reads_in_wide_and_tall_frames(width: int, height: int) -> None:
    """The tile's period is half the width: in a 16:9 frame (a full-crop render of a landscape photo) that is
    more than 0.7 of the height, where the period search used to stop, so such videos were never read."""
    rng = np.random.default_rng(3)
    backdrop = np.clip(rng.normal(120, 2.0, (3, height, width, 3)), 0, 255).astype(np.uint8)
    watermark = Watermark(VIDEO_ID, height, width)
    reading = read_frames(watermark.apply(frame.copy()) for frame in backdrop)
    assert reading.payload is not None and reading.payload.video_id == VIDEO_ID, reading
    assert abs(reading.period - width / 2) < 0.02 * width
    assert read_frames(backdrop).payload is None


def test_marks_on_busy_pictures_are_read(portrait_on_textures) -> None:
    """The portrait on a busy texture, as in a full-crop render of a photo taken against foliage. The texture's
    detail lifts the sync energy at every shift, so its peak no longer stands out (below the decoding
    threshold on all six pictures: the energy, once the only sync, read none of them), and the tile's spike
    in the autocorrelation is lost among the texture's (it is among the period candidates of only two). The
    correlation with the bits every mark starts with, tried at half the width first, still reads most."""
    energies, found = [], 0
    for picture in portrait_on_textures:
        watermark, acc = Watermark(VIDEO_ID, 512, 512), Accumulator()
        for _ in range(3):
            acc.add(watermark.apply(picture.copy()))
        energies.append(read_at_period(acc.total / acc.frames, 256.0, acc.frames).sync_score)
        reading = acc.read()
        found += reading.payload is not None and reading.payload.video_id == VIDEO_ID
    assert max(energies) < DECODE_THRESHOLD and found >= 4, (energies, found)
    assert all(read_frames([picture]).payload is None for picture in portrait_on_textures[:2])  # unmarked: none


def test_unmarked_frames_give_no_reading(portrait_frames) -> None:
    assert read_frames(portrait_frames).payload is None
    assert read_frames([_half(f) for f in portrait_frames]).payload is None
    noise = np.random.default_rng(1).integers(0, 256, (8, 512, 512, 3), dtype=np.uint8)
    assert read_frames(noise).payload is None


def test_video_id_is_deterministic(tmp_path: Path, silence_wav: Path) -> None:
    first = video_id_for(DEMO_PORTRAIT, silence_wav, Controls(seed=1))
    assert first == video_id_for(DEMO_PORTRAIT, silence_wav, Controls(seed=1))
    assert first != video_id_for(DEMO_PORTRAIT, silence_wav, Controls(seed=2))
    image = cv2.imread(str(DEMO_PORTRAIT))
    assert video_id_for(image, silence_wav, Controls()) != video_id_for(image[::-1], silence_wav, Controls())
    assert len(first) == 8 and int(first, 16) >= 0


@pytest.mark.parametrize("position", ["top-left", "top-right", "bottom-left", "bottom-right"])
def test_label_goes_where_asked(position: str) -> None:
    frame = VisibleLabel(256, "Synthetic", position, 1.5).apply(np.zeros((256, 256, 3), np.uint8))
    rows, cols = np.nonzero(frame.max(axis=2) > 100)
    assert (rows.mean() < 128) == position.startswith("top")
    assert (cols.mean() < 128) == position.endswith("left")


def test_label_size_follows_scale() -> None:
    small, large = VisibleLabel(512, scale=1.0), VisibleLabel(512, scale=2.0)
    assert large.alpha.shape[0] > 1.6 * small.alpha.shape[0]


@pytest.mark.parametrize("options", [{"label_position": "middle"}, {"label_scale": 9.0}, {"label_text": ""},
                                     {"label_text": "བོད་ཡིག"}, {"label_text": "AI\tgenerated"}])
def test_bad_label_options_are_refused(options: dict) -> None:
    with pytest.raises(TalkingHeadError):
        Controls(**options)


@pytest.fixture(scope="module")
def rendered_video(tmp_path_factory: pytest.TempPathFactory, silence_wav: Path):
    out = tmp_path_factory.mktemp("verify") / "marked.mp4"
    result = talkinghead.render(DEMO_PORTRAIT, silence_wav, out, seed=3)  # 512: robustness is measured there
    return out, result


@pytest.mark.slow
def test_verify_finds_watermark_metadata_and_label(rendered_video) -> None:
    out, result = rendered_video
    run = cli("verify", out, "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    findings = {f["check"]: f for f in report["findings"]}
    assert report["talkinghead_provenance"] and report["video_id"] == result.video_id
    assert findings["watermark"]["found"] and result.video_id in findings["watermark"]["detail"]
    assert findings["metadata"]["found"] and findings["label"]["found"]


@pytest.mark.slow
def test_verify_finds_watermark_after_reencoding_drops_the_metadata(rendered_video, tmp_path: Path) -> None:
    import av

    out, result = rendered_video
    copy = tmp_path / "reencoded.mp4"
    with av.open(str(out)) as source, av.open(str(copy), "w") as dest:
        stream = dest.add_stream("libx264", rate=25)
        stream.width = stream.height = 512
        stream.pix_fmt, stream.options = "yuv420p", {"crf": "26"}
        for frame in source.decode(video=0):
            smaller = frame.reformat(format="yuv420p")
            smaller.pts = None
            dest.mux(stream.encode(smaller))
        dest.mux(stream.encode(None))
    run = cli("verify", copy)
    assert run.returncode == 0, run.stdout + run.stderr
    assert result.video_id in run.stdout


@pytest.mark.parametrize(("tags", "found", "says"), [
    ({"comment": "AI-generated by talkinghead"}, True, "no talkinghead video id"),  # ffmpeg kept the comment only
    ({"talkinghead_id": "b2f0d7b9", "synthetic": "true"}, True, "(matches the watermark)"),
    ({"talkinghead_id": "00000000", "synthetic": "true"}, True, "differs from the watermark's b2f0d7b9"),
    ({}, False, "no talkinghead tags"),
])
def test_metadata_finding_says_what_the_tags_hold(tags: dict, found: bool, says: str) -> None:
    finding = _metadata_finding(tags, "b2f0d7b9")
    assert finding.found == found and says in finding.detail and "None" not in finding.detail


@pytest.mark.parametrize(("drawn", "shown"), [(256, 128), (256, 192), (512, 256), (512, 384)])
def test_verify_sees_the_label_of_a_downscaled_copy(drawn: int, shown: int) -> None:
    """A platform's smaller copy: the label drawn for the larger frame is smaller than any label drawn for
    the copy's own size (256 px draws its smallest, 9 px high), and is still recognised; the bare photo is not."""
    photo = cv2.cvtColor(cv2.imread(str(DEMO_PORTRAIT)), cv2.COLOR_BGR2RGB)
    frame = cv2.resize(photo, (drawn, drawn), interpolation=cv2.INTER_AREA)
    labelled = VisibleLabel(drawn).apply(frame.copy())
    copy, bare = (cv2.resize(f, (shown, shown), interpolation=cv2.INTER_AREA) for f in (labelled, frame))
    assert _label_finding(copy, {}).found
    assert not _label_finding(bare, {}).found


def test_verify_says_no_on_unmarked_media_and_2_on_bad_input(tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    shutil.copy(DEMO_PORTRAIT, image)
    run = cli("verify", image)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no talkinghead provenance" in run.stdout
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    for bad in (broken, tmp_path / "missing.mp4"):
        run = cli("verify", bad)
        assert run.returncode == 2 and run.stderr.startswith("talkinghead: error:"), run.stderr


def test_marked_image_is_found(portrait_frames, tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    cv2.imwrite(str(path), cv2.cvtColor(_marked(portrait_frames[:1])[0], cv2.COLOR_RGB2BGR))
    run = cli("verify", path, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    assert json.loads(run.stdout)["video_id"] == VIDEO_ID


@pytest.mark.slow
def test_c2pa_manifest_is_signed_when_configured(tmp_path: Path, silence_wav: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("c2pa", reason="c2pa-python is in requirements/dev.txt; `make test` installs it")
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing: run `make test`, which installs it")
    cert, key = make_test_certificate(tmp_path)
    monkeypatch.setenv("TALKINGHEAD_C2PA_CERT", str(cert))
    monkeypatch.setenv("TALKINGHEAD_C2PA_KEY", str(key))
    out = tmp_path / "signed.mp4"
    result = talkinghead.render(DEMO_PORTRAIT, silence_wav, out, size=128, fps=10)
    manifest = read_manifest(out)
    assert manifest.by_talkinghead and manifest.video_id == result.video_id, manifest


def make_test_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway CA and ES256 signer, as README.md ("Content credentials") tells users to make them."""
    script = Path(__file__).resolve().parents[1] / "scripts" / "make-c2pa-test-certificate"
    subprocess.run([str(script), str(folder)], check=True, capture_output=True)
    return folder / "chain.pem", folder / "signer.key"
