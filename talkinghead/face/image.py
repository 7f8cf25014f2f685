"""Read a portrait photo into an RGB array, with the size checks users need to hear about early."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np

from talkinghead.errors import TalkingHeadError

MIN_SIDE = 64
MAX_SIDE = 8000


def load_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Return the photo as RGB uint8 (EXIF orientation applied) and notes for the user.

    Photos over 8000 px on a side are scaled down to 8000 (the face crop never needs more); photos under
    64 px on a side are refused, since no face in them can be animated.
    """
    path = Path(path)
    if not path.is_file():
        raise TalkingHeadError(f"portrait file not found: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise TalkingHeadError(f"cannot read {path} as an image (PNG, JPEG, WebP, BMP or TIFF expected)")
    return check_image(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), str(path))


def check_image(image: np.ndarray, name: str = "portrait") -> tuple[np.ndarray, list[str]]:
    """Validate an RGB uint8 image's size; scale down huge ones. Returns (image, notes)."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise TalkingHeadError(f"{name}: expected an RGB image of 8-bit values, got shape {image.shape}")
    height, width = image.shape[:2]
    if min(height, width) < MIN_SIDE:
        raise TalkingHeadError(f"{name} is {width}x{height} px; at least {MIN_SIDE} px on each side is needed")
    notes: list[str] = []
    if max(height, width) > MAX_SIDE:
        scale = MAX_SIDE / max(height, width)
        image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        notes.append(f"{name} is {width}x{height} px; scaled down to {image.shape[1]}x{image.shape[0]}")
    return np.ascontiguousarray(image), notes


def image_size(data: bytes) -> tuple[int, int]:
    """(width, height) read from an image file's header alone, without decoding its pixels.

    Lets a caller refuse an image whose declared size is over its pixel budget before anything is
    decoded (a 1 MB PNG can declare 32000x32000 pixels). PNG, JPEG, WebP, BMP and TIFF; anything else,
    or a header cut short or garbled, is a `TalkingHeadError`.
    """
    data = bytes(data[:_HEADER_BYTES]) if len(data) > _HEADER_BYTES else bytes(data)
    for magic, reader in _HEADER_READERS:
        if data.startswith(magic):
            try:
                width, height = reader(data)
            except (struct.error, IndexError, KeyError, ValueError):
                break
            if width > 0 and height > 0:
                return width, height
            break
    raise TalkingHeadError("cannot read the image's size (PNG, JPEG, WebP, BMP or TIFF expected)")


_HEADER_BYTES = 1 << 20  # JPEG size markers may follow large EXIF blocks; they come well within this


def _png_size(data: bytes) -> tuple[int, int]:
    if data[12:16] != b"IHDR":
        raise ValueError("no IHDR")
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while True:
        while data[position] != 0xFF:
            position += 1
        while data[position] == 0xFF:
            position += 1
        marker = data[position]
        position += 1
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            continue
        (length,) = struct.unpack(">H", data[position : position + 2])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # start of frame
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            return width, height
        if marker in (0xD9, 0xDA) or length < 2:
            raise ValueError("no frame header")
        position += length


def _webp_size(data: bytes) -> tuple[int, int]:
    if data[8:12] != b"WEBP":
        raise ValueError("not WebP")
    chunk = data[12:16]
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    raise ValueError("unknown WebP chunk")


def _bmp_size(data: bytes) -> tuple[int, int]:
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return width, abs(height)


def _tiff_size(data: bytes) -> tuple[int, int]:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    size = {}
    for entry in range(count):
        start = offset + 2 + 12 * entry
        tag, kind = struct.unpack(order + "HH", data[start : start + 4])
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT or LONG
            fmt = "H" if kind == 3 else "I"
            size[tag] = struct.unpack(order + fmt, data[start + 8 : start + 8 + struct.calcsize(fmt)])[0]
    return size[256], size[257]


_HEADER_READERS = (
    (b"\x89PNG\r\n\x1a\n", _png_size),
    (b"\xff\xd8", _jpeg_size),
    (b"RIFF", _webp_size),
    (b"BM", _bmp_size),
    (b"II*\x00", _tiff_size),
    (b"MM\x00*", _tiff_size),
)
