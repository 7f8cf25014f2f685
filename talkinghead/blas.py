"""numpy's BLAS on one thread while talkinghead renders or streams.

OpenBLAS starts a thread per core and lets them spin after each product. talkinghead's products are small
(the viseme model's GRU, the motion stage's filters), so the extra threads only wait, busy, and on a 2-core
machine they take a core from the renderer's compiled loops and the encoder: a live session at 512 px used
1.48 cores instead of 0.49 at the same latency, and a file render ran at 88 instead of 98 fps
(`benchmarks/live.py`, `benchmarks/speed.py`). The limit is process-wide while it holds and is lifted
afterwards, so a program that imports talkinghead keeps its own BLAS threads for its own work.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def one_blas_thread() -> threadpool_limits:
    """A context (or a held limiter: call ``restore_original_limits()``) that keeps BLAS on one thread."""
    return threadpool_limits(limits=1, user_api="blas")
