"""Folds at the silhouette under head turns, measured on the warp itself (no model involved).

A head turning away foreshortens its far cheek and hides what passes behind its outline (the depth test); it
must never fold: show the photo mirrored, or bend the outline of the face (and the rings of cheek, ear and
hair edge around it) back and forth into zig-zags, or break the face's visible edge into a sawtooth.
`silhouette_check` sweeps head turns up to the motion limits and reports all three, with the limits a frame may
reach; `zigzag_outline` is a deliberately folding warp that the check must catch.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from talkinghead.face import topology as topo
from talkinghead.motion.head import LIMIT
from talkinghead.render import Renderer
from talkinghead.render.warp import MeshWarper


def _triangle_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, i]] for i in range(3))
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def silhouette_band(renderer: Renderer) -> np.ndarray:
    """Triangles with a corner on the face outline or on the first rings around it (cheek, ear, hair edge)."""
    mesh = renderer.rig.mesh
    outline = np.zeros(len(mesh.vertices), bool)
    outline[list(topo.FACE_OVAL)] = True
    outline |= (mesh.ring >= 1) & (mesh.ring <= 2)
    return np.nonzero(outline[mesh.triangles].any(axis=1))[0]


FOLD_JUMP = 2.5  # source pixels per output pixel above which the map is torn (an occlusion edge), not folded
FOLD_BAND = 0.08  # half-width of the band around the face outline checked for folds, in face widths
FOLD_LIMIT = 0.002  # share of the band's pixels that may show folded (mirrored) photo before the check fails
ROUGHNESS_LIMIT_PX = 0.4  # most the visible face outline may stray from a smooth curve, mean pixels
ROUGHNESS_SMOOTHING = 0.03  # the smooth curve: the face's visible area blurred by this many face widths
KINK_LIMIT_DEG = 40.0  # most a corner of the face outline (or the rings around it) may bend more than at rest
EDGE_MARGIN = 0.05  # outline corners this close to the frame's edge (face widths) are held by it, not checked


def folded_pixels(renderer: Renderer, deformed: np.ndarray, every: MeshWarper) -> tuple[int, int]:
    """(folded, band) pixel counts of one frame: pixels within ``FOLD_BAND`` of the deformed face outline whose
    source map is mirrored (negative Jacobian determinant) without being torn.

    A surface turning away foreshortens (the determinant shrinks) and, past its silhouette, is hidden by the
    nearer surface (the map jumps: a torn edge, one pixel wide); a fold instead shows the photo mirrored over an
    area, the zig-zags a viewer sees at the cheek, ear or hair edge."""
    found = every.source_map(deformed)
    if found is None:
        return 0, 0
    (x0, y0), map_x, map_y, _ = found
    grad_x = np.gradient(map_x)  # (d/dy, d/dx) of the source x
    grad_y = np.gradient(map_y)
    determinant = grad_x[1] * grad_y[0] - grad_x[0] * grad_y[1]
    torn = np.max(np.abs(np.stack([*grad_x, *grad_y])), axis=0) > FOLD_JUMP
    band = np.zeros(map_x.shape, np.uint8)
    outline = np.round(deformed[list(topo.FACE_OVAL), :2] - (x0, y0)).astype(np.int32)
    thickness = max(2, round(2 * FOLD_BAND * renderer.rig.face_width))
    cv2.polylines(band, [outline], True, 1, thickness)
    in_band = band > 0
    return int((in_band & (determinant < 0) & ~torn).sum()), int(in_band.sum())


def outline_roughness(renderer: Renderer, deformed: np.ndarray, every: MeshWarper) -> float:
    """How far (mean pixels) the face's visible outline in one frame strays from a smooth curve.

    The face is the part of the frame whose source lies inside the photo's face outline; its edge against
    hair, ears and background is compared with the same area blurred (`ROUGHNESS_SMOOTHING` face widths)
    and thresholded: the pixels where the two differ, per pixel of outline. Pixel steps of a smooth curve
    give ~0.1-0.3; a sawtooth (neighbouring outline points moving by different amounts) gives its amplitude.
    This sees what the eye sees even where no triangle flips and no outline corner bends much.
    """
    rig = renderer.rig
    map_x, map_y = np.meshgrid(np.arange(rig.width, dtype=np.float32), np.arange(rig.height, dtype=np.float32))
    found = every.source_map(deformed)
    if found is not None:
        (x0, y0), box_x, box_y, _ = found
        map_x[y0:y0 + box_x.shape[0], x0:x0 + box_x.shape[1]] = box_x
        map_y[y0:y0 + box_y.shape[0], x0:x0 + box_y.shape[1]] = box_y
    face = np.zeros((rig.height, rig.width), np.float32)
    cv2.fillPoly(face, [np.round(renderer.rest[list(topo.FACE_OVAL)]).astype(np.int32)], 1.0)
    visible = cv2.remap(face, map_x, map_y, cv2.INTER_LINEAR) > 0.5
    smooth = cv2.GaussianBlur(visible.astype(np.float32), (0, 0), ROUGHNESS_SMOOTHING * rig.face_width) > 0.5
    outline = cv2.Canny(smooth.astype(np.uint8) * 255, 50, 150) > 0
    return float((visible ^ smooth).sum() / max(outline.sum(), 1))


def _turns(points: np.ndarray) -> np.ndarray:
    """The turning angle (radians) at every corner of a closed polyline."""
    edges = np.roll(points, -1, axis=0) - points
    angles = np.arctan2(edges[:, 1], edges[:, 0])
    return (angles - np.roll(angles, 1) + np.pi) % (2 * np.pi) - np.pi


def outline_kink(renderer: Renderer, deformed: np.ndarray) -> float:
    """How much more (degrees) the sharpest corner of the face outline, or of the first two rings around it
    (cheek, ear, hair edge), bends than at rest. Turning and foreshortening bend an outline a little; a
    zig-zag fold bends its corners back and forth by tens of degrees."""
    rig, rest = renderer.rig, renderer.rest
    margin = EDGE_MARGIN * rig.face_width
    lines = [np.array(topo.FACE_OVAL)] + [np.nonzero(rig.mesh.ring == level)[0] for level in (1, 2)]
    worst = 0.0
    for line in lines:
        if len(line) < 3:
            continue
        inside = ((rest[line] >= margin) & (rest[line] <= (rig.width - 1 - margin, rig.height - 1 - margin))).all(1)
        checked = inside & np.roll(inside, 1) & np.roll(inside, -1)
        bend = np.abs((_turns(deformed[line, :2]) - _turns(rest[line]) + np.pi) % (2 * np.pi) - np.pi)
        if checked.any():
            worst = max(worst, float(np.degrees(bend[checked].max())))
    return worst


def silhouette_poses(scale: float) -> list[dict[str, float]]:
    """A sweep of head turns up to the motion limits (scaled like ``--motion-scale``, then clipped to them)."""
    poses = []
    for yaw in np.linspace(-1.0, 1.0, 7):
        for pitch in (-0.5, 0.5):
            values = {"head_yaw": yaw * 0.5 * scale * LIMIT["head_yaw"],
                      "head_pitch": pitch * 0.5 * scale * LIMIT["head_pitch"],
                      "head_roll": yaw * 0.25 * scale * LIMIT["head_roll"]}
            poses.append({name: float(np.clip(value, -LIMIT[name], LIMIT[name])) for name, value in values.items()})
    return poses


def silhouette_check(renderer: Renderer, scales: tuple[float, ...] = (1.0, 2.0),
                     fold: Callable[[np.ndarray], np.ndarray] | None = None) -> dict[str, float | bool]:
    """Folds at the silhouette over head turns: the worst frame's share of folded (mirrored) pixels in the
    outline band, the sharpest extra bend of the outline or its rings and the roughest visible face outline
    (``folds_ok`` when all three stay under their limits), and the p99 local stretch of the band's triangles.
    ``fold`` (for testing the check) distorts each frame's deformed mesh before it is measured."""
    rig = renderer.rig
    triangles = rig.mesh.triangles
    band = silhouette_band(renderer)
    every = MeshWarper(rig.image, renderer.rest + 0.05, triangles)
    worst, kink, rough, stretch = 0.0, 0.0, 0.0, 1.0
    for scale in scales:
        for pose in silhouette_poses(scale):
            deformed = renderer.deform({**rig.neutral, **pose})
            if fold is not None:
                deformed = fold(deformed)
            folded, total = folded_pixels(renderer, deformed, every)
            worst = max(worst, folded / max(total, 1))
            kink = max(kink, outline_kink(renderer, deformed))
            rough = max(rough, outline_roughness(renderer, deformed, every))
            rest_areas = _triangle_areas(renderer.rest, triangles[band])
            kept = np.sign(_triangle_areas(deformed, triangles[band])) == np.sign(rest_areas)
            ratios = _stretches(renderer.rest[triangles[band]], deformed[triangles[band], :2])[kept]
            stretch = max(stretch, float(np.nanpercentile(ratios, 99)))
    return {"folded_share": round(worst, 5), "outline_kink_deg": round(kink, 1),
            "outline_roughness_px": round(rough, 3), "p99_stretch": round(stretch, 2),
            "folds_ok": worst <= FOLD_LIMIT and kink <= KINK_LIMIT_DEG and rough <= ROUGHNESS_LIMIT_PX}


