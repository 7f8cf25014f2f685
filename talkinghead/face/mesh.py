"""A triangle mesh over the whole output frame: face surface, rings around the face, frame border.

Every pixel lies in some triangle, so any smooth deformation of the vertices moves the picture without
tearing. Vertices 0..467 are MediaPipe's face-surface landmarks (same indices), then rings of points
around the face oval (hair, ears, neck, shoulders), then fixed anchors on the frame border. The irises
are left out: they sit inside the eye opening and would fold over when the lid closes.

When the photo's mouth is open (teeth showing), a "teeth line" of vertices runs just above the lower lip
inside the opening. It moves with the upper face, not the jaw, so the photo's upper teeth stay with the
upper lip, unstretched, and only the strip between the teeth line and the lower lip opens up: that strip
is where the renderer paints the mouth cavity.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import Delaunay, cKDTree

from talkinghead.face import topology as topo

# Rings around the face oval: (scale from the face centre, how much the ring follows the head).
RINGS = ((1.25, 0.9), (1.6, 0.6), (2.1, 0.3), (2.8, 0.1))
BACKGROUND_FOLLOW = 0.3  # share of its ring weight a background point keeps (from the second ring out; the
#                         first ring always moves with the face, so the face outline never folds over it)
RING_DEPTH = 0.6  # how much deeper each ring lies than the face outline, per unit of scale, in face widths
OUTLINE_BAND = 0.15  # face points this near the outline (in face widths) get a smoothed depth
OUTLINE_SMOOTHING_PASSES = 20
BORDER_STEPS = 8
MIN_SPACING = 6.0
FRAME_MARGIN = 0.15  # share of the frame's shorter side over which motion fades out towards the frame border
FRAME_STILL = 0.03  # ... and the band along the border where nothing moves at all
FOLD_FREE_RAMP = 2.0  # a motion fading out over twice its largest move slopes under 1 px per px: it cannot fold
ALONG_BORDER_RAMP = 1.0  # motion along a border fades over this many times its largest move (it can only shear)
MIN_HEAD_ROOM = 0.25  # the least share of its motion a head keeps when the photo's edge cuts its face
OPEN_MOUTH_GAP = 0.03  # inner-lip gap (share of face width) above which the photo's mouth counts as open
TEETH_LINE_HEIGHT = 0.15  # teeth line position: share of the gap above the lower lip


@dataclass(frozen=True)
class Mesh:
    """Rest vertices (V x 3, output pixels; z = depth), triangles (T x 3), per-vertex head weight (V,),
    per-vertex ring level (0 = face surface, 1..len(RINGS) = rings, len(RINGS)+1 = border), and the
    indices of the teeth line (empty for a closed mouth), ordered like ``topology.LIPS_INNER_LOWER[1:-1]``."""

    vertices: np.ndarray
    triangles: np.ndarray
    head_weight: np.ndarray
    ring: np.ndarray
    teeth_line: np.ndarray


def build_mesh(landmarks: np.ndarray, shape: tuple[int, int], person: np.ndarray | None = None) -> Mesh:
    """Triangulate the face landmarks, the rings and the border of a frame of ``shape`` (height, width).

    ``person`` (0..1 per pixel, optional) marks the person: ring points on the background follow the head
    only a little (BACKGROUND_FOLLOW), so walls and curtains stay put while hair and shoulders move.
    """
    face = landmarks[: topo.MESH_POINTS]
    oval = face[list(topo.FACE_OVAL)]
    center = oval.mean(axis=0)
    depth = float(oval[:, 2].mean())
    teeth = _teeth_line(landmarks)
    points = [face, teeth]
    weights = [np.ones(len(face) + len(teeth))]
    rings = [np.zeros(len(face) + len(teeth), dtype=int)]
    face_width = float(np.ptp(oval[:, 0]))
    for level, (scale, weight) in enumerate(RINGS, start=1):
        ring = center + scale * (oval - center)
        # the head goes on curving away behind its outline: each ring lies deeper than the outline point it
        # comes from, so under a turn the face passes in front of it (the depth test hides it) instead of
        # folding over it
        ring[:, 2] = oval[:, 2] + (scale - 1.0) * RING_DEPTH * face_width
        points.append(ring)
        weights.append(np.full(len(ring), weight))
        rings.append(np.full(len(ring), level))
    height, width = shape
    border = _border_points(width, height)
    points.append(np.column_stack([border, np.full(len(border), depth)]))
    weights.append(np.zeros(len(border)))
    rings.append(np.full(len(border), len(RINGS) + 1))
    vertices, weight, ring = np.concatenate(points), np.concatenate(weights), np.concatenate(rings)
    keep = _keep_mask(vertices[:, :2], ring, width, height)
    vertices, weight, ring = vertices[keep], weight[keep], ring[keep]
    if person is not None:
        on_ring = (ring > 1) & (ring <= len(RINGS))
        cols = np.clip(np.round(vertices[on_ring, 0]).astype(int), 0, width - 1)
        rows = np.clip(np.round(vertices[on_ring, 1]).astype(int), 0, height - 1)
        weight[on_ring] *= BACKGROUND_FOLLOW + (1 - BACKGROUND_FOLLOW) * person[rows, cols]
    weight *= border_freedom(vertices[:, :2], shape)
    triangles = Delaunay(vertices[:, :2]).simplices.astype(np.int32)
    near_outline = (ring == 0) & (_distance_to(vertices[:, :2], oval[:, :2]) < OUTLINE_BAND * face_width)
    vertices[:, 2] = smoothed_depth(vertices[:, 2], triangles, near_outline, ring == 0, OUTLINE_SMOOTHING_PASSES)
    teeth_line = np.arange(topo.MESH_POINTS, topo.MESH_POINTS + len(teeth))
    return Mesh(vertices, triangles, weight, ring, teeth_line)


def smoothed_depth(depth: np.ndarray, triangles: np.ndarray, where: np.ndarray, among: np.ndarray,
                   passes: int = OUTLINE_SMOOTHING_PASSES) -> np.ndarray:
    """``depth`` with the vertices ``where`` repeatedly set to the mean of their mesh neighbours that are
    ``among`` (the face surface: the deeper rings outside it must not pull its outline back); the other
    vertices hold theirs.

    Why: the landmarker's depth along the face's silhouette is noisy (neighbouring outline points differ by
    tens of pixels). A head turn moves each point sideways in proportion to its depth, so neighbours moved
    by different amounts, the near edge-on triangles of the far cheek flipped, and the cheek's outline
    against the background became a sawtooth. With a smooth depth there it stays one smooth curve.
    """
    n = len(depth)
    a, b = triangles[:, [0, 1, 2]].ravel(), triangles[:, [1, 2, 0]].ravel()
    a, b = a[among[a] & among[b]], b[among[a] & among[b]]
    neighbours = sparse.csr_matrix((np.ones(2 * a.size), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    neighbours.data[:] = 1.0  # an edge shared by two triangles counts once
    degree = np.maximum(np.asarray(neighbours.sum(axis=1)).ravel(), 1.0)
    out = depth.astype(np.float64)
    for _ in range(passes):
        out[where] = (neighbours @ out / degree)[where]
    return out.astype(depth.dtype)


def _distance_to(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest of ``targets``."""
    return cKDTree(targets).query(points)[0]


