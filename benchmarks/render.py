"""Renderer review and acceptance figures, per portrait.

    .venv/bin/python benchmarks/render.py [--portraits DIR] [--size 512] [--out benchmarks/out]

For every portrait (the bundled one, plus ../shared/data/dev/portraits when present):
- a contact sheet PNG of extreme poses, visemes, blinks, gaze and expressions, for a viewer's eye;
- render speed (warp + mouth + eyes, no encoding) over a speaking track with head motion;
- rest exactness: PSNR of the photo's neutral pose against the framed photo;
- identity: dlib 128-d embedding distance between the framed photo and frames of a 10 s speaking clip;
- mouth follows command: correlation of dlib's inner-lip gap with a commanded opening sweep, and the gap
  when commanded closed (share of face height);
- no holes and no visible folds at the extreme poses.
dlib is an independent model (not the renderer's MediaPipe); it is for evaluation only.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from talkinghead import Controls
from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.audio import load_speech
from talkinghead.eval.face_metrics import face_embedding, face_height, inner_lip_gap, landmarks68
from talkinghead.face import build_rig
from talkinghead.motion import generate_motion
from talkinghead.render import Renderer
from talkinghead.render.warp import MeshWarper

SHARED_PORTRAITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "portraits"
SHEET = [
    ("photo", {}), ("closed", {"jaw_open": 0.0}), ("aa", {"jaw_open": 0.8, "lips_open": 0.7}),
    ("O", {"jaw_open": 0.35, "lips_open": 0.4, "lip_pucker": 0.9}), ("E", {"jaw_open": 0.25, "lip_width": 0.8}),
    ("FF", {"jaw_open": 0.15, "lower_lip_tuck": 1.0, "upper_lip_raise": 0.4}),
    ("TH", {"jaw_open": 0.3, "lips_open": 0.4, "tongue_show": 1.0}), ("blink", {"blink_left": 1, "blink_right": 1}),
    ("gaze left", {"gaze_yaw": -20}), ("gaze up", {"gaze_pitch": -15}), ("yaw -20", {"head_yaw": -20}),
    ("yaw +20", {"head_yaw": 20}), ("pitch +15", {"head_pitch": 15}), ("pitch -15", {"head_pitch": -15}),
    ("roll +10", {"head_roll": 10}), ("smile", {"smile": 1, "cheek_raise": 1}),
    ("brows up", {"brow_raise": 1}), ("frown", {"brow_furrow": 1}),
]
EXTREMES = [{"head_yaw": y, "head_pitch": p, "head_roll": r, "jaw_open": 1.0, "lips_open": 1.0}
            for y in (-20, 20) for p in (-15, 15) for r in (-10, 10)]


def contact_sheet(renderer: Renderer, path: Path, columns: int = 6, thumb: int = 256) -> None:
    neutral = renderer.rig.neutral
    tiles = []
    for name, values in SHEET:
        pose = {**neutral, **values} if name != "closed" else values
        tile = cv2.resize(renderer.draw(pose), (thumb, thumb), interpolation=cv2.INTER_AREA)
        cv2.putText(tile, name, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (255, 255, 255), 2, cv2.LINE_AA)
        tiles.append(tile)
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)]
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def speaking_track(seconds: float, size: int):  # type: ignore[no-untyped-def]
    speech = load_speech(DEMO_SPEECH)
    repeats = int(np.ceil(seconds / speech.duration))
    speech.original = np.tile(speech.original, repeats)[:, : int(seconds * speech.original_rate)]
    speech.energy_db = np.tile(speech.energy_db, repeats)[: int(seconds * 100)]
    speech.activity = np.tile(speech.activity, repeats)[: int(seconds * 100)]
    return generate_motion(speech, Controls(size=size, seed=1))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def measure(portrait: Path, size: int, out: Path) -> dict[str, float]:
    rig = build_rig(portrait, size)
    renderer = Renderer(rig)
    contact_sheet(renderer, out / f"render-{portrait.stem}.png")
    track = speaking_track(10.0, size)
    frames = [track.frame(i) for i in range(track.n_frames)]
    renderer.draw(frames[0])
    started = time.perf_counter()
    drawn = [renderer.draw(values) for values in frames]
    fps = len(frames) / (time.perf_counter() - started)

    reference = face_embedding(rig.image)
    distances = [np.linalg.norm(face_embedding(f) - reference) for f in drawn[::5] if face_embedding(f) is not None]

    sweep = 0.5 - 0.5 * np.cos(np.linspace(0, 4 * np.pi, 60))
    gaps, heights = [], []
    for amount in sweep:
        points = landmarks68(renderer.draw({"jaw_open": amount, "lips_open": amount}))
        gaps.append(inner_lip_gap(points) if points is not None else np.nan)
        heights.append(face_height(points) if points is not None else np.nan)
    gaps, heights = np.array(gaps), np.array(heights)
    valid = ~np.isnan(gaps)
    closed = sweep < 0.02

    every_triangle = MeshWarper(rig.image, renderer.rest + 0.05, rig.mesh.triangles)
    holes = sum(int(np.isinf(every_triangle.source_map(renderer.deform(v))[3]).sum()) for v in EXTREMES)
    return {
        "render_fps": fps,
        "rest_psnr": psnr(renderer.draw(rig.neutral), rig.image),
        "identity_mean": float(np.mean(distances)), "identity_max": float(np.max(distances)),
        "identity_frames": len(distances),
        "mouth_corr": float(np.corrcoef(sweep[valid], gaps[valid])[0, 1]),
        "closed_gap": float(np.nanmax(gaps[closed] / heights[closed])),
        "holes": holes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=SHARED_PORTRAITS)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    portraits = [DEMO_PORTRAIT]
    if args.portraits.is_dir():
        portraits += sorted(p for p in args.portraits.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    header = (f"{'portrait':<16}{'render fps':>11}{'rest PSNR':>10}{'id mean':>9}{'id max':>8}{'mouth r':>9}"
              f"{'closed gap':>12}{'holes':>7}")
    print(f"{args.size}x{args.size}; contact sheets in {args.out}")
    print(header)
    for portrait in portraits:
        m = measure(portrait, args.size, args.out)
        print(f"{portrait.stem:<16}{m['render_fps']:>11.1f}{m['rest_psnr']:>10.1f}{m['identity_mean']:>9.3f}"
              f"{m['identity_max']:>8.3f}{m['mouth_corr']:>9.3f}{m['closed_gap']:>12.3f}{m['holes']:>7d}")


if __name__ == "__main__":
    main()
