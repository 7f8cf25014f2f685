"""`talkinghead batch`: render every row of a manifest, on this machine or on a Ray cluster."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from talkinghead.cli_support import PROG


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "batch", help="render every job of a CSV or JSONL manifest into a folder",
        description="Render every job of MANIFEST (CSV or JSONL; columns portrait, audio, output and any "
                    "render option such as size or seed) into --out. The whole manifest is checked first: "
                    "every bad row is listed and nothing renders until all are fixed. A job that fails is "
                    "recorded in OUT/report.jsonl and the others go on.")
    parser.add_argument("manifest", type=Path, help="the jobs: a .csv with a header row, or a .jsonl file")
    parser.add_argument("--out", type=Path, required=True, help="folder for the videos and report.jsonl")
    parser.add_argument("--workers", type=int, default=None,
                        help="jobs rendered at once on this machine, and the CPUs of --ray local (default: one "
                             "per CPU core; a Ray cluster runs as many as it has CPUs)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run each job as a Ray task: a cluster address, 'auto' (the cluster this machine "
                             "belongs to) or 'local' (start a private Ray here)")
    parser.add_argument("--resume", action="store_true",
                        help="keep outputs that already exist in --out and render only the missing ones")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    parser.epilog = ("Exit status: 0 all rendered (or already there), 1 some jobs failed (see OUT/report.jsonl), "
                     "2 bad manifest or options (nothing rendered).")
    return parser


def run(args: argparse.Namespace) -> int:
    from talkinghead.batch import ManifestError, read_manifest, run_batch
    from talkinghead.errors import TalkingHeadError

    if args.workers is not None and args.workers < 1:
        raise TalkingHeadError(f"--workers must be 1 or more, got {args.workers}")
    if args.ray:
        from talkinghead.batch.ray_runner import import_ray

        import_ray()  # say "install ray" now, not after reading a long manifest
    try:
        jobs = read_manifest(args.manifest, out=args.out)
    except ManifestError as exc:
        for problem in exc.problems:
            print(f"{PROG}: {args.manifest}: {problem}", file=sys.stderr)
        raise
    signal.signal(signal.SIGTERM, _interrupt)  # stop workers and Ray tasks as Ctrl-C does
    summary = run_batch(jobs, args.out, workers=args.workers, ray=args.ray, resume=args.resume,
                        progress=not args.quiet)
    if not args.quiet:
        print(summary.table(), file=sys.stderr)
    return 0 if not summary.counts["failed"] else 1


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
