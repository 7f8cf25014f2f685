"""Gaze: the iris slides inside the eye opening, and white of the eye fills where it was.

Done on the photo before the mesh warp (so blinks and head pose apply on top): per eye, once per portrait,
we cut the iris out as a soft patch, paint a sclera-only background of the eye by inpainting the iris
away, and per frame paste the iris back at its new place, clipped to the eye opening. All work is on two
small regions of interest, a few hundred pixels each.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from talkinghead.face import topology as topo

IRIS_TRAVEL = 0.42  # iris shift per unit sine of the gaze angle, in eye widths (eyeball radius / eye width)
EYES = (  # (upper lid, lower lid, iris centre, iris edge points)
    (topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER, 468, (469, 470, 471, 472)),
    (topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER, 473, (474, 475, 476, 477)),
)


@dataclass
class _Eye:
    x0: int
    y0: int
    opening: np.ndarray  # float32 alpha of the eye opening in the ROI (h, w, 1)
    sclera: np.ndarray  # float32 ROI with the iris painted out
    iris: np.ndarray  # float32 ROI holding the iris only (premultiplied by iris_alpha)
    iris_alpha: np.ndarray  # float32 (h, w, 1)
    width: float


class GazeShifter:
    """Moves both irises of one portrait by a gaze angle (degrees, the head's signs: + yaw looks to the
    image's right, + pitch looks down)."""

    def __init__(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        self.eyes = [eye for spec in EYES if (eye := _prepare_eye(image, landmarks, *spec)) is not None]

    def apply(self, image: np.ndarray, yaw_deg: float, pitch_deg: float) -> np.ndarray:
        """A copy of ``image`` with the irises moved (``image`` itself when there is nothing to do)."""
        if not self.eyes or (abs(yaw_deg) < 0.05 and abs(pitch_deg) < 0.05):
            return image
        out = image.copy()
        for eye in self.eyes:
            shift_x = IRIS_TRAVEL * eye.width * np.sin(np.radians(yaw_deg))
            shift_y = IRIS_TRAVEL * eye.width * np.sin(np.radians(pitch_deg))
            height, width = eye.opening.shape[:2]
            move = np.array([[1, 0, shift_x], [0, 1, shift_y]], np.float32)
            iris = cv2.warpAffine(eye.iris, move, (width, height), flags=cv2.INTER_LINEAR)
            alpha = cv2.warpAffine(eye.iris_alpha, move, (width, height), flags=cv2.INTER_LINEAR)[..., None]
            moved = eye.sclera * (1 - alpha) + iris
            region = out[eye.y0 : eye.y0 + height, eye.x0 : eye.x0 + width].astype(np.float32)
            blended = region + eye.opening * (moved - region)
            out[eye.y0 : eye.y0 + height, eye.x0 : eye.x0 + width] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
        return out


def _prepare_eye(image: np.ndarray, landmarks: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...],
                 centre_index: int, edge: tuple[int, ...]) -> _Eye | None:
    contour = landmarks[list(upper) + list(lower[::-1][1:-1]), :2]
    eye_width = float(np.ptp(contour[:, 0]))
    pad = max(3, int(0.25 * eye_width))
    x0, y0 = np.floor(contour.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(contour.max(axis=0)).astype(int) + pad
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
    if eye_width < 4 or x1 - x0 < 4 or y1 - y0 < 4:
        return None
    roi = image[y0:y1, x0:x1]
    opening = np.zeros(roi.shape[:2], np.uint8)
    cv2.fillPoly(opening, [np.round((contour - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    centre = landmarks[centre_index, :2] - (x0, y0)
    radius = float(np.mean(np.linalg.norm(landmarks[list(edge), :2] - landmarks[centre_index, :2], axis=1)))
    disk = np.zeros_like(opening)
    cv2.circle(disk, tuple(np.round(centre * 16).astype(int)), round(radius * 1.08 * 16), 255, -1, cv2.LINE_AA,
               shift=4)
    iris_mask = cv2.bitwise_and(disk, opening)
    sclera = cv2.inpaint(roi, cv2.dilate(iris_mask, np.ones((3, 3), np.uint8)), 3, cv2.INPAINT_TELEA)
    iris_alpha = iris_mask.astype(np.float32) / 255.0
    return _Eye(
        x0=int(x0), y0=int(y0),
        opening=cv2.GaussianBlur(opening, (3, 3), 0).astype(np.float32)[..., None] / 255.0,
        sclera=sclera.astype(np.float32),
        iris=roi.astype(np.float32) * iris_alpha[..., None],
        iris_alpha=iris_alpha,
        width=eye_width,
    )
