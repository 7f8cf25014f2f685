"""Lip-sync benchmark: viseme cues against exact phone timings, with and without a transcript.

Usage: python benchmarks/lipsync.py [SPEECH_DIR] [--json OUT.json] [--text-input] [--cues DIR] [--modes M,M]

SPEECH_DIR (default ../shared/data/dev/speech) holds synthetic ``syn-*.wav`` with espeak-ng phone timings in
``syn-*.json`` and real ``*.wav`` with ``.txt`` transcripts and PocketSphinx ``.phone.json`` alignments.
Scores, per clip and mean, over 6 coarse mouth classes (sil, closed p/b/m, labiodental f/v, rounded, open,
other) on 10 ms frames, ignoring frames within 20 ms of a ground-truth boundary:
- balanced accuracy: mean recall over the speech classes present;
- bilabial closure: share of p/b/m segments with a predicted "closed" frame within +/-40 ms.
Modes (column letter): T with the transcript (forced alignment); A audio only, the product's route (Whisper's
words aligned, phone recognition where it fails); P phone recognition alone (PocketSphinx allphone), to
show what the words add; M the project's viseme model (`audio.viseme_model`) over the whole recording, as a
render in another language hears it; S streaming, the same model fed 20 ms chunks as the live mode feeds it
(any language, no words); C the acoustic mouth (loudness, spectral rounding, closures in
short dips: what live and other languages had before the model); E the energy-only baseline (the loudness
mouth model). ``--modes`` picks the columns (default all; ``model,streaming,acoustic`` for other languages).
``--text-input`` also scores speech made from each synthetic clip's text by `talkinghead.audio.tts` against its
own phone events. Speed is compute seconds per second of audio (provisional on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from talkinghead.audio import Speech, load_speech
from talkinghead.audio.align import align_phones
from talkinghead.audio.phonemes import SILENCE, arpabet
from talkinghead.audio.phonetics import find_phones
from talkinghead.audio.recognize import recognize_phones
from talkinghead.audio.sphinx import align_decoder, phone_decoder
from talkinghead.audio.transcribe import recogniser
from talkinghead.audio.viseme_model import model_phones, streamed_phones
from talkinghead.exports import ExportSource, export_text
from talkinghead.motion.mouth import acoustic_channels, loudness_cues
from talkinghead.motion.visemes import Cue, cues

MODES = ("transcript", "audio_only", "phones_only", "model", "streaming", "acoustic")
LETTER = {"transcript": "T", "audio_only": "A", "phones_only": "P", "model": "M", "streaming": "S", "acoustic": "C",
          "energy_baseline": "E"}
CLASSES = ("sil", "closed", "labio", "rounded", "open", "other")
STEP = 0.01
EDGE_FRAMES = 2
CLASS_OF_ARPABET = {
    **dict.fromkeys(("P", "B", "M"), "closed"), **dict.fromkeys(("F", "V"), "labio"),
    **dict.fromkeys(("UW", "UH", "OW", "AO", "OY", "W", "R", "ER"), "rounded"),
    **dict.fromkeys(("AA", "AE", "AH", "AW", "AY", "EH"), "open"), SILENCE: "sil",
}
CLASS_OF_VISEME = {"sil": "sil", "PP": "closed", "FF": "labio", "RR": "rounded", "O": "rounded", "U": "rounded",
                   "aa": "open", "E": "open"}


def espeak_class(name: str) -> str:
    """Coarse class of an espeak-ng phoneme, by its own spelling (independent of our ARPAbet mapping)."""
    name = name.strip().replace("'", "").replace(",", "")
    if not name or name.startswith("_") or name == ";":
        return "sil"
    if name[0] in "pbm":  # p, b, m and their aspirated, long or breathy forms in other languages
        return "closed"
    if name[0] in "fv":
        return "labio"
    if name[0] in "wrOUuoyY29" or name in ("3", "3:", "oU", "o@", "O@", "U@", "@r", "3r"):  # o, y, 2, 9: rounded
        return "rounded"
    if name[0] in "aAEV@" or name == "e@":
        return "open"
    return "other"


def truth(path: Path) -> tuple[list[tuple[float, float, str]], float]:
    """Ground-truth (start, end, class) segments and duration from either kind of ground-truth file."""
    data = json.loads(path.read_text())
    if "phones" in data:
        return [(p["start_s"], p["end_s"], espeak_class(p["phone"])) for p in data["phones"]], data["duration_s"]
    segments = []
    for word in data["w"]:
        for phone in word.get("w", [word]):
            label = arpabet(phone["t"])
            segments.append((phone["b"], phone["b"] + phone["d"], CLASS_OF_ARPABET.get(label, "other")))
    return segments, data["b"] + data["d"]


def frames(segments: list[tuple[float, float, str]], duration: float) -> np.ndarray:
    out = np.zeros(round(duration / STEP), int)
    for start, end, cls in segments:
        out[max(round(start / STEP), 0):max(round(end / STEP), 0)] = CLASSES.index(cls)
    return out


def score(true_segments: list[tuple[float, float, str]], duration: float, predicted: list[Cue]) -> dict:
    """Balanced accuracy and bilabial closure of ``predicted`` cues (see the module docstring)."""
    expected = frames(true_segments, duration)
    got = frames([(c.start, c.end, CLASS_OF_VISEME.get(c.viseme, "other")) for c in predicted], duration)
    scored = expected.copy()
    for boundary in np.flatnonzero(np.diff(expected)) + 1:
        scored[max(boundary - EDGE_FRAMES, 0):boundary + EDGE_FRAMES] = -1
    recalls = [float(np.mean(got[scored == k] == k)) for k in range(1, len(CLASSES)) if np.any(scored == k)]
    closures = [(s, e) for s, e, cls in true_segments if cls == "closed"]
    hits = [np.any(got[max(int((s - 0.04) / STEP), 0):int((e + 0.04) / STEP) + 1] == 1) for s, e in closures]
    return {"balanced_accuracy": float(np.mean(recalls)) if recalls else float("nan"),
            "bilabial_closure": float(np.mean(hits)) if hits else float("nan"), "n_bilabial": len(hits)}


def clips(folder: Path) -> list[tuple[Path, Path, str]]:
    """(wav, ground truth, transcript) for every scorable clip."""
    found = []
    for wav in sorted(folder.glob("*.wav")):
        synthetic, aligned = wav.with_suffix(".json"), wav.with_suffix(".phone.json")
        if synthetic.exists():
            found.append((wav, synthetic, json.loads(synthetic.read_text())["text"]))
        elif aligned.exists() and wav.with_suffix(".txt").exists():
            found.append((wav, aligned, wav.with_suffix(".txt").read_text()))
    return found


def acoustic_cues(speech: Speech) -> list[Cue]:
    """The acoustic mouth's channels read back as cues at 100 Hz: closed lips -> PP, rounded -> U,
    open jaw -> aa, quiet -> sil, else DD (the classes the score uses)."""
    n = round(speech.duration * speech.feature_rate)
    channels = acoustic_channels(speech, speech.feature_rate, n)
    active = np.interp(np.arange(n), np.arange(speech.activity.size), speech.activity) > 0.12
    labels = np.where(~active, "sil", np.where(channels["lips_open"] <= 0.0, "PP", np.where(
        channels.get("lip_pucker", np.zeros(n)) > 0.4, "U", np.where(channels["jaw_open"] > 0.3, "aa", "DD"))))
    out: list[Cue] = []
    for k, label in enumerate(labels):
        if out and out[-1].viseme == label:
            out[-1] = Cue(out[-1].start, (k + 1) / speech.feature_rate, str(label))
        else:
            out.append(Cue(k / speech.feature_rate, (k + 1) / speech.feature_rate, str(label)))
    return out


def run_clip(wav: Path, gt: Path, transcript: str, cues_dir: Path | None = None,
             modes: tuple[str, ...] = MODES) -> dict:
    speech = load_speech(wav)
    segments, duration = truth(gt)
    row: dict = {"clip": wav.stem, "seconds": round(speech.duration, 2)}
    for mode in modes:
        started = time.process_time()
        if mode == "transcript":
            phones = align_phones(speech.samples, speech.activity, speech.feature_rate, transcript)
        elif mode == "audio_only":
            speech.phones = None
            phones = find_phones(speech)
        elif mode == "phones_only":
            phones = recognize_phones(speech.samples, speech.activity, speech.feature_rate)
        elif mode == "model":
            speech.phones = None
            phones = model_phones(speech)
        elif mode == "streaming":
            phones = streamed_phones(speech.samples)
        track = acoustic_cues(speech) if mode == "acoustic" else cues(phones)
        row[f"{mode}_cpu_per_s"] = (time.process_time() - started) / speech.duration
        row[mode] = score(segments, duration, track)
        if cues_dir:
            (cues_dir / f"{wav.stem}.{mode}.json").write_text(export_text("json", ExportSource(duration, track)))
    row["energy_baseline"] = score(segments, duration, loudness_cues(speech))
    return row


def text_input_rows(folder: Path) -> list[dict]:
    from talkinghead.audio.tts import synthesize

    rows = []
    for _, gt, _ in clips(folder):
        data = json.loads(gt.read_text())
        if "phones" not in data:
            continue
        made = synthesize(data["text"], data.get("voice", "en-us"), data.get("rate", 160))
        events = [(start, end, espeak_class(name)) for name, start, end in made.events]
        rows.append({"clip": gt.stem + "-text", **score(events, made.samples.size / made.rate, cues(made.phones))})
    return rows


def groups(rows: list[dict]) -> dict[str, list[dict]]:
    """Real and synthetic clips apart, and each language's synthetic clips (``syn-LANG-N``) apart."""
    out: dict[str, list[dict]] = {"synthetic": [r for r in rows if r["clip"].startswith("syn-")],
                                  "real": [r for r in rows if not r["clip"].startswith("syn-")]}
    for row in out["synthetic"]:
        parts = row["clip"].split("-")
        if len(parts) == 3 and parts[1].isalpha():
            out.setdefault(parts[1], []).append(row)
    return {name: members for name, members in out.items() if members}