def zigzag_outline(renderer: Renderer, amplitude: float = 0.03) -> Callable[[np.ndarray], np.ndarray]:
    """A deliberately folding warp (to show the check fails on one): every other face-outline point pushed
    ``amplitude`` face widths out and the others in, across the outline."""
    oval = np.array(topo.FACE_OVAL)
    centre = renderer.rest[oval].mean(axis=0)

    def fold(deformed: np.ndarray) -> np.ndarray:
        folded = deformed.copy()
        outward = folded[oval, :2] - centre
        outward /= np.linalg.norm(outward, axis=1, keepdims=True)
        signs = np.where(np.arange(len(oval)) % 2 == 0, 1.0, -1.0)[:, None]
        folded[oval, :2] += signs * amplitude * renderer.rig.face_width * outward
        return folded

    return fold


def _stretches(rest: np.ndarray, moved: np.ndarray) -> np.ndarray:
    """Per triangle, the ratio of the singular values of its affine map (1 = no local distortion); NaN for
    slivers under a tenth of the median triangle's area (their ratio means nothing)."""
    source = np.stack([rest[:, 1] - rest[:, 0], rest[:, 2] - rest[:, 0]], axis=2)
    target = np.stack([moved[:, 1] - moved[:, 0], moved[:, 2] - moved[:, 0]], axis=2)
    area = np.abs(np.linalg.det(source))
    ratios = np.full(len(rest), np.nan)
    keep = area > 0.1 * np.median(area)
    values = np.linalg.svd(target[keep] @ np.linalg.inv(source[keep]), compute_uv=False)
    ratios[keep] = values[:, 0] / np.maximum(values[:, 1], 1e-6)
    return ratios
