"""Mouth interior: what the photo cannot show when the lips part wider than they were.

The warp stretches the lips' own pixels across a new opening; we paint a shaded cavity there instead:
darkened lip colour under the upper lip, a warmer tongue tone towards the lower lip, darker towards the
corners, with a feathered edge. The cavity's top edge is the upper inner lip, or the mesh's teeth line
when the photo shows teeth, so those teeth stay in view above it. (Synthesised teeth and a real tongue
come with the photoreal renderer.)
"""

from __future__ import annotations

import cv2
import numpy as np

from talkinghead.face import topology as topo

OUTER_LIPS = np.array(topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER[::-1][1:-1])
FULL_DARK_AT = 0.03  # extra opening (share of face width) at which the cavity is fully painted


class MouthPainter:
    """Paints the cavity for one portrait; colours are taken from the person's lips once."""

    def __init__(self, image: np.ndarray, rest: np.ndarray, teeth_line: np.ndarray, face_width: float) -> None:
        self.face_width = face_width
        top = teeth_line if len(teeth_line) else np.array(topo.LIPS_INNER_UPPER[1:-1])
        corners = topo.LIPS_INNER_LOWER[0], topo.LIPS_INNER_LOWER[-1]
        self.top_middle = int(top[len(top) // 2])
        self.cavity = np.array([corners[0], *top, corners[1], *topo.LIPS_INNER_LOWER[-2:0:-1]])
        self.rest_gap = self._gap(rest)
        lips = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(lips, [np.round(rest[OUTER_LIPS]).astype(np.int32)], 255)
        inner = np.array(topo.LIPS_INNER_UPPER + topo.LIPS_INNER_LOWER[-2:0:-1])
        cv2.fillPoly(lips, [np.round(rest[inner]).astype(np.int32)], 0)
        lip_colour = np.array(cv2.mean(image, mask=lips)[:3]) if lips.any() else np.array([150.0, 80, 80])
        self.throat = lip_colour * 0.28
        self.tongue = lip_colour * 0.7

    def paint(self, frame: np.ndarray, deformed: np.ndarray) -> None:
        """Paint the cavity into ``frame`` in place, for the mesh vertices ``deformed`` (V x 2)."""
        strength = np.clip((self._gap(deformed) - self.rest_gap) / (FULL_DARK_AT * self.face_width), 0.0, 1.0)
        if strength <= 0.0:
            return
        polygon = deformed[self.cavity]
        height, width = frame.shape[:2]
        x0, y0 = np.maximum(np.floor(polygon.min(axis=0)).astype(int) - 2, 0)
        x1, y1 = np.minimum(np.ceil(polygon.max(axis=0)).astype(int) + 3, (width, height))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
        alpha = cv2.GaussianBlur(mask, (3, 3), 0).astype(np.float32)[..., None] * (strength / 255.0)
        ys = (np.arange(y0, y1, dtype=np.float32) - polygon[:, 1].min()) / max(np.ptp(polygon[:, 1]), 1.0)
        xs = (np.arange(x0, x1, dtype=np.float32) - polygon[:, 0].mean()) / max(np.ptp(polygon[:, 0]) / 2, 1.0)
        depth = np.clip((ys[:, None] - 0.45) / 0.55, 0.0, 1.0) ** 1.5
        shade = np.clip(1.0 - 0.55 * np.abs(xs[None, :]) ** 2, 0.3, 1.0)
        colour = (self.throat + depth[..., None] * (self.tongue - self.throat)) * shade[..., None]
        region = frame[y0:y1, x0:x1].astype(np.float32)
        frame[y0:y1, x0:x1] = np.clip(region + alpha * (colour - region), 0, 255).astype(np.uint8)

    def _gap(self, points: np.ndarray) -> float:
        """Height of the cavity at its middle, in pixels."""
        return float(np.linalg.norm(points[topo.LIP_CENTER_LOWER] - points[self.top_middle]))
