"""End-to-end speed on this machine: rig set-up, render fps, render + label + encode fps, real-time factor.

    .venv/bin/python benchmarks/speed.py [--portraits DIR] [--speech FILE] [--size 512] [--fps 25]

Defaults: the bundled portrait and speech, plus ../shared/data/dev/portraits when it exists. Figures come
from one run on the machine it runs on; compare only figures measured together.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from talkinghead import Controls
from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.audio import load_speech
from talkinghead.face import build_rig
from talkinghead.motion import generate_motion
from talkinghead.pipeline import render
from talkinghead.render import Renderer

SHARED_PORTRAITS = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "portraits"


def measure(portrait: Path, speech_path: Path, size: int, fps: float) -> dict[str, float]:
    controls = Controls(size=size, fps=fps)
    started = time.perf_counter()
    rig = build_rig(portrait, size)
    rig_s = time.perf_counter() - started
    speech = load_speech(speech_path)
    track = generate_motion(speech, controls)
    renderer = Renderer(rig)
    started = time.perf_counter()
    for frame_index in range(track.n_frames):
        renderer.draw(track.frame(frame_index))
    render_fps = track.n_frames / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as folder:
        result = render(portrait, speech_path, Path(folder) / "bench.mp4", size=size, fps=fps)
    return {"rig_s": rig_s, "render_fps": render_fps, "end_to_end_fps": result.speed,
            "realtime_factor": result.speed / fps, "frames": track.n_frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=SHARED_PORTRAITS)
    parser.add_argument("--speech", type=Path, default=DEMO_SPEECH)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=float, default=25.0)
    args = parser.parse_args()
    portraits = [DEMO_PORTRAIT]
    if args.portraits.is_dir():
        portraits += sorted(p for p in args.portraits.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    print(f"speech: {args.speech.name}, {args.size}x{args.size} at {args.fps:g} fps")
    print(f"{'portrait':<24}{'rig s':>8}{'render fps':>12}{'end-to-end fps':>16}{'x real time':>13}")
    rows = []
    for portrait in portraits:
        row = measure(portrait, args.speech, args.size, args.fps)
        rows.append(row)
        print(f"{portrait.name:<24}{row['rig_s']:>8.2f}{row['render_fps']:>12.1f}{row['end_to_end_fps']:>16.1f}"
              f"{row['realtime_factor']:>13.2f}")
    print(f"median end-to-end: {np.median([r['end_to_end_fps'] for r in rows]):.1f} fps")


if __name__ == "__main__":
    main()
