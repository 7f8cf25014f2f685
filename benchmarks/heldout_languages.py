"""Speech in languages the viseme model never heard in training, to check lips beyond English.

Usage: python benchmarks/heldout_languages.py OUT_DIR  then  python benchmarks/lipsync.py OUT_DIR --modes model

Writes ``syn-LANG-N.wav`` + ``.json`` (espeak-ng phoneme events, the format of ``../shared/data/dev/speech``)
for Spanish, Italian, German, Russian, Hindi, Mandarin (pinyin) and Japanese: all held out of
``scripts/train_visemes.py``. The sentences were written for this benchmark.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wav_files import write_timed_clip

from talkinghead.audio.tts import synthesize

CLIPS = {
    "es": ("Mi madre prepara una sopa de pescado muy buena.", "Vamos a la playa mañana por la mañana.",
           "El perro bebe agua fresca bajo el puente."),
    "it": ("Buongiorno, vorrei un caffè e una brioche per favore.", "Il bambino mangia la mela sotto il ponte.",
           "Domani mattina andiamo al mare con mio padre."),
    "de": ("Der Bäcker backt frisches Brot für die ganze Familie.", "Morgen fahren wir mit dem Bus nach München.",
           "Meine Mutter trinkt gern warmen Tee mit Milch."),
    "ru": ("Мама мыла раму, а папа пил чай.", "Завтра мы поедем в Москву на поезде.",
           "Мой брат купил большую белую машину."),
    "hi": ("मेरा नाम राम है और मैं भारत से हूँ।", "कल हम बाज़ार में फल खरीदने जाएंगे।",
           "मेरी माँ बहुत अच्छा खाना बनाती है।"),
    "cmn-latn-pinyin": ("wo3 men2 ming2 tian1 qu4 bei3 jing1 kan4 peng2 you3.", "ma1 ma zai4 jia1 li3 zuo4 fan4.",
                        "ba4 ba mai3 le yi1 ben3 hen3 hou4 de shu1."),
    "ja": ("わたしは まいあさ パンを たべます。", "あしたは うみへ いきましょう。",
           "ははは まいにち ほんを よみます。"),
}
VARIANTS = ("", "+f3", "+m1")  # voice variants; the base voices and these variants are all held out
RATES = (150, 165, 140)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    folder = parser.parse_args().out
    folder.mkdir(parents=True, exist_ok=True)
    for language, sentences in CLIPS.items():
        for index, text in enumerate(sentences):
            voice, rate = language + VARIANTS[index], RATES[index]
            made = synthesize(text, voice, rate)
            stem = folder / f"syn-{language.split('-')[0]}-{index + 1}"
            write_timed_clip(stem, made, text, voice, rate)


if __name__ == "__main__":
    main()
