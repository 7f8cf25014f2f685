"""Watermark robustness: detection after ordinary handling, false positives, visibility proxy, PSNR and cost.

    nice .venv/bin/python benchmarks/watermark.py [--clips 100] [--unmarked 200] [--size 512] [--work DIR]

Marked clips: 6 s renders, each of a different portrait scene: a bundled or ../shared/data/dev portrait set
into a larger picture whose background is plain, a gradient or a synthetic texture, at a random place and
size, rendered with the face crop or the full picture (speech made of the dev and bundled recordings joined
with pauses, a different mix and seed per clip, so a different video id each). Each clip goes through every
attack of issue 16 and is counted once per attack: detected means the watermark's marker and CRC check out
*and* the id read equals the clip's id. "256 px halved + crf 30" renders the same clip at 256x256 and halves
it. Unmarked videos: renders with the watermark left out (lower-level calls; the product
cannot turn it off), still-image videos of the portraits at several framings, camera-like clips of the
portraits (slow zooms and pans, sensor noise, exposure drift) and synthetic footage (moving textures and
gradients); each is read as is (``--unmarked-attacks N`` reads each after the first N attacks too), and any
payload found counts as a false positive. PSNR: marked vs the same frame unmarked. Cost: the time
`Watermark.apply` takes per frame vs the end-to-end render time per frame. "read s" is the mean time to
decode and read one attacked clip. Speed figures are provisional on a shared machine.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from wav_files import write_wav

from talkinghead import Controls
from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.audio import load_speech
from talkinghead.pipeline import prepare, render
from talkinghead.provenance import VisibleLabel, Watermark
from talkinghead.provenance.media import open_media
from talkinghead.provenance.watermark import DECODE_THRESHOLD, PREFIX_THRESHOLD, SYNC_THRESHOLD, read_frames
from talkinghead.render import Renderer

_HERE = Path(__file__).resolve()
SHARED = next((p for p in (_HERE.parents[2] / "shared" / "data" / "dev", _HERE.parents[3] / "shared" / "data" / "dev")
               if p.is_dir()), _HERE.parents[2] / "shared" / "data" / "dev")  # a checkout or a worktree beside it
CLIP_SECONDS = 6.0
UNMARKED_SECONDS = 2.0

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Attack:
    name: str
    transform: Transform | None = None
    crf: int = 18
    fps: float | None = None
    seconds: tuple[float, float] | None = None  # keep only this part (an excerpt)


def _scale(factor: float) -> Transform:
    return lambda f: cv2.resize(f, (round(f.shape[1] * factor) // 2 * 2, round(f.shape[0] * factor) // 2 * 2),
                                interpolation=cv2.INTER_AREA)


def _crop(share: float) -> Transform:
    def crop(frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        top, left = round(h * share), round(w * share)
        return frame[top : top + (h - 2 * top) // 2 * 2, left : left + (w - 2 * left) // 2 * 2]
    return crop


def _brightness(factor: float) -> Transform:
    return lambda f: np.clip(f.astype(np.float32) * factor, 0, 255).astype(np.uint8)


def _crop_off_centre(share: float) -> Transform:
    """Keep (1 - share) of each side, more cut at the top-left than at the bottom-right (the tile moves)."""
    def crop(frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        top, left = round(h * share * 0.65), round(w * share * 0.35)
        return frame[top : top + round(h * (1 - share)) // 2 * 2, left : left + round(w * (1 - share)) // 2 * 2]
    return crop


def _then(*transforms: Transform) -> Transform:
    def chain(frame: np.ndarray) -> np.ndarray:
        for transform in transforms:
            frame = transform(frame)
        return frame
    return chain


ATTACKS = [
    Attack("none (as rendered)"),
    Attack("crf 32 + downscale 50%", _scale(0.5), crf=32),
    Attack("crop 20% + bright 8% + crf 28", _then(_crop_off_centre(0.2), _brightness(1.08)), crf=28),
    Attack("15 fps", fps=15.0),
    Attack("5 s from the middle", seconds=(0.5, 5.5)),
    Attack("first 2 s only", seconds=(0.0, 2.0)),
]
SMALL_ATTACK = Attack("256 px halved + crf 30", _scale(0.5), crf=30)  # applied to a 256-px render of each clip


def video_frames(path: Path) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(stream)], fps


def write_video(frames: Iterable[np.ndarray], path: Path, fps: float, crf: int = 18,
                metadata: dict[str, str] | None = None) -> Path:
    """A silent H.264 MP4 (what a re-encoding site would make)."""
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4") as container:
        container.metadata.update(metadata or {})
        stream = None
        for index, frame in enumerate(frames):
            if stream is None:
                stream = container.add_stream("libx264", rate=rate)
                stream.height, stream.width = frame.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), "preset": "veryfast"}
            packet = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            packet.pts, packet.time_base = index, 1 / rate
            container.mux(stream.encode(packet))
        if stream is not None:
            container.mux(stream.encode(None))
    return path


def attacked(path: Path, attack: Attack, out: Path) -> Path:
    frames, fps = video_frames(path)
    if attack.seconds:
        frames = frames[round(attack.seconds[0] * fps) : round(attack.seconds[1] * fps)]
    if attack.fps:
        count = int(len(frames) * attack.fps / fps)
        frames = [frames[min(len(frames) - 1, round(i * fps / attack.fps))] for i in range(count)]
        fps = attack.fps
    if attack.transform:
        frames = [attack.transform(f) for f in frames]
    return write_video(frames, out, fps, attack.crf)


def speech_cuts(count: int, folder: Path, seconds: float = CLIP_SECONDS) -> Iterator[Path]:
    """``count`` WAVs of ``seconds``: the dev and bundled recordings joined with pauses, a different order and
    pause length for each (the dev recordings are 1.5-7 s long)."""
    sources = sorted(SHARED.glob("speech/*.wav")) if SHARED.is_dir() else []
    sources.append(DEMO_SPEECH)
    rate = 16000
    voices = []
    for source in sources:
        speech = load_speech(source)  # the project's own decoder: float32 at the file's rate
        samples = speech.original.mean(axis=0)
        if speech.original_rate != rate:
            samples = np.interp(np.arange(0, len(samples), speech.original_rate / rate), np.arange(len(samples)),
                                samples).astype(np.float32)
        voices.append(samples)
    for index in range(count):
        rng = np.random.default_rng(index)
        parts, total = [], 0
        while total < seconds * rate:
            voice = voices[int(rng.integers(len(voices)))]
            pause = np.zeros(int(rate * rng.uniform(0.2, 0.9)), np.float32)
            parts += [voice, pause]
            total += len(voice) + len(pause)
        cut = folder / f"speech-{index}.wav"
        write_wav(cut, np.concatenate(parts)[: int(seconds * rate)], rate)
        yield cut


def portraits() -> list[Path]:
    found = [DEMO_PORTRAIT]
    if SHARED.is_dir():
        found += sorted(p for p in (SHARED / "portraits").iterdir() if p.suffix.lower() in (".png", ".jpg"))
    return found


BACKGROUNDS = ("a plain background", "a gradient", "a texture")


def scene(portrait: Path, index: int, out: Path) -> tuple[Path, str]:
    """``portrait`` set into a larger picture (a plain, gradient or textured background; random place and
    size) and the crop to render it with: the variety of content the mark must survive in."""
    rng = np.random.default_rng(10_000 + index)
    face = cv2.imread(str(portrait))
    h, w = face.shape[:2]
    scale = 512 / max(h, w) * rng.uniform(0.8, 1.0)
    face = cv2.resize(face, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    h, w = face.shape[:2]
    height, width = round(h * rng.uniform(1.0, 1.5)), round(w * rng.uniform(1.0, 1.6))
    kind = index // 3 % 3  # every portrait meets every background
    colour = rng.uniform(20, 235, 3).astype(np.float32)
    if kind == 0:  # plain, with faint sensor noise
        background = np.broadcast_to(colour, (height, width, 3)) + rng.normal(0, 1.0, (height, width, 3))
    elif kind == 1:  # a gradient
        ramp = np.linspace(rng.uniform(-60, 0), rng.uniform(0, 60), width, dtype=np.float32)
        background = colour + ramp[None, :, None] + np.zeros((height, 1, 1), np.float32)
    else:  # a texture (blurred noise, like foliage, fabric or plaster)
        field = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32), (0, 0), rng.uniform(1, 6))
        background = colour + field * rng.uniform(8, 40) / (field.std() + 1e-6)
    picture = np.clip(background, 0, 255).astype(np.uint8).copy()
    top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
    picture[top : top + h, left : left + w] = face
    cv2.imwrite(str(out), picture)
    return out, ("face", "full")[index // 9 % 2]


def render_clip(portrait: Path, speech: Path, seed: int, size: int, out: Path, marked: bool,
                crop: str = "face") -> tuple[Path, str]:
    """A silent clip as long as ``speech``; ``marked=False`` leaves the watermark out (benchmarks only)."""
    prepared = prepare(portrait, speech, Controls(size=size, seed=seed, crop=crop))
    rig = prepared.rig
    label = VisibleLabel((rig.width, rig.height))
    watermark = Watermark(prepared.video_id, rig.height, rig.width)
    frames = (label.apply(f) for f in Renderer(rig).frames(prepared.track))
    if marked:
        frames = (watermark.apply(f) for f in frames)
    return write_video(frames, out, prepared.controls.fps, 20), prepared.video_id


def still_clip(portrait: Path, size: int, zoom: float, out: Path) -> Path:
    """A video of an unmarked still portrait (framed by ``zoom``), never watermarked."""
    image = cv2.cvtColor(cv2.imread(str(portrait)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    side = int(min(h, w) / zoom)
    top, left = (h - side) // 2, (w - side) // 2
    frame = cv2.resize(image[top : top + side, left : left + side], (size, size), interpolation=cv2.INTER_AREA)
    return write_video(itertools.repeat(frame, int(UNMARKED_SECONDS * 25)), out, 25.0, 20)


def camera_clip(portrait: Path, size: int, seed: int, out: Path) -> Path:
    """A camera-like video of a portrait: a slow zoom and pan, sensor noise and a drifting exposure."""
    rng = np.random.default_rng(seed)
    image = cv2.cvtColor(cv2.imread(str(portrait)), cv2.COLOR_BGR2RGB).astype(np.float32)
    h, w = image.shape[:2]
    count = int(UNMARKED_SECONDS * 25)
    zoom0, zoom1 = rng.uniform(1.0, 1.6, 2)
    centre0, centre1 = rng.uniform(0.4, 0.6, (2, 2))
    noise, drift = rng.uniform(1.0, 5.0), rng.uniform(-0.1, 0.1)

    def frame(t: float) -> np.ndarray:
        zoom = zoom0 + (zoom1 - zoom0) * t
        side = min(h, w) / zoom
        cy, cx = (centre0 + (centre1 - centre0) * t) * (h, w)
        top, left = np.clip(cy - side / 2, 0, h - side), np.clip(cx - side / 2, 0, w - side)
        scale = size / side
        warp = np.float32([[scale, 0, -left * scale], [0, scale, -top * scale]])
        view = cv2.warpAffine(image, warp, (size, size), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        view = view * (1 + drift * t) + rng.normal(0, noise, view.shape).astype(np.float32)
        return np.clip(view, 0, 255).astype(np.uint8)

    return write_video((frame(i / count) for i in range(count)), out, 25.0, 23)


def synthetic_clip(size: int, seed: int, out: Path) -> Path:
    """Footage no portrait is in: a moving blurred-noise texture over a gradient, with grain."""
    rng = np.random.default_rng(seed)
    count = int(UNMARKED_SECONDS * 25)
    blur = rng.uniform(1.5, 12.0)
    field = cv2.GaussianBlur(rng.normal(0, 1, (2 * size, 2 * size, 3)).astype(np.float32), (0, 0), blur)
    field *= rng.uniform(10, 60) / (field.std() + 1e-6)
    ramp = np.linspace(rng.uniform(30, 120), rng.uniform(120, 230), size, dtype=np.float32)
    base = ramp[:, None, None] if rng.random() < 0.5 else ramp[None, :, None]
    step = rng.uniform(-3, 3, 2)

    def frame(i: int) -> np.ndarray:
        y, x = (np.array([size // 2, size // 2]) + step * i).astype(int) % size
        view = base + field[y : y + size, x : x + size] + rng.normal(0, 1.5, (size, size, 3)).astype(np.float32)
        return np.clip(view, 0, 255).astype(np.uint8)

    return write_video((frame(i) for i in range(count)), out, 25.0, 23)


def unmarked_clip(kind: int, index: int, faces: list[Path], speech: Path, size: int, work: Path) -> Path:
    """The ``index``-th unmarked video, of one of four kinds in turn."""
    face = faces[index % len(faces)]
    if kind == 0:
        return still_clip(face, size, 0.5 + (index % 13) / 8, work / "still.mp4")
    if kind == 1:
        return camera_clip(face, size, index, work / "camera.mp4")
    if kind == 2:
        return synthetic_clip(size, index, work / "synthetic.mp4")
    return render_clip(face, speech, 1000 + index, size, work / "unmarked.mp4", marked=False)[0]


def read_file(path: Path):
    return read_frames(open_media(path).frames())


def psnr_and_cost(size: int) -> tuple[float, float, float]:
    """PSNR of marked vs unmarked frames, ms per frame to mark, and end-to-end ms per frame."""
    prepared = prepare(DEMO_PORTRAIT, DEMO_SPEECH, Controls(size=size))
    watermark = Watermark(prepared.video_id, size, size)
    errors, mark_s, n = [], 0.0, 0
    for frame in itertools.islice(Renderer(prepared.rig).frames(prepared.track), 250):
        original = frame.copy()
        started = time.perf_counter()
        watermark.apply(frame)
        mark_s += time.perf_counter() - started
        errors.append(np.mean((frame.astype(np.float32) - original) ** 2))
        n += 1
    psnr = 10 * np.log10(255.0**2 / np.mean(errors))
    with tempfile.TemporaryDirectory() as folder:
        result = render(DEMO_PORTRAIT, DEMO_SPEECH, Path(folder) / "e2e.mp4", size=size)
    return float(psnr), 1000 * mark_s / n, 1000 * result.seconds / result.n_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=20, help="marked clips (each goes through every attack)")
    parser.add_argument("--unmarked", type=int, default=50, help="unmarked clips for false positives")
    parser.add_argument("--unmarked-attacks", type=int, default=1,
                        help="read each unmarked clip after this many of the attacks (1: as is only)")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--work", type=Path, help="keep the clips here (default: a temporary folder)")
    parser.add_argument("--progress", action="store_true", help="print the running counts after each clip")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="thwm-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(args, work)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    faces = portraits()
    cuts = list(speech_cuts(args.clips, work))
    attacks = [*ATTACKS, SMALL_ATTACK]
    detected = {attack.name: 0 for attack in attacks}
    scores: dict[str, list[float]] = {attack.name: [] for attack in attacks}
    read_s: dict[str, list[float]] = {attack.name: [] for attack in attacks}
    for index in range(args.clips):
        face, crop = scene(faces[index % len(faces)], index, work / "scene.png")
        described = f"{faces[index % len(faces)].name} on {BACKGROUNDS[index // 3 % 3]}, {crop} crop"
        clip, video_id = render_clip(face, cuts[index], index, args.size, work / "marked.mp4", True, crop)
        small, small_id = render_clip(face, cuts[index], index, 256, work / "marked-256.mp4", True, crop)
        for attack in attacks:
            source, expected = (small, small_id) if attack is SMALL_ATTACK else (clip, video_id)
            copy = attacked(source, attack, work / "attacked.mp4")
            started = time.perf_counter()
            reading = read_file(copy)
            read_s[attack.name].append(time.perf_counter() - started)
            ok = reading.payload is not None and reading.payload.video_id == expected
            detected[attack.name] += ok
            scores[attack.name].append(reading.sync_score)
            if not ok:
                print(f"  missed: clip {index} ({described}) after {attack.name}: {reading}", flush=True)
        if args.progress:
            print(f"  clip {index + 1}/{args.clips}: " + ", ".join(f"{n} {d}" for n, d in detected.items()), flush=True)
    print(f"\nDetection over {args.clips} marked {CLIP_SECONDS:g} s clips at {args.size}x{args.size}")
    print(f"{'attack':<32}{'detected':>12}{'rate':>8}{'min score':>11}{'median score':>14}{'read s':>8}")
    for attack in attacks:
        rate = detected[attack.name] / max(args.clips, 1)
        print(f"{attack.name:<32}{detected[attack.name]:>7}/{args.clips:<4}{rate:>8.1%}"
              f"{min(scores[attack.name], default=0):>11.1f}{np.median(scores[attack.name] or [0]):>14.1f}"
              f"{np.mean(read_s[attack.name] or [0]):>8.2f}", flush=True)

    false_positives, checks, worst, worst_prefix = 0, 0, 0.0, 0.0
    kinds = ("still-image videos", "camera-like clips", "synthetic footage", "unmarked renders")
    per_kind = [0] * len(kinds)
    unmarked_speech = list(speech_cuts(4, work, UNMARKED_SECONDS))
    for index in range(args.unmarked):
        kind = index % len(kinds)
        per_kind[kind] += 1
        clip = unmarked_clip(kind, index, faces, unmarked_speech[index % 4], args.size, work)
        for attack in ATTACKS[: args.unmarked_attacks]:
            reading = read_file(attacked(clip, attack, work / "attacked.mp4"))
            checks += 1
            worst = max(worst, reading.sync_score)
            worst_prefix = max(worst_prefix, reading.prefix_score)
            if reading.payload is not None:
                false_positives += 1
                print(f"  FALSE POSITIVE: unmarked {index} ({kinds[kind]}) after {attack.name}: {reading}")
        if args.progress and (index + 1) % 20 == 0:
            print(f"  unmarked {index + 1}/{args.unmarked}: {false_positives} false positives", flush=True)
    made = ", ".join(f"{n} {k}" for n, k in zip(per_kind, kinds, strict=True))
    print(f"\nFalse positives: {false_positives} of {checks} reads ({args.unmarked} unmarked videos: {made}; each "
          f"read after the first {args.unmarked_attacks} attack(s)); highest score {worst:.1f} "
          f"(decoding from {DECODE_THRESHOLD}, 'seen' from {SYNC_THRESHOLD}); highest known-prefix score "
          f"{worst_prefix:.1f} (decoding from {PREFIX_THRESHOLD})")

    psnr, mark_ms, total_ms = psnr_and_cost(args.size)
    print(f"\nPSNR marked vs unmarked: {psnr:.2f} dB")
    print(f"Watermark cost: {mark_ms:.2f} ms/frame of {total_ms:.1f} ms/frame end to end "
          f"({mark_ms / total_ms:.1%}; provisional, shared machine)")


if __name__ == "__main__":
    main()
