"""Work functions for pool tests that crash their worker process; kept apart so a spawned worker imports little."""

from __future__ import annotations

import ctypes


def crash_natively(job: object, out_dir: str) -> None:
    ctypes.string_at(0)  # SIGSEGV in native code, as a decoder or espeak-ng may do
