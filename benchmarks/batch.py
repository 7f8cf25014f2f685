"""Batch throughput: videos per minute and frames per second on the local pool and on a local Ray.

    .venv/bin/python benchmarks/batch.py [--jobs 6] [--size 256] [--workers 1 2] [--repeat 1] [--portrait P]
                                         [--speech S]

Each configuration renders the same jobs (the bundled portrait speaking the bundled 7 s recording, one seed
per job) into a fresh folder. Times include starting the workers and their imports, for both engines;
starting Ray itself (``ray.init``) is shown apart, since on a cluster it is already running. The last
column is Ray's extra time over the pool with the same number of workers. With ``--repeat N`` the pool and
Ray take turns N times and the fastest run of each counts (less noise on a shared machine). Compare only
figures measured together, on one quiet machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.audio import load_speech
from talkinghead.batch import DONE, Job, run_batch
from talkinghead.batch.ray_runner import connect, import_ray


def make_jobs(portrait: Path, speech: Path, count: int, size: int) -> list[Job]:
    return [Job(row, row + 1, portrait, speech, f"job-{row:03d}.mp4", {"size": size, "seed": row})
            for row in range(1, count + 1)]


def measure(jobs: list[Job], workers: int, ray: str | None) -> float:
    """Seconds to render all ``jobs``."""
    with tempfile.TemporaryDirectory() as folder:
        summary = run_batch(jobs, folder, workers=workers, ray=ray, progress=False)
    if summary.counts[DONE] != len(jobs):
        raise SystemExit(f"jobs failed: {[r.reason for r in summary.results if r.status != DONE]}")
    return summary.seconds


def figures(seconds: float, jobs: int, frames: int) -> dict[str, float]:
    return {"seconds": seconds, "videos_per_min": jobs / seconds * 60, "fps": frames / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=6)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--portrait", type=Path, default=DEMO_PORTRAIT)
    parser.add_argument("--speech", type=Path, default=DEMO_SPEECH)
    args = parser.parse_args()
    jobs = make_jobs(args.portrait.resolve(), args.speech.resolve(), args.jobs, args.size)
    ray = import_ray()
    print(f"{args.jobs} jobs: {args.portrait.name} + {args.speech.name}, {args.size}x{args.size}")
    print(f"{'engine':<8}{'workers':>8}{'seconds':>9}{'videos/min':>12}{'frames/s':>10}{'ray init s':>12}"
          f"{'Ray overhead':>14}")
    frames = len(jobs) * round(load_speech(args.speech).duration * 25)
    for workers in args.workers:
        pool_runs, ray_runs, init_runs = [], [], []
        for _ in range(args.repeat):
            pool_runs.append(measure(jobs, workers, None))
            started = time.perf_counter()
            connect("local", workers)
            init_runs.append(time.perf_counter() - started)
            try:
                ray_runs.append(measure(jobs, workers, "local"))
            finally:
                ray.shutdown()
        pool = figures(min(pool_runs), len(jobs), frames)
        on_ray = figures(min(ray_runs), len(jobs), frames)
        init_s = min(init_runs)
        print(f"{'pool':<8}{workers:>8}{pool['seconds']:>9.1f}{pool['videos_per_min']:>12.1f}{pool['fps']:>10.1f}")
        overhead = on_ray["seconds"] / pool["seconds"] - 1
        print(f"{'ray':<8}{workers:>8}{on_ray['seconds']:>9.1f}{on_ray['videos_per_min']:>12.1f}"
              f"{on_ray['fps']:>10.1f}{init_s:>12.1f}{overhead:>+13.0%}")


if __name__ == "__main__":
    main()
