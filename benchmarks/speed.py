"""End-to-end speed on this machine: rig set-up, render fps, render + label + encode fps, real-time factor.

Also the wall-clock time of one CLI render in a fresh process (imports and model loading included).

    .venv/bin/python benchmarks/speed.py [--portraits DIR] [--speech FILE] [--size 512] [--fps 25]
    .venv/bin/python benchmarks/speed.py --against OTHER_CHECKOUT [--rounds 5]

Defaults: the bundled portrait and speech, plus ../shared/data/dev/portraits when it exists. Figures come
from one run on the machine it runs on; compare only figures measured together. On a shared machine one
run's median moves by 10-20% from minute to minute, so ``--against`` compares this checkout with another
(e.g. ``git worktree add /tmp/before main``): both run in turn, each in its own process, ``--rounds``
times, and the median of the paired ratios is the figure to quote.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
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

HERE = Path(__file__).resolve().parents[1]
SHARED_PORTRAITS = HERE.parent / "shared" / "data" / "dev" / "portraits"


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
    parser.add_argument("--against", type=Path, help="another checkout of talkinghead to compare with, in turns")
    parser.add_argument("--rounds", type=int, default=5, help="turns each with --against")
    args = parser.parse_args()
    if args.against:
        compare(args)
        return
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
    print(f"the CLI in a fresh process (imports and models loaded first), bundled portrait: "
          f"{cold_cli_seconds(args.speech, args.size, args.fps):.1f} s for {rows[0]['frames'] / args.fps:.1f} s "
          f"of speech")


def cold_cli_seconds(speech_path: Path, size: int, fps: float) -> float:
    """Wall-clock seconds of one ``talkinghead render`` in a new process: what a user of the CLI waits."""
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "talkinghead", "render", str(DEMO_PORTRAIT), str(speech_path), "-o",
                   str(Path(folder) / "cold.mp4"), "--size", str(size), "--fps", str(fps), "-q"]
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        return time.perf_counter() - started


def median_in(tree: Path, args: argparse.Namespace) -> float:
    """The median end-to-end fps of this benchmark run by checkout ``tree``'s own code, in a fresh process."""
    command = [sys.executable, "-P", str(tree / "benchmarks" / "speed.py"), "--portraits", str(args.portraits),
               "--speech", str(args.speech), "--size", str(args.size), "--fps", str(args.fps)]
    printed = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(tree)}, capture_output=True, text=True,
                             check=True).stdout
    return float(re.search(r"median end-to-end: ([0-9.]+)", printed).group(1))


def compare(args: argparse.Namespace) -> None:
    """This checkout against ``args.against``, in turns: fps of each and their ratio per round, then medians."""
    other = args.against.resolve()
    print(f"{'round':<8}{other.name[:14]:>16}{'this':>10}{'ratio':>8}")
    ratios, theirs, ours = [], [], []
    for round_index in range(1, args.rounds + 1):
        theirs.append(median_in(other, args))
        ours.append(median_in(HERE, args))
        ratios.append(ours[-1] / theirs[-1])
        print(f"{round_index:<8}{theirs[-1]:>16.1f}{ours[-1]:>10.1f}{ratios[-1]:>8.2f}")
    print(f"median: {np.median(theirs):.1f} fps against {np.median(ours):.1f} fps here; "
          f"median ratio {np.median(ratios):.2f}")


if __name__ == "__main__":
    main()
