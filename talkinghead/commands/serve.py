"""`talkinghead serve`: the HTTP/WebSocket server with its job queue and web page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from talkinghead.cli_support import PROG
from talkinghead.errors import TalkingHeadError


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = commands.add_parser("serve", help="run the HTTP API, live WebSocket and web page",
                                 description="Serve render jobs (POST /v1/videos), live streaming (WS /v1/live) "
                                             "and a web page at /. API docs at /docs.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000)")
    parser.add_argument("--data-dir", type=Path, default=Path("talkinghead-data"),
                        help="folder for uploads and results (default: ./talkinghead-data)")
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite job database (default: DATA_DIR/jobs.sqlite3)")
    parser.add_argument("--workers", type=int, default=1, help="renders run at once (default: 1)")
    parser.add_argument("--max-queue", type=int, default=8,
                        help="jobs allowed to wait; more get 429 with Retry-After (default: 8)")
    parser.add_argument("--max-portrait-mb", type=float, default=20.0, help="portrait upload limit (default: 20)")
    parser.add_argument("--max-audio-mb", type=float, default=100.0, help="audio upload limit (default: 100)")
    parser.add_argument("--max-live", type=int, default=2, help="live sessions at once (default: 2)")
    return parser


def run(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from talkinghead.server import Settings, create_app

    if not 0 <= args.port <= 65535:
        raise TalkingHeadError(f"--port must be 0-65535, got {args.port}")
    if args.workers < 1 or args.max_queue < 0 or args.max_live < 0:
        raise TalkingHeadError("--workers must be >= 1; --max-queue and --max-live >= 0")
    settings = Settings(data_dir=args.data_dir, db_path=args.db, workers=args.workers, max_queue=args.max_queue,
                        max_portrait_mb=args.max_portrait_mb, max_audio_mb=args.max_audio_mb,
                        max_live_sessions=args.max_live)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(f"{PROG}: serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0
