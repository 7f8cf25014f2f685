"""Deformation bases: how far each mesh vertex moves (in output pixels) per unit of a motion channel.

Built once per portrait, in a face-aligned frame (u = across the eyes, v = down the face) and in units of
the face width, so the same channel value means the same expression on any photo at any size. A frame's
shape is the rest mesh plus the sum of (value - the photo's own value) x basis over the channels: linear,
so cheap to evaluate.

Mouth channels are absolute: ``jaw_open = lips_open = 0`` means lips together. `neutral_pose` estimates
the photo's own values (a smiling photo with teeth showing has its mouth partly open), so the photo is
drawn unchanged at its neutral pose and a "closed" command closes even an open-mouthed photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from talkinghead.face import topology as topo

# Largest movement at channel value 1, as a share of the face width.
JAW_DROP = 0.13
LIP_PART_LOWER, LIP_PART_UPPER = 0.035, 0.02
LIP_SPREAD = 0.05
LIP_PUCKER = 0.07
ROUND_PARTING = 0.3  # rounded lips part this share of LIP_PUCKER at the middle (upper and lower each)
LIP_TUCK = 0.035
UPPER_LIP_RAISE = 0.03
BROW_LIFT = 0.045
BROW_FURROW = 0.03
CHEEK_LIFT = 0.02
SMILE_LIFT, SMILE_SPREAD = 0.075, 0.035
MAX_PHOTO_SMILE = 2.5
OPEN_CORNER_LIFT = 0.2  # a relaxed open mouth's corners sit this share of its lip gap above the gap's middle
JAW_SHARE_OF_PHOTO_GAP = 0.6  # how an open photo's lip gap splits into jaw and lips
CHIN_AS_ONE = 0.1  # closing an open photo's mouth: this far (face widths) under the lower lip the chin rises as one
SKIN_RISE_SLOPE = 0.8  # closing: skin under the lip rises at most this many pixels more per pixel below it
CLOSE_MEET = 0.2  # closing an open photo's mouth: where the lips meet, as a share of the gap from the top (the upper
# lip hangs from the skull and moves little; the jaw closes the rest. Nearer the top keeps the face more itself:
# dlib identity distance at rest 0.36 -> 0.25 on an open-mouth photo)
GRIN_LIPS_SHARE = 0.5  # share of a grinning photo's lip gap that is its lips drawn back, not its jaw dropped
# How far the jaw's pull reaches past the face oval, per ring level.
RING_JAW_FOLLOW = np.array([1.0, 0.6, 0.25, 0.0, 0.0, 0.0])
# Where the jaw's pull past the outline is cut back (clothes under the chin), the follow falls off at most over
# this many times the jaw's largest move: 0.8 px per px between any two points, under the 1 px per px at which
# the triangles between a dropping chin and a still collar would fold (measured: the least area ratio of those
# triangles at the widest jaw stays >= 0.5 on five portraits)
CLOTH_RAMP = 1.25


def face_frame(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vectors across (u) and down (v) the face, and the face width in pixels."""
    across = landmarks[topo.EYE_OUTER_LEFT, :2] - landmarks[topo.EYE_OUTER_RIGHT, :2]
    u = across / np.linalg.norm(across)
    v = np.array([-u[1], u[0]])
    width = float(np.linalg.norm(landmarks[topo.CHEEK_LEFT, :2] - landmarks[topo.CHEEK_RIGHT, :2]))
    return u, v, width


