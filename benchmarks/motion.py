"""Motion statistics on real speech: blinks, head pose, audio-pose alignment, gaze, emotion and framing.

    .venv/bin/python benchmarks/motion.py [--speech DIR] [--seeds 5] [--out benchmarks/out/motion]

For every clip in ``--speech`` (default ../shared/data/dev/speech) and for all of them joined with 0.6 s
pauses (the clips are short; blink rates need more than 20 s), over several seeds:
- blinks: rate per minute, durations (lid more than 5% closed), frames more than half closed per blink;
- head: rotation std per axis (deg) while speaking and in pauses, ΔP (mean frame-to-frame pose change,
  deg, as VASA-1 reports it), Pearson correlation between head angular speed and the speech energy
  envelope (activity smoothed over 0.25 s), share of pause frames with a near-still head (< 3 deg/s);
- determinism (same seed -> byte-identical JSON) and gaze control (mean gaze shift for --gaze 10,-5).
Then renders the bundled portrait with each emotion: a contact sheet PNG, mouth-corner lift and brow
height measured with dlib's 68 landmarks (an independent model), and face size at two head distances.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.ndimage import gaussian_filter1d

from talkinghead import Controls
from talkinghead.assets import DEMO_PORTRAIT
from talkinghead.audio import Speech, load_speech
from talkinghead.audio.prosody import analyse_prosody
from talkinghead.face import build_rig
from talkinghead.motion import MotionTrack, generate_motion
from talkinghead.motion.expression import EMOTIONS
from talkinghead.motion.timing import resample_to_frames
from talkinghead.render import Renderer

ROOT = Path(__file__).resolve().parents[1]
SHARED_SPEECH = ROOT.parent / "shared" / "data" / "dev" / "speech"
ROTATIONS = ("head_yaw", "head_pitch", "head_roll")
STILL_DEG_PER_S = 3.0


def blink_starts(track: MotionTrack) -> np.ndarray:
    lid = track.channels["blink_left"] > 0.05
    return np.flatnonzero(lid & ~np.concatenate([[False], lid[:-1]])) / track.fps


def phrase_end_share(starts: np.ndarray, speech: Speech) -> tuple[float, float]:
    """Share of blinks starting within 1 s after a phrase end, and the share of time those windows cover."""
    ends = analyse_prosody(speech).pause_onsets()
    if not len(starts) or not len(ends):
        return float("nan"), float("nan")
    after = starts[:, None] - ends[None, :]
    near = np.any((after >= -0.1) & (after < 1.0), axis=1)
    grid = np.arange(0, speech.duration, 0.01)
    covered = np.any((grid[:, None] - ends[None, :] >= -0.1) & (grid[:, None] - ends[None, :] < 1.0), axis=1)
    return float(near.mean()), float(covered.mean())


def blink_events(track: MotionTrack) -> list[tuple[float, int]]:
    """(duration in s, frames more than half closed) for every blink in the track."""
    lid = track.channels["blink_left"]
    shut = np.concatenate([[False], lid > 0.05, [False]])
    starts = np.flatnonzero(shut[1:] & ~shut[:-1])
    ends = np.flatnonzero(~shut[1:] & shut[:-1])
    return [((end - start) / track.fps, int(np.sum(lid[start:end] > 0.5))) for start, end in zip(starts, ends,
                                                                                                 strict=True)]


def head_stats(track: MotionTrack, speech: Speech) -> dict[str, float]:
    """Head spread in speech and pauses, ΔP, alignment with the energy envelope, stillness in pauses."""
    n, fps = track.n_frames, track.fps
    prosody = analyse_prosody(speech)
    speaking = resample_to_frames(prosody.speaking.astype(np.float32), prosody.rate, fps, n) > 0.5
    pose = np.stack([track.channels[name] for name in ROTATIONS], axis=1).astype(np.float64)
    speed = np.linalg.norm(np.diff(pose, axis=0), axis=1) * fps
    speed = np.concatenate([[speed[0]], speed])
    envelope = gaussian_filter1d(resample_to_frames(speech.activity, speech.feature_rate, fps, n), 0.25 * fps)
    stats: dict[str, float] = {}
    for i, name in enumerate(ROTATIONS):
        stats[f"{name}_std_speaking"] = float(pose[speaking, i].std())
        stats[f"{name}_std_pause"] = float(pose[~speaking, i].std()) if (~speaking).sum() > 5 else float("nan")
    stats["delta_p_deg"] = float(np.mean(np.abs(np.diff(pose, axis=0)).sum(axis=1)))
    stats["max_step_deg"] = float(np.abs(np.diff(pose, axis=0)).max())
    stats["speed_energy_corr"] = float(np.corrcoef(speed, envelope)[0, 1])
    stats["mean_speed_speaking"] = float(speed[speaking].mean())
    stats["mean_speed_pause"] = float(speed[~speaking].mean()) if (~speaking).any() else float("nan")
    stats["still_share_pause"] = float(np.mean(speed[~speaking] < STILL_DEG_PER_S)) if (~speaking).any() else 1.0
    return stats


def joined_clip(clips: list[Path], folder: Path) -> Path:
    """All clips at 16 kHz, one after the other with 0.6 s of silence between them."""
    parts = []
    for clip in clips:
        speech = load_speech(clip)
        parts += [speech.samples, np.zeros(int(0.6 * speech.rate), np.float32)]
    path = folder / "joined.wav"
    wavfile.write(path, 16000, (np.concatenate(parts) * 32767).astype(np.int16))
    return path


def motion_figures(clips: list[Path], seeds: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for clip in clips:
        speech = load_speech(clip)
        per_seed, blinks, starts = [], [], []
        timing = []
        for seed in range(seeds):
            started = time.perf_counter()
            track = generate_motion(speech, Controls(seed=seed))
            timing.append(time.perf_counter() - started)
            per_seed.append(head_stats(track, speech))
            events = blink_events(track)
            blinks.append(events)
            starts.append(blink_starts(track))
        durations = [d for events in blinks for d, _ in events]
        closed = [c for events in blinks for _, c in events]
        rates = [len(events) / speech.duration * 60 for events in blinks]
        summary = {key: float(np.nanmean([s[key] for s in per_seed])) for key in per_seed[0]}
        summary["speed_energy_corr_min"] = float(min(s["speed_energy_corr"] for s in per_seed))
        for name in ROTATIONS:
            summary[f"{name}_std_speaking_min"] = float(min(s[f"{name}_std_speaking"] for s in per_seed))
            summary[f"{name}_std_speaking_max"] = float(max(s[f"{name}_std_speaking"] for s in per_seed))
        near, chance = phrase_end_share(np.concatenate(starts), speech)
        summary.update(blinks_near_phrase_end=near, phrase_end_window_share=chance)
        summary.update(duration_s=speech.duration, blinks_per_min=rates,
                       blink_ms_min=1000 * min(durations, default=np.nan),
                       blink_ms_max=1000 * max(durations, default=np.nan),
                       blink_ms_mean=1000 * float(np.mean(durations)) if durations else np.nan,
                       min_half_closed_frames=min(closed, default=0), motion_ms=1000 * float(np.median(timing)))
        results[clip.name] = summary
    return results


def determinism_and_gaze(clip: Path, folder: Path) -> dict[str, float | bool]:
    speech = load_speech(clip)
    first, again = folder / "a.json", folder / "b.json"
    generate_motion(speech, Controls(seed=7)).save(first)
    generate_motion(speech, Controls(seed=7)).save(again)
    other = generate_motion(speech, Controls(seed=8))
    base = generate_motion(speech, Controls(seed=7))
    aimed = generate_motion(speech, Controls(seed=7, gaze=(10.0, -5.0)))
    return {
        "same_seed_identical_bytes": first.read_bytes() == again.read_bytes(),
        "other_seed_differs": not np.allclose(other.channels["head_yaw"], base.channels["head_yaw"]),
        "gaze_yaw_shift": float(aimed.channels["gaze_yaw"].mean() - base.channels["gaze_yaw"].mean()),
        "gaze_pitch_shift": float(aimed.channels["gaze_pitch"].mean() - base.channels["gaze_pitch"].mean()),
        "gaze_yaw_mean_abs": float(aimed.channels["gaze_yaw"].mean() + aimed.channels["head_yaw"].mean()),
    }


def face_measures(frame: np.ndarray) -> dict[str, float] | None:
    """Mouth-corner lift and brow height (over the eye-corner distance) and face size from dlib landmarks."""
    from talkinghead.eval.face_metrics import landmarks68

    points = landmarks68(frame)
    if points is None:
        return None
    eye_span = float(np.linalg.norm(points[45] - points[36]))
    lip_centre_y = 0.5 * (points[51, 1] + points[57, 1])
    corners_y = 0.5 * (points[48, 1] + points[54, 1])
    brows_y = points[17:27, 1].mean()
    eyes_y = points[36:48, 1].mean()
    return {"corner_lift": float((lip_centre_y - corners_y) / eye_span),
            "brow_height": float((eyes_y - brows_y) / eye_span),
            "face_size": float(np.linalg.norm(points[16] - points[0]))}


def emotion_sheet(speech_path: Path, out: Path, size: int = 512) -> dict[str, dict[str, float]]:
    """Renders each emotion over the same speech; saves a contact sheet and returns dlib measures."""
    import cv2

    rig = build_rig(DEMO_PORTRAIT, size)
    renderer = Renderer(rig)
    speech = load_speech(speech_path)
    rows, measures = [], {}
    for emotion in EMOTIONS:
        track = generate_motion(speech, Controls(size=size, emotion=emotion, seed=1))
        picks = np.linspace(0.15, 0.85, 4) * track.n_frames
        frames = [_face_crop(renderer.draw(track.frame(int(i)))) for i in picks]
        # the measure: the expression alone on a still, closed-mouth, open-eyed face
        still = {k: float(track.channels[k].mean()) for k in ("smile", "cheek_raise", "brow_raise", "brow_furrow")}
        measures[emotion] = {**(face_measures(renderer.draw(still)) or {}), **still}
        row = np.concatenate(frames, axis=1)
        cv2.putText(row, emotion, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 0), 2)
        cv2.putText(row, f"smile {still['smile']:+.2f} corner lift {measures[emotion].get('corner_lift', 0):.3f}",
                    (6, row.shape[0] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 0), 1)
        rows.append(row)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))
    return measures


def _face_crop(frame: np.ndarray) -> np.ndarray:
    """The middle of the frame, where the face is, so the sheet shows expressions large."""
    size = frame.shape[0]
    import cv2

    crop = frame[int(0.08 * size):int(0.68 * size), int(0.2 * size):int(0.8 * size)]
    return cv2.resize(crop, (240, 240), interpolation=cv2.INTER_AREA)


def framing(size: int = 256) -> dict[str, float]:
    """Face size (dlib jaw width) at head distance 1.5 against 1.0: should be 1/1.5."""
    sizes = {}
    for distance in (1.0, 1.5):
        frame = Renderer(build_rig(DEMO_PORTRAIT, size, distance)).draw({})
        sizes[distance] = (face_measures(frame) or {}).get("face_size", float("nan"))
    return {"face_size_ratio_1.5_vs_1.0": sizes[1.5] / sizes[1.0], "requested": 1 / 1.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speech", type=Path, default=SHARED_SPEECH)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "motion")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    args.out.mkdir(parents=True, exist_ok=True)
    clips = sorted(args.speech.glob("*.wav"))
    with tempfile.TemporaryDirectory() as folder:
        joined = joined_clip(clips, Path(folder))
        report = {
            "clips": motion_figures([*clips, joined], args.seeds),
            "control": determinism_and_gaze(joined, Path(folder)),
            "emotions": emotion_sheet(joined, args.out / "emotions.png"),
            "framing": framing(),
        }
    (args.out / "motion.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
