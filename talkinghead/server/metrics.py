"""Prometheus-style counters and gauges, kept in memory and rendered as the text exposition format."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np


class Metrics:
    """Request counts by status class, live-stream frames, fps and latencies (recent window)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.rejected_busy = 0
        self.server_errors = 0
        self.live_sessions = 0
        self.live_frames = 0
        self._latencies: deque[float] = deque(maxlen=2000)

    def count_request(self, status: int) -> None:
        with self._lock:
            key = f"{status // 100}xx"
            self.requests[key] = self.requests.get(key, 0) + 1
            if status == 429:
                self.rejected_busy += 1
            if status >= 500:
                self.server_errors += 1

    def live_frame(self, latency_s: float) -> None:
        with self._lock:
            self.live_frames += 1
            self._latencies.append(latency_s)

    def live_open(self, delta: int) -> None:
        with self._lock:
            self.live_sessions += delta

    def render(self, jobs: dict[str, int], workers: int, render_fps: float) -> str:
        with self._lock:
            lines = ["# HELP talkinghead_jobs Jobs in the store by status.", "# TYPE talkinghead_jobs gauge"]
            lines += [f'talkinghead_jobs{{status="{status}"}} {n}' for status, n in sorted(jobs.items())]
            lines += ["# HELP talkinghead_queue_depth Jobs waiting for a worker.",
                      "# TYPE talkinghead_queue_depth gauge", f"talkinghead_queue_depth {jobs.get('queued', 0)}",
                      "# TYPE talkinghead_workers gauge", f"talkinghead_workers {workers}",
                      "# HELP talkinghead_render_fps Frames per second of the last finished render.",
                      "# TYPE talkinghead_render_fps gauge", f"talkinghead_render_fps {render_fps:.3f}",
                      "# TYPE talkinghead_http_responses_total counter"]
            lines += [f'talkinghead_http_responses_total{{code="{k}"}} {v}' for k, v in sorted(self.requests.items())]
            lines += ["# HELP talkinghead_http_server_errors_total Answers with a 5xx status (each one is a bug "
                      "or a damaged store: see the log).",
                      "# TYPE talkinghead_http_server_errors_total counter",
                      f"talkinghead_http_server_errors_total {self.server_errors}",
                      "# TYPE talkinghead_rejected_busy_total counter",
                      f"talkinghead_rejected_busy_total {self.rejected_busy}",
                      "# TYPE talkinghead_live_sessions gauge", f"talkinghead_live_sessions {self.live_sessions}",
                      "# TYPE talkinghead_live_frames_total counter",
                      f"talkinghead_live_frames_total {self.live_frames}",
                      "# HELP talkinghead_live_latency_seconds Audio chunk in to the frame that shows it (recent).",
                      "# TYPE talkinghead_live_latency_seconds summary"]
            if self._latencies:
                for q in (0.5, 0.95):
                    value = float(np.quantile(np.array(self._latencies), q))
                    lines.append(f'talkinghead_live_latency_seconds{{quantile="{q}"}} {value:.4f}')
            lines.append(f"talkinghead_live_latency_seconds_count {len(self._latencies)}")
        return "\n".join(lines) + "\n"