def mean(rows: list[dict], key: str, metric: str) -> float:
    values = [r[key][metric] if key else r[metric] for r in rows]
    values = [v for v in values if v == v]
    return float(np.mean(values)) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dev" / "speech")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument("--text-input", action="store_true", help="also score speech made by --text")
    parser.add_argument("--cues", type=Path, metavar="DIR",
                        help="write each clip's cues here as CLIP.MODE.json (to cross-check with th_eval.py)")
    parser.add_argument("--modes", default=",".join(MODES),
                        help=f"comma-separated columns to score (default: all of {','.join(MODES)})")
    args = parser.parse_args()
    modes = tuple(m for m in MODES if m in args.modes.split(","))
    if {"transcript", "audio_only", "phones_only"} & set(modes):
        align_decoder(), align_decoder(wide=True), phone_decoder(), recogniser()  # load outside the timings
    if args.cues:
        args.cues.mkdir(parents=True, exist_ok=True)
    found = clips(args.folder)
    if not found:
        parser.error(f"no speech clips with timings in {args.folder}")
    rows = [run_clip(*clip, cues_dir=args.cues, modes=modes) for clip in found]
    keys = (*modes, "energy_baseline")
    print(f"{'clip':22} {'sec':>5}" + "".join(f"  {'bal' + LETTER[k]:>6} {'bil' + LETTER[k]:>6}" for k in keys))
    for r in rows:
        print(f"{r['clip']:22} {r['seconds']:5.1f}" + "".join(
            f"  {r[k]['balanced_accuracy']:6.3f} {r[k]['bilabial_closure']:6.3f}" for k in keys))
    summary = {}
    for group, members in groups(rows).items():
        summary[group] = {f"{key}_{metric}": round(mean(members, key, metric), 3)
                          for key in keys
                          for metric in ("balanced_accuracy", "bilabial_closure")}
        print(f"mean {group:9}", json.dumps(summary[group]))
    seconds = sum(r["seconds"] for r in rows)
    for mode in modes:
        cpu = sum(r[f"{mode}_cpu_per_s"] * r["seconds"] for r in rows)
        summary[f"{mode}_cpu_per_audio_s"] = round(cpu / seconds, 3)
    print("compute per second of audio (provisional):",
          ", ".join(f"{summary[f'{mode}_cpu_per_audio_s']} {mode}" for mode in modes))
    if args.text_input:
        text_rows = text_input_rows(args.folder)
        summary["text_input_balanced_accuracy"] = round(mean(text_rows, "", "balanced_accuracy"), 3)
        summary["text_input_bilabial_closure"] = round(mean(text_rows, "", "bilabial_closure"), 3)
        print("text input:", summary["text_input_balanced_accuracy"], "balanced accuracy,",
              summary["text_input_bilabial_closure"], "bilabial closure")
    if args.json:
        args.json.write_text(json.dumps({"clips": rows, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
