"""Backward mesh warp: draw the photo through a deformed triangle mesh with one `cv2.remap`.

For each output pixel we need the photo position it shows. Only triangles with a moved vertex differ from
the identity, so we rasterise just those (triangle ids into an index image, one `fillConvexPoly` each),
give every pixel its triangle's affine map (deformed -> rest, vectorised numpy), and remap the bounding
box of the moving part. The rest of the frame is the photo itself: no resampling, no blur, no drift.
"""

from __future__ import annotations

import cv2
import numpy as np

SUBPIXEL_BITS = 4
MOVED_PX = 0.01


class MeshWarper:
    """Warps ``source`` (H x W x 3) from the ``rest`` mesh (V x 2) to any deformed copy of it."""

    def __init__(self, source: np.ndarray, rest: np.ndarray, triangles: np.ndarray) -> None:
        self.source = source
        self.rest = rest.astype(np.float64)
        self.triangles = triangles
        height, width = source.shape[:2]
        self._grid_x, self._grid_y = np.meshgrid(np.arange(width, dtype=np.float32),
                                                 np.arange(height, dtype=np.float32))

    def warp(self, deformed: np.ndarray) -> np.ndarray:
        """The source as seen through the mesh deformed to ``deformed`` (V x 2 output pixels)."""
        moved = np.abs(deformed - self.rest).max(axis=1) > MOVED_PX
        active = np.nonzero(moved[self.triangles].any(axis=1))[0]
        frame = self.source.copy()
        if active.size == 0:
            return frame
        corners = deformed[self.triangles[active]]
        height, width = frame.shape[:2]
        x0, y0 = np.maximum(np.floor(corners.reshape(-1, 2).min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(corners.reshape(-1, 2).max(axis=0)).astype(int) + 1, (width, height))
        if x1 <= x0 or y1 <= y0:
            return frame
        index = np.zeros((y1 - y0, x1 - x0), np.int32)
        fixed = np.round((corners - (x0, y0)) * (1 << SUBPIXEL_BITS)).astype(np.int32)
        for label, triangle in enumerate(fixed, start=1):
            cv2.fillConvexPoly(index, triangle, label, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
        maps = _affine_maps(corners, self.rest[self.triangles[active]])
        gx, gy = self._grid_x[y0:y1, x0:x1], self._grid_y[y0:y1, x0:x1]
        per_pixel = maps[index]
        map_x = per_pixel[..., 0] * gx + per_pixel[..., 1] * gy + per_pixel[..., 2]
        map_y = per_pixel[..., 3] * gx + per_pixel[..., 4] * gy + per_pixel[..., 5]
        frame[y0:y1, x0:x1] = cv2.remap(self.source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        return frame


def _affine_maps(deformed: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Row 0 is the identity (pixels no active triangle covers); row k maps triangle k-1 back to rest.

    Each row holds (a, b, c, d, e, f) with rest_x = a x + b y + c and rest_y = d x + e y + f.
    """
    count = len(deformed)
    homogeneous = np.concatenate([deformed, np.ones((count, 3, 1))], axis=2)  # (k, 3, 3): rows [x y 1]
    determinant = np.linalg.det(homogeneous)
    flat = np.abs(determinant) < 1e-6
    homogeneous[flat] = np.eye(3)
    solved = np.linalg.solve(homogeneous, rest)  # (k, 3, 2): columns give rest_x, rest_y coefficients
    maps = solved.transpose(0, 2, 1).reshape(count, 6)
    maps[flat] = (1, 0, 0, 0, 1, 0)
    identity = np.array([[1, 0, 0, 0, 1, 0]], dtype=np.float64)
    return np.concatenate([identity, maps]).astype(np.float32)
