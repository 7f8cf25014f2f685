import cv2
import numpy as np
import pytest

from talkinghead.face import build_rig, topology
from talkinghead.render import Renderer
from talkinghead.render.warp import MeshWarper


@pytest.fixture(scope="module")
def renderer(rig_256) -> Renderer:
    return Renderer(rig_256)


def _region_box(points: np.ndarray, pad: int) -> tuple[slice, slice]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    return slice(max(y0, 0), y1), slice(max(x0, 0), x1)


def test_neutral_pose_is_the_photo_itself(renderer: Renderer) -> None:
    np.testing.assert_array_equal(renderer.draw(renderer.rig.neutral), renderer.rig.image)


def test_closed_command_closes_a_photo_taken_with_an_open_mouth(renderer: Renderer) -> None:
    rig = renderer.rig
    assert rig.neutral["jaw_open"] > 0.1  # the astronaut smiles with her teeth showing
    closed = renderer.deform({})
    gap = closed[topology.LIP_CENTER_LOWER] - closed[topology.LIP_CENTER_UPPER]
    photo_gap = rig.landmarks[topology.LIP_CENTER_LOWER, :2] - rig.landmarks[topology.LIP_CENTER_UPPER, :2]
    assert abs(gap[1]) < 0.15 * abs(photo_gap[1])
    # the teeth line is squeezed between the lips, never pushed through them (no fold-over)
    for opening in (0.0, 0.2, 1.0):
        points = renderer.deform({"jaw_open": opening, "lips_open": opening})
        upper = points[list(topology.LIPS_INNER_UPPER[1:-1]), 1]
        lower = points[list(topology.LIPS_INNER_LOWER[1:-1]), 1]
        teeth = points[rig.mesh.teeth_line, 1]
        assert np.all(teeth >= upper - 0.1) and np.all(teeth <= lower + 0.1)


EXTREMES = [{"head_yaw": yaw, "head_pitch": pitch, "head_roll": roll, "jaw_open": 1.0, "lips_open": 1.0,
             "blink_left": 1.0, "blink_right": 1.0, "smile": 1.0, "brow_raise": 1.0}
            for yaw in (-20, 20) for pitch in (-15, 15) for roll in (-10, 10)]
EXTREMES += [{}, {"lip_pucker": 1.0, "lower_lip_tuck": 1.0, "upper_lip_raise": 1.0, "brow_furrow": 1.0,
                  "cheek_raise": 1.0, "lip_width": -1.0, "gaze_yaw": -20.0, "gaze_pitch": -15.0}]


def _signed_areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    a, b, c = (points[triangles[:, i]] for i in range(3))
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _visible_folded_area(renderer: Renderer, values: dict[str, float]) -> float:
    """Pixels of triangles that ``values`` turn over and that are not hidden behind nearer ones."""
    mesh, size = renderer.rig.mesh, renderer.rig.width
    deformed = renderer.deform(values)
    areas = _signed_areas(deformed, mesh.triangles)
    flipped = np.nonzero((np.sign(areas) != np.sign(_signed_areas(renderer.rest, mesh.triangles)))
                         & (np.abs(areas) > 0.5))[0]
    depth = MeshWarper(renderer.rig.image, renderer.rest + 0.05, mesh.triangles).source_map(deformed)[3]
    centres = deformed[mesh.triangles[flipped]].mean(axis=1)
    cols = np.clip(np.round(centres[:, 0]).astype(int), 0, size - 1)
    rows = np.clip(np.round(centres[:, 1]).astype(int), 0, size - 1)
    return float(np.abs(areas[flipped][depth[rows, cols] >= centres[:, 2] - 1e-3]).sum())


def test_no_holes_and_no_visible_fold_at_extreme_poses(renderer: Renderer) -> None:
    """Every pixel keeps a source; triangles that turn away (the far side of the nose at 20 degrees of yaw)
    are hidden behind nearer ones by the depth buffer, never drawn over them."""
    mesh = renderer.rig.mesh
    size = renderer.rig.width
    every_triangle = MeshWarper(renderer.rig.image, renderer.rest + 0.05, mesh.triangles)
    rest_areas = _signed_areas(renderer.rest, mesh.triangles)
    for values in EXTREMES:
        deformed = renderer.deform(values)
        (x0, y0), _, _, depth = every_triangle.source_map(deformed)
        assert (x0, y0) == (0, 0) and depth.shape == (size, size)
        assert np.isfinite(depth).all(), values  # no pixel left unfilled
        areas = _signed_areas(deformed, mesh.triangles)
        flipped = np.nonzero((np.sign(areas) != np.sign(rest_areas)) & (np.abs(areas) > 0.5))[0]
        centres = deformed[mesh.triangles[flipped]].mean(axis=1)
        cols = np.clip(np.round(centres[:, 0]).astype(int), 0, size - 1)
        rows = np.clip(np.round(centres[:, 1]).astype(int), 0, size - 1)
        visible = depth[rows, cols] >= centres[:, 2] - 1e-3
        assert np.abs(areas[flipped][visible]).sum() < 1e-3 * size * size, values