def border_freedom(xy: np.ndarray, shape: tuple[int, int], reach: float | None = None) -> np.ndarray:
    """How freely each vertex may move (0..1): 0 outside the frame and in a `FRAME_STILL` band along its
    border, rising smoothly to 1 at `FRAME_MARGIN` inside it.

    Every motion is scaled by this, so the frame's edge always shows the photo's own edge pixels and a face
    cut by the frame (or by the photo's edge) never pulls pixels from beyond it into view. The ramp is long
    enough that the largest head motion cannot fold the picture near the border. A motion known to move no
    vertex more than ``reach`` pixels (a mouth channel) fades over ``FOLD_FREE_RAMP`` x ``reach`` instead
    (never longer than the head's ramp): long enough not to fold, short enough that lips near the border
    still close (a face cut by the photo's edge kept the lips apart on that side).
    """
    height, width = shape
    inside = np.minimum.reduce([xy[:, 0], xy[:, 1], width - 1 - xy[:, 0], height - 1 - xy[:, 1]])
    side = min(height, width)
    ramp = (FRAME_MARGIN - FRAME_STILL) * side
    if reach is not None:
        ramp = float(np.clip(FOLD_FREE_RAMP * reach, 1.0, ramp))
    t = np.clip((inside - FRAME_STILL * side) / ramp, 0.0, 1.0)
    return t * t * (3 - 2 * t)


