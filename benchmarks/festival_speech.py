"""Speech from a synthesiser the project never trains or tunes on: festival, with its own phone timings.

    apt-get install festival festvox-kallpc16k festvox-us-slt-hts
    .venv/bin/python benchmarks/festival_speech.py OUT_DIR
    .venv/bin/python benchmarks/lipsync.py OUT_DIR --modes audio_only

Writes ``fest-VOICE-NN.wav`` with ``.phone.json`` + ``.txt`` (the layout of the dev LibriVox clips, so
`lipsync.py` scores them against ARPAbet truth): the held-out and validation sentences of `heldout_speech.py`
in a diphone voice (kal) and an HTS voice (slt). The truth is festival's own segment end times.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from heldout_speech import CLIPS, VALIDATION

VOICES = {"kal": "voice_kal_diphone", "slt": "voice_cmu_us_slt_arctic_hts"}


def speak(text: str, voice: str, stem: Path) -> list[dict]:
    """Festival says ``text`` into ``stem``.wav; its phones as LibriVox-style segments (b, d, t)."""
    segments_file = stem.with_suffix(".segs")
    script = (f'({voice})\n(set! utt (Utterance Text "{text.replace(chr(34), "")}"))\n(utt.synth utt)\n'
              f'(utt.save.wave utt "{stem.with_suffix(".wav")}" \'riff)\n(utt.save.segs utt "{segments_file}")\n')
    with tempfile.NamedTemporaryFile("w", suffix=".scm") as scheme:
        scheme.write(script)
        scheme.flush()
        subprocess.run(["festival", "-b", scheme.name], check=True, capture_output=True)
    segments, start = [], 0.0
    for line in segments_file.read_text().split("#", 1)[1].split("\n"):
        if line.strip():
            end, _, phone = line.split()
            segments.append({"b": start, "d": float(end) - start, "t": "SIL" if phone == "pau" else phone.upper()})
            start = float(end)
    segments_file.unlink()
    return segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    for name, voice in VOICES.items():
        for index, (_, _, text) in enumerate(CLIPS + VALIDATION, 1):
            stem = folder / f"fest-{name}-{index:02d}"
            segments = speak(text, voice, stem)
            end = segments[-1]["b"] + segments[-1]["d"]
            words = [{**segment, "w": [segment]} for segment in segments]
            stem.with_suffix(".phone.json").write_text(json.dumps({"b": 0.0, "d": end, "t": text, "w": words}))
            stem.with_suffix(".txt").write_text(text)
            print(f"{stem.name}: {end:.1f} s")


if __name__ == "__main__":
    main()