def test_gaze_moves_the_iris_inside_the_eye(renderer: Renderer) -> None:
    rig = renderer.rig
    ahead = renderer.draw(rig.neutral).astype(int)
    right = renderer.draw({**rig.neutral, "gaze_yaw": 20.0}).astype(int)
    eye = rig.landmarks[list(topology.EYE_LEFT_UPPER + topology.EYE_LEFT_LOWER), :2]
    rows, cols = _region_box(eye, 0)
    def iris_x(frame: np.ndarray) -> float:
        darkness = np.clip(140 - frame[rows, cols].mean(axis=2), 0, None)
        return float((darkness.sum(axis=0) * np.arange(darkness.shape[1])).sum() / darkness.sum())
    assert iris_x(right) > iris_x(ahead) + 0.5
    outside = np.ones(ahead.shape[:2], bool)
    for eye_contour in (topology.EYE_LEFT_UPPER + topology.EYE_LEFT_LOWER,
                        topology.EYE_RIGHT_UPPER + topology.EYE_RIGHT_LOWER):
        outside[_region_box(rig.landmarks[list(eye_contour), :2], 3)] = False
    assert np.array_equal(ahead[outside], right[outside])


def test_open_jaw_changes_the_mouth_and_nothing_far_away(renderer: Renderer) -> None:
    rest = renderer.draw(renderer.rig.neutral).astype(int)
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
    centre = ((renderer.deform({"jaw_open": 1.0, "lips_open": 1.0})[topology.LIP_CENTER_LOWER, :2]
               + renderer.rig.landmarks[topology.LIP_CENTER_UPPER, :2]) / 2).astype(int)
    assert open_[centre[1], centre[0]].sum() < rest[centre[1], centre[0]].sum()


def test_head_turn_moves_the_face_but_not_the_frame_border(renderer: Renderer) -> None:
    rest = renderer.draw(renderer.rig.neutral)
    turned = renderer.draw({**renderer.rig.neutral, "head_yaw": 8.0, "head_pitch": 4.0, "head_roll": 3.0})
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
    flat = np.column_stack([rest, np.zeros(len(rest))])
    np.testing.assert_array_equal(warper.warp(flat), image)
    moved = flat.copy()
    moved[4, 0] += 3  # the centre slides right: pixels near it show what was 3 px to their left
    out = warper.warp(moved)
    np.testing.assert_allclose(out[32, 35].astype(int), image[32, 32].astype(int), atol=2)


