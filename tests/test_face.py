from pathlib import Path

import cv2
import numpy as np
import pytest

from talkinghead.errors import TalkingHeadError
from talkinghead.face import build_rig, topology
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
