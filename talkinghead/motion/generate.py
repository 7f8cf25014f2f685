"""Speech + Controls -> MotionTrack: each family of channels comes from its own model.

`mouth` (speech -> articulation), `head` (prosody -> pose), `eyes` (blinks, gaze), `expression` (emotion,
brows on emphasis). Each returns a dict of per-frame arrays; this module only fixes the length, the seed
and one random stream per family, so the same inputs and seed always give the same track, and a change
in one model does not reshuffle the others' randomness.
"""

from __future__ import annotations

import numpy as np

from talkinghead.audio import Speech
from talkinghead.audio.prosody import analyse_prosody
from talkinghead.controls import Controls
from talkinghead.motion.expression import emotion_curves, expression_channels, load_emotion_schedule
from talkinghead.motion.eyes import eye_channels
from talkinghead.motion.head import ease_in_from_photo, head_channels
from talkinghead.motion.mouth import mouth_channels
from talkinghead.motion.timing import n_frames_for
from talkinghead.motion.track import MotionTrack


def generate_motion(speech: Speech, controls: Controls, from_photo_pose: bool = True) -> MotionTrack:
    """The full track for ``speech``; same speech and controls (seed included) give the same track.

    ``from_photo_pose``: the head starts at the photo's pose and eases into motion (a whole video); the live
    mode, which stitches many windows into one stream, asks for the motion as it is."""
    n = n_frames_for(speech.duration, controls.fps)
    fps = controls.fps
    head_rng, eye_rng, face_rng = (np.random.default_rng([controls.seed, stream]) for stream in (1, 2, 3))
    prosody = analyse_prosody(speech)
    schedule = load_emotion_schedule(controls.emotion_schedule) if controls.emotion_schedule else []
    emotion = emotion_curves(controls.emotion, controls.intensity, schedule, fps, n)
    head = head_channels(prosody, head_rng, fps, n, controls.motion_scale * emotion.head_energy,
                         emotion.head_pitch)
    if from_photo_pose:
        head = ease_in_from_photo(head, fps)
    track = MotionTrack.still(fps, n)
    for channels in (
        mouth_channels(speech, fps, n, controls.language),
        head,
        eye_channels(prosody, eye_rng, fps, n, head, controls.gaze, emotion.blink_rate),
        expression_channels(prosody, face_rng, fps, n, emotion),
    ):
        for name, values in channels.items():
            track.channels[name][:] = values
    return track