def test_closed_mouth_photo_gets_real_teeth_when_it_opens(tmp_path, renderer: Renderer) -> None:
    """A photo with closed lips has no teeth to reuse: opening it shows the bundled exemplar's teeth (bright)
    under the upper lip, above a dark cavity."""
    import cv2

    from talkinghead.face import build_rig

    closed_photo = tmp_path / "closed.png"
    cv2.imwrite(str(closed_photo), cv2.cvtColor(renderer.draw({}), cv2.COLOR_RGB2BGR))
    closed_rig = build_rig(closed_photo, size=256)
    assert len(closed_rig.mesh.teeth_line) == 0 and closed_rig.neutral["jaw_open"] < 0.2
    opened = Renderer(closed_rig)
    frame = opened.draw({"jaw_open": 0.8, "lips_open": 0.8}).astype(float)
    points = opened.deform({"jaw_open": 0.8, "lips_open": 0.8})
    top, bottom = points[topology.LIP_CENTER_UPPER, :2], points[topology.LIP_CENTER_LOWER, :2]
    assert bottom[1] - top[1] > 8
    column = frame[int(top[1]) + 1 : int(bottom[1]), round(top[0])].mean(axis=1)
    teeth, throat = column[: len(column) // 3].max(), column[len(column) // 3 :].min()
    assert teeth > 150 and throat < 90, column.round()


def test_a_closed_mouth_photo_opens_onto_a_dark_red_mouth(tmp_path, renderer: Renderer) -> None:
    """Opened wide, a photo with closed lips shows a mouth in shade that is redder than the lips themselves (a
    real throat and tongue are), not a grey-brown hole: the dark pixels inside dlib's inner-lip polygon have
    at least 1.5 times the lips' chroma ((R - G) / mean). Grey-brown, they had about the lips' own (1.1x)."""
    import cv2

    from talkinghead.face import build_rig

    closed_photo = tmp_path / "closed.png"
    cv2.imwrite(str(closed_photo), cv2.cvtColor(renderer.draw({}), cv2.COLOR_RGB2BGR))
    closed_rig = build_rig(closed_photo, size=256)
    frame = Renderer(closed_rig).draw({"jaw_open": 0.8, "lips_open": 0.8})
    _, opened = _dlib_mouth(frame)
    _, shut = _dlib_mouth(closed_rig.image)

    def pixels(image: np.ndarray, polygon: np.ndarray) -> np.ndarray:
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
        return image[cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0].astype(float)

    def chroma(colours: np.ndarray) -> float:
        return float(np.mean((colours[:, 0] - colours[:, 1]) / np.maximum(colours.mean(axis=1), 1.0)))

    cavity = pixels(frame, opened[60:68])
    dark = cavity[cavity.mean(axis=1) < 90]
    assert len(dark) > 100
    assert chroma(dark) >= 1.5 * chroma(pixels(closed_rig.image, shut[48:60]))


def _dlib_mouth(frame: np.ndarray) -> tuple[float, np.ndarray] | None:
    """dlib (not the renderer's landmarks): inner-lip gap over the inter-ocular distance, and the 68 points."""
    from talkinghead.eval.face_metrics import _dlib_models

    detector, predictor, _ = _dlib_models()
    faces = detector(frame, 0) or detector(frame, 1)  # no upsampling when the face is big enough: faster
    if not faces:
        return None
    shape = predictor(frame, max(faces, key=lambda r: r.width() * r.height()))
    points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    ocular = float(np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0)))
    gap = np.mean([np.linalg.norm(points[a] - points[b]) for a, b in ((61, 67), (62, 66), (63, 65))])
    return float(gap / ocular), points


def test_lips_seal_on_a_photo_taken_with_an_open_mouth(renderer: Renderer) -> None:
    """The astronaut grins with her teeth showing; p/b/m (lips_open 0, the jaw a little open) and silence
    shut her lips, sad ones too: dlib's inner-lip gap <= 0.03 of the inter-ocular distance, as on real closed lips."""
    photo_gap, _ = _dlib_mouth(renderer.rig.image)
    assert photo_gap > 0.1
    for values in ({}, {"jaw_open": 0.15}, {"jaw_open": 0.2, "lip_width": 0.2},
                   {"jaw_open": 0.2, "lip_pucker": 0.8, "lip_width": -0.5},  # an /m/ before /u/: rounded, shut
                   {"jaw_open": 0.15, "smile": -0.8}):  # sad: the corners down arch the seam
        measured = _dlib_mouth(renderer.draw(values))
        assert measured is not None and measured[0] <= 0.03, (values, measured and measured[0])


