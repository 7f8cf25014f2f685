from pathlib import Path

import cv2
import numpy as np
import pytest

from talkinghead.errors import TalkingHeadError
from talkinghead.face import build_rig, mesh, topology
from talkinghead.face.image import MAX_SIDE, check_image


def test_rig_of_the_bundled_portrait(rig_256) -> None:
    rig = rig_256
    assert rig.image.shape == (256, 256, 3) and rig.image.dtype == np.uint8
    assert rig.landmarks.shape == (478, 3)
    inside = (rig.landmarks[:, :2] > 0) & (rig.landmarks[:, :2] < 256)
    assert inside.all()
    # mouth below the eyes, chin below the mouth
    eyes_y = rig.landmarks[[topology.EYE_OUTER_LEFT, topology.EYE_OUTER_RIGHT], 1].mean()
    assert eyes_y < rig.landmarks[topology.LIP_CENTER_UPPER, 1] < rig.landmarks[topology.CHIN, 1]
    # the mesh covers the whole frame: its triangles' area adds up to the frame's area
    corners = rig.mesh.vertices[rig.mesh.triangles][..., :2]
    edges1, edges2 = corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]
    area = 0.5 * np.abs(edges1[:, 0] * edges2[:, 1] - edges1[:, 1] * edges2[:, 0]).sum()
    assert area == pytest.approx(255 * 255, rel=1e-6)
    # the astronaut smiles with her teeth showing: the rig keeps them on a teeth line
    assert len(rig.mesh.teeth_line) == len(topology.LIPS_INNER_LOWER) - 2
    assert set(rig.bases) >= {"jaw_open", "lips_open", "blink_left", "blink_right"}


def test_face_centred_framing(rig_256) -> None:
    nose_tip = rig_256.landmarks[1, :2]
    assert abs(nose_tip[0] - 128) < 0.12 * 256


def test_no_face(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "noise.png"
    cv2.imwrite(str(path), rng.integers(0, 255, (300, 300, 3), dtype=np.uint8))
    with pytest.raises(TalkingHeadError, match="no face found"):
        build_rig(path, size=256)


def test_tiny_image_is_refused(tmp_path: Path, portrait: Path) -> None:
    path = tmp_path / "tiny.png"
    cv2.imwrite(str(path), cv2.resize(cv2.imread(str(portrait)), (48, 48)))
    with pytest.raises(TalkingHeadError, match="at least 64 px"):
        build_rig(path, size=256)


def test_huge_image_is_scaled_down() -> None:
    image, notes = check_image(np.zeros((100, MAX_SIDE + 2000, 3), np.uint8))
    assert max(image.shape[:2]) == MAX_SIDE and notes


def test_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "face.jpg"
    path.write_text("not a picture")
    with pytest.raises(TalkingHeadError, match="cannot read"):
        build_rig(path)


def test_several_faces_use_the_largest(tmp_path: Path, portrait: Path) -> None:
    photo = cv2.imread(str(portrait))
    small = cv2.resize(photo, (256, 256))
    canvas = np.full((512, 768, 3), 200, np.uint8)
    canvas[:, :512] = photo
    canvas[128:384, 512:] = small
    path = tmp_path / "two.png"
    cv2.imwrite(str(path), canvas)
    rig = build_rig(path, size=256)
    assert any("2 faces" in note and "largest" in note for note in rig.notes)
    # the crop sits on the big face (left part of the canvas)
    assert rig.crop.x + rig.crop.side / 2 < 512


def test_head_distance_scales_the_face_exactly(portrait: Path) -> None:
    heights = {}
    for distance in (0.8, 1.0, 1.6):
        rig = build_rig(portrait, size=256, head_distance=distance)
        heights[distance] = np.linalg.norm(rig.landmarks[topology.CHIN, :2] - rig.landmarks[topology.FOREHEAD_TOP, :2])
    assert heights[0.8] / heights[1.0] == pytest.approx(1 / 0.8, rel=0.05)
    assert heights[1.6] / heights[1.0] == pytest.approx(1 / 1.6, rel=0.05)


def test_smoothed_depth_evens_out_only_the_chosen_vertices() -> None:
    # a strip of triangles over vertices 0..9: the first eight are surface, the last two a deeper ring
    triangles = np.array([[i, i + 1, i + 2] for i in range(8)], dtype=np.int32)
    depth = np.array([0.0, 30.0, -30.0, 30.0, -30.0, 30.0, -30.0, 0.0, 500.0, 500.0])
    where = np.zeros(10, bool)
    where[1:7] = True
    smooth = mesh.smoothed_depth(depth, triangles, where, among=np.arange(10) < 8)
    assert np.array_equal(smooth[~where], depth[~where])  # the rest hold their depth
    assert np.abs(np.diff(smooth[:8])).max() < 0.2 * np.abs(np.diff(depth[:8])).max()
    assert np.abs(smooth[:8]).max() < 30.0  # the deep ring outside the surface did not pull it back


def _outline_roughness(rig, yaw: float) -> float:
    """How unevenly a head turn moves neighbouring outline points sideways, in face widths (a sawtooth)."""
    from talkinghead.render import Renderer

    oval = list(topology.FACE_OVAL)
    shift = Renderer(rig).deform({"head_yaw": yaw})[oval, 0] - rig.mesh.vertices[oval, 0]
    shift = np.r_[shift, shift[:2]]
    return float(np.abs(shift[:-2] - 2 * shift[1:-1] + shift[2:]).max() / np.ptp(rig.mesh.vertices[oval, 0]))


def test_a_head_turn_moves_the_outline_evenly(portrait: Path, monkeypatch) -> None:
    """The landmarker's depth is noisy along the silhouette; the rig smooths it there, so a turn keeps the
    outline one curve instead of breaking the far cheek's edge into a sawtooth."""
    smooth = build_rig(portrait, 256)
    monkeypatch.setattr(mesh, "OUTLINE_SMOOTHING_PASSES", 0)
    raw = build_rig(portrait, 256)
    for yaw in (-8.0, 8.0):
        assert _outline_roughness(smooth, yaw) < 0.85 * _outline_roughness(raw, yaw)
