"""The talkinghead server: render jobs over HTTP, live streaming over a WebSocket, and a web page.

``talkinghead serve`` runs it; `create_app` builds the FastAPI app for other ASGI servers. API and live
protocol: docs/server.md (and the OpenAPI page at /docs).
"""

from __future__ import annotations

from typing import Any

from talkinghead.server.settings import Settings

__all__ = ["Settings", "create_app"]


def __getattr__(name: str) -> Any:
    """`create_app` loads FastAPI and the job machinery only when asked for."""
    if name == "create_app":
        from talkinghead.server.app import create_app

        return create_app
    raise AttributeError(name)
