"""Where the mouth's opening loses its correlation with the speech: phones, motion model, or neither.

Usage: python benchmarks/mouth_opening.py [--tools DIR] [--data DIR] [CLIP ...]

Issue 15 asks the rendered mouth opening (dlib's inner-lip gap) to correlate >= 0.7 at lag 0 with the ground
truth's openness envelope (``th_eval.gt_openness`` of the shared tools: 0 for silence and p/b/m, 0.15 f/v,
0.35 other, 0.45 rounded, 0.9 open). The renderer draws the motion track's opening faithfully (dlib's gap
against the drawn opening below: r 0.95-0.99 on seven portraits), so the loss is found without rendering, per
clip, at lag 0 (and at the best lag within +-5 frames):
- ``track``: the opening the rig draws from the track the render uses (`motion.mouth.mouth_channels`):
  the jaw's drop plus the lips' parting and a rounded mouth's arch, the jaw hidden while the lips are sealed;
- ``track_true_phones``: the same motion model fed the ground truth's own phones (what a perfect recogniser
  and aligner would give);
- ``phones_step``: the truth's openness of the recognised phones as a step function, no motion at all (what
  the phones alone allow).
CLIP: a name in DATA/speech (``syn-01``: WAV + espeak-ng JSON; ``librivox-0870``: WAV + ``.phone.json``) or a
path prefix of a WAV and JSON pair made by ``espeak_timed.py``. Tools and data are found as in
``benchmarks/realism.py``; without them the benchmark says so and exits 0.

Measured at lag 0 (track / track_true_phones / phones_step), 2026-12-03, with the lips' 20 ms approach to a closure
(docs/lip-sync.md, "Closures"): syn-01 0.671 / 0.764 / 0.82, syn-02 0.828 / 0.891 / 0.82, librivox-0870 0.67 / 0.771
/ 0.85 (the 40 ms approach before: 0.665 / 0.76, 0.822 / 0.873, 0.665 / 0.77; greedy decoding before the beam: 0.63,
0.87 and 0.67 on the track). On syn-01 Whisper hears "The bigger big tobacco bickled peppers", on syn-02 "Well" for
"Wow": the phones cost most there. On the LibriVox reading the phones are right (balanced accuracy 0.96) and the
motion costs it: the step of the right openness per phone correlates 0.85, the track 0.67. Two things make that gap.
The articulators' dynamics and coarticulation carry each short consonant halfway to the vowels around it (on the
LibriVox pair the track without either reaches 0.78; faster articulators gain 0.02-0.03, but then a /b/ opens into
its vowel by more than half the clip's wide opening in one frame, which
``test_closures_last_as_long_as_the_phone_and_the_mouth_never_flaps`` forbids). And the opening each viseme draws:
rounded vowels opened 0.7-0.8 of AA's where the truth puts them at half (now 0.56-0.64: +0.02 on the track). On
espeak-ng speech the truth itself costs much of it: its events put a stop's silent closure in the vowel before it
(the event is the release), and ``coarse_espeak`` files espeak's LOT vowel "0" (stopped, got) as "other", not
"open"; scored against a truth with both fixed, renders of syn-01 correlated 0.78-0.79 instead of 0.65-0.68 on seven
portraits.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from talkinghead.audio import load_speech
from talkinghead.audio.phonemes import Phone, arpabet, espeak_to_arpabet
from talkinghead.audio.phonetics import find_phones
from talkinghead.face.bases import JAW_DROP, LIP_PART_LOWER, LIP_PART_UPPER, LIP_PUCKER, ROUND_PARTING
from talkinghead.motion.mouth import mouth_channels, speech_loudness
from talkinghead.motion.timing import n_frames_for
from talkinghead.motion.visemes import articulation
from talkinghead.render import lip_seal

FPS = 25.0
MAX_LAG = 5


def drawn_opening(channels: dict[str, np.ndarray]) -> np.ndarray:
    """The inner-lip gap the rig draws (face widths) for mouth channels: jaw, lips and rounding's arch, the
    jaw's and the arch's share hidden while the lips are commanded shut (`render.lip_seal`)."""
    sealed = np.array([lip_seal(float(v)) for v in channels["lips_open"]])
    arch = 2 * ROUND_PARTING * LIP_PUCKER * np.clip(channels["lip_pucker"], 0.0, None)
    return (1 - sealed) * (JAW_DROP * channels["jaw_open"] + arch) + (LIP_PART_LOWER + LIP_PART_UPPER) * channels[
        "lips_open"]


def truth_phones(path: Path) -> list[Phone]:
    """The ground truth's phones as ARPAbet: espeak-ng events, or a PocketSphinx alignment's nested words."""
    data = json.loads(path.read_text())
    if "phones" in data:
        return [Phone(espeak_to_arpabet(p["phone"]), p["start_s"], p["end_s"]) for p in data["phones"]]
    out: list[Phone] = []

    def walk(node: dict, depth: int) -> None:
        for item in node.get("w", []):
            if "w" in item and depth == 0:
                walk(item, 1)
            else:
                out.append(Phone(arpabet(item["t"]), item["b"], item["b"] + item["d"]))

    walk(data, 0)
    return out


def correlations(opening: np.ndarray, truth: np.ndarray, th_eval: object) -> tuple[float, float, int]:
    """(at lag 0, best within +-MAX_LAG, that lag), as ``viewer_checks`` measures ``mouth_corr``."""
    n = min(len(opening), len(truth))
    best, lag = th_eval.xcorr_lag(opening[:n], truth[:n], MAX_LAG)
    return round(float(np.corrcoef(opening[:n], truth[:n])[0, 1]), 3), round(float(best), 3), int(lag)


def measure(wav: Path, truth_path: Path, th_eval: object) -> dict[str, object]:
    speech = load_speech(wav)
    n = n_frames_for(speech.duration, FPS)
    truth = th_eval.gt_openness(str(truth_path), FPS)[:n]
    row: dict[str, object] = {"clip": wav.stem}
    row["track"] = correlations(drawn_opening(mouth_channels(speech, FPS, n)), truth, th_eval)
    true_channels = articulation(truth_phones(truth_path), FPS, n, speech_loudness(speech), speech.feature_rate)
    row["track_true_phones"] = correlations(drawn_opening(true_channels), truth, th_eval)
    phones = find_phones(speech) or []
    times = (np.arange(n) + 0.5) / FPS
    step = np.zeros(n)
    for phone in phones:
        step[(times >= phone.start) & (times < phone.end)] = th_eval.OPENNESS[th_eval.coarse_arpabet(phone.label)]
    row["phones_step"] = correlations(step, truth, th_eval)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parents[2]
    parser.add_argument("--tools", type=Path, default=Path(os.environ.get("TALKINGHEAD_TOOLS", root / "shared/tools")))
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TALKINGHEAD_DATA", root / "shared/data/dev")))
    parser.add_argument("clips", nargs="*", default=["syn-01", "syn-02", "librivox-0870"])
    args = parser.parse_args()
    if not (args.tools / "th_eval.py").exists():
        print(f"mouth_opening: shared tools ({args.tools}) not found; nothing measured")
        return
    sys.path.insert(0, str(args.tools))
    import th_eval

    for clip in args.clips:
        named = args.data / "speech" / clip
        prefix = named if named.with_suffix(".wav").exists() else Path(clip)
        truth = next((p for p in (prefix.with_suffix(".json"), Path(f"{prefix}.phone.json")) if p.exists()), None)
        if truth is None or not prefix.with_suffix(".wav").exists():
            print(json.dumps({"clip": clip, "error": "no WAV with a JSON of its phones"}))
            continue
        print(json.dumps(measure(prefix.with_suffix(".wav"), truth, th_eval)), flush=True)


if __name__ == "__main__":
    main()