@pytest.mark.parametrize("cut_at", [0.37, 0.38])
def test_lips_seal_on_a_face_cut_by_the_photo_s_edge(portrait, cut_at: float) -> None:
    """The grinning astronaut's photo cut through her cheek, just beside her mouth (enlarged x2 first, so dlib
    sees her well): the frame's border, which never moves, lies near her mouth corner, yet shut lips close
    there too (the closing fades out over a band sized to its own small move, not the head's): dlib's inner-lip
    gap <= 0.03 of the inter-ocular distance (0.037 when the closing faded over the head's long ramp), and no
    triangle folds where it shows. Cut at 0.38 her mouth corner lies 18 px from the frame's edge, just outside
    its still band: the closing fades towards that edge only in the direction that points at it, so the lips
    meet all along (the rig's inner lips within 0.01 face widths of each other: 1.6 px at most, where fading
    both ways left them 5.1 px apart by the corner, 0.028 face widths)."""
    import cv2

    from talkinghead.face import build_rig
    from talkinghead.face.image import load_image

    photo = cv2.resize(load_image(portrait)[0], None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    cut = np.ascontiguousarray(photo[:, int(cut_at * photo.shape[1]):])
    renderer = Renderer(build_rig(cut))
    assert _dlib_mouth(renderer.rig.image)[0] > 0.1
    down = renderer.face_down
    for values in ({}, {"jaw_open": 0.15}):
        measured = _dlib_mouth(renderer.draw(values))
        assert measured is not None and measured[0] <= 0.03, (values, measured and measured[0])
        assert _visible_folded_area(renderer, values) < 1e-3 * renderer.rig.width ** 2, values
        shut = renderer.deform(values)[:, :2]
        apart = (shut[list(topology.LIPS_INNER_LOWER)] - shut[list(topology.LIPS_INNER_UPPER)]) @ down
        assert apart.max() <= 0.01 * renderer.rig.face_width, (values, apart.max())


def _with_a_strip_between_the_lips(portrait, colour: tuple[int, int, int]) -> np.ndarray:
    """The astronaut with her lips shut (drawn at rest), then a strip ``colour`` painted just under the lips'
    mid-line across the middle of the mouth, 0.022 face widths tall: as a small face's photo shows a sliver of
    teeth between lips its landmarks still call shut (0.025 was, under the darker lip seam the renderer drew
    before; under today's lighter seam MediaPipe calls that one open)."""
    import cv2

    from talkinghead.face import build_rig
    from talkinghead.render.mouth import _contour_at

    closed = Renderer(build_rig(portrait, size=384)).draw({})
    rig = build_rig(closed, size=384)
    points, width = rig.landmarks[:, :2], rig.face_width
    upper, lower = points[list(topology.LIPS_INNER_UPPER)], points[list(topology.LIPS_INNER_LOWER)]
    left, right = upper[:, 0].min(), upper[:, 0].max()
    xs = np.arange(left + 0.3 * (right - left), right - 0.3 * (right - left))
    middle = 0.5 * (_contour_at(upper, xs) + _contour_at(lower, xs))
    strip = np.concatenate([np.stack([xs, middle], 1), np.stack([xs, middle + 0.022 * width], 1)[::-1]])
    cv2.fillPoly(closed, [np.round(strip * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)
    return closed


def test_lips_seal_over_a_sliver_of_teeth_the_landmarks_miss(portrait) -> None:
    """A sliver of teeth (bright, grey) shows between lips the landmarks call shut, so the rig has no open mouth
    to close: p/b/m and silence still cover it, and dlib reads the lips sealed (<= 0.03 of the inter-ocular
    distance) where it reads the photo open."""
    from talkinghead.face import build_rig

    photo = _with_a_strip_between_the_lips(portrait, (235, 232, 222))
    rig = build_rig(photo, size=384)
    assert len(rig.mesh.teeth_line) == 0 and _dlib_mouth(photo)[0] > 0.03
    sliver = Renderer(rig)
    for values in ({}, {"jaw_open": 0.15}, {"jaw_open": 0.2, "lip_width": 0.2}):
        measured = _dlib_mouth(sliver.draw(values))
        assert measured is not None and measured[0] <= 0.03, (values, measured and measured[0])


def test_lip_shine_between_the_lips_is_not_taken_for_teeth(portrait) -> None:
    """The same strip in the lips' own hue, only brighter (shine on a closed mouth), is not teeth: the photo's
    closed lips are never repainted."""
    from talkinghead.face import build_rig
    from talkinghead.render.mouth import SEEN_TEETH_SHARE, teeth_between_lips

    photo = _with_a_strip_between_the_lips(portrait, (250, 170, 160))
    rig = build_rig(photo, size=384)
    share, _ = teeth_between_lips(rig.image, rig.mesh.vertices[:, :2], rig.face_width)
    assert share <= SEEN_TEETH_SHARE and not Renderer(rig).mouth.shows_teeth


def test_a_grinning_photo_closed_at_rest_stays_the_same_person(renderer: Renderer, monkeypatch) -> None:
    """The astronaut's grin released as ``neutral`` does and her lips closed over her teeth (a pause): the lips
    cover the teeth by relaxing (growing fuller), without the chin rising all the way with them (her teeth
    nearly meet), so dlib sees her closer to her photo than when lips and chin close as for a mouth opened by
    the jaw (measured: 0.26 vs 0.37; two photos of one person are ~0.3-0.4 apart)."""
    from talkinghead.eval.face_metrics import face_embedding
    from talkinghead.face import bases, build_rig
    from talkinghead.motion.expression import NEUTRAL_KEEPS_PHOTO

    photo = face_embedding(renderer.rig.image)
    at_rest = {"photo_expression": NEUTRAL_KEEPS_PHOTO}
    frame = renderer.draw(at_rest)
    assert _dlib_mouth(frame)[0] <= 0.03
    distance = float(np.linalg.norm(face_embedding(frame) - photo))
    monkeypatch.setattr(bases, "GRIN_LIPS_SHARE", 0.0)  # the chin follows the lower lip all the way
    chin_up = Renderer(build_rig(renderer.rig.image, size=256)).draw(at_rest)
    assert _dlib_mouth(chin_up)[0] <= 0.03
    assert distance <= 0.30 and distance < float(np.linalg.norm(face_embedding(chin_up) - photo)) - 0.03


def test_a_grin_s_lips_grow_fuller_as_they_close(renderer: Renderer, monkeypatch) -> None:
    """Lips stretched thin over a grin's teeth relax as they close over them: measured by dlib (not the
    renderer's landmarks), the astronaut's closed lower lip (outer to inner edge at its middle, over the
    inter-ocular distance) is fuller than in her photo when they press shut (measured 0.14 vs 0.115), while
    the lips stay sealed. The lips' own share of the grin is what does it: closed as a mouth opened by the jaw
    (the jaw closes it all, the lips move whole), the drawn lower lip keeps the photo's thickness."""
    from talkinghead.face import bases, build_rig
    from talkinghead.face.topology import LIPS_INNER_LOWER, LIPS_OUTER_LOWER
    from talkinghead.motion.expression import NEUTRAL_KEEPS_PHOTO

    def lower_lip(frame: np.ndarray) -> float:
        points = _dlib_mouth(frame)[1]
        eyes = np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0))
        return float(np.linalg.norm(points[57] - points[66]) / eyes)

    photo = lower_lip(renderer.rig.image)
    for kept in (NEUTRAL_KEEPS_PHOTO, 1.0):
        frame = renderer.draw({"photo_expression": kept})
        assert _dlib_mouth(frame)[0] <= 0.03
        assert lower_lip(frame) >= 1.1 * photo
    # The counterfactual is measured on the drawn mesh (outer to inner lower lip at the middle): dlib puts
    # that render's lower lip edge at one of two places (0.116 or 0.139), depending on the machine's rounding.
    middle = [LIPS_OUTER_LOWER[5], LIPS_INNER_LOWER[5]]

    def lip_thickness(points: np.ndarray) -> float:
        outer, inner = points[middle, :2]
        return float(np.linalg.norm(outer - inner))

    def drawn_lower_lip(drawer: Renderer) -> float:
        return lip_thickness(drawer._deform({"photo_expression": NEUTRAL_KEEPS_PHOTO}))

    lips_share = drawn_lower_lip(renderer)
    monkeypatch.setattr(bases, "GRIN_LIPS_SHARE", 0.0)  # closed as if the jaw had opened it: lips move whole
    jaw_closed = Renderer(build_rig(renderer.rig.image, size=256))
    in_photo = lip_thickness(jaw_closed.rig.mesh.vertices)
    assert drawn_lower_lip(jaw_closed) < 1.05 * in_photo < 0.8 * lips_share


def test_synthesised_teeth_are_no_whiter_than_the_eye_whites(tmp_path, renderer: Renderer) -> None:
    """A closed-mouth photo opened wide: the teeth's 95th-percentile luminance inside dlib's inner-lip outline
    stays within 1.6x the photo's eye whites (real teeth in a mouth's shade: 1.1-1.7), and the opening shows
    both teeth (bright) and cavity (dark)."""
    import cv2

    from talkinghead.face import build_rig

    closed_photo = tmp_path / "closed.png"
    cv2.imwrite(str(closed_photo), cv2.cvtColor(renderer.draw({}), cv2.COLOR_RGB2BGR))
    closed_rig = build_rig(closed_photo, size=256)
    assert len(closed_rig.mesh.teeth_line) == 0
    photo = closed_rig.image
    _, photo_points = _dlib_mouth(photo)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    eyes = np.zeros(gray.shape, np.uint8)
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(eyes, [np.round(photo_points[a:b]).astype(np.int32)], 1)
    eye_whites = np.percentile(gray[eyes > 0], 95)
    frame = Renderer(closed_rig).draw({"jaw_open": 0.85, "lips_open": 0.75})
    _, points = _dlib_mouth(frame)
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(points[60:68]).astype(np.int32)], 1)
    mouth = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[inside > 0]
    assert inside.sum() > 30
    assert np.percentile(mouth, 95) <= 1.6 * eye_whites
    assert np.percentile(mouth, 95) > np.percentile(mouth, 10) + 60  # teeth and a dark cavity, not a flat hole


