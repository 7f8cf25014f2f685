"""Read an uploaded audio file's headers with PyAV, in a process of its own (run as a script, not imported).

The server never opens a client's media in its own process: a demuxer bug that hangs, eats memory or
crashes on a crafted file would take the server down with it. `talkinghead.server.uploads` runs this file
with a time limit, and it sets its own CPU and memory limits first. It prints one JSON line:
``{"audio": true|false, "seconds": S}``, or ``{"error": "..."}`` when the file is not media PyAV understands.
"""

from __future__ import annotations

import json
import resource
import sys


def probe(path: str) -> dict[str, object]:
    import av

    try:
        with av.open(path) as container:
            seconds = container.duration / 1_000_000 if container.duration else 0.0
            return {"audio": bool(container.streams.audio), "seconds": seconds}
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError, OSError) as exc:
        return {"error": type(exc).__name__}


def limit(cpu_seconds: int, memory: int) -> None:
    """This process's own CPU time and address space, set before the file is opened."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


if __name__ == "__main__":
    limit(int(sys.argv[2]), int(sys.argv[3]))
    print(json.dumps(probe(sys.argv[1])))
