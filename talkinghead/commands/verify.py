"""`talkinghead verify FILE`: does this video or image carry talkinghead provenance?

Exit status: 0 when provenance is found (watermark, metadata or manifest), 1 when not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

EXIT_FOUND, EXIT_NOT_FOUND = 0, 1


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser(
        "verify", help="check a video or image for talkinghead's watermark, metadata, manifest and label",
        description="Check a video or image for talkinghead provenance: the invisible watermark, the MP4 "
                    "tags, a C2PA manifest and the visible label. Exit 0 when found, 1 when not, 2 on bad input.")
    parser.add_argument("file", type=Path, help="video (MP4, MOV, WebM, ...) or image (PNG, JPEG, ...)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    from talkinghead.provenance.verify import verify

    report = verify(args.file)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        verdict = "talkinghead provenance FOUND" if report.found else "no talkinghead provenance found"
        print(f"{report.path}: {verdict} (confidence {report.confidence:.2f})")
        for finding in report.findings:
            mark = "yes" if finding.found else "no "
            print(f"  {finding.check:<10} {mark}  {finding.confidence:.2f}  {finding.detail}")
        if not report.found:
            print("  (absence proves nothing: marks can be destroyed, and other tools make synthetic media too)")
    return EXIT_FOUND if report.found else EXIT_NOT_FOUND
