"""Keep a deformed mesh from turning its triangles over.

Each mouth field is built so that it does not fold the mesh on its own, but summed with others (closing a photo's
open mouth, a sad mouth's lowered corners, a wide jaw) they can carry a skin vertex past its neighbour: a
triangle turns over, the warp draws the same skin twice, and a hard-edged wedge shows beside the mouth.
Where a triangle is turned, the moves of its free vertices (the face's skin: not the lips and what lies between
them, nothing off the face) are replaced by the smoothest moves that fit those around them (each the mean of its
neighbours', solved together), over a region that grows a ring at a time (three at most): the skin there stretches
smoothly. What that cannot unfold (the smoothing turns more than it opens: a sad mouth on an open-mouth photo) is
pried open: the free vertices of each turned triangle move the least distance that gives it back a tenth of its
area.

>>> import numpy as np
>>> rest = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])
>>> guard = FoldGuard(rest, np.array([[0, 1, 2], [1, 3, 2]]), fixed=np.array([True, True, True, False]))
>>> points = rest.copy(); points[3] = [2.0, 2.0]  # vertex 3 pushed across the edge 1-2
>>> guard.turned(points).any(), guard.turned(guard.unfold(points)).any()
(True, False)
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

MAX_ROUNDS = 3  # each round adds a ring of neighbours: more reached the jaw line and moved it
PRY_ROUNDS = 12
KEPT_AREA = 0.1  # prying a triangle open: back to this share of its rest area (squeezed, not flattened)
DEGENERATE_AREA = 1.0  # px²: triangles this thin at rest (squeezed lips) have no orientation to keep


def signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Signed area of each triangle: its sign is the triangle's orientation, which a fold turns over."""
    x, y = points[:, 0], points[:, 1]
    first, second, third = triangles.T
    x0, y0 = x[first], y[first]
    return 0.5 * ((x[second] - x0) * (y[third] - y0) - (y[second] - y0) * (x[third] - x0))


class FoldGuard:
    """Unfolds deformed copies of one rest mesh (V x 2 points, T x 3 triangles); ``fixed`` (V,) marks the
    vertices it must not move. It watches the triangles with a free vertex (skin): one of fixed vertices only
    is the lips' own shape, beyond its reach."""

    def __init__(self, rest: np.ndarray, triangles: np.ndarray, fixed: np.ndarray) -> None:
        self.rest = np.asarray(rest, dtype=np.float64)[:, :2]
        self.free = ~np.asarray(fixed, dtype=bool)
        rest_areas = signed_areas(self.rest, triangles)
        kept = (np.abs(rest_areas) > DEGENERATE_AREA) & self.free[triangles].any(axis=1)
        self.triangles = np.ascontiguousarray(triangles[kept])
        self._columns = np.ascontiguousarray(self.triangles.T)  # one index row per corner: faster area sums
        self.orientation = np.sign(rest_areas[kept])
        self.rest_area = np.abs(rest_areas[kept])
        edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
        count = len(self.rest)
        adjacency = sparse.coo_matrix((np.ones(2 * len(edges)), (np.r_[edges[:, 0], edges[:, 1]],
                                                                 np.r_[edges[:, 1], edges[:, 0]])),
                                      shape=(count, count)).tocsr()
        adjacency.data[:] = 1.0  # an edge shared by two triangles counts once
        self.neighbours = adjacency  # sparse, to grow a region by a ring; dense below, for the small solves
        self.adjacency = adjacency.toarray()
        self.degree = self.adjacency.sum(axis=1)

    def turned(self, points: np.ndarray) -> np.ndarray:
        """Which kept triangles ``points`` turns over (bool per triangle of ``self.triangles``)."""
        return self.turned_areas(points) > 0.0

    def turned_areas(self, points: np.ndarray) -> np.ndarray:
        """How far each kept triangle is turned over by ``points`` (px², 0 where it is not)."""
        return np.maximum(-signed_areas(points, self._columns.T) * self.orientation, 0.0)

    def unfold(self, points: np.ndarray) -> np.ndarray:
        """``points`` (V x 2, changed in place and returned) with the moves of the free vertices of turned
        triangles replaced by the smoothest (harmonic) moves that fit the moves around them. The region grows
        by a ring of neighbours (and any newly turned triangle) each round until no triangle is turned, a round
        turns more than it unfolds (it is undone), or `MAX_ROUNDS` have passed; what is left is pried open
        (`_pry_open`). Nothing turned (most frames): one area check, ~20 us at 512 px; the worst case measured
        (a sad mouth on an open-mouth photo) ~1.5 ms."""
        region = np.zeros(len(points), dtype=bool)
        turned = self.turned_areas(points)
        for _ in range(MAX_ROUNDS):
            if not turned.any():
                break
            if region.any():  # the last round's region was too small: add a ring of neighbours
                region |= self.neighbours @ region > 0
            region[self.triangles[turned > 0].ravel()] = True
            region &= self.free
            if not region.any():
                break
            before = points.copy()
            self._harmonic(points, np.flatnonzero(region))
            now = self.turned_areas(points)
            if now.sum() >= turned.sum():
                points[:] = before
                break
            turned = now
        if turned.any():
            self._pry_open(points)
        return points

    def _pry_open(self, points: np.ndarray) -> None:
        """What smoothing could not unfold: each turned triangle's free vertices move the least distance that
        turns it back to `KEPT_AREA` of its rest area (along the area's gradient), round after round."""
        for _ in range(PRY_ROUNDS):
            areas = signed_areas(points, self._columns.T) * self.orientation
            turned = np.flatnonzero(areas < 0.0)
            if not turned.size:
                return
            triangles = self.triangles[turned]
            corners = points[triangles]
            facing = corners[:, [2, 0, 1]] - corners[:, [1, 2, 0]]  # the edge opposite each corner
            gradient = 0.5 * self.orientation[turned, None, None] * np.stack([-facing[..., 1], facing[..., 0]], -1)
            gradient *= self.free[triangles][..., None]
            norm = (gradient**2).sum(axis=(1, 2))
            if not (norm > 1e-12).any():
                return
            step = ((KEPT_AREA * self.rest_area[turned] - areas[turned]) / np.maximum(norm, 1e-12))[:, None, None]
            where, pushes = triangles.ravel(), (step * gradient).reshape(-1, 2)
            size = len(points)
            counts = np.maximum(np.bincount(where, self.free[triangles].ravel() & (norm > 1e-12).repeat(3),
                                            size), 1.0)
            points[:, 0] += np.bincount(where, pushes[:, 0], size) / counts
            points[:, 1] += np.bincount(where, pushes[:, 1], size) / counts

    def _harmonic(self, points: np.ndarray, region: np.ndarray) -> None:
        """Each vertex of ``region`` moves by the mean of its neighbours' moves (solved for all at once)."""
        moves = points - self.rest
        rows = self.adjacency[region]
        outside = moves.copy()
        outside[region] = 0.0
        solved = np.linalg.solve(np.diag(self.degree[region]) - rows[:, region], rows @ outside)
        points[region] = self.rest[region] + solved