LIP_OUTLINES = set(topology.LIPS_OUTER_UPPER + topology.LIPS_OUTER_LOWER + topology.LIPS_INNER_UPPER
                   + topology.LIPS_INNER_LOWER)


def test_lips_close_open_and_round_without_folding(renderer: Renderer) -> None:
    """The face mesh has rings of vertices inside each lip: they move with the lip's outlines, so closing the
    astronaut's open grin, opening it wide or rounding it turns (almost) no triangle at the lips over (a folded
    lip shows as a stair-stepped lip line and dark streaks). Before the inner rings moved: 71 px2 folded at rest
    (18 triangles); now ~22 px2 at the corners, where the released smile bends the lips."""
    triangles = renderer.rig.mesh.triangles
    at_lips = np.array([any(int(v) in LIP_OUTLINES for v in triangle) for triangle in triangles])
    rest = _signed_areas(renderer.rest, triangles)
    for values in ({}, {"jaw_open": 0.2}, {"jaw_open": 0.85, "lips_open": 0.75},
                   {"jaw_open": 0.35, "lips_open": 0.3, "lip_pucker": 1.0, "lip_width": -0.9}):
        areas = _signed_areas(renderer.deform(values)[:, :2], triangles)
        folded = at_lips & (np.sign(areas) != np.sign(rest)) & (np.abs(areas) > 0.05)
        assert np.abs(areas[folded]).sum() < 5e-4 * renderer.rig.width**2, values


