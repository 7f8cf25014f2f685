"""PocketSphinx set-up shared by alignment and recognition: one cached decoder per job, 16-bit PCM input.

The English acoustic model, dictionary and phonetic language model ship inside the pocketsphinx wheel, so
nothing is downloaded. Decoders are slow to build (they load the dictionary), so each kind is built once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import numpy as np

from talkinghead.audio.decode import ANALYSIS_RATE
from talkinghead.audio.phonemes import Phone, arpabet

SPHINX_RATE = ANALYSIS_RATE  # the audio stage's one rate
FRAME_S = 0.01  # PocketSphinx frames are 10 ms
PAD_S = 0.25  # quiet padding: the models expect silence before and after an utterance


def available() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


WIDE_BEAM = 1e-80


@lru_cache(maxsize=2)
def align_decoder(wide: bool = False) -> Any:
    """The forced aligner; ``wide`` searches far wider (slower): for voices far from the acoustic model."""
    from pocketsphinx import Decoder

    beams = {"beam": WIDE_BEAM, "wbeam": WIDE_BEAM, "pbeam": WIDE_BEAM} if wide else {}
    return Decoder(samprate=SPHINX_RATE, lm=None, loglevel="FATAL", **beams)


@lru_cache(maxsize=1)
def phone_decoder() -> Any:
    from pocketsphinx import Decoder, get_model_path

    return Decoder(samprate=SPHINX_RATE, allphone=os.path.join(get_model_path(), "en-us-phone.lm.bin"),
                   lw=2.0, pip=0.1, beam=1e-20, pbeam=1e-20, loglevel="FATAL")


def padded_pcm(samples: np.ndarray) -> bytes:
    """16 kHz float samples -> 16-bit PCM, padded with quiet and dithered throughout.

    Digital silence (exact zeros, as synthesisers and some editors write) has no usable spectrum: the
    aligner loses its path there, so faint noise (-80 dBFS) goes over everything.
    """
    pad = np.zeros(round(PAD_S * SPHINX_RATE), np.float32)
    audio = np.concatenate([pad, samples.astype(np.float32), pad])
    audio += np.random.default_rng(0).normal(0.0, 1e-4, audio.size).astype(np.float32)
    return (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16).tobytes()


def decode(decoder: Any, pcm: bytes) -> None:
    """Decode one whole utterance from a fresh front end.

    A decoder's feature state (the cepstral mean, among others) carries over from the utterances before,
    so the same words aligned twice came out up to 10 ms apart: a render would depend on what the process
    had decoded earlier (a batch worker's other jobs, a server's other requests). Resetting it first makes
    every utterance decode the same way.
    """
    decoder.reinit_feat()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def unpad(label: str, start_frame: float, n_frames: float) -> Phone:
    """A Phone in the unpadded audio's seconds from a segment in the padded audio's frames."""
    start = start_frame * FRAME_S - PAD_S
    return Phone(arpabet(label), start, start + n_frames * FRAME_S)
