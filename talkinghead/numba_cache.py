"""A writable place for numba's compiled-code cache, whoever runs talkinghead and wherever it is installed.

numba caches the compiled rasteriser beside its source (``__pycache__``) or else in the user's cache folder
(``~/.cache/numba``); when neither is writable (a system-wide install used by an account without a writable
home, a read-only container) ``@njit(cache=True)`` raises at import. Then the cache goes to a private folder
in the temporary directory instead. It must run before numba reads its configuration, so
``talkinghead/__init__.py`` calls it first.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from pathlib import Path

CACHED_PACKAGE = Path(__file__).resolve().parent / "render"  # where the @njit(cache=True) code lives


def ensure_numba_cache() -> None:
    """Point ``NUMBA_CACHE_DIR`` at a private temporary folder when numba's own choices are not writable."""
    chosen = os.environ.get("NUMBA_CACHE_DIR")
    if chosen and _writable(Path(chosen)):
        return
    if not chosen and (_writable(CACHED_PACKAGE / "__pycache__") or _writable(_user_cache() / "numba")):
        return
    fallback = _private_temp_folder()
    if fallback is None:
        return  # no writable temporary folder either: nothing on this machine can be written
    os.environ["NUMBA_CACHE_DIR"] = str(fallback)
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba imported before talkinghead: its configuration is already read
        config.CACHE_DIR = str(fallback)


def _user_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) if xdg else Path.home() / ".cache"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except (OSError, RuntimeError):  # RuntimeError: Path.home() without a home
        return False
    return True


def _private_temp_folder() -> Path | None:
    """``$TMPDIR/talkinghead-numba-UID`` if it is ours alone (numba's cache index is a pickle: a folder another
    account could write to must never be used), else a fresh folder of our own."""
    try:
        base = Path(tempfile.gettempdir())
        folder = base / f"talkinghead-numba-{os.getuid()}"
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022:
            return folder if _writable(folder) else None
        return Path(tempfile.mkdtemp(prefix="talkinghead-numba-"))
    except OSError:
        return None
