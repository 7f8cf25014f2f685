"""Eyes, framing and silhouette review: contact sheets and figures, per portrait.

    .venv/bin/python benchmarks/eyes_and_framing.py [PORTRAIT ...] [--size N] [--head-distance D] [--out DIR]

Without portraits: the bundled one plus ../shared/data/dev/portraits when present. For each portrait:
- a contact sheet PNG: 3x zooms of both eyes open, half closed, fully closed and looking down; 2x zooms of the
  silhouette (far cheek, ear, hair edge) at the largest head turns each way; the photo with the frame drawn on it,
  and the frame's four borders at the largest turn;
- blink_ratio: dlib's eye aspect ratio with both eyes commanded shut / with them open (real full blinks read a
  median 0.47 at ~100 px between the eyes: docs/rendering.md);
  blink_turned: the same, the median over the rest pose and four head turns and tilts (a video blinks while
  the head moves); open_ear / shut_ear: the aspect ratios themselves there. dlib reads real closed eyes at
  ~0.12-0.16 (ten real people's blinks: 0.35-0.54 of their open value), so on eyes narrow in the photo (open_ear
  ~0.21) a lid shut like a real one cannot read much below ~0.5 of open; shut_ear says whether dlib reads
  the drawn lid as shut as it reads real ones;
- outside_px: how far (pixels) any output pixel's source lies outside the framed photo over the extreme poses
  (0 = every pixel is the photo's own), and whether the frame is a plain rectangle of the photo;
- silhouette (`talkinghead.eval.silhouette`): over a sweep of head turns up to the motion limits (default motion
  and --motion-scale 2), the share of pixels in the band around the face outline that show the photo mirrored
  (folded_share), how much more the sharpest corner of the outline or the rings of cheek, ear and hair edge
  bends than at rest (outline_kink_deg; a zig-zag fold bends them by tens of degrees), how far the face's
  visible edge strays from a smooth curve (outline_roughness_px; a sawtooth shows as its amplitude), folds_ok
  when all three stay within their limits, and the 99th percentile of the local stretch there (ratio of the
  warp's singular values).
dlib is an independent model (not the renderer's MediaPipe); it is for evaluation only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from talkinghead.assets import DEMO_PORTRAIT
from talkinghead.eval.face_metrics import landmarks68
from talkinghead.eval.silhouette import silhouette_check
from talkinghead.face import build_rig
from talkinghead.face import topology as topo
from talkinghead.face.image import load_image
from talkinghead.motion.head import LIMIT
from talkinghead.render import Renderer
from talkinghead.render.warp import MeshWarper

SHARED_PORTRAITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "portraits"
TILE = 240
EYE_POSES = [("open", {}), ("half", {"blink_left": 0.5, "blink_right": 0.5}),
             ("shut", {"blink_left": 1.0, "blink_right": 1.0}), ("look down", {"gaze_pitch": 15.0})]
TURNS = [{"head_yaw": sign * LIMIT["head_yaw"], "head_pitch": pitch, "head_roll": sign * 0.5 * LIMIT["head_roll"],
          "head_x": sign * 0.5 * LIMIT["head_x"]}
         for sign in (-1.0, 1.0) for pitch in (-0.5 * LIMIT["head_pitch"], 0.5 * LIMIT["head_pitch"])]


def eye_aspect(points: np.ndarray) -> float:
    """dlib's eye aspect ratio, both eyes averaged."""
    def one(eye: np.ndarray) -> float:
        return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4]))
                     / (2 * np.linalg.norm(eye[0] - eye[3])))
    return (one(points[36:42]) + one(points[42:48])) / 2


def blink_ratio(renderer: Renderer) -> float | None:
    neutral = renderer.rig.neutral
    opened, shut = (landmarks68(renderer.draw({**neutral, **values})) for values in (EYE_POSES[0][1],
                                                                                        EYE_POSES[2][1]))
    if opened is None or shut is None:
        return None
    return eye_aspect(shut) / eye_aspect(opened)


BLINK_POSES = [{}, {"head_yaw": 6.0}, {"head_yaw": -6.0, "head_pitch": 3.0}, {"head_pitch": -4.0, "head_roll": 3.0}]


def blink_turned(renderer: Renderer) -> dict[str, float | None]:
    """Median shut/open eye aspect over head poses, and the median open and shut aspects themselves."""
    neutral = renderer.rig.neutral
    opened, shut = [], []
    for pose in BLINK_POSES:
        points = [landmarks68(renderer.draw({**neutral, **pose, **values})) for values in (EYE_POSES[0][1],
                                                                                           EYE_POSES[2][1])]
        if points[0] is not None and points[1] is not None:
            opened.append(eye_aspect(points[0]))
            shut.append(eye_aspect(points[1]))
    if not opened:
        return {"blink_turned": None, "open_ear": None, "shut_ear": None}
    return {"blink_turned": round(float(np.median(np.divide(shut, opened))), 3),
            "open_ear": round(float(np.median(opened)), 3), "shut_ear": round(float(np.median(shut)), 3)}


