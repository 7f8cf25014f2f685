"""Synthetic speech the lip sync was never tuned on: new sentences, other voices and rates.

    .venv/bin/python benchmarks/heldout_speech.py OUT_DIR [--validation]
    .venv/bin/python benchmarks/lipsync.py OUT_DIR

Writes ``syn-hNN.wav`` + ``syn-hNN.json`` in the format of ``../shared/data/dev/speech`` (espeak-ng phoneme
events as ground truth), so `lipsync.py` scores them the same way as the dev set. The dev set's six clips
are few and were looked at while building; these twelve are a check that the figures carry over.

``--validation`` writes sixteen other sentences in other voices instead (``syn-vNN``): the set to choose
settings on, so that the twelve stay a check.
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

VALIDATION = [
    ("en-us+m3", 160, "Fresh figs and five loaves of bread were brought to the village fair."),
    ("en-gb-x-gbcwmd", 150, "Very few people ever visit the old fort above the valley."),
    ("en-us-nyc", 170, "The phone rang twice before anyone moved from the sofa."),
    ("en-gb+f4", 155, "My father often mentions the beautiful view from the bridge."),
    ("en-us+klatt", 150, "Put the warm muffins on the blue plate, please."),
    ("en-us+f4", 165, "Forty brave volunteers found the missing boy before dawn."),
    ("en-gb-x-rp+m2", 160, "We watched the waves move over the smooth pebbles for hours."),
    ("en-us+m2", 175, "Bring five of the heavy boxes to the office before Friday."),
    ("en-gb+f2", 145, "Olive loves to paint flowers in vivid purple and pink."),
    ("en-us+m5", 160, "The farmer moved his flock of sheep over the hill at noon."),
    ("en-gb-scotland+m3", 150, "Fifty thousand fans filled the famous stadium for the final."),
    ("en-us+f5", 170, "A brief phone call from Paul saved the whole evening."),
    ("en-029+m1", 155, "Mother baked a big apple pie for the family picnic."),
    ("en-us+croak", 150, "Few of the fishermen believed the weather would move off by morning."),
    ("en-gb-x-gbclan+f1", 160, "Maybe we should buy fewer but better books this time."),
    ("en-us+m6", 165, "The violin player moved from Vienna to Buffalo in February."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--validation", action="store_true", help="write the validation sentences instead")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    chosen, prefix = (VALIDATION, "syn-v") if args.validation else (CLIPS, "syn-h")
    for index, (voice, rate, text) in enumerate(chosen, 1):
        made = synthesize(text, voice, rate)
        write_timed_clip(args.out / f"{prefix}{index:02d}", made, text, voice, rate)


if __name__ == "__main__":
    main()
