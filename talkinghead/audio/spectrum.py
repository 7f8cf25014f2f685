"""Spectral shape at 100 Hz, for a mouth estimate that needs no language model.

Rounded lips lengthen the vocal tract and lower the formants: a rounded vowel (oo, oh, w) has its first two
formants below 1500 Hz and little energy above, so both the 200-600 Hz and the 600-1500 Hz bands stand well
above the 1500-3500 Hz band. A spread vowel (ee) has a valley at 600-1500 Hz and strong energy above 1500
Hz; an open vowel (ah) is weaker below 600 Hz. The weaker of the two low bands over the high band is
therefore a rounding cue that works in any language.
"""

from __future__ import annotations

import numpy as np

from talkinghead.audio.features import FEATURE_RATE

LOW_HZ, MID_HZ, HIGH_HZ, TOP_HZ = 200.0, 600.0, 1500.0, 3500.0


def rounding_cue(samples: np.ndarray, rate: int) -> np.ndarray:
    """dB of the weaker of the 200-600 Hz and 600-1500 Hz bands over the 1500-3500 Hz band, per 10 ms frame."""
    hop = rate // FEATURE_RATE
    win = 512 if rate >= 16000 else 256
    n_frames = max(1, int(np.ceil(samples.size / hop)))
    padded = np.pad(samples.astype(np.float32), (win // 2, win + n_frames * hop - samples.size))
    windows = np.lib.stride_tricks.sliding_window_view(padded, win)[::hop][:n_frames] * np.hanning(win)
    power = np.abs(np.fft.rfft(windows, axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / rate)

    def band_db(lo: float, hi: float) -> np.ndarray:
        return 10.0 * np.log10(power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) + 1e-10)

    low, mid, high = band_db(LOW_HZ, MID_HZ), band_db(MID_HZ, HIGH_HZ), band_db(HIGH_HZ, TOP_HZ)
    return (np.minimum(low, mid) - high).astype(np.float32)
