from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio import load_speech
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.motion import CHANNELS, MotionTrack, generate_motion
from talkinghead.motion.head import START_EASE_S


def test_track_length_and_channels(speech_then_silence: Path) -> None:
    speech = load_speech(speech_then_silence)
    track = generate_motion(speech, Controls(fps=30))
    assert track.n_frames == round(speech.duration * 30)
    assert set(track.channels) == set(CHANNELS)


def test_mouth_moves_in_speech_and_rests_in_silence(speech_then_silence: Path) -> None:
    speech = load_speech(speech_then_silence)
    track = generate_motion(speech, Controls())
    jaw = track.channels["jaw_open"]
    silent_tail = jaw[-int(1.5 * 25):]
    speaking = jaw[: -int(2.2 * 25)]
    assert silent_tail.max() < 0.02
    assert speaking.max() > 0.5
    assert np.percentile(speaking, 75) > 0.2


def test_same_seed_same_track_other_seed_other_track(speech_wav: Path) -> None:
    speech = load_speech(speech_wav)
    first = generate_motion(speech, Controls(seed=3))
    again = generate_motion(speech, Controls(seed=3))
    other = generate_motion(speech, Controls(seed=4))
    for name in CHANNELS:
        np.testing.assert_array_equal(first.channels[name], again.channels[name])
    assert not np.allclose(first.channels["head_yaw"], other.channels["head_yaw"])


def test_still_face_is_alive_and_smooth(silence_wav: Path) -> None:
    speech = load_speech(silence_wav, max_seconds=600)
    long_silence = speech.__class__(**{**speech.__dict__})
    track = generate_motion(long_silence, Controls())
    assert np.abs(track.channels["head_yaw"]).max() > 0.1  # the head is not frozen
    # no jitter: frame-to-frame change is tiny against the motion's own range
    yaw = track.channels["head_yaw"]
    assert np.abs(np.diff(yaw)).max() < 0.25 * (yaw.max() - yaw.min() + 1e-6)
    assert np.all(track.channels["jaw_open"] == 0)


def test_motion_scale_zero_keeps_the_head_still(speech_wav: Path) -> None:
    track = generate_motion(load_speech(speech_wav), Controls(motion_scale=0))
    for name in ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y"):
        assert not track.channels[name].any()


def test_a_video_opens_on_the_photos_pose_and_eases_into_motion(speech_wav: Path) -> None:
    speech = load_speech(speech_wav)
    track = generate_motion(speech, Controls(emotion="sad"))  # sad also lowers the head's resting pitch
    live_window = generate_motion(speech, Controls(emotion="sad"), from_photo_pose=False)
    for name in ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y", "head_scale"):
        assert track.channels[name][0] == 0.0, name
        assert np.abs(np.diff(track.channels[name][:20])).max() < 0.2 * np.abs(live_window.channels[name]).max()
        later = slice(round(START_EASE_S * track.fps) + 1, None)
        assert np.array_equal(track.channels[name][later], live_window.channels[name][later]), name
    assert np.abs(live_window.channels["head_pitch"][0]) > 0.5  # without the ease, the posture is there at once


def test_blinks_at_human_rate() -> None:
    from talkinghead.motion.eyes import blink_curve

    curve = blink_curve(np.random.default_rng(0), 25 * 120, 25.0)
    closed = curve > 0.8
    blinks = int(np.sum(closed[1:] & ~closed[:-1]))
    assert 10 * 2 <= blinks <= 25 * 2
    assert curve.min() == 0 and curve.max() <= 1


def test_track_round_trips_through_json(tmp_path: Path, speech_wav: Path) -> None:
    track = generate_motion(load_speech(speech_wav), Controls())
    track.save(tmp_path / "track.json")
    loaded = MotionTrack.load(tmp_path / "track.json")
    assert loaded.fps == track.fps and loaded.n_frames == track.n_frames
    np.testing.assert_allclose(loaded.channels["jaw_open"], track.channels["jaw_open"], atol=1e-5)


def test_track_rejects_unknown_channels_and_ragged_lengths() -> None:
    with pytest.raises(TalkingHeadError, match="unknown motion channel"):
        MotionTrack(25, {"mouth_wiggle": np.zeros(3)})
    with pytest.raises(TalkingHeadError, match="differ in length"):
        MotionTrack(25, {"jaw_open": np.zeros(3), "smile": np.zeros(4)})
