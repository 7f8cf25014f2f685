"""Opening the files a user names, treating them as hostile: regular files only, read within a byte budget.

A path may be a device (``/dev/zero`` never ends, ``/dev/urandom`` neither), a FIFO (an open that never
returns), a directory, a file we may not read, or a huge or binary file where text or JSON belongs. Each
is refused here with one line that says what was wrong, before any of it is loaded, so reading a small
option file can never take the process's memory with it.
"""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path
from typing import Any

from talkinghead.errors import TalkingHeadError

KIB, MIB = 1 << 10, 1 << 20
TRANSCRIPT_BYTES = 1 * MIB        # a 10-minute speech is about 10 kB of text
EMOTION_SCHEDULE_BYTES = 1 * MIB  # a change per second for an hour is about 150 kB
MOTION_TRACK_BYTES = 32 * MIB     # 21 channels x 10 min x 120 fps at 8 characters a value is 12 MB
JSON_MAX_DEPTH = 32               # the deepest any of our JSON files needs is 3


def open_av(path: str | Path) -> Any:
    """A PyAV input container for a user's media file. Its tags are read with replacement characters where
    they are not UTF-8: PyAV decodes them strictly while opening, so one damaged or crafted tag byte raised a
    `UnicodeDecodeError` from inside ``av.open``, not an error about the file."""
    import av

    return av.open(os.fspath(path), metadata_errors="replace")


def open_regular(path: str | Path, what: str) -> int:
    """A read-only descriptor of ``path`` once it is known to be a regular file (never blocks on a FIFO)."""
    try:
        descriptor = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except ValueError:  # an embedded NUL byte
        raise TalkingHeadError(f"{what} {str(path)!r} is not a valid file name") from None
    except OSError as exc:
        raise TalkingHeadError(f"cannot read {what} {path}: {_reason(exc)}") from None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise TalkingHeadError(f"{what} {path} is not a regular file (a folder, device or pipe cannot be read)")
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def check_regular_file(path: str | Path, what: str, max_bytes: int | None = None) -> Path:
    """``path`` if it is a readable regular file within ``max_bytes``; a one-line `TalkingHeadError` if not."""
    descriptor = open_regular(path, what)
    try:
        _check_size(os.fstat(descriptor).st_size, path, what, max_bytes)
    finally:
        os.close(descriptor)
    return Path(path)


def read_bytes(path: str | Path, what: str, max_bytes: int) -> bytes:
    """The whole file, refused before loading when it is over ``max_bytes`` (or grows past it while read)."""
    descriptor = open_regular(path, what)
    try:
        _check_size(os.fstat(descriptor).st_size, path, what, max_bytes)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise TalkingHeadError(f"cannot read {what} {path}: {_reason(exc)}") from None
    finally:
        os.close(descriptor)
    _check_size(len(data), path, what, max_bytes)
    return data


def read_text(path: str | Path, what: str, max_bytes: int) -> str:
    """A UTF-8 text file (a byte-order mark is allowed); binary content is refused."""
    data = read_bytes(path, what, max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TalkingHeadError(f"{what} {path} is not UTF-8 text (byte {exc.start} is not valid); "
                               "is it a binary file?") from None
    if "\x00" in text:
        raise TalkingHeadError(f"{what} {path} contains NUL bytes: it is a binary file, not text")
    return text


def read_json(path: str | Path, what: str, max_bytes: int) -> Any:
    """A JSON file's value; NaN, Infinity, absurd nesting and binary content are refused."""
    return parse_json(read_text(path, what, max_bytes), f"{what} {path}")


def parse_json(text: str, where: str) -> Any:
    """Strict JSON (no NaN or Infinity) nested at most `JSON_MAX_DEPTH` deep."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise TalkingHeadError(f"cannot read {where}: not valid JSON: {exc.msg} (line {exc.lineno}, "
                               f"column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:  # NaN/Infinity, a 5000-digit number, or nesting past the stack
        raise TalkingHeadError(f"cannot read {where}: {str(exc)[:80] or type(exc).__name__}") from None
    if _depth(value) > JSON_MAX_DEPTH:
        raise TalkingHeadError(f"{where} nests deeper than {JSON_MAX_DEPTH} levels; it is not the expected format")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(value: Any) -> int:
    """Nesting depth of lists and objects, without recursion (a hostile file cannot overflow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if depth <= JSON_MAX_DEPTH:
                stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _check_size(size: int, path: str | Path, what: str, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        raise TalkingHeadError(f"{what} {path} is {_amount(size)}, over the limit of {_amount(max_bytes)}")


def _amount(size: int) -> str:
    return f"{size / MIB:.1f} MB" if size >= MIB else f"{size} bytes"


def _reason(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "no such file"
    return exc.strerror or str(exc)
