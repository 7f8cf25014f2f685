"""Realism of the mouth, measured with dlib (independent of the renderer) and shown on contact sheets.

Usage: python benchmarks/realism.py [--tools DIR] [--data DIR] [--portraits P ...] [--clips C ...]
                                    [--out DIR] [--expression] [-- extra render flags]

Per portrait and clip, the figures of ``viewer_checks.py`` from the shared tools (seal_gap, flaps_per_s,
teeth_vs_sclera, identity, mouth_corr at its best lag, upscale, ...) plus ``mouth_corr_lag0`` (the same
correlation with no lag: issue 15 asks >= 0.7 there, and a mouth a frame early scores its best at lag -1) and
``corner_lift``: dlib's mouth-corner lift while speaking (corners above the middle of the lips, share of the
face width; the photo's own value is ``photo_corner_lift``). ``--expression`` also renders each portrait's
first clip with ``--emotion happy`` and ``--emotion sad`` and reports the difference of their corner lifts.
For every portrait a contact sheet
``mouths-PORTRAIT-CLIP.png`` shows the photo's mouth, then mouth zooms of the widest openings, the p/b/m
closures and the rounded vowels (frames chosen from the ground-truth phones), so a reader can look at them.

The shared tools and data live outside the repository (``../shared`` in the normal layout); they are found
through ``--tools`` / ``--data``, else the TALKINGHEAD_TOOLS / TALKINGHEAD_DATA environment variables, else
``../shared/tools`` and ``../shared/data/dev`` next to the repository. Without them the benchmark says so and
exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TILE = 192


def _default(env: str, relative: str) -> Path:
    return Path(os.environ.get(env, str(ROOT.parent / relative)))


def main() -> None:
    args, extra = _arguments()
    if not (args.tools / "viewer_checks.py").exists() or not args.data.exists():
        print(f"realism: shared tools ({args.tools}) or data ({args.data}) not found; nothing measured")
        return
    sys.path.insert(0, str(args.tools))
    import viewer_checks

    talkinghead = str(Path(sys.executable).parent / "talkinghead")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for portrait in _portraits(args):
        for k, clip in enumerate(args.clips):
            audio, truth = _speech(args.data, clip)
            row = viewer_checks.measure(talkinghead, str(portrait), str(audio), str(truth), str(args.out), extra)
            if "error" not in row:
                row["mouth_corr_lag0"] = mouth_corr_lag0(Path(row["mp4"]), truth)
                row.update(_corner_lifts(portrait, Path(row["mp4"]), truth))
                if k == 0:
                    row["sheet"] = str(_contact_sheet(portrait, Path(row["mp4"]), truth, args.out))
                if k == 0 and args.expression:
                    row.update(_expression_gap(viewer_checks, talkinghead, portrait, audio, truth, args.out))
            rows.append(row)
            print(json.dumps({key: value for key, value in row.items() if key != "mp4"}), flush=True)
    (args.out / "realism.json").write_text(json.dumps(rows, indent=1))


def _arguments() -> tuple[argparse.Namespace, list[str]]:
    argv = sys.argv[1:]
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tools", type=Path, default=_default("TALKINGHEAD_TOOLS", "shared/tools"))
    parser.add_argument("--data", type=Path, default=_default("TALKINGHEAD_DATA", "shared/data/dev"))
    parser.add_argument("--portraits", nargs="*", help="portrait files (default: every dev portrait)")
    parser.add_argument("--clips", nargs="*", default=["syn-01", "syn-05", "librivox-0890"],
                        help="speech clips in DATA/speech, by name")
    parser.add_argument("--out", type=Path, default=Path("realism-out"))
    parser.add_argument("--expression", action="store_true", help="also measure happy vs sad corner lift")
    return parser.parse_args(argv), extra


def _portraits(args: argparse.Namespace) -> list[Path]:
    if args.portraits:
        return [Path(p) for p in args.portraits]
    return sorted(p for p in (args.data / "portraits").iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def _speech(data: Path, clip: str) -> tuple[Path, Path]:
    folder = data / "speech"
    truth = folder / f"{clip}.json"
    return folder / f"{clip}.wav", truth if truth.exists() else folder / f"{clip}.phone.json"


def _dlib_points(frames: list[np.ndarray]) -> list[np.ndarray | None]:
    from talkinghead.eval.face_metrics import landmarks68

    return [landmarks68(frame) for frame in frames]


def corner_lift(points: np.ndarray) -> float:
    """dlib: mouth corners (48, 54) above the middle of the inner lips (62, 66), along the face's down axis,
    as a share of the face width (jaw points 0 to 16). Positive: a smile."""
    across = points[45] - points[36]
    across /= np.linalg.norm(across)
    down = np.array([-across[1], across[0]])
    middle = (points[62] + points[66]) / 2
    lift = np.mean([(middle - points[48]) @ down, (middle - points[54]) @ down])
    return float(lift / np.linalg.norm(points[16] - points[0]))


def mouth_corr_lag0(video: Path, truth: Path) -> float:
    """viewer_checks' ``mouth_corr`` (dlib's inner-lip gap per frame against the ground truth's openness) at lag
    0, measured the same way (frames dlib misses take the median gap)."""
    import th_eval

    fps, gaps, _, _ = th_eval.video_measure(str(video))
    gaps = np.nan_to_num(gaps, nan=float(np.nanmedian(gaps)))
    truth_open = th_eval.gt_openness(str(truth), fps)[: len(gaps)]
    gaps = gaps[: len(truth_open)]
    if gaps.std() == 0 or truth_open.std() == 0:
        return float("nan")
    return round(float(np.corrcoef(gaps, truth_open)[0, 1]), 3)


def _speaking_frames(truth: Path, fps: float, n: int) -> np.ndarray:
    import th_eval

    return th_eval.gt_openness(str(truth), fps)[:n] > 0


def _corner_lifts(portrait: Path, video: Path, truth: Path) -> dict[str, float]:
    from talkinghead.eval.face_metrics import decode_video, landmarks68
    from talkinghead.face.image import load_image

    frames, info = decode_video(video)
    speaking = _speaking_frames(truth, info["fps"], len(frames))
    lifts = [corner_lift(p) for p in _dlib_points([f for f, s in zip(frames, speaking, strict=False) if s][::3])
             if p is not None]
    photo = landmarks68(load_image(portrait)[0])
    return {"corner_lift": round(float(np.median(lifts)), 4) if lifts else float("nan"),
            "photo_corner_lift": round(corner_lift(photo), 4) if photo is not None else float("nan")}


def _expression_gap(viewer_checks: object, talkinghead: str, portrait: Path, audio: Path, truth: Path,
                    out: Path) -> dict[str, float]:
    """Corner lift while speaking with --emotion happy and --emotion sad, and their difference."""
    lifts = {}
    for emotion in ("happy", "sad"):
        folder = out / emotion
        folder.mkdir(exist_ok=True)
        video = folder / f"{portrait.stem}-{audio.stem}.mp4"
        subprocess.run([talkinghead, "render", str(portrait), str(audio), "-o", str(video), "-y", "-q",
                        "--emotion", emotion], check=True)
        lifts[emotion] = _corner_lifts(portrait, video, truth)["corner_lift"]
    return {"happy_lift": lifts["happy"], "sad_lift": lifts["sad"],
            "happy_minus_sad": round(lifts["happy"] - lifts["sad"], 4)}


def _contact_sheet(portrait: Path, video: Path, truth: Path, out: Path) -> Path:
    """Mouth zooms: the photo, then the 4 widest openings, 4 p/b/m closures and 4 rounded vowels."""
    import cv2
    import th_eval

    from talkinghead.eval.face_metrics import decode_video, inner_lip_gap, landmarks68
    from talkinghead.face.image import load_image

    frames, info = decode_video(video)
    fps, n = info["fps"], len(frames)
    points = _dlib_points(frames)
    gaps = np.array([inner_lip_gap(p) if p is not None else -1.0 for p in points])
    segments, _ = th_eval.gt_segments(str(truth))
    picks = [("widest", int(k)) for k in np.argsort(-gaps)[:4]]
    for label, kind in (("p/b/m", "closed"), ("rounded", "rounded")):
        middles = [int((s + e) / 2 * fps) for s, e, c in segments if c == kind and int((s + e) / 2 * fps) < n]
        chosen = np.linspace(0, len(middles) - 1, min(4, len(middles))).round().astype(int) if middles else []
        picks += [(label, middles[k]) for k in chosen]
    photo = load_image(portrait)[0]
    tiles = [_mouth_tile(photo, landmarks68(photo), "photo")]
    tiles += [_mouth_tile(frames[k], points[k], f"{label} {k}") for label, k in picks]
    while len(tiles) % 4:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)])
    path = out / f"mouths-{portrait.stem}-{video.stem.split('-', 1)[-1]}.png"
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return path


def _mouth_tile(image: np.ndarray, points: np.ndarray | None, label: str) -> np.ndarray:
    import cv2

    if points is None:
        tile = np.zeros((TILE, TILE, 3), np.uint8)
    else:
        mouth = points[48:68]
        centre, half = mouth.mean(axis=0), 0.8 * np.ptp(mouth[:, 0])
        x0, y0 = np.maximum((centre - half).astype(int), 0)
        x1, y1 = (centre + half).astype(int)
        tile = cv2.resize(np.ascontiguousarray(image[y0:y1, x0:x1]), (TILE, TILE), interpolation=cv2.INTER_CUBIC)
    cv2.putText(tile, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1, cv2.LINE_AA)
    return tile


if __name__ == "__main__":
    main()
