import numpy as np
import pytest

from talkinghead.face import topology
from talkinghead.render import Renderer
from talkinghead.render.warp import MeshWarper


@pytest.fixture(scope="module")
def renderer(rig_256) -> Renderer:
    return Renderer(rig_256)


def _region_box(points: np.ndarray, pad: int) -> tuple[slice, slice]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    return slice(max(y0, 0), y1), slice(max(x0, 0), x1)


def test_rest_pose_is_the_photo_itself(renderer: Renderer) -> None:
    np.testing.assert_array_equal(renderer.draw({}), renderer.rig.image)


def test_open_jaw_changes_the_mouth_and_nothing_far_away(renderer: Renderer) -> None:
    rest = renderer.draw({}).astype(int)
    open_ = renderer.draw({"jaw_open": 1.0, "lips_open": 1.0}).astype(int)
    lips = renderer.rig.landmarks[list(topology.LIPS_INNER_UPPER + topology.LIPS_INNER_LOWER), :2]
    rows, cols = _region_box(lips, 4)
    assert np.abs(open_[rows, cols] - rest[rows, cols]).mean() > 20
    # the eyes and the top of the frame do not move when the jaw opens
    assert np.array_equal(open_[:40], rest[:40])
    eye = renderer.rig.landmarks[list(topology.EYE_LEFT_UPPER), :2]
    rows, cols = _region_box(eye, 2)
    assert np.array_equal(open_[rows, cols], rest[rows, cols])
    # the opened mouth is darker inside than the closed one
    centre = ((renderer.deform({"jaw_open": 1.0, "lips_open": 1.0})[topology.LIP_CENTER_LOWER]
               + renderer.rig.landmarks[topology.LIP_CENTER_UPPER, :2]) / 2).astype(int)
    assert open_[centre[1], centre[0]].sum() < rest[centre[1], centre[0]].sum()


def test_blink_closes_the_eye(renderer: Renderer) -> None:
    rest = renderer.draw({})
    closed = renderer.draw({"blink_left": 1.0, "blink_right": 1.0})
    deformed = renderer.deform({"blink_left": 1.0})
    upper, lower = deformed[386], deformed[374]  # middle of the left upper and lower lid
    assert abs(lower[1] - upper[1]) < 0.2 * abs(renderer.rest[374, 1] - renderer.rest[386, 1])
    eye = renderer.rig.landmarks[list(topology.EYE_LEFT_UPPER + topology.EYE_LEFT_LOWER), :2]
    rows, cols = _region_box(eye, 0)
    assert np.abs(closed[rows, cols].astype(int) - rest[rows, cols]).mean() > 5


def test_head_turn_moves_the_face_but_not_the_frame_border(renderer: Renderer) -> None:
    rest = renderer.draw({})
    turned = renderer.draw({"head_yaw": 8.0, "head_pitch": 4.0, "head_roll": 3.0})
    assert np.abs(turned.astype(int) - rest).mean() > 1.0
    border = np.ones(rest.shape[:2], bool)
    border[1:-1, 1:-1] = False
    assert np.abs(turned[border].astype(int) - rest[border]).max() <= 2


def test_warper_is_identity_without_motion_and_follows_a_shift() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    rest = np.array([[0, 0], [63, 0], [0, 63], [63, 63], [32, 32]], float)
    triangles = np.array([[0, 1, 4], [1, 3, 4], [3, 2, 4], [2, 0, 4]], np.int32)
    warper = MeshWarper(image, rest, triangles)
    np.testing.assert_array_equal(warper.warp(rest), image)
    moved = rest.copy()
    moved[4] += (3, 0)  # the centre slides right: pixels near it show what was 3 px to their left
    out = warper.warp(moved)
    np.testing.assert_allclose(out[32, 35].astype(int), image[32, 32].astype(int), atol=2)
