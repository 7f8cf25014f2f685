"""`talkinghead serve`: the HTTP/WebSocket server with its job queue and web page."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

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
    parser.add_argument("--token", default=None,
                        help=f"require this token on every request but /healthz (Authorization: Bearer TOKEN); "
                             f"default: ${TOKEN_VARIABLE} if set")
    parser.add_argument("--allow-no-token", action="store_true",
                        help="listen on a non-loopback address without a token (anyone who can reach it may "
                             "render and read jobs)")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="another web origin (e.g. https://app.example.com) allowed to call the API from a "
                             "browser; repeatable (default: only the server's own pages)")
    parser.add_argument("--retention", type=float, default=0.0, metavar="DAYS",
                        help="delete the files of jobs finished more than DAYS ago (default: 0, keep them)")
    return parser


TOKEN_VARIABLE = "TALKINGHEAD_TOKEN"


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)  # every flag checked before the server's modules load: a refusal is quick
    import logging

    import uvicorn

    from talkinghead.server import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    app = create_app(settings)  # opens the job store: a damaged one stops us here, before "serving on"
    print(f"{PROG}: serving on http://{args.host}:{args.port}/ (API docs at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info",
                ws_max_size=int(settings.max_portrait_mb * 2**20) + 2**16)
    return 0


def _settings(args: argparse.Namespace) -> Any:
    from talkinghead.server.settings import Settings

    if not 0 <= args.port <= 65535:
        raise TalkingHeadError(f"--port must be 0-65535, got {args.port}")
    if args.workers < 1 or args.max_queue < 0 or args.max_live < 0:
        raise TalkingHeadError("--workers must be >= 1; --max-queue and --max-live >= 0")
    if not 0 < args.max_portrait_mb <= 1024 or not 0 < args.max_audio_mb <= 4096 or not 0 <= args.retention <= 36500:
        raise TalkingHeadError("--max-portrait-mb must be 0-1024, --max-audio-mb 0-4096 and --retention 0-36500 days")
    token = args.token if args.token is not None else os.environ.get(TOKEN_VARIABLE) or None
    if token is not None and len(token) < 16:
        raise TalkingHeadError("--token must be at least 16 characters (e.g. python -c 'import secrets; "
                               "print(secrets.token_urlsafe())')")
    if not _loopback(args.host) and token is None and not args.allow_no_token:
        raise TalkingHeadError(f"--host {args.host} is reachable from other machines: give --token (or "
                               f"${TOKEN_VARIABLE}), or --allow-no-token if something in front of it checks access")
    return Settings(data_dir=args.data_dir, db_path=args.db, workers=args.workers, max_queue=args.max_queue,
                    max_portrait_mb=args.max_portrait_mb, max_audio_mb=args.max_audio_mb,
                    max_live_sessions=args.max_live, token=token, allowed_origins=args.allow_origin,
                    retention_s=args.retention * 86400)


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