def _turned_skin(renderer: Renderer, values: dict[str, float]) -> int:
    """How many face-skin triangles (not inside the lips' outline) ``values`` turn over."""
    mesh = renderer.rig.mesh
    outline = renderer.rest[list(topology.LIPS_OUTER_UPPER) + list(topology.LIPS_OUTER_LOWER)[::-1]]
    lips = np.array([cv2.pointPolygonTest(outline.astype(np.float32), (float(x), float(y)), True) >= -0.5
                     for x, y in renderer.rest])
    rest = _signed_areas(renderer.rest, mesh.triangles)
    skin = ~lips[mesh.triangles].all(axis=1) & (np.abs(rest) > 2.0) & (mesh.ring[mesh.triangles] == 0).any(axis=1)
    areas = _signed_areas(renderer.deform(values)[:, :2], mesh.triangles)
    return int((skin & (np.sign(areas) != np.sign(rest))).sum())


def test_the_skin_around_the_mouth_never_turns_over(renderer: Renderer) -> None:
    """Summed mouth fields (a sad mouth on the astronaut's open grin, a wide jaw) used to carry skin vertices
    past their neighbours under the mouth corners: the warp drew the skin twice, a hard-edged wedge beside
    the lower lip (sad: 8 triangles, 10.8 px2 turned at 256 px). No triangle outside the lips turns over."""
    for values in ({}, {"jaw_open": 0.3}, {"smile": -1.0, "jaw_open": 0.2, "lips_open": 0.2},
                   {"jaw_open": 1.0, "lips_open": 0.75}, {"smile": 1.0, "jaw_open": 0.5, "lips_open": 0.5},
                   {"lip_pucker": 1.0, "lip_width": -1.0, "jaw_open": 0.3, "lips_open": 0.3}):
        assert _turned_skin(renderer, values) == 0, values


def test_a_wide_open_mouth_photo_closes_without_folding_the_skin(renderer: Renderer) -> None:
    """A photo taken with the mouth wide open (the bundled portrait drawn so), closed at rest and for p/b/m: the
    chin rises with the closing lips but the lips' outline near the corners hardly does, and the skin under
    the corners used to rise past it (34 px2 of skin turned at rest, hard-edged notches at the corners)."""
    photo = renderer.draw({"jaw_open": 1.0, "lips_open": 0.75})
    opened = Renderer(build_rig(photo, size=256))
    assert opened.rig.neutral["jaw_open"] > 0.5
    for values in ({}, {"jaw_open": 0.3}, {"jaw_open": 0.3, "lip_pucker": 0.6, "lip_width": -0.4}):
        assert _turned_skin(opened, values) == 0, values


