"""The talkinghead server: render jobs over HTTP, live streaming over a WebSocket, and a web page.

``talkinghead serve`` runs it; `create_app` builds the FastAPI app for other ASGI servers. API and live
protocol: docs/server.md (and the OpenAPI page at /docs).
"""

from __future__ import annotations

from talkinghead.server.app import Settings, create_app

__all__ = ["Settings", "create_app"]
