"""Phones without a transcript: PocketSphinx ``allphone`` recognition checked against the acoustics.

Recognition errors should degrade gracefully: a wrong vowel still opens the mouth, but a phone "heard" in a
quiet stretch would make the mouth move in a pause. So the recording's own speech activity decides where
there is silence, and recognised phones only label the speech between.
"""

from __future__ import annotations

import numpy as np

from talkinghead.audio.decode import ANALYSIS_RATE
from talkinghead.audio.phonemes import SILENCE, Phone, contiguous
from talkinghead.audio.sphinx import decode, padded_pcm, phone_decoder, unpad

QUIET = 0.12
MIN_PAUSE_S = 0.25


def recognize_phones(samples: np.ndarray, activity: np.ndarray, feature_rate: int) -> list[Phone]:
    """Timed ARPAbet phones for 16 kHz ``samples``, contiguous over the whole recording."""
    duration = samples.size / ANALYSIS_RATE
    decoder = phone_decoder()
    decode(decoder, padded_pcm(samples))
    heard = [unpad(seg.word, seg.start_frame, seg.end_frame - seg.start_frame + 1) for seg in decoder.seg()]
    return contiguous(_silence_where_quiet(heard, activity, feature_rate), duration)


def quiet_spans(activity: np.ndarray, feature_rate: int) -> list[tuple[float, float]]:
    """(start, end) seconds of the pauses: activity under `QUIET` for at least `MIN_PAUSE_S`."""
    quiet = np.concatenate([[False], activity < QUIET, [False]])
    edges = np.flatnonzero(np.diff(quiet.astype(np.int8)))
    spans = [(a / feature_rate, b / feature_rate) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [(a, b) for a, b in spans if b - a >= MIN_PAUSE_S]


def _silence_where_quiet(phones: list[Phone], activity: np.ndarray, feature_rate: int) -> list[Phone]:
    """Cut the pauses out of recognised phones and fill them with silence."""
    out: list[Phone] = []
    pauses = quiet_spans(activity, feature_rate)
    for phone in phones:
        pieces = [(phone.start, phone.end)]
        for a, b in pauses:
            pieces = [part for s, e in pieces for part in ((s, min(e, a)), (max(s, b), e)) if part[1] - part[0] > 0.015]
        out.extend(Phone(phone.label, s, e) for s, e in pieces)
    out.extend(Phone(SILENCE, a, b) for a, b in pauses)
    return out
