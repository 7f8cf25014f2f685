"""Prosody, head, eyes, expression and the motion controls (issue 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from talkinghead.audio import load_speech
from talkinghead.audio import prosody as prosody_module
from talkinghead.audio.prosody import Prosody, RunningPitch, analyse_prosody, pitch_track
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.motion import MotionTrack, generate_motion
from talkinghead.motion.eyes import blink_curve
from talkinghead.motion.head import LIMIT, head_channels
from talkinghead.pipeline import plan_motion

from .test_cli import cli

FPS = 25.0


@pytest.fixture(scope="module")
def speech(speech_then_silence: Path):
    return load_speech(speech_then_silence)


@pytest.fixture(scope="module")
def prosody(speech) -> Prosody:
    return analyse_prosody(speech)


def speaking_frames(prosody: Prosody, n: int) -> np.ndarray:
    times = (np.arange(n) + 0.5) / FPS
    return prosody.speaking[np.minimum((times * prosody.rate).astype(int), len(prosody.speaking) - 1)]


def blink_runs(lid: np.ndarray) -> list[tuple[int, int]]:
    shut = np.concatenate([[False], lid > 0.05, [False]])
    return list(zip(np.flatnonzero(shut[1:] & ~shut[:-1]), np.flatnonzero(~shut[1:] & shut[:-1]), strict=True))


def test_prosody_finds_pitch_voicing_pause_and_accents(speech, prosody: Prosody) -> None:
    f0 = prosody.f0_hz[prosody.voiced]
    assert 0.25 < prosody.voiced[: -2 * prosody.rate].mean() < 0.95  # speech is partly voiced
    assert not prosody.voiced[-int(1.5 * prosody.rate):].any()  # the silence is not
    assert 70 < np.median(f0) < 200  # espeak-ng en-us is a low voice
    assert not prosody.speaking[-int(1.5 * prosody.rate):].any()
    assert prosody.speaking[: -2 * prosody.rate].mean() > 0.75
    end_of_speech = speech.duration - 2.0
    assert np.any(np.abs(prosody.pause_onsets() - end_of_speech) < 0.4)
    accents = prosody.accent_times
    assert len(accents) >= 3 and np.all(accents < end_of_speech + 0.2)
    assert np.all(np.diff(accents) >= 0.3)


def test_a_stream_tracks_each_pitch_frame_about_once_and_agrees_with_whole_windows(speech, monkeypatch) -> None:
    """Live windows of 2 s every 40 ms: the running tracker analyses each 10 ms a few times, not 50 times,
    and finds the same voiced pitch as tracking each whole window."""
    analysed = []
    whole_window = pitch_track

    def counted(samples, *args, **kwargs):
        analysed.append(samples.size)
        return whole_window(samples, *args, **kwargs)

    monkeypatch.setattr(prosody_module, "pitch_track", counted)
    running, hop = RunningPitch(speech.rate, speech.feature_rate), speech.rate // speech.feature_rate
    agree, ratio = [], []
    for end in range(40, len(speech.activity), 4):
        first = max(0, end - 200)
        samples = speech.samples[first * hop:end * hop]
        f0, reference = running.track(samples, first, end - first), whole_window(samples, speech.rate, 100, end - first)
        agree.append(np.mean((f0 > 0) == (reference > 0)))
        both = (f0 > 0) & (reference > 0)
        ratio.extend(f0[both] / reference[both])
    assert sum(analysed) < 15 * speech.samples.size  # whole windows: ~45 times
    assert np.mean(agree) > 0.75
    assert abs(np.median(ratio) - 1.0) < 0.01


def test_head_moves_with_speech_and_settles_in_pauses(speech, prosody: Prosody) -> None:
    stds, speeds = [], []
    for seed in range(4):
        track = generate_motion(speech, Controls(seed=seed))
        pose = np.stack([track.channels[k] for k in ("head_yaw", "head_pitch", "head_roll")], axis=1)
        talking = speaking_frames(prosody, track.n_frames)
        stds.append(pose[talking].std(axis=0))
        speed = np.linalg.norm(np.diff(pose, axis=0), axis=1)
        speeds.append((speed[talking[1:]].mean(), speed[~talking[1:]].mean()))
        assert np.abs(np.diff(pose, axis=0)).max() < 2.5  # degrees per frame: no jitter, no jumps
    assert 1.0 < np.mean(stds) < 8.0
    assert all(quiet < 0.6 * busy for busy, quiet in speeds)


def test_head_never_drifts_out_of_frame() -> None:
    n, rate = 10 * 60 * 100, 100.0
    lively = Prosody(rate, np.ones(n, np.float32), np.full(n, 120.0, np.float32), np.ones(n, bool),
                     np.ones(n, bool), (np.arange(n) % 30 == 0).astype(np.float32))
    frames = 10 * 60 * 25
    head = head_channels(lively, np.random.default_rng(0), FPS, frames, np.full(frames, 3.0), np.zeros(frames))
    for name, values in head.items():
        assert np.abs(values).max() < LIMIT[name]
        assert abs(values.mean()) < 0.25 * LIMIT[name]


def test_blinks_are_human_events() -> None:
    n = int(120 * FPS)
    propensity = np.ones(n)
    phrase_ends = np.arange(5.0, 120.0, 7.0)
    for t in phrase_ends:
        propensity[int(t * FPS): int((t + 0.6) * FPS)] += 4.0
    curve = blink_curve(np.random.default_rng(1), n, FPS, propensity)
    runs = blink_runs(curve)
    assert 20 <= len(runs) <= 50  # 10-25 a minute
    for start, end in runs:
        assert 0.1 <= (end - start) / FPS <= 0.4
        assert np.sum(curve[start:end] > 0.5) >= 2
        peak = start + int(np.argmax(curve[start:end]))
        assert peak - start < end - peak  # closes faster than it opens
    starts = np.array([s for s, _ in runs]) / FPS
    near_phrase_end = np.mean([np.any((t - phrase_ends >= -0.2) & (t - phrase_ends < 1.0)) for t in starts])
    assert near_phrase_end > 1.2 / 7.0  # clearly more than by chance (1.2 s windows every 7 s)


def test_both_eyes_blink_together_and_gaze_counter_rotates(speech) -> None:
    track = generate_motion(speech, Controls(seed=2))
    np.testing.assert_array_equal(track.channels["blink_left"], track.channels["blink_right"])
    head_velocity = np.diff(track.channels["head_yaw"])
    eye_velocity = np.diff(track.channels["gaze_yaw"])
    smooth = np.abs(eye_velocity) < 0.5  # outside saccades the eyes move against the head
    assert np.corrcoef(head_velocity[smooth], eye_velocity[smooth])[0, 1] < -0.5


def test_gaze_control_shifts_the_mean_gaze(speech) -> None:
    base = generate_motion(speech, Controls(seed=5))
    aimed = generate_motion(speech, Controls(seed=5, gaze=(12.0, -6.0)))
    assert abs(aimed.channels["gaze_yaw"].mean() - base.channels["gaze_yaw"].mean() - 12.0) < 0.5
    assert abs(aimed.channels["gaze_pitch"].mean() - base.channels["gaze_pitch"].mean() + 6.0) < 0.5


def test_emotions_shape_face_head_and_follow_a_schedule(tmp_path: Path, speech) -> None:
    happy = generate_motion(speech, Controls(emotion="happy"))
    sad = generate_motion(speech, Controls(emotion="sad"))
    faint = generate_motion(speech, Controls(emotion="happy", intensity=0.3))
    assert happy.channels["smile"].min() > 0.5 and sad.channels["smile"].max() < -0.5
    assert 0.0 < faint.channels["smile"].mean() < 0.5 * happy.channels["smile"].mean()
    assert happy.channels["cheek_raise"].mean() > 0.3
    assert sad.channels["head_pitch"].mean() > happy.channels["head_pitch"].mean() + 3.0
    assert np.abs(np.diff(sad.channels["head_yaw"])).mean() < np.abs(np.diff(happy.channels["head_yaw"])).mean()
    schedule = tmp_path / "schedule.json"
    schedule.write_text(json.dumps([{"time": 1.0, "emotion": "happy"}, {"time": 3.0, "emotion": "sad"}]))
    mixed = generate_motion(speech, Controls(emotion_schedule=str(schedule)))
    smile = mixed.channels["smile"]
    assert abs(smile[:10]).max() < 0.05 and smile[60] > 0.5 and smile[-5] < -0.5
    assert np.abs(np.diff(smile)).max() < 0.2  # cross-faded, no snap


@pytest.mark.parametrize("entries, message", [
    ('[{"time": 1}]', "needs"),
    ('[{"time": 1, "emotion": "bored"}]', "unknown emotion 'bored'"),
    ('[{"time": -1, "emotion": "sad"}]', '"time" must be'),
    ('{"time": 1}', "must be a JSON list"),
    ("not json", "cannot read emotion schedule"),
])
def test_bad_emotion_schedule_is_refused(tmp_path: Path, speech, entries: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(entries)
    with pytest.raises(TalkingHeadError, match=message):
        generate_motion(speech, Controls(emotion_schedule=str(path)))


def test_brows_rise_on_emphasis(speech, prosody: Prosody) -> None:
    brows = generate_motion(speech, Controls(seed=1)).channels["brow_raise"]
    talking = speaking_frames(prosody, len(brows))
    assert brows[talking].max() > 0.15
    assert brows[-int(1.2 * FPS):].max() < 0.05


def test_same_seed_gives_byte_identical_track_file(tmp_path: Path, speech) -> None:
    for name in ("a.json", "b.json"):
        plan_motion(speech, Controls(seed=11, emotion="angry", motion_out=str(tmp_path / name)))
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_motion_in_renders_a_written_or_hand_made_track(tmp_path: Path, speech) -> None:
    written = tmp_path / "track.json"
    original = plan_motion(speech, Controls(seed=3, motion_out=str(written)))
    replayed = plan_motion(speech, Controls(motion_in=str(written)))
    for name, values in original.channels.items():
        np.testing.assert_allclose(replayed.channels[name], values, atol=1e-5)
    n = original.n_frames
    hand_made = tmp_path / "hand.json"
    hand_made.write_text(json.dumps({"fps": 25, "channels": {"head_yaw": [5.0] * (n - 1)}}))
    track = plan_motion(speech, Controls(motion_in=str(hand_made)))
    assert track.n_frames == n and np.all(track.channels["head_yaw"] == 5.0)
    assert not track.channels["jaw_open"].any()


@pytest.mark.parametrize("content, message", [
    ({"fps": 30, "channels": {"head_yaw": [0.0]}}, "render with --fps 30"),
    ({"fps": 25, "channels": {"head_yaw": [0.0] * 3}}, "the audio needs"),
    ({"fps": 25, "channels": {"head_wobble": [0.0]}}, "unknown motion channel"),
    ({"channels": {}}, "not a motion track"),
    ({"fps": 25, "channels": {"head_yaw": [[0.0, 1.0]]}}, "flat list"),
])
def test_bad_motion_in_is_refused(tmp_path: Path, speech, content: dict, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(content))
    with pytest.raises(TalkingHeadError, match=message):
        plan_motion(speech, Controls(motion_in=str(path)))


def test_motion_controls_are_validated() -> None:
    assert Controls(gaze="10,-5").gaze == (10.0, -5.0)
    assert Controls(gaze=[3, 4]).gaze == (3.0, 4.0)
    for bad, message in ((dict(gaze="x"), "YAW,PITCH"), (dict(gaze=(40, 0)), "within"),
                         (dict(emotion="bored"), "--emotion must be one of"), (dict(intensity=3), "--intensity")):
        with pytest.raises(TalkingHeadError, match=message):
            Controls(**bad)


@pytest.mark.slow
def test_cli_motion_flags(tmp_path: Path, portrait: Path, speech_wav: Path) -> None:
    track_path = tmp_path / "track.json"
    done = cli("render", portrait, speech_wav, "-o", tmp_path / "a.mp4", "--size", "128", "--gaze", "8,-3",
               "--emotion", "happy", "--intensity", "0.5", "--motion-out", track_path, "-q")
    assert done.returncode == 0, done.stderr
    track = MotionTrack.load(track_path)
    assert 0.3 < track.channels["smile"].mean() < 0.6
    done = cli("render", portrait, speech_wav, "-o", tmp_path / "b.mp4", "--size", "128", "--motion-in", track_path,
               "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "b.mp4").stat().st_size > 0
    bad = cli("render", portrait, speech_wav, "-o", tmp_path / "c.mp4", "--gaze", "left")
    assert bad.returncode == 2 and "--gaze must be YAW,PITCH" in bad.stderr
