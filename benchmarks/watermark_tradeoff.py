"""Watermark design harness: visibility proxy and reads after the hard attacks, for any candidate module.

    nice .venv/bin/python benchmarks/watermark_tradeoff.py [--module talkinghead.provenance.watermark]
        [--scenes 0 2 4 5 7 8 11 13 16 17] [--work DIR] [--portraits P ...]

Made for comparing watermark designs quickly (about 90 s for ten scenes on two cores once the renders are
cached), not for the acceptance figures (`benchmarks/watermark.py` gives those). ``--module`` names any
importable module with the interface of `talkinghead.provenance.watermark` (``Watermark(video_id, height,
width).apply(frame)`` and ``read_frames(frames)``), e.g. a copy with other constants (docs/provenance.md
says how to restore the fourth round's large-carrier variant from git).

Robustness: scenes are those of `benchmarks/watermark.py` (``scene(portrait, index)``: a bundled or dev
portrait on a plain, gradient or textured background, face or full crop), rendered once without the mark
(3 s, at 512 and 256 px) and cached under ``--work``. Each is marked, encoded as the product encodes
(`talkinghead.video.mp4`'s x264 settings), then read as is, after "crf 32 + 50% downscale", after
"20% crop + 8% brightness + crf 28" and from its first 2 s; the 256-px render after "halved + crf 30".

Visibility proxy: each ``--portraits`` photo (long side <= 1024) as 25 identical frames, marked and encoded
as the product does, scored like ../shared/tools/wm_visibility.py (high-pass excess in the photo's flat
areas); "no mark" is the same without the mark. It skips the renderer, so it reads lower than the tool on
portraits whose render changes the picture near the face (the tool's "no mark" figure includes that).
"""

from __future__ import annotations

import argparse
import importlib
import io
import time
from pathlib import Path
from types import ModuleType

import av
import cv2
import numpy as np
from watermark import SHARED, _brightness, _crop_off_centre, _scale, _then, portraits, scene, speech_cuts

from talkinghead import Controls
from talkinghead.pipeline import prepare
from talkinghead.provenance import VisibleLabel
from talkinghead.render import Renderer
from talkinghead.video import mp4

VIDEO_ID = "1234abcd"
SECONDS = 3.0
HARD = {
    "crf 32 + half": (_scale(0.5), 32),
    "crop 20% + bright 8% + crf 28": (_then(_crop_off_centre(0.2), _brightness(1.08)), 28),
}


def x264(frames: list[np.ndarray], crf: int, product: bool = False) -> tuple[list[np.ndarray], int]:
    """Frames through libx264 and back (the product's settings, or a plain re-encode) and the bytes used."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast",
                          **({"x264-params": mp4.X264_PARAMS} if product else {})}
        if product:
            stream.codec_context.thread_count = mp4.X264_THREADS
        for index, frame in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            picture.pts = index
            container.mux(stream.encode(picture))
        container.mux(stream.encode(None))
    size = buffer.tell()
    buffer.seek(0)
    with av.open(buffer) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)], size


def cached_render(index: int, size: int, work: Path) -> np.ndarray:
    """The unmarked, labelled frames of scene ``index`` at ``size`` (rendered once, then read from disk)."""
    path = work / f"scene{index}-{size}.npy"
    if not path.exists():
        speech = list(speech_cuts(index + 1, work, SECONDS))[index]
        picture, crop = scene(portraits()[index % len(portraits())], index, work / f"scene{index}.png")
        prepared = prepare(picture, speech, Controls(size=size, seed=index, crop=crop))
        label = VisibleLabel((prepared.rig.width, prepared.rig.height))
        np.save(path, np.stack([label.apply(f) for f in Renderer(prepared.rig).frames(prepared.track)]))
    return np.load(path)


def marked_product(module: ModuleType, raw: np.ndarray) -> tuple[list[np.ndarray], float]:
    """``raw`` marked by ``module`` and encoded as the product does; ms per frame spent marking."""
    watermark = module.Watermark(VIDEO_ID, *raw.shape[1:3])
    frames, spent = [], 0.0
    for frame in raw:
        frame = frame.copy()
        started = time.perf_counter()
        watermark.apply(frame)
        spent += time.perf_counter() - started
        frames.append(frame)
    return x264(frames, 20, product=True)[0], 1000 * spent / len(raw)


def robustness(module: ModuleType, scenes: list[int], work: Path) -> None:
    names = ["as encoded", *HARD, "first 2 s", "256 px halved + crf 30"]
    reads = dict.fromkeys(names, 0)
    costs = []
    for index in scenes:
        row = []
        for size in (512, 256):
            frames, cost = marked_product(module, cached_render(index, size, work))
            costs.append(cost)
            if size == 512:
                copies = {"as encoded": frames, "first 2 s": frames[:50]}
                copies.update({name: x264([transform(f) for f in frames], crf)[0]
                               for name, (transform, crf) in HARD.items()})
            else:
                copies = {"256 px halved + crf 30": x264([_scale(0.5)(f) for f in frames], 30)[0]}
            for name, copy in copies.items():
                reading = module.read_frames(copy)
                ok = reading.payload is not None and reading.payload.video_id == VIDEO_ID
                reads[name] += ok
                row.append(f"{name} {'read' if ok else 'MISSED'} ({reading.sync_score:.1f})")
        print(f"scene {index}: " + "; ".join(row), flush=True)
    print("\nreads: " + ", ".join(f"{name} {count}/{len(scenes)}" for name, count in reads.items()))
    print(f"total {sum(reads.values())}/{len(scenes) * len(names)}; marking {np.mean(costs):.2f} ms/frame")


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def high_pass(y: np.ndarray) -> np.ndarray:
    return y - cv2.GaussianBlur(y, (0, 0), 6)


def visibility(module: ModuleType | None, path: Path) -> tuple[float, float]:
    """Flat-area excess detail (grey levels RMS) of the still photo marked by ``module`` (None: unmarked)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    scale = 1024 / max(image.shape[:2])
    if scale < 1:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    image = cv2.cvtColor(image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2], cv2.COLOR_BGR2RGB)
    frames = [image.copy() for _ in range(25)]
    if module is not None:
        watermark = module.Watermark(VIDEO_ID, *image.shape[:2])
        frames = [watermark.apply(f) for f in frames]
    decoded, _ = x264(frames, 20, product=True)
    photo = luma(image)
    mean = cv2.blur(photo, (9, 9))
    spread = np.sqrt(np.maximum(cv2.blur(photo * photo, (9, 9)) - mean * mean, 0))
    flat = cv2.erode((spread < 3).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    average = luma(np.mean(decoded, axis=0))
    excess = (high_pass(average) - high_pass(photo))[flat]
    return float(np.sqrt(np.mean(excess**2))) if flat.any() else float("nan"), float(flat.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default="talkinghead.provenance.watermark")
    parser.add_argument("--scenes", type=int, nargs="*", default=[0, 2, 4, 5, 7, 8, 11, 13, 16, 17])
    parser.add_argument("--portraits", type=Path, nargs="*",
                        default=sorted((SHARED / "portraits").glob("*.*")) if SHARED.is_dir() else [])
    parser.add_argument("--work", type=Path, default=Path("/tmp/th-wm-tradeoff"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    module = importlib.import_module(args.module)
    for path in args.portraits:
        (marked, flat), (bare, _) = visibility(module, path), visibility(None, path)
        print(f"visibility proxy {path.name}: {marked:.2f} (no mark {bare:.2f}; flat share {flat:.2f})", flush=True)
    if args.scenes:
        robustness(module, args.scenes, args.work)


if __name__ == "__main__":
    main()
