"""Read a portrait photo into an RGB array, with the size checks users need to hear about early.

An image file says how large it is in its header, and a decoder believes it: a 1 MB PNG can declare
32000x32000 pixels (3 GB decoded). So the header is read first (Pillow reads headers without decoding)
and an image over `MAX_PIXELS` is refused before a single pixel is decoded.
"""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from talkinghead.errors import TalkingHeadError
from talkinghead.face.landmarks import quiet_native_stderr
from talkinghead.input_files import MIB, read_bytes

MIN_SIDE = 64
MAX_SIDE = 8000
MAX_PIXELS = 50_000_000        # a 48-megapixel phone photo fits; decoded RGB stays under 150 MB
MAX_IMAGE_BYTES = 256 * MIB    # an uncompressed 50-megapixel TIFF is 150 MB
FORMATS = "PNG, JPEG, WebP, BMP or TIFF"


def image_size(data_or_path: bytes | str | Path) -> tuple[int, int]:
    """(width, height) from an image's header alone (file contents or a path), without decoding pixels.

    Raises `TalkingHeadError` for data that is not an image Pillow can identify.
    """
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        return _header_size(io.BytesIO(data_or_path), "image")
    return _header_size(data_or_path, str(data_or_path))


def _header_size(source: io.BytesIO | str | Path, name: str) -> tuple[int, int]:
    """Ask each of Pillow's format readers for the size in the header. (Not `Image.open`: it refuses images
    over its own pixel limit without saying how large they are, and the caller applies its own budget.)"""
    try:
        handle = source if isinstance(source, io.BytesIO) else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        raise TalkingHeadError(f"cannot read {name}: {exc.strerror or exc}") from None
    with handle:
        prefix = handle.read(16)
        Image.init()
        for reader in Image.ID:
            factory, accepts = Image.OPEN[reader]
            handle.seek(0)
            try:
                verdict = True if accepts is None else accepts(prefix)
                if not verdict or isinstance(verdict, str):  # a string: "this format, but unsupported"
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    width, height = factory(handle, name).size
            except Image.DecompressionBombError:  # Pillow's own limit is far above ours (GIF checks it early)
                raise TalkingHeadError(f"{name} declares over {Image.MAX_IMAGE_PIXELS * 2 / 1e6:.0f} megapixels, "
                                       f"over the limit of {MAX_PIXELS / 1e6:.0f}; scale it down first") from None
            except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError, struct.error):
                continue
            if width > 0 and height > 0:
                return int(width), int(height)
    raise TalkingHeadError(f"cannot read {name} as an image ({FORMATS} expected)")


def check_pixel_budget(width: int, height: int, name: str) -> None:
    """Refuse an image whose declared size would decode into more than `MAX_PIXELS` pixels."""
    if width * height > MAX_PIXELS:
        raise TalkingHeadError(f"{name} is {width}x{height} px ({width * height / 1e6:.0f} megapixels), over the "
                               f"limit of {MAX_PIXELS / 1e6:.0f} megapixels; scale it down first")


def load_image(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """Return the photo as RGB uint8 (EXIF orientation applied) and notes for the user.

    Photos over 8000 px on a side are scaled down to 8000 (the face crop never needs more); photos under
    64 px on a side, over `MAX_PIXELS` or over `MAX_IMAGE_BYTES` are refused.
    """
    path = Path(path)
    if not path.exists():
        raise TalkingHeadError(f"portrait file not found: {path}")
    data = read_bytes(path, "portrait", MAX_IMAGE_BYTES)
    width, height = _header_size(io.BytesIO(data), str(path))
    check_pixel_budget(width, height, str(path))
    return check_image(decode_image(data, str(path)), str(path))


def decode_image(data: bytes, name: str) -> np.ndarray:
    """RGB uint8 pixels of an encoded image (EXIF orientation applied), whose size was checked before."""
    try:
        with quiet_native_stderr():  # libpng prints its own complaint about a damaged file beside our one line
            image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        raise TalkingHeadError(f"cannot read {name} as an image ({FORMATS} expected)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


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
