"""Progress on stderr from the first second: the stage by name, frames as they render.

Stages: "reading inputs" (decoding the audio, finding the face), "analysing speech" (phones, motion: the
seconds of speech transcribed so far where the analysis reports them through `analysed`, else the time
spent), "rendering" (frames n/N) and "encoding" (finishing the file, captions,
exports). On a terminal this is one live line from the start (a tqdm bar while rendering), wiped if an error
follows; anywhere else (a log, a pipe, CI) it is plain lines, one per stage and one every `PERIOD_S` seconds,
starting once the inputs are read, so a bad input still gives exactly one line: the error. ``-q`` turns it
all off.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO

from talkinghead.cli_support import PROG

PERIOD_S = 5.0
TICK_S = 1.0
READING, ANALYSING, RENDERING, ENCODING = "reading inputs", "analysing speech", "rendering", "encoding"

# Who hears how far the speech analysis is, as (seconds of speech done, seconds in all): set by whoever shows
# progress (`StageProgress` while it is open, or `reporting_analysis`), told by the analysis (`analysed`).
_ANALYSIS_LISTENER: ContextVar[Callable[[float, float], None] | None] = ContextVar("analysis_listener", default=None)


def analysed(done_s: float, total_s: float) -> None:
    """Called by a long speech analysis (e.g. transcription, phrase by phrase) as it goes."""
    listener = _ANALYSIS_LISTENER.get()
    if listener is not None:
        listener(done_s, total_s)


@contextmanager
def reporting_analysis(listener: Callable[[float, float], None]) -> Iterator[None]:
    """Send `analysed` reports made inside this block (in this thread or task) to ``listener``."""
    token = _ANALYSIS_LISTENER.set(listener)
    try:
        yield
    finally:
        _ANALYSIS_LISTENER.reset(token)


class StageProgress:
    """``stage(name)`` when a stage starts, ``update(done, total)`` per rendered frame, ``close()`` at the end."""

    def __init__(self, disabled: bool = False, stream: TextIO | None = None, period: float = PERIOD_S) -> None:
        self.disabled = disabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.period = period
        self.name = ""
        self.started = self.last_line = time.monotonic()
        self.done = self.total = 0
        self.bar: Any = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> StageProgress:
        self._listening = _ANALYSIS_LISTENER.set(self.analysed)
        return self

    def __exit__(self, *exc: object) -> None:
        _ANALYSIS_LISTENER.reset(self._listening)
        self.close()

    def stage(self, name: str) -> None:
        if self.disabled:
            return
        with self._lock:
            self._close_bar()
            self.name, self.started, self.done, self.total = name, time.monotonic(), 0, 0
            if self._shown(name):
                self._line(f"{name}...")
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def update(self, done: int, total: int) -> None:
        if self.disabled:
            return
        if self.name != RENDERING:
            self.stage(RENDERING)
        with self._lock:
            self.done, self.total = done, total
            if self.live:
                if self.bar is None:
                    from tqdm import tqdm

                    self._clear()
                    sized = min(shutil.get_terminal_size((0, 0))) > 0  # a pty may report 0 x 0: tqdm then hides
                    self.bar = tqdm(total=total, unit="frame", file=self.stream, dynamic_ncols=sized,
                                    ncols=None if sized else 80, nrows=None if sized else 24,
                                    desc=f"{PROG}: {RENDERING}")
                self.bar.update(done - self.bar.n)
            elif time.monotonic() - self.last_line >= self.period or done == total:
                self._line(f"{RENDERING} {done}/{total} frames ({100 * done // max(total, 1)}%)")

    def analysed(self, done_s: float, total_s: float) -> None:
        """How far the speech analysis is: a line with the seconds of speech done (live, or every period)."""
        if self.disabled or self.name != ANALYSING or total_s <= 0:
            return
        with self._lock:
            self.done, self.total = round(done_s), round(total_s)
            if self.live or time.monotonic() - self.last_line >= self.period or done_s >= total_s:
                self._line(self._analysis_text())

    def _analysis_text(self) -> str:
        elapsed = time.monotonic() - self.started
        return (f"{ANALYSING}... {self.done}/{self.total} s of speech ({100 * self.done // max(self.total, 1)}%), "
                f"{elapsed:.0f} s")

    def note(self, message: str) -> None:
        """A note for the user (not an error) on its own line, even while a live line is showing."""
        if self.disabled:
            return
        with self._lock:
            if self.live and self.bar is None:
                self._clear()
            target = self.bar.write if self.bar is not None else None
            text = f"{PROG}: note: {message}"
            if target is not None:
                target(text, file=self.stream)
            else:
                self.stream.write(text + "\n")
                self.stream.flush()
            if self.live and self.bar is None and self._shown(self.name) and self.name:
                self._line(f"{self.name}...")

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._close_bar()
            if self.live and not self.disabled:
                self._clear()

    def _tick(self) -> None:
        """Keep a stage without a count visibly alive: its elapsed time, live or every period."""
        while not self._stop.wait(TICK_S):
            with self._lock:
                if self.bar is not None or self.name == RENDERING or not self._shown(self.name):
                    continue
                elapsed = time.monotonic() - self.started
                if self.live or time.monotonic() - self.last_line >= self.period:
                    counted = self.name == ANALYSING and self.total
                    self._line(self._analysis_text() if counted else f"{self.name}... {elapsed:.0f} s")

    def _shown(self, name: str) -> bool:
        """Reading inputs is shown live only: in a log, an error would follow it on a second line."""
        return self.live or name != READING

    def _line(self, text: str) -> None:
        self.last_line = time.monotonic()
        if self.live:
            self.stream.write(f"\r\x1b[2K{PROG}: {text}")
        else:
            self.stream.write(f"{PROG}: {text}\n")
        self.stream.flush()

    def _clear(self) -> None:
        self.stream.write("\r\x1b[2K")
        self.stream.flush()

    def _close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
