"""ARKit's 52 face blendshapes per frame, in the CSV layout Epic's Live Link Face app records.

Live Link Face's CSV: a header ``Timecode,BlendShapeCount,`` then the 52 blendshapes in the app's order
(`LIVE_LINK_BLENDSHAPES`), then head yaw/pitch/roll and each eye's yaw/pitch/roll (`LIVE_LINK_ANGLES`); one
row per frame with the timecode ``HH:MM:SS:FF.mmm`` (FF: the frame within the second at the track's fps;
.mmm: the fraction of a frame) and the count 61. Blendshapes are 0..1; the angles here are in radians.

Our MotionTrack has fewer, broader channels than ARKit; each blendshape is derived from the channel that
moves the same part of the face (`blendshapes`), and the ones we never move (cheek puff, nose sneer, jaw
sideways, ...) stay at 0. The mapping is one-way: to edit motion, use the MotionTrack JSON (``motion``).
"""

from __future__ import annotations

import math

import numpy as np

from talkinghead.errors import TalkingHeadError
from talkinghead.exports import ExportSource

LIVE_LINK_BLENDSHAPES = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel",
    "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft",
    "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft", "MouthPressRight",
    "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft", "MouthUpperUpRight", "BrowDownLeft",
    "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft",
    "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
LIVE_LINK_ANGLES = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                    "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
LIVE_LINK_HEADER = ("Timecode", "BlendShapeCount", *LIVE_LINK_BLENDSHAPES, *LIVE_LINK_ANGLES)
EYE_LOOK_FULL_DEG = 30.0  # an eyeLook blendshape reaches 1 at about this eye-in-head angle


def blendshapes(channels: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The 52 ARKit blendshapes (0..1 per frame) from MotionTrack ``channels`` (missing ones at rest)."""
    def get(name: str) -> np.ndarray:
        return np.asarray(channels.get(name, np.zeros(n)), float)

    def pos(values: np.ndarray) -> np.ndarray:
        return np.clip(values, 0.0, 1.0)

    jaw, lips, width = get("jaw_open"), get("lips_open"), get("lip_width")
    gaze_yaw, gaze_pitch = get("gaze_yaw") / EYE_LOOK_FULL_DEG, get("gaze_pitch") / EYE_LOOK_FULL_DEG
    smile, cheek, brow, furrow = get("smile"), get("cheek_raise"), get("brow_raise"), get("brow_furrow")
    # Subject's left eye is on the image's right: gaze towards the image's right looks out of the left eye.
    shapes = {
        "EyeBlinkLeft": pos(get("blink_left")), "EyeBlinkRight": pos(get("blink_right")),
        "EyeLookOutLeft": pos(gaze_yaw), "EyeLookInRight": pos(gaze_yaw),
        "EyeLookInLeft": pos(-gaze_yaw), "EyeLookOutRight": pos(-gaze_yaw),
        "EyeLookDownLeft": pos(gaze_pitch), "EyeLookDownRight": pos(gaze_pitch),
        "EyeLookUpLeft": pos(-gaze_pitch), "EyeLookUpRight": pos(-gaze_pitch),
        "EyeSquintLeft": pos(0.5 * cheek), "EyeSquintRight": pos(0.5 * cheek),
        "JawOpen": pos(jaw), "MouthClose": pos(jaw - lips),
        "MouthFunnel": pos(-width) * pos(2.0 * lips), "MouthPucker": pos(get("lip_pucker")),
        "MouthSmileLeft": pos(smile), "MouthSmileRight": pos(smile),
        "MouthFrownLeft": pos(-smile), "MouthFrownRight": pos(-smile),
        "MouthStretchLeft": pos(width), "MouthStretchRight": pos(width),
        "MouthRollLower": pos(get("lower_lip_tuck")),
        "MouthLowerDownLeft": pos(lips - jaw), "MouthLowerDownRight": pos(lips - jaw),
        "MouthUpperUpLeft": pos(get("upper_lip_raise")), "MouthUpperUpRight": pos(get("upper_lip_raise")),
        "BrowDownLeft": pos(furrow), "BrowDownRight": pos(furrow), "BrowInnerUp": pos(brow),
        "BrowOuterUpLeft": pos(brow), "BrowOuterUpRight": pos(brow),
        "CheekSquintLeft": pos(cheek), "CheekSquintRight": pos(cheek), "TongueOut": pos(get("tongue_show")),
    }
    return {name: shapes.get(name, np.zeros(n)) for name in LIVE_LINK_BLENDSHAPES}


def angles(channels: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Head and eye angles in radians (eye angles are the gaze in the head; both eyes alike; no roll)."""
    def rad(name: str) -> np.ndarray:
        return np.radians(np.asarray(channels.get(name, np.zeros(n)), float))

    zero = np.zeros(n)
    return {"HeadYaw": rad("head_yaw"), "HeadPitch": rad("head_pitch"), "HeadRoll": rad("head_roll"),
            "LeftEyeYaw": rad("gaze_yaw"), "LeftEyePitch": rad("gaze_pitch"), "LeftEyeRoll": zero,
            "RightEyeYaw": rad("gaze_yaw"), "RightEyePitch": rad("gaze_pitch"), "RightEyeRoll": zero}


def timecode(frame: int, fps: float) -> str:
    """Live Link Face's ``HH:MM:SS:FF.mmm`` for frame ``frame`` at ``fps`` from 00:00:00:00.

    >>> timecode(0, 25), timecode(26, 25), timecode(90001, 25)
    ('00:00:00:00.000', '00:00:01:01.000', '01:00:00:01.000')
    """
    seconds = frame / fps
    whole = math.floor(seconds + 1e-9)
    within = (frame - whole * fps) if float(fps).is_integer() else (seconds - whole) * fps
    ff = math.floor(within + 1e-9)
    sub = min(999, round((within - ff) * 1000))
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}:{ff:02d}.{sub:03d}"


def live_link_csv(source: ExportSource) -> str:
    """The whole CSV: header, then one row per MotionTrack frame."""
    if source.track is None:
        raise TalkingHeadError("the ARKit export needs the MotionTrack")
    track = source.track
    n = track.n_frames
    columns = {**blendshapes(track.channels, n), **angles(track.channels, n)}
    count = str(len(LIVE_LINK_BLENDSHAPES) + len(LIVE_LINK_ANGLES))
    lines = [",".join(LIVE_LINK_HEADER)]
    for k in range(n):
        values = (f"{float(columns[name][k]):.6f}" for name in (*LIVE_LINK_BLENDSHAPES, *LIVE_LINK_ANGLES))
        lines.append(",".join((timecode(k, track.fps), count, *values)))
    return "\n".join(lines) + "\n"