def test_rounded_lips_show_a_small_dark_opening(tmp_path, renderer: Renderer) -> None:
    """OO on a closed-mouth photo, measured by dlib: a small opening (narrower than a wide AA, open all the
    same), mostly dark cavity (the teeth hide behind the rounded lips), never a white block."""
    import cv2

    from talkinghead.face import build_rig

    closed_photo = tmp_path / "closed.png"
    cv2.imwrite(str(closed_photo), cv2.cvtColor(renderer.draw({}), cv2.COLOR_RGB2BGR))
    closed = Renderer(build_rig(closed_photo, size=256))
    _, photo_points = _dlib_mouth(closed.rig.image)
    gray = cv2.cvtColor(closed.rig.image, cv2.COLOR_RGB2GRAY)
    eyes = np.zeros(gray.shape, np.uint8)
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(eyes, [np.round(photo_points[a:b]).astype(np.int32)], 1)
    eye_whites = np.percentile(gray[eyes > 0], 95)
    wide_gap, wide = _dlib_mouth(closed.draw({"jaw_open": 0.85, "lips_open": 0.75}))
    frame = closed.draw({"jaw_open": 0.35, "lips_open": 0.3, "lip_pucker": 1.0, "lip_width": -0.9})
    gap, points = _dlib_mouth(frame)
    assert 0.04 < gap < 0.5 * wide_gap
    assert np.ptp(points[48:60, 0]) < 0.97 * np.ptp(wide[48:60, 0])
    inside = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(inside, [np.round(points[60:68]).astype(np.int32)], 1)
    mouth = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[inside > 0]
    assert inside.sum() > 20
    assert np.median(mouth) < 0.35 * eye_whites  # mostly dark cavity (before: 0.44, the teeth's grey)
    assert (mouth < 0.5 * eye_whites).mean() > 0.6 and np.percentile(mouth, 95) <= 1.6 * eye_whites


def test_rounded_lips_shade_a_photo_s_own_teeth(renderer: Renderer) -> None:
    """OO on the astronaut, whose photo shows her teeth: the opening (inside dlib's inner-lip outline) is
    mostly dark, its median luminance under 0.6 of her photo's lit teeth (the teeth recede into the shade of
    the rounded lips, as synthesised teeth do), while an open E keeps them lit."""
    import cv2

    def inner_median(frame: np.ndarray) -> float:
        _, points = _dlib_mouth(frame)
        inside = np.zeros(frame.shape[:2], np.uint8)
        cv2.fillPoly(inside, [np.round(points[60:68]).astype(np.int32)], 1)
        assert inside.sum() > 20
        return float(np.median(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[inside > 0]))

    photo = inner_median(renderer.rig.image)
    rounded = inner_median(renderer.draw({"jaw_open": 0.3, "lips_open": 0.25, "lip_pucker": 0.9, "lip_width": -0.8}))
    assert rounded < 0.6 * photo
    assert inner_median(renderer.draw({"jaw_open": 0.5, "lips_open": 0.5})) > 0.75 * photo


def test_rounded_lips_leave_no_grey_block_of_a_photo_s_own_teeth(renderer: Renderer) -> None:
    """OO while speaking, on the astronaut whose photo shows her teeth: inside dlib's inner-lip box of the
    photo, pale unsaturated (teeth-like) pixels are at most half as many as with an open AA: the teeth behind
    the rounded lips take the mouth's warm shade, deepest at the sides; shaded grey, they had read as a grey
    block (three quarters as many)."""
    import cv2

    _, photo = _dlib_mouth(renderer.rig.image)
    x0, x1 = int(photo[60:68, 0].min()), int(photo[60:68, 0].max()) + 1
    y0, y1 = int(photo[60:68, 1].min()) - 2, int(photo[60:68, 1].max()) + 6
    gray = cv2.cvtColor(renderer.rig.image, cv2.COLOR_RGB2GRAY)
    eyes = np.zeros(gray.shape, np.uint8)
    for a, b in ((36, 42), (42, 48)):
        cv2.fillPoly(eyes, [np.round(photo[a:b]).astype(np.int32)], 1)
    eye_whites = np.percentile(gray[eyes > 0], 95)

    def teeth_like(values: dict[str, float]) -> int:
        frame = renderer.draw({"photo_expression": 0.2, **values})[y0:y1, x0:x1]
        pale = cv2.cvtColor(frame, cv2.COLOR_RGB2HSV)[..., 1] < 0.22 * 255
        return int((pale & (cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) > 0.4 * eye_whites)).sum())

    open_aa = teeth_like({"jaw_open": 0.6, "lips_open": 0.55})
    assert open_aa > 50
    assert teeth_like({"jaw_open": 0.35, "lips_open": 0.3, "lip_pucker": 1.0, "lip_width": -0.9}) <= 0.5 * open_aa


