"""Choose the frame (a face-centred square, or the whole photo) and bring photo and landmarks into it."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from talkinghead.face import topology as topo

FACE_SHARE = 0.42  # face height (forehead to chin) as a share of the frame height at head_distance 1
SOFT_UPSCALE = 1.5


@dataclass(frozen=True)
class Crop:
    """A rectangle of the photo (top-left corner and size in photo pixels), the scale to output pixels and
    the output frame's size (even numbers, as H.264 in yuv420p needs)."""

    x: float
    y: float
    width: float
    height: float
    scale: float
    out_width: int
    out_height: int

    @property
    def side(self) -> float:
        """The crop's longer side in photo pixels."""
        return max(self.width, self.height)


def full_crop(image_shape: tuple[int, ...], size: int) -> Crop:
    """The whole photo, its longer side scaled to ``size``."""
    height, width = image_shape[:2]
    scale = size / max(height, width)
    out_width, out_height = (max(2, 2 * round(side * scale / 2)) for side in (width, height))
    return Crop(0.0, 0.0, float(width), float(height), scale, out_width, out_height)


def face_crop(landmarks: np.ndarray, image_shape: tuple[int, ...], size: int, head_distance: float) -> Crop:
    """Square around the face with room for hair and shoulders.

    Its side is exactly face height / FACE_SHARE x ``head_distance``, so the face fills the same share of
    every video. It is slid to stay inside the photo where it fits; where the photo is too small, the
    missing margin is filled by `apply_crop` (mirrored and blurred, like an out-of-focus background).
    """
    height, width = image_shape[:2]
    face_height = float(np.linalg.norm(landmarks[topo.CHIN, :2] - landmarks[topo.FOREHEAD_TOP, :2]))
    side = face_height / FACE_SHARE * head_distance
    center_x = float(landmarks[list(topo.FACE_OVAL), 0].mean())
    center_y = float(landmarks[list(topo.FACE_OVAL), 1].mean()) + 0.06 * side
    x = _slide_inside(center_x - side / 2, side, width)
    y = _slide_inside(center_y - side / 2, side, height)
    return Crop(x, y, side, side, size / side, size, size)


def _slide_inside(start: float, side: float, limit: int) -> float:
    """Move a span of length ``side`` to lie within [0, limit] if it fits, else centre the overhang."""
    if side <= limit:
        return float(np.clip(start, 0, limit - side))
    return (limit - side) / 2


def apply_crop(image: np.ndarray, landmarks: np.ndarray, crop: Crop) -> tuple[np.ndarray, np.ndarray]:
    """The crop resampled to the output size and the landmarks in its pixels (z scaled alike)."""
    to_out = np.array([[crop.scale, 0, -crop.x * crop.scale], [0, crop.scale, -crop.y * crop.scale]])
    interpolation = cv2.INTER_AREA if crop.scale < 1 else cv2.INTER_CUBIC
    frame = cv2.warpAffine(image, to_out, (crop.out_width, crop.out_height), flags=interpolation,
                           borderMode=cv2.BORDER_REFLECT_101)
    frame = _soften_margin(frame, image.shape, to_out)
    points = landmarks.copy()
    points[:, 0] = (points[:, 0] - crop.x) * crop.scale
    points[:, 1] = (points[:, 1] - crop.y) * crop.scale
    points[:, 2] *= crop.scale
    return frame, points


def _soften_margin(frame: np.ndarray, image_shape: tuple[int, ...], to_out: np.ndarray) -> np.ndarray:
    """Blur the part of the frame that lies outside the photo (mirrored fill), fading in from its edge."""
    height, width = image_shape[:2]
    inside = cv2.warpAffine(np.full((height, width), 255, np.uint8), to_out, frame.shape[1::-1],
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if inside.min() == 255:
        return frame
    size = max(frame.shape[:2])
    blurred = cv2.GaussianBlur(frame, (0, 0), size / 40)
    outside = cv2.GaussianBlur(255 - inside, (0, 0), size / 100).astype(np.float32)[..., None] / 255.0
    return (frame * (1 - outside) + blurred * outside).astype(np.uint8)


def softness_note(crop: Crop, name: str) -> list[str]:
    """Tell the user when the output is an upscale of a small face (it will look soft)."""
    if crop.scale <= SOFT_UPSCALE:
        return []
    return [
        f"the face in {name} is small ({crop.side:.0f} px crop): the output is upscaled x{crop.scale:.1f} "
        "and will look soft; a larger photo or a smaller --size gives a sharper video"
    ]
