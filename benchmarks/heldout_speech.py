"""Synthetic speech the lip sync was never tuned on: new sentences, other voices and rates.

    .venv/bin/python benchmarks/heldout_speech.py OUT_DIR
    .venv/bin/python benchmarks/lipsync.py OUT_DIR

Writes ``syn-hNN.wav`` + ``syn-hNN.json`` in the format of ``../shared/data/dev/speech`` (espeak-ng phoneme
events as ground truth), so `lipsync.py` scores them the same way as the dev set. The dev set's six clips
are few and were looked at while building; these twelve are a check that the figures carry over.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wav_files import write_timed_clip

from talkinghead.audio.tts import synthesize

CLIPS = [
    ("en-us", 170, "Please bring me the big blue bag from the bedroom before lunch."),
    ("en-gb", 150, "We will meet by the harbour when the morning fog lifts."),
    ("en-us+f3", 160, "My brother bought a pair of purple boots in Boston."),
    ("en-gb-x-rp", 175, "The museum opens at nine, but the best rooms are upstairs."),
    ("en-us+m1", 145, "Maybe the map is wrong, or maybe we simply took the wrong path."),
    ("en-gb-scotland", 160, "Bob and Pam baked bread every Monday morning."),
    ("en-us+f1", 185, "Remember to switch off the lamp and lock the main door."),
    ("en-029", 155, "Five women moved quietly through the warm wet forest."),
    ("en-us", 140, "People who plan ahead usually sleep better at night."),
    ("en-us+m4", 165, "Bamboo boats bobbed up and down beneath the bridge."),
    ("en-gb-x-gbclan", 170, "Who would have thought the weather would improve so quickly?"),
    ("en-us+f2", 150, "The puppy jumped over the fence and ran to the pond."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    for index, (voice, rate, text) in enumerate(CLIPS, 1):
        made = synthesize(text, voice, rate)
        stem = folder / f"syn-h{index:02d}"
        write_timed_clip(stem, made, text, voice, rate)


if __name__ == "__main__":
    main()