def border_freedom_by_axis(xy: np.ndarray, shape: tuple[int, int], reach: float) -> np.ndarray:
    """(V x 2) how freely each vertex may move across (x) and down (y) the frame, for a motion that moves no
    vertex more than ``reach`` pixels: nothing in the `FRAME_STILL` band, and beyond it each axis fades over
    ``FOLD_FREE_RAMP`` x ``reach`` towards the borders it points at (`border_freedom`: motion towards or away
    from a still border is what folds the picture there or pulls in pixels from beyond it), but only over
    ``ALONG_BORDER_RAMP`` x ``reach`` towards the borders it runs along: sliding along a still edge shears the
    picture beside it and cannot fold it, so the lips of a face the frame cuts beside its mouth still meet."""
    height, width = shape
    side = min(height, width)
    across = np.minimum(xy[:, 0], width - 1 - xy[:, 0])  # distance to the left or right border
    down = np.minimum(xy[:, 1], height - 1 - xy[:, 1])  # ... to the top or bottom one
    still = FRAME_STILL * side
    longest = (FRAME_MARGIN - FRAME_STILL) * side
    towards = float(np.clip(FOLD_FREE_RAMP * reach, 1.0, longest))
    along = float(np.clip(ALONG_BORDER_RAMP * reach, 1.0, longest))

    def fade(distance: np.ndarray, ramp: float) -> np.ndarray:
        t = np.clip((distance - still) / ramp, 0.0, 1.0)
        return t * t * (3 - 2 * t)

    return np.column_stack([fade(across, towards) * fade(down, along), fade(down, towards) * fade(across, along)])


def head_room(oval: np.ndarray, shape: tuple[int, int]) -> float:
    """How far the head may turn and shift (0..1, a factor on its pose): the least `border_freedom` along the
    face outline ``oval`` (N x 2), at least `MIN_HEAD_ROOM`; 1 for a face clear of the frame's border.

    Why: the frame's border never moves, so a face the photo's edge cuts would be torn where its free part
    meets its held part (a crease down the cheek as the head turns). Turning such a head less keeps that
    strain below what shows; `MIN_HEAD_ROOM` keeps a little life in it.
    """
    return float(max(MIN_HEAD_ROOM, border_freedom(oval, shape).min()))


def _teeth_line(landmarks: np.ndarray) -> np.ndarray:
    """Points just above the lower inner lip when the photo's mouth is open; none when it is closed."""
    upper = landmarks[list(topo.LIPS_INNER_UPPER[1:-1])]
    lower = landmarks[list(topo.LIPS_INNER_LOWER[1:-1])]
    width = float(np.linalg.norm(landmarks[topo.CHEEK_LEFT, :2] - landmarks[topo.CHEEK_RIGHT, :2]))
    gap = float(np.linalg.norm(landmarks[topo.LIP_CENTER_LOWER, :2] - landmarks[topo.LIP_CENTER_UPPER, :2]))
    if gap < OPEN_MOUTH_GAP * width:
        return np.empty((0, 3))
    return lower + TEETH_LINE_HEIGHT * (upper - lower)


def _border_points(width: int, height: int) -> np.ndarray:
    across = np.linspace(0, width - 1, BORDER_STEPS + 1)
    down = np.linspace(0, height - 1, BORDER_STEPS + 1)[1:-1]
    right, bottom = float(width - 1), float(height - 1)
    edges = [np.column_stack([across, np.zeros_like(across)]), np.column_stack([across, np.full_like(across, bottom)]),
             np.column_stack([np.zeros_like(down), down]), np.column_stack([np.full_like(down, right), down])]
    return np.concatenate(edges)


def _keep_mask(xy: np.ndarray, ring: np.ndarray, width: int, height: int) -> np.ndarray:
    """Drop ring points outside the frame or crowding a point already kept (face points always stay).

    Ring points are taken ring by ring, in order; kept points are filed in a grid of ``MIN_SPACING`` cells so
    that each test looks only at the 3x3 cells around a point (the greedy order, and so the mesh, is the same
    as comparing with every kept point, at a fraction of the cost).
    """
    border_level = ring.max()
    inside = np.all((xy > MIN_SPACING) & (xy < np.array([width, height]) - 1 - MIN_SPACING), axis=1)
    always = (ring == 0) | (ring == border_level)
    keep = always | inside
    cells: dict[tuple[int, int], list[np.ndarray]] = defaultdict(list)

    def cell(point: np.ndarray) -> tuple[int, int]:
        return int(point[0] // MIN_SPACING), int(point[1] // MIN_SPACING)

    def crowded(point: np.ndarray) -> bool:
        cx, cy = cell(point)
        return any(np.hypot(*(point - other)) < MIN_SPACING for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                   for other in cells.get((cx + dx, cy + dy), ()))

    for point in xy[always]:
        cells[cell(point)].append(point)
    for level in range(1, border_level):
        for index in np.nonzero((ring == level) & keep)[0]:
            if crowded(xy[index]):
                keep[index] = False
            else:
                cells[cell(xy[index])].append(xy[index])
    return keep