def _zoom(frame: np.ndarray, centre: np.ndarray, half: float, label: str) -> np.ndarray:
    x0, y0 = np.round(centre - half).astype(int)
    side = max(2, round(2 * half))
    patch = np.zeros((side, side, 3), np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side, frame.shape[1]), min(y0 + side, frame.shape[0])
    if sx1 > sx0 and sy1 > sy0:  # an eye may lie outside the frame (a face cut by the photo's edge)
        patch[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = frame[sy0:sy1, sx0:sx1]
    tile = cv2.resize(patch, (TILE, TILE), interpolation=cv2.INTER_NEAREST)
    cv2.putText(tile, label, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
    return tile


def eye_tiles(renderer: Renderer) -> list[np.ndarray]:
    marks = renderer.rig.landmarks
    tiles = []
    for name, values in EYE_POSES:
        frame = renderer.draw({**renderer.rig.neutral, **values})
        for side, contour in (("R", topo.EYE_RIGHT_UPPER), ("L", topo.EYE_LEFT_UPPER)):
            points = marks[list(contour), :2]
            half = 0.8 * float(np.ptp(points[:, 0]))  # about a 3x zoom at 512 px
            tiles.append(_zoom(frame, points.mean(axis=0), half, f"{side} {name}"))
    return tiles


def silhouette_tiles(renderer: Renderer) -> list[np.ndarray]:
    rest = renderer.rig.landmarks[:, :2]
    tiles = []
    for values in TURNS[::2]:
        frame = renderer.draw({**renderer.rig.neutral, **values})
        moved = renderer.deform({**renderer.rig.neutral, **values})[:, :2]
        # the far cheek is the one the turn brings closer to the nose (foreshortened)
        cheeks = sorted((topo.CHEEK_LEFT, topo.CHEEK_RIGHT), key=lambda index: abs(moved[index, 0] - moved[1, 0])
                        / max(abs(rest[index, 0] - rest[1, 0]), 1e-6))
        half = 0.3 * renderer.rig.face_width  # about a 2x zoom at 512 px
        for label, index in zip(("far", "near"), cheeks, strict=True):
            tiles.append(_zoom(frame, moved[index], half, f"yaw {values['head_yaw']:+.0f} {label}"))
    return tiles


def border_tiles(renderer: Renderer, photo: np.ndarray) -> list[np.ndarray]:
    crop = renderer.rig.crop
    scale = TILE / max(photo.shape[:2])
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.zeros((TILE, TILE, 3), np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small
    corner = np.array([crop.x, crop.y]) * scale
    cv2.rectangle(canvas, tuple(np.round(corner).astype(int)),
                  tuple(np.round(corner + np.array([crop.width, crop.height]) * scale).astype(int)), (255, 0, 0), 1)
    tiles = [canvas]
    frame = renderer.draw({**renderer.rig.neutral, **TURNS[-1]})
    band = max(8, frame.shape[0] // 12)
    strips = [frame[:band], frame[-band:], frame[:, :band].transpose(1, 0, 2), frame[:, -band:].transpose(1, 0, 2)]
    stacked = np.vstack([cv2.resize(strip, (TILE, TILE // 4 - 2), interpolation=cv2.INTER_AREA) for strip in strips])
    borders = np.zeros((TILE, TILE, 3), np.uint8)
    borders[: stacked.shape[0]] = stacked
    cv2.putText(borders, "borders t/b/l/r", (5, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA)
    tiles.append(borders)
    tiles.append(cv2.resize(frame, (TILE, TILE), interpolation=cv2.INTER_AREA))
    return tiles


def outside_px(renderer: Renderer) -> float:
    """How far outside the framed photo any output pixel's source lies, over the extreme poses (pixels)."""
    rig = renderer.rig
    every = MeshWarper(rig.image, renderer.rest + 0.05, rig.mesh.triangles)
    worst = 0.0
    for values in [*TURNS, {"head_yaw": 0.0, "head_scale": -LIMIT["head_scale"], "head_y": LIMIT["head_y"]}]:
        found = every.source_map(renderer.deform({**rig.neutral, **values}))
        if found is None:
            continue
        _, map_x, map_y, _ = found
        over = np.maximum.reduce([-map_x, -map_y, map_x - (rig.width - 1), map_y - (rig.height - 1)])
        worst = max(worst, float(over.max()))
    return max(worst - 0.05, 0.0)  # less the 0.05 px nudge that makes every triangle count as moved


def review(portrait: Path, size: int | None, head_distance: float, out: Path) -> dict[str, object]:
    rig = build_rig(portrait, size=size, head_distance=head_distance)
    renderer = Renderer(rig)
    photo = load_image(portrait)[0]
    tiles = eye_tiles(renderer) + silhouette_tiles(renderer) + border_tiles(renderer, photo)
    columns = 8
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i : i + columns]) for i in range(0, len(tiles), columns)])
    path = out / f"{portrait.stem}-eyes-framing.png"
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    ratio = blink_ratio(renderer)
    return {"portrait": portrait.name, "size": rig.width, "blink_ratio": None if ratio is None else round(ratio, 3),
            **blink_turned(renderer), "outside_px": round(outside_px(renderer), 2), **silhouette_check(renderer),
            "notes": rig.notes, "sheet": str(path)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("portraits", nargs="*", type=Path)
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--head-distance", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()
    portraits = args.portraits or [DEMO_PORTRAIT, *sorted(SHARED_PORTRAITS.glob("*"))]
    args.out.mkdir(parents=True, exist_ok=True)
    for portrait in portraits:
        print(json.dumps(review(portrait, args.size, args.head_distance, args.out)), flush=True)


if __name__ == "__main__":
    main()
