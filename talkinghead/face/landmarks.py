"""Find the face and its 478 landmarks with MediaPipe's bundled models (Apache-2.0, offline).

MediaPipe's face mesh misses faces under ~20% of the image side, so we first find faces with the
full-range detector on the whole photo, then run the mesh on a square crop around the largest one.
Landmarks come back in image pixels: x, y, and z (depth, same scale as x, smaller = nearer the camera).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from talkinghead.errors import TalkingHeadError

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DETECT_MAX_SIDE = 1280
MESH_INPUT_SIDE = 512
MIN_FACE_PX = 32


@dataclass(frozen=True)
class FaceBox:
    """A detected face: top-left corner, size in image pixels, detector score."""

    x: float
    y: float
    width: float
    height: float
    score: float

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Native libraries write straight to file descriptor 2 (MediaPipe's set-up chatter, libpng's complaints
    about a damaged file); keep the CLI's output to its own lines. Process-wide while it lasts."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def detect_faces(image: np.ndarray) -> list[FaceBox]:
    """All faces the full-range detector finds, largest first."""
    from mediapipe.python.solutions import face_detection

    height, width = image.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(height, width))
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    with quiet_native_stderr(), face_detection.FaceDetection(model_selection=1, min_detection_confidence=0.5) as det:
        result = det.process(small)
    boxes = []
    for found in result.detections or []:
        box = found.location_data.relative_bounding_box
        boxes.append(
            FaceBox(box.xmin * width, box.ymin * height, box.width * width, box.height * height, found.score[0])
        )
    return sorted(boxes, key=lambda b: b.width * b.height, reverse=True)


def face_landmarks(image: np.ndarray, box: FaceBox | None) -> np.ndarray | None:
    """478x3 landmarks of the face in ``box`` (or of the most prominent face when box is None)."""
    from mediapipe.python.solutions import face_mesh

    if box is None:
        x0, y0, side = 0.0, 0.0, float(max(image.shape[:2]))
    else:
        cx, cy = box.center
        side = 2.2 * max(box.width, box.height)
        x0, y0 = cx - side / 2, cy - side / 2
    scale = MESH_INPUT_SIDE / side
    to_crop = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]], dtype=np.float64)
    crop = cv2.warpAffine(
        image, to_crop, (MESH_INPUT_SIDE, MESH_INPUT_SIDE), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    with quiet_native_stderr(), face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=1, min_detection_confidence=0.5
    ) as mesh:
        result = mesh.process(crop)
    if not result.multi_face_landmarks:
        return None
    points = np.array([[p.x, p.y, p.z] for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)
    points *= MESH_INPUT_SIDE
    points /= scale
    points[:, 0] += x0
    points[:, 1] += y0
    return points


def find_face(image: np.ndarray, name: str = "portrait") -> tuple[np.ndarray, list[str]]:
    """Landmarks of the largest face in ``image``, and notes for the user (several faces found)."""
    boxes = detect_faces(image)
    notes = []
    if len(boxes) > 1:
        notes.append(f"{name} shows {len(boxes)} faces; animating the largest")
    box = boxes[0] if boxes else None
    if box is not None and max(box.width, box.height) < MIN_FACE_PX:
        raise TalkingHeadError(
            f"the face in {name} is only {box.width:.0f} px wide; at least {MIN_FACE_PX} px is needed"
        )
    points = face_landmarks(image, box)
    if points is None:
        raise TalkingHeadError(f"no face found in {name}; use a photo with one clearly visible, front-facing face")
    return points, notes
