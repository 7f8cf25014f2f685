"""Where the mesh around the mouth turns over: skin triangles folded by the mouth poses, with and without the guard.

Usage: python benchmarks/mouth_folds.py PORTRAIT [PORTRAIT ...] [--size 512]

A turned triangle is drawn twice by the warp: a hard-edged wedge of skin or lip beside the mouth. Per portrait
and pose, the area (px² at ``--size``) of the triangles that the pose turns over among those with a skin vertex
(`talkinghead.render.folds`), as drawn (``guarded``) and with `FoldGuard.unfold` switched off (``unguarded``):
closing an open-mouth photo at rest is helped by the closing field itself (`face.bases.build_closing`), the
other poses by the guard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from talkinghead.face import build_rig
from talkinghead.render import Renderer

POSES = {
    "rest": {},
    "p/b/m": {"jaw_open": 0.3},
    "oo": {"jaw_open": 0.4, "lips_open": 0.3, "lip_pucker": 0.9, "lip_width": -0.8},
    "wide": {"jaw_open": 1.0, "lips_open": 0.75},
    "happy": {"jaw_open": 0.3, "lips_open": 0.3, "smile": 1.0},
    "sad": {"jaw_open": 0.2, "lips_open": 0.2, "smile": -1.0},
}


def turned_skin(renderer: Renderer, pose: dict[str, float], guarded: bool) -> float:
    """Area (px²) of the skin triangles (those the guard watches) ``pose`` turns over."""
    guard = renderer.folds
    values = {"jaw_open": 0.0, "lips_open": 0.0, "smile": 0.0, **pose}
    if guarded:
        points = renderer.deform(values)[:, :2]
    else:
        unfold, guard.unfold = guard.unfold, lambda points: points
        try:
            points = renderer.deform(values)[:, :2]
        finally:
            guard.unfold = unfold
    return float(guard.turned_areas(points).sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("portraits", nargs="+", type=Path)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()
    print(f"{'portrait':24}" + "".join(f"{name:>16}" for name in POSES))
    print(f"{'':24}" + "".join(f"{'guarded / off':>16}" for _ in POSES))
    for portrait in args.portraits:
        renderer = Renderer(build_rig(portrait, size=args.size))
        cells = [f"{turned_skin(renderer, pose, True):.0f} / {turned_skin(renderer, pose, False):.0f}"
                 for pose in POSES.values()]
        print(f"{portrait.name[:24]:24}" + "".join(f"{cell:>16}" for cell in cells))


if __name__ == "__main__":
    main()
