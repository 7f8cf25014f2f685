"""Read a portrait photo into an RGB array, with the size checks users need to hear about early."""

from __future__ import annotations

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