def neutral_pose(landmarks: np.ndarray, bases: dict[str, np.ndarray] | None = None) -> dict[str, float]:
    """The mouth channel values that describe the photo itself (0 for a closed, relaxed mouth), and with
    ``bases`` its own ``smile`` (`photo_smile`): drawing ``smile = 0`` relaxes a grinning photo's mouth."""
    _, v, width = face_frame(landmarks)
    gap = max(float((landmarks[topo.LIP_CENTER_LOWER, :2] - landmarks[topo.LIP_CENTER_UPPER, :2]) @ v), 0.0)
    gap /= width
    pose = {
        "jaw_open": JAW_SHARE_OF_PHOTO_GAP * gap / JAW_DROP,
        "lips_open": (1 - JAW_SHARE_OF_PHOTO_GAP) * gap / (LIP_PART_LOWER + LIP_PART_UPPER),
    }
    if bases is not None and "smile" in bases:
        pose["smile"] = photo_smile(landmarks, bases["smile"])
    return pose


def _smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


@dataclass
class _FaceGeometry:
    """Mesh vertices in face coordinates: s across, t down, in face widths from the mouth centre."""

    s: np.ndarray
    t: np.ndarray
    u: np.ndarray
    v: np.ndarray
    width: float
    half_mouth: float
    ring: np.ndarray
    teeth_line: np.ndarray
    landmarks: np.ndarray
    chin_likeness: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.s)

    def along(self, amounts: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """(V x 2) field: ``amounts`` (face widths, per vertex) along a unit ``direction``."""
        return np.outer(amounts * self.width, direction)

    def lip_taper(self) -> np.ndarray:
        """1 at the middle of the mouth, 0.4 at its corners."""
        return 1.0 - 0.6 * _smoothstep(0.3, 1.0, np.abs(self.s) / self.half_mouth)

    def near_mouth(self) -> np.ndarray:
        near = np.exp(-((self.s / (self.half_mouth * 1.6)) ** 2 + (self.t / 0.12) ** 2)) * (self.ring == 0)
        near[self.teeth_line] = 0.0
        return near

    def sideways(self) -> np.ndarray:
        """-1 at the right mouth corner .. +1 at the left one."""
        return np.sign(self.s) * np.clip(np.abs(self.s) / self.half_mouth, 0, 1)


LOWER_LIP = sorted(set(topo.LIPS_OUTER_LOWER + topo.LIPS_INNER_LOWER) - set(topo.MOUTH_CORNERS))
UPPER_LIP = sorted(set(topo.LIPS_OUTER_UPPER + topo.LIPS_INNER_UPPER) - set(topo.MOUTH_CORNERS))
OUTER_LOWER_LIP = sorted(set(topo.LIPS_OUTER_LOWER) - set(topo.MOUTH_CORNERS))
LIP_OUTLINES = sorted(set(topo.LIPS_OUTER_UPPER + topo.LIPS_OUTER_LOWER + topo.LIPS_INNER_UPPER
                         + topo.LIPS_INNER_LOWER))


def build_bases(vertices: np.ndarray, ring: np.ndarray, teeth_line: np.ndarray,
                landmarks: np.ndarray, chin_likeness: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-channel (V x 2) displacement fields for the mesh ``vertices``. ``chin_likeness`` (0..1 per
    vertex, `talkinghead.face.skin.chin_likeness`) limits how far the jaw pulls points past the face outline:
    skin and beard follow the chin, clothes do not (`_spare_clothes`)."""
    geo = _geometry(vertices, ring, teeth_line, landmarks, chin_likeness)
    mouth = {"jaw_open": _jaw(geo), "lips_open": _lips_open(geo), "lip_width": _teeth_line_along(_spread(geo), geo),
             "lip_pucker": _teeth_line_along(_pucker(geo), geo), "lower_lip_tuck": _lower_lip_tuck(geo),
             "upper_lip_raise": _upper_lip_raise(geo), "smile": _smile(geo)}
    return {
        **{name: lips_move_whole(field, geo) for name, field in mouth.items()},
        "blink_right": _blink(geo, topo.EYE_RIGHT_UPPER, topo.EYE_RIGHT_LOWER, topo.EYE_RIGHT_UPPER_RINGS),
        "blink_left": _blink(geo, topo.EYE_LEFT_UPPER, topo.EYE_LEFT_LOWER, topo.EYE_LEFT_UPPER_RINGS),
        "brow_raise": _brow_raise(geo),
        "brow_furrow": _brow_furrow(geo),
        "cheek_raise": _cheek_raise(geo),
    }


def _geometry(vertices: np.ndarray, ring: np.ndarray, teeth_line: np.ndarray,
              landmarks: np.ndarray, chin_likeness: np.ndarray | None = None) -> _FaceGeometry:
    u, v, width = face_frame(landmarks)
    mouth = (landmarks[topo.LIP_CENTER_UPPER, :2] + landmarks[topo.LIP_CENTER_LOWER, :2]) / 2
    rel = vertices[:, :2] - mouth
    half_mouth = float(abs((landmarks[topo.MOUTH_CORNERS[1], :2] - landmarks[topo.MOUTH_CORNERS[0], :2]) @ u)) / 2
    return _FaceGeometry(rel @ u / width, rel @ v / width, u, v, width, half_mouth / width, ring, teeth_line,
                         landmarks, chin_likeness)


def _jaw(geo: _FaceGeometry) -> np.ndarray:
    """The lower face drops: lower lip and chin fully, the cheeks and neck less and less."""
    return geo.along(_jaw_weight(geo) * JAW_DROP, geo.v)


def _jaw_weight(geo: _FaceGeometry) -> np.ndarray:
    """How much each vertex follows the jaw (0..1)."""
    jaw = _smoothstep(-0.01, 0.05, geo.t) * (1.0 - _smoothstep(0.22, 0.55, np.abs(geo.s)))
    jaw *= RING_JAW_FOLLOW[np.minimum(geo.ring, len(RING_JAW_FOLLOW) - 1)]
    if geo.chin_likeness is not None:
        jaw = _spare_clothes(jaw, geo)
    jaw[LOWER_LIP] = geo.lip_taper()[LOWER_LIP]
    jaw[UPPER_LIP] = 0.0
    jaw[list(topo.MOUTH_CORNERS)] = 0.35
    jaw[geo.teeth_line] = 0.0
    return jaw


def _spare_clothes(jaw: np.ndarray, geo: _FaceGeometry) -> np.ndarray:
    """``jaw`` with the follow of points past the face outline scaled by how much they look like the chin
    (``geo.chin_likeness``), but never falling off faster than a fold-free slope from its neighbours.

    Why: a collar or a suit under the chin was pushed down with the jaw and bobbed with every syllable, and
    an open-mouthed photo's collar rose as its mouth was closed. A hard cut would fold the triangles between
    a moving chin and a still collar: the weights are the least slope-bounded envelope over the wanted ones
    (each point keeps at least any other point's weight less the slope times their distance), so the motion
    changes by at most 1 / `CLOTH_RAMP` px per px even at the jaw's largest move; where a collar touches
    the chin, the collar's top edge still follows a little, and its lower part stays.
    """
    pulled = np.nonzero(jaw > 0)[0]
    past = pulled[geo.ring[pulled] >= 1]  # the face itself keeps its weights
    if not len(past):
        return jaw
    wanted = jaw[pulled] * np.where(geo.ring[pulled] >= 1, geo.chin_likeness[pulled], 1.0)
    xy = np.column_stack([geo.s, geo.t]) * geo.width
    slope = 1.0 / (CLOTH_RAMP * _jaw_reach(geo))  # weight per pixel
    envelope = (wanted[None, :] - slope * cdist(xy[past], xy[pulled])).max(axis=1)
    spared = jaw.copy()
    spared[past] = np.minimum(jaw[past], envelope)
    return spared


def _jaw_reach(geo: _FaceGeometry) -> float:
    """The farthest (pixels) a point with jaw weight 1 moves from where the photo shows it: dropping the jaw
    from the photo's opening to the widest (``jaw_open`` 1), or closing the photo's own lip gap."""
    landmarks = geo.landmarks
    gap = max(float((landmarks[topo.LIP_CENTER_LOWER, :2] - landmarks[topo.LIP_CENTER_UPPER, :2]) @ geo.v), 0.0)
    drop = max(1.0 - neutral_pose(landmarks)["jaw_open"], 0.0) * JAW_DROP * geo.width
    return max(drop, (1 - CLOSE_MEET) * gap, 1.0)


def build_closing(vertices: np.ndarray, ring: np.ndarray, teeth_line: np.ndarray,
                  landmarks: np.ndarray, photo_smile_units: float = 0.0, relax: bool = True,
                  chin_likeness: np.ndarray | None = None) -> np.ndarray:
    """(V x 2) displacement that brings the photo's own parted lips together (zeros for a closed mouth).

    Each upper inner-lip point and its lower partner meet at a point `CLOSE_MEET` of the way down their gap.
    The part of the closing the jaw does (`chin_share_of_closing`: all of it for a mouth opened by the jaw,
    half on a grin) carries the outer lip contours with their inner edges; the rest is the lips relaxing, so
    their inner edges move and their outer contours stay: a grin's lips, stretched thin over its teeth, grow
    fuller as they close (moved whole they met as two thin strips, a mouth unlike the person's: dlib's identity
    distance at rest 0.34 -> 0.30 on the grinning astronaut, 0.20-0.28 -> 0.18-0.24 on three grinning photos
    of Obama). The chin and lower face follow the lower lip's outer rise by their jaw weight, times the jaw's
    share again on a grin. Shaped by the photo's actual gap, so lips never cross on the way. ``chin_likeness``:
    as in `build_bases` (a collar under the chin does not rise with it).
    """
    geo = _geometry(vertices, ring, teeth_line, landmarks, chin_likeness)
    field = np.zeros((geo.count, 2))
    upper, lower = list(topo.LIPS_INNER_UPPER), list(topo.LIPS_INNER_LOWER)
    gaps = np.maximum((landmarks[lower, :2] - landmarks[upper, :2]) @ geo.v, 0.0)
    field[upper] = np.outer(CLOSE_MEET * gaps, geo.v)
    field[lower] = np.outer(-(1 - CLOSE_MEET) * gaps, geo.v)
    jaw_share = chin_share_of_closing(photo_smile_units)
    outline_share = jaw_share if relax else 1.0  # ``relax=False``: the lips close whole (lips still parted)
    for outer, inner in ((topo.LIPS_OUTER_UPPER, upper), (topo.LIPS_OUTER_LOWER, lower)):
        inner_s = geo.s[inner]
        order = np.argsort(inner_s)
        for axis in (0, 1):
            field[list(outer[1:-1]), axis] = outline_share * np.interp(
                geo.s[list(outer[1:-1])], inner_s[order], field[inner, axis][order])
    gaps_below = outline_share * (1 - CLOSE_MEET) * gaps  # how far the lower lip's outer outline rises
    lip_rise = float(gaps_below[len(gaps) // 2])
    centre_rise = lip_rise * jaw_share
    skin = np.setdiff1d(np.arange(geo.count), LOWER_LIP + UPPER_LIP + list(topo.MOUTH_CORNERS))
    skin = np.setdiff1d(skin, teeth_line)
    # right under the lower lip the skin rises as the lip above it does (less towards the corners, so it never
    # overtakes the lip there); further down the chin rises with the jaw as one piece
    lower_s = geo.s[lower]
    order = np.argsort(lower_s)
    local = np.interp(geo.s[skin], lower_s[order], gaps_below[order])
    outer_s = geo.s[list(topo.LIPS_OUTER_LOWER)]
    below_lip = geo.t[skin] - np.interp(geo.s[skin], np.sort(outer_s),
                                        geo.t[list(topo.LIPS_OUTER_LOWER)][np.argsort(outer_s)])
    follows_lip = (1.0 - _smoothstep(0.0, CHIN_AS_ONE, below_lip)) * (
        1.0 - _smoothstep(0.7, 1.0, np.abs(geo.s[skin]) / geo.half_mouth))
    rise = centre_rise + follows_lip * (local - centre_rise)
    # and never faster than the lip above it plus a slope of its distance below it: skin never passes the lip
    rise = np.minimum(rise, local + SKIN_RISE_SLOPE * np.maximum(below_lip, 0.0) * geo.width)
    # nor than any point of the lower lip's outline plus that slope of its distance from it: beside a corner
    # the outline curves up to a corner that does not rise, and skin there rose past it (a fold, drawn as a
    # hard-edged wedge of lip under the corner of an open-mouth photo at rest)
    outline = list(topo.LIPS_OUTER_LOWER)
    outline_rise = np.maximum(-field[outline] @ geo.v, 0.0)
    apart = np.hypot(geo.s[skin, None] - geo.s[None, outline], geo.t[skin, None] - geo.t[None, outline])
    rise = np.minimum(rise, np.min(outline_rise[None, :] + SKIN_RISE_SLOPE * apart * geo.width, axis=1))
    field[skin] = np.outer(-_jaw_weight(geo)[skin] * rise, geo.v)
    return lips_move_whole(field, geo)


def chin_share_of_closing(photo_smile_units: float) -> float:
    """How much of the lower lip's rise the chin follows when a photo's parted lips are closed: all of it for a
    mouth opened by the jaw, less for a grin (``photo_smile_units`` of the smile basis, `photo_smile`), whose
    lips are drawn back off teeth that nearly meet, so covering them is the lips' work. Raising the chin there
    shortens the face: dlib's identity distance to a grinning photo at rest grows by ~0.08."""
    return 1.0 - GRIN_LIPS_SHARE * min(max(photo_smile_units, 0.0), 1.0)


def _teeth_line_along(field: np.ndarray, geo: _FaceGeometry) -> np.ndarray:
    """``field`` with an open photo's teeth line moving across the face (not up or down) as the inner lips
    around it do: when rounded lips narrow the mouth, the photo's teeth between them narrow too, instead of
    the lips sliding over a still line and folding the mesh between them."""
    if not len(geo.teeth_line):
        return field
    out = field.copy()
    inner = list(topo.LIPS_INNER_UPPER) + list(topo.LIPS_INNER_LOWER)
    order = np.argsort(geo.s[inner])
    across = field[inner] @ geo.u
    out[geo.teeth_line] = np.outer(np.interp(geo.s[geo.teeth_line], geo.s[inner][order], across[order]), geo.u)
    return out


def lips_whole(field: np.ndarray, vertices: np.ndarray, ring: np.ndarray, teeth_line: np.ndarray,
               landmarks: np.ndarray) -> np.ndarray:
    """`lips_move_whole` for a field made outside this module (the render stage's lip seal)."""
    return lips_move_whole(field, _geometry(vertices, ring, teeth_line, landmarks))


def lips_move_whole(field: np.ndarray, geo: _FaceGeometry) -> np.ndarray:
    """``field`` with the mesh vertices inside each lip (between its outer and inner outline: the face mesh
    has rings of them) moved like the outlines around them, interpolated by depth into the lip. Left to the
    skin's rule they would stay while the outlines move, and the lip would fold over itself (a stair-stepped
    lip line, dark streaks where an open photo's mouth is closed)."""
    out = field.copy()
    for outer, inner, sign in ((topo.LIPS_OUTER_UPPER, topo.LIPS_INNER_UPPER, 1.0),
                               (topo.LIPS_OUTER_LOWER, topo.LIPS_INNER_LOWER, -1.0)):
        outer_s, inner_s = geo.s[list(outer)], geo.s[list(inner)]
        o_order, i_order = np.argsort(outer_s), np.argsort(inner_s)
        t_outer = np.interp(geo.s, outer_s[o_order], geo.t[list(outer)][o_order])
        t_inner = np.interp(geo.s, inner_s[i_order], geo.t[list(inner)][i_order])
        depth = sign * (geo.t - t_outer) / np.maximum(sign * (t_inner - t_outer), 1e-6)
        inside = (depth > 0.0) & (depth < 1.0) & (geo.ring == 0)
        inside &= (geo.s > inner_s.min()) & (geo.s < inner_s.max())
        inside[LIP_OUTLINES + list(geo.teeth_line)] = False
        if not inside.any():
            continue
        for axis in (0, 1):
            at_outer = np.interp(geo.s[inside], outer_s[o_order], field[list(outer), axis][o_order])
            at_inner = np.interp(geo.s[inside], inner_s[i_order], field[list(inner), axis][i_order])
            out[inside, axis] = at_outer + depth[inside] * (at_inner - at_outer)
    return out


def _lips_open(geo: _FaceGeometry) -> np.ndarray:
    """The lips part without the jaw: lower lip down, upper lip up, tapering to the corners."""
    taper = geo.lip_taper()
    lips = np.zeros(geo.count)
    lips[LOWER_LIP] = taper[LOWER_LIP] * LIP_PART_LOWER
    lips[UPPER_LIP] = -taper[UPPER_LIP] * LIP_PART_UPPER
    return geo.along(lips, geo.v)


def _spread(geo: _FaceGeometry) -> np.ndarray:
    """Mouth corners out (positive) or in (negative), the skin around following."""
    return geo.along(geo.near_mouth() * geo.sideways() * LIP_SPREAD, geo.u)


def _pucker(geo: _FaceGeometry) -> np.ndarray:
    """Rounded lips: corners pulled in, the middle of the lips pushed apart in an arch (an oval opening, not a
    slit: the lips' parting follows a half-ellipse from corner to corner)."""
    near, sideways = geo.near_mouth(), geo.sideways()
    inward = geo.along(-near * sideways * LIP_PUCKER, geo.u)
    arch = np.sqrt(np.clip(1.0 - sideways**2, 0.0, 1.0))
    rounding = np.zeros(geo.count)
    rounding[LOWER_LIP] = ROUND_PARTING * arch[LOWER_LIP] * LIP_PUCKER
    rounding[UPPER_LIP] = -ROUND_PARTING * arch[UPPER_LIP] * LIP_PUCKER
    return inward + geo.along(rounding, geo.v)


def _lower_lip_tuck(geo: _FaceGeometry) -> np.ndarray:
    """F/V: the lower lip rises and rolls in under the upper teeth (its outer edge rises most)."""
    taper = geo.lip_taper()
    lift = np.zeros(geo.count)
    lift[LOWER_LIP] = -0.6 * LIP_TUCK * taper[LOWER_LIP]
    lift[OUTER_LOWER_LIP] = -LIP_TUCK * taper[OUTER_LOWER_LIP]
    return geo.along(lift, geo.v)


def _upper_lip_raise(geo: _FaceGeometry) -> np.ndarray:
    """The upper lip lifts off the teeth; the skin under the nose follows a little."""
    taper = geo.lip_taper()
    lift = np.where((geo.t < 0) & (geo.t > -0.2) & (geo.ring == 0), 0.3 * _smoothstep(-0.2, -0.05, geo.t), 0.0)
    lift[UPPER_LIP] = taper[UPPER_LIP]
    lift[geo.teeth_line] = 0.0
    return geo.along(-lift * UPPER_LIP_RAISE, geo.v)


def _smile(geo: _FaceGeometry) -> np.ndarray:
    """Mouth corners up and out (negative: down and in), centred on the corners themselves (a grinning
    photo's corners sit well above the middle of its lips), the lips between bending with them in a smooth
    curve."""
    corner_t = float(np.mean(geo.t[list(topo.MOUTH_CORNERS)]))
    height = geo.t - corner_t
    lips = list(UPPER_LIP) + list(LOWER_LIP) + list(topo.MOUTH_CORNERS) + list(geo.teeth_line)
    height[lips] = 0.0  # both lips (and the teeth line between them) bend alike, so they never cross
    near = np.exp(-((geo.s / (geo.half_mouth * 1.6)) ** 2 + (height / 0.12) ** 2)) * (geo.ring == 0)
    sideways = geo.sideways()
    bend = sideways**2  # a smooth curve through the middle of the lips, not a tent
    return geo.along(near * bend * -SMILE_LIFT, geo.v) + geo.along(near * sideways * SMILE_SPREAD, geo.u)


def photo_smile(landmarks: np.ndarray, smile_basis: np.ndarray) -> float:
    """The photo's own smile in units of ``smile_basis``: how far its mouth corners sit above the middle of
    its lips, over how far one unit of the basis lifts them (a relaxed closed mouth's corners are level with
    the middle; an open one's a little above the middle of its gap)."""
    v = face_frame(landmarks)[1]
    gap = max(float((landmarks[topo.LIP_CENTER_LOWER, :2] - landmarks[topo.LIP_CENTER_UPPER, :2]) @ v), 0.0)
    corners = [topo.LIPS_OUTER_UPPER[0], topo.LIPS_OUTER_UPPER[-1]]
    middle = (landmarks[topo.LIP_CENTER_UPPER, :2] + landmarks[topo.LIP_CENTER_LOWER, :2]) / 2
    lift = float(np.mean((middle - landmarks[corners, :2]) @ v)) - OPEN_CORNER_LIFT * gap
    per_unit = float(np.mean(-(smile_basis[corners] @ v)))
    return float(np.clip(lift / max(per_unit, 1e-6), 0.0, MAX_PHOTO_SMILE)) if lift > 0 else 0.0


def _blink(geo: _FaceGeometry, upper: tuple[int, ...], lower: tuple[int, ...],
           rings: tuple[tuple[int, ...], ...]) -> np.ndarray:
    """No mesh motion: the lid is drawn on the photo by `talkinghead.render.eyelids` (the lid's own skin and
    lash line slide over the eye), so the mesh around the eye, and glasses on it, stay still in a blink.
    The channel keeps a (zero) basis so every motion channel has one."""
    return np.zeros((geo.count, 2))


def _brow_raise(geo: _FaceGeometry) -> np.ndarray:
    field = np.zeros((geo.count, 2))
    field[list(topo.BROW_RIGHT + topo.BROW_LEFT)] = -BROW_LIFT * geo.width * geo.v
    rings = list(topo.EYE_RIGHT_UPPER_RINGS[1] + topo.EYE_LEFT_UPPER_RINGS[1])
    field[rings] = -0.3 * BROW_LIFT * geo.width * geo.v
    return field


def _brow_furrow(geo: _FaceGeometry) -> np.ndarray:
    """Inner brows down and together (concentration, anger)."""
    field = np.zeros((geo.count, 2))
    for brow in (topo.BROW_RIGHT, topo.BROW_LEFT):
        points = list(brow)
        s = geo.s[points]
        inner = 1.0 - _smoothstep(0.05, 0.35, np.abs(s))
        field[points] = (geo.along(inner * BROW_FURROW, geo.v)
                         + geo.along(-np.sign(s) * inner * 0.5 * BROW_FURROW, geo.u))
    return field


def _cheek_raise(geo: _FaceGeometry) -> np.ndarray:
    """Cheeks lift and the lower lids rise a little (the eyes of a real smile)."""
    cheeks = (geo.ring == 0) & (geo.t > -0.45) & (geo.t < -0.1) & (np.abs(geo.s) > 0.15)
    lift = np.where(cheeks, CHEEK_LIFT, 0.0)
    lower_lids = list(topo.EYE_RIGHT_LOWER[1:-1] + topo.EYE_LEFT_LOWER[1:-1])
    lift[lower_lids] = 0.6 * CHEEK_LIFT
    return geo.along(-lift, geo.v)