def test_a_spoken_sentence_never_flaps_the_mouth(renderer: Renderer) -> None:
    """Frames drawn from speech (espeak-ng's, with its exact phones), measured by dlib: no frame's lip gap sits
    above or below both neighbours by more than 40% of the wide (95th percentile) opening (real articulators
    cannot open and shut within 80 ms)."""
    from talkinghead.audio.tts import text_speech
    from talkinghead.controls import Controls
    from talkinghead.motion.generate import generate_motion

    speech = text_speech("Bob made my pumpkin pie, and we ate it by the open window.")
    track = generate_motion(speech, Controls(size=256))
    gaps = []
    for index in range(0, min(track.n_frames, 60)):
        measured = _dlib_mouth(renderer.draw(track.frame(index)))
        gaps.append(measured[0] if measured else np.nan)
    gap = np.nan_to_num(np.array(gaps), nan=float(np.nanmedian(gaps)))
    wide = np.percentile(gap, 95)
    middle, around = gap[1:-1], np.stack([gap[:-2], gap[2:]])
    flaps = ((middle - around.max(axis=0)) > 0.4 * wide).sum() + ((around.min(axis=0) - middle) > 0.4 * wide).sum()
    assert wide > 0.15 and flaps == 0



def test_the_open_mouth_carries_the_photo_s_grain(tmp_path) -> None:
    """A grainy photo (the bundled portrait with noise of 3 grey levels) opened wide: the dark cavity inside
    dlib's inner-lip outline has fine detail (median absolute difference from a 1-pixel blur) of the order of
    the skin's just below the lower lip, not the smooth paint that reads as drawn (0.3 of it before)."""
    import cv2

    from talkinghead.assets import DEMO_PORTRAIT
    from talkinghead.face import build_rig

    photo = cv2.imread(str(DEMO_PORTRAIT)).astype(np.float32)
    photo += np.random.default_rng(3).normal(0.0, 3.0, photo.shape).astype(np.float32)
    grainy = tmp_path / "grainy.png"
    cv2.imwrite(str(grainy), np.clip(photo, 0, 255).astype(np.uint8))
    frame = Renderer(build_rig(grainy, size=512)).draw({"jaw_open": 0.9, "lips_open": 0.8})
    _, points = _dlib_mouth(frame)
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    detail = np.abs(gray - cv2.GaussianBlur(gray, (0, 0), 1.0))
    cavity = np.zeros(gray.shape, np.uint8)
    cv2.fillPoly(cavity, [np.round(points[60:68]).astype(np.int32)], 1)
    x, y = np.round(0.5 * (points[57] + points[8])).astype(int)
    half = round(0.25 * np.linalg.norm(points[8] - points[57]))
    skin = np.zeros(gray.shape, np.uint8)
    skin[y - half // 2: y + half // 2, x - half: x + half] = 1
    dark = cv2.erode(cavity * (gray < 0.5 * np.median(gray[skin > 0])), np.ones((3, 3), np.uint8))
    assert dark.sum() > 100
    assert 0.6 < np.median(detail[dark > 0]) / np.median(detail[skin > 0]) < 1.6


def test_a_file_render_holds_blas_to_one_thread_and_gives_it_back(tmp_path, monkeypatch) -> None:
    """While a file renders, numpy's BLAS is on one thread (its idle threads spin and took a core from the
    renderer on a 2-core machine); the caller's setting is back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from talkinghead import pipeline
    from talkinghead.assets import DEMO_PORTRAIT

    seen = []
    original = pipeline.prepare

    def watched(*args, **kwargs):
        seen.extend(blas_threads().values())
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "prepare", watched)
    def blas_threads() -> dict[str, int]:
        return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        pipeline.render(DEMO_PORTRAIT, None, tmp_path / "hi.mp4", text="Hi.", size=128)
        after = blas_threads()
    assert 2 in before.values() and set(seen) == {1}
    assert {lib: after[lib] for lib in before} == before
