"""Watermark robustness: detection after ordinary handling, false positives, PSNR and cost.

    .venv/bin/python benchmarks/watermark.py [--clips 20] [--unmarked 50] [--size 512] [--work DIR]

Marked clips: 5 s renders (bundled and ../shared/data/dev portraits, 5 s cuts of the dev and bundled speech,
a different seed per clip, so a different video id each). Each clip goes through every attack below and is
counted once per attack: detected means the watermark's marker and CRC check out *and* the id read equals the
clip's id. Unmarked clips: the same kind of renders with the watermark left out (lower-level calls; the
product cannot turn it off) and still-image videos of the portraits at several framings; each is read as is
(``--unmarked-attacks 8`` reads each after every attack too), and any payload found counts as a false
positive. PSNR: marked vs the same frame unmarked. Cost: the time `Watermark.apply` takes per frame vs the
end-to-end render time per frame. "read s" is the mean time to decode and read one attacked clip.
Speed figures are provisional on a shared machine.
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
from talkinghead.provenance.watermark import SYNC_THRESHOLD, read_frames
from talkinghead.render import Renderer

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev"
CLIP_SECONDS = 5.0

Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Attack:
    name: str
    transform: Transform | None = None
    crf: int = 18
    fps: float | None = None


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


ATTACKS = [
    Attack("none (as rendered)"),
    Attack("x264 crf 32", crf=32),
    Attack("downscale 50%", _scale(0.5)),
    Attack("crop 10% each side", _crop(0.10)),
    Attack("brightness +20%", _brightness(1.2)),
    Attack("brightness -20%", _brightness(0.8)),
    Attack("15 fps", fps=15.0),
    Attack("crf 32 + downscale 50%", _scale(0.5), crf=32),
]


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
    if attack.fps:
        count = int(len(frames) * attack.fps / fps)
        frames = [frames[min(len(frames) - 1, round(i * fps / attack.fps))] for i in range(count)]
        fps = attack.fps
    if attack.transform:
        frames = [attack.transform(f) for f in frames]
    return write_video(frames, out, fps, attack.crf)


def speech_cuts(count: int, folder: Path) -> Iterator[Path]:
    """5 s WAV cuts of the dev and bundled speech, cycling through them."""
    sources = sorted(SHARED.glob("speech/*.wav")) if SHARED.is_dir() else []
    sources.append(DEMO_SPEECH)
    cuts: list[Path] = []
    for source in sources:
        speech = load_speech(source)  # the project's own decoder: float32 at the file's rate
        samples, rate = speech.original.mean(axis=0), speech.original_rate
        step = int(CLIP_SECONDS * rate)
        for start in range(0, len(samples) - step + 1, step):
            cut = folder / f"{source.stem}-{start // step}.wav"
            write_wav(cut, samples[start : start + step], rate)
            cuts.append(cut)
    yield from itertools.islice(itertools.cycle(cuts), count)


def portraits() -> list[Path]:
    found = [DEMO_PORTRAIT]
    if SHARED.is_dir():
        found += sorted(p for p in (SHARED / "portraits").iterdir() if p.suffix.lower() in (".png", ".jpg"))
    return found


def render_clip(portrait: Path, speech: Path, seed: int, size: int, out: Path, marked: bool) -> tuple[Path, str]:
    """A silent 5 s clip; ``marked=False`` leaves the watermark out (benchmarks only)."""
    prepared = prepare(portrait, speech, Controls(size=size, seed=seed))
    label = VisibleLabel(size)
    watermark = Watermark(prepared.video_id, size, size)
    frames = (label.apply(f) for f in Renderer(prepared.rig).frames(prepared.track))
    if marked:
        frames = (watermark.apply(f) for f in frames)
    return write_video(frames, out, prepared.controls.fps, 20), prepared.video_id


def still_clip(portrait: Path, size: int, zoom: float, out: Path) -> Path:
    """A 5 s video of an unmarked still portrait (framed by ``zoom``), never watermarked."""
    image = cv2.cvtColor(cv2.imread(str(portrait)), cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    side = int(min(h, w) / zoom)
    top, left = (h - side) // 2, (w - side) // 2
    frame = cv2.resize(image[top : top + side, left : left + side], (size, size), interpolation=cv2.INTER_AREA)
    return write_video(itertools.repeat(frame, int(CLIP_SECONDS * 25)), out, 25.0, 20)


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
    cuts = list(speech_cuts(args.clips + args.unmarked, work))
    detected = {attack.name: 0 for attack in ATTACKS}
    scores: dict[str, list[float]] = {attack.name: [] for attack in ATTACKS}
    read_s: dict[str, list[float]] = {attack.name: [] for attack in ATTACKS}
    for index in range(args.clips):
        clip, video_id = render_clip(faces[index % len(faces)], cuts[index], index, args.size,
                                     work / f"marked-{index}.mp4", marked=True)
        for attack in ATTACKS:
            copy = attacked(clip, attack, work / "attacked.mp4")
            started = time.perf_counter()
            reading = read_file(copy)
            read_s[attack.name].append(time.perf_counter() - started)
            ok = reading.payload is not None and reading.payload.video_id == video_id
            detected[attack.name] += ok
            scores[attack.name].append(reading.sync_score)
            if not ok:
                print(f"  missed: clip {index} after {attack.name}: {reading}")
        if args.progress:
            print(f"  clip {index + 1}/{args.clips}: " + ", ".join(f"{n} {d}" for n, d in detected.items()), flush=True)
    print(f"\nDetection over {args.clips} marked {CLIP_SECONDS:g} s clips at {args.size}x{args.size}")
    print(f"{'attack':<26}{'detected':>12}{'rate':>8}{'min score':>11}{'median score':>14}{'read s':>8}")
    for attack in ATTACKS:
        rate = detected[attack.name] / args.clips
        print(f"{attack.name:<26}{detected[attack.name]:>7}/{args.clips:<4}{rate:>8.1%}"
              f"{min(scores[attack.name]):>11.1f}{np.median(scores[attack.name]):>14.1f}"
              f"{np.mean(read_s[attack.name]):>8.2f}")

    false_positives, checks, worst = 0, 0, 0.0
    n_still = args.unmarked // 2
    for index in range(args.unmarked):
        if index < n_still:
            clip = still_clip(faces[index % len(faces)], args.size, 0.5 + index / n_still,
                              work / f"still-{index}.mp4")
        else:
            clip, _ = render_clip(faces[index % len(faces)], cuts[args.clips + index], 1000 + index, args.size,
                                  work / f"unmarked-{index}.mp4", marked=False)
        for attack in ATTACKS[: args.unmarked_attacks]:
            reading = read_file(attacked(clip, attack, work / "attacked.mp4"))
            checks += 1
            worst = max(worst, reading.sync_score)
            if reading.payload is not None:
                false_positives += 1
                print(f"  FALSE POSITIVE: {clip.name} after {attack.name}: {reading}")
    print(f"\nFalse positives: {false_positives} of {checks} reads ({args.unmarked} unmarked clips: {n_still} "
          f"still-image videos, {args.unmarked - n_still} renders without the watermark; each read after the "
          f"first {args.unmarked_attacks} attack(s)); highest score {worst:.1f} (threshold {SYNC_THRESHOLD})")

    psnr, mark_ms, total_ms = psnr_and_cost(args.size)
    print(f"\nPSNR marked vs unmarked: {psnr:.2f} dB")
    print(f"Watermark cost: {mark_ms:.2f} ms/frame of {total_ms:.1f} ms/frame end to end "
          f"({mark_ms / total_ms:.1%}; provisional, shared machine)")


if __name__ == "__main__":
    main()
