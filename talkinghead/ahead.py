"""Work done beside the caller's, in a background thread: a frame generator run ahead, or one function.

Rendering (numba, OpenCV) and encoding (libx264 through PyAV) both release the GIL, so drawing frame n+1
while frame n is encoded uses both cores of a small machine. A bounded queue keeps memory flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


def read_ahead(items: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Yield ``items`` in order while a worker thread computes up to ``depth`` of them in advance.

    An exception in the worker is raised here, at the item where it happened; stopping early (a ``break``,
    an exception in the consumer) stops the worker too.
    """
    buffer: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        buffer.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            buffer.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            buffer.put(error)

    worker = threading.Thread(target=produce, name="talkinghead-render", daemon=True)
    worker.start()
    try:
        while True:
            item = buffer.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def beside(function: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``function(*args)`` in a daemon thread and return its future (``.result()`` waits for it, and
    raises what it raised).

    A daemon thread, not an executor's: when the caller gives up (Ctrl-C, an error), leaving does not wait
    for work no one will read.

    >>> beside(sum, [1, 2, 3]).result()
    6
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            future.set_result(function(*args))
        except BaseException as error:  # raised to whoever reads the result
            future.set_exception(error)

    threading.Thread(target=run, name=f"talkinghead-{getattr(function, '__name__', 'work')}", daemon=True).start()
    return future
