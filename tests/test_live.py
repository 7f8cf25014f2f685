"""LiveSession: frames at the video rate with a bounded look-ahead, continuous, seeded, alive when idle."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from talkinghead.controls import Controls
from talkinghead.live import LiveSession
from talkinghead.motion.track import HEAD_CHANNELS

from .media import read_mono, write_audio


@pytest.fixture(scope="module")
def speech_clip(speech_wav):
    samples, rate = read_mono(speech_wav)
    assert rate == 22050  # espeak-ng's own rate: the session resamples for analysis
    return samples[: rate * 3], rate


def run(rig, samples: np.ndarray, rate: int, chunk_s: float = 0.04, **controls) -> list[np.ndarray]:
    session = LiveSession(rig=rig, controls=Controls(size=256, **controls), sample_rate=rate)
    step = round(chunk_s * rate)
    images = [f.image for start in range(0, len(samples), step) for f in session.feed(samples[start : start + step])]
    return images + [f.image for f in session.finish()]


def test_frames_follow_the_audio_with_bounded_lookahead(rig_256, speech_clip) -> None:
    samples, rate = speech_clip
    session = LiveSession(rig=rig_256, controls=Controls(size=256), sample_rate=rate, lookahead=0.08)
    made = []
    for start in range(0, rate, rate // 50):  # 20 ms chunks for one second
        made += session.feed(samples[start : start + rate // 50])
        ready = int((session.received_seconds - 0.08) * 25 + 0.5 + 1e-9)  # frames whose middle is 80 ms old
        assert len(made) == max(0, ready)  # each frame as soon as its look-ahead has arrived, never later
    assert [f.index for f in made] == list(range(len(made)))
    assert [f.time for f in made] == [i / 25 for i in range(len(made))]
    rest = session.finish()
    assert len(made) + len(rest) == 25 and made[0].image.shape == (256, 256, 3)


def test_same_audio_and_seed_give_the_same_frames(rig_256, speech_clip) -> None:
    samples, rate = speech_clip
    first, again = run(rig_256, samples, rate, seed=5), run(rig_256, samples, rate, seed=5)
    assert len(first) == 75 and all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    other = run(rig_256, samples, rate, seed=6)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_the_mouth_moves_with_speech_and_rests_in_silence(rig_256, speech_clip) -> None:
    samples, rate = speech_clip
    session = LiveSession(rig=rig_256, controls=Controls(size=256, motion_scale=0.0), sample_rate=rate)
    jaw = []
    for audio in (np.zeros(rate, np.float32), samples[: 2 * rate]):
        session.feed(audio)
        made = session.frames_made  # the channels of the last second of frames drawn
        jaw.append(session._motion(made - 25, made)["jaw_open"])
    session.close()
    assert float(np.max(jaw[0])) < 0.05 and float(np.max(jaw[1])) > 0.2


def test_head_and_blinks_are_continuous_and_alive_when_idle(rig_256) -> None:
    session = LiveSession(rig=rig_256, controls=Controls(size=256, seed=2), sample_rate=16000)
    frames = session.idle(8.0)  # no speech at all
    assert len(frames) == 199  # every frame whose middle is 60 ms (the look-ahead) before the 8 s
    steady = session._steady_values(0, 2000)  # 80 s: crosses two 30 s block boundaries
    session.close()
    for name in HEAD_CHANNELS[:3]:
        assert np.abs(np.diff(steady[name])).max() < 0.6  # degrees per frame: no jump at block joins
        assert steady[name].std() > 0.2  # and the head does move
    assert steady["blink_left"].max() > 0.9  # blinks happen
    steps = [np.abs(a.image.astype(int) - b.image).mean() for a, b in itertools.pairwise(frames)]
    assert max(steps) < 5.0  # smooth: no frame jumps
    assert max(np.abs(f.image.astype(int) - frames[0].image).mean() for f in frames) > 1.5  # alive, not a still


def test_bad_audio_is_refused(rig_256) -> None:
    from talkinghead.errors import TalkingHeadError

    session = LiveSession(rig=rig_256, controls=Controls(size=256), sample_rate=16000)
    with pytest.raises(TalkingHeadError, match="NaN"):
        session.feed(np.array([0.0, np.nan], np.float32))
    session.close()
    with pytest.raises(TalkingHeadError, match="sample rate"):
        LiveSession(rig=rig_256, sample_rate=300)


def test_window_speech_matches_the_file_path(speech_clip, tmp_path) -> None:
    """In-memory analysis of a window gives what `load_speech` gives for the same audio as a file."""
    from talkinghead.audio import load_speech, speech_from_audio

    samples, rate = speech_clip
    fast, slow = speech_from_audio(samples, rate), load_speech(write_audio(tmp_path / "window.wav", samples, rate))
    assert fast.rate == slow.rate and abs(len(fast.energy_db) - len(slow.energy_db)) <= 1
    n = min(len(fast.energy_db), len(slow.energy_db))
    assert np.abs(fast.energy_db[:n] - slow.energy_db[:n]).mean() < 1.0  # dB
    assert np.abs(fast.activity[:n] - slow.activity[:n]).mean() < 0.05


def test_a_full_collection_mid_stream_skips_the_session(rig_256) -> None:
    """A full garbage collection scanning the rig, renderer and libraries takes ~90 ms (a late frame at 25 fps);
    while a session streams they are frozen out of the collector's sight, and given back when it closes."""
    import gc

    from talkinghead import live

    with LiveSession(rig=rig_256, controls=Controls(size=256), sample_rate=16000) as session:
        open_now = live._open_sessions
        assert gc.get_freeze_count() > 50_000
        session.idle(1.0)
        assert len(gc.get_objects()) < 20_000  # what a full collection still scans: what the stream made
    assert live._open_sessions == open_now - 1


def test_blas_runs_on_one_thread_while_a_session_streams_and_is_given_back(rig_256) -> None:
    """Idle BLAS threads spin and took a core from the renderer (live CPU 1.48 -> 0.49 cores); a session holds
    numpy's BLAS to one thread and gives the program its own setting back when the last session closes."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> dict[str, int]:
        return {pool["filepath"]: pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        assert 2 in before.values()
        with LiveSession(rig=rig_256, controls=Controls(size=256), sample_rate=16000) as session:
            session.idle(0.2)
            assert set(blas_threads().values()) == {1}
        after = blas_threads()
        assert {lib: after[lib] for lib in before} == before
