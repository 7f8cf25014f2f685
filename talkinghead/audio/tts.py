"""Speech from text with espeak-ng, and the exact time of every phoneme from the synthesiser itself.

libespeak-ng (Debian's ``libespeak-ng1``) reports a phoneme event at the sample where each phoneme starts;
we collect them through its synthesis callback with ctypes, so text-driven lip sync needs no alignment.
"""

from __future__ import annotations

import _ctypes
import ctypes
import ctypes.util
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from talkinghead.audio import Speech, speech_from_audio
from talkinghead.audio.phonemes import SILENCE, Phone, contiguous, espeak_to_arpabet
from talkinghead.audio.words import Word
from talkinghead.errors import TalkingHeadError

_SYNCHRONOUS, _PHONEME_EVENTS = 2, 1
_EVENT_END, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_RATE, _PITCH = 1, 3
_CHARS_UTF8 = 1
_LOCK = threading.Lock()  # libespeak-ng keeps global state


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """``espeak_EVENT`` from speak_lib.h."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


class _Voice(ctypes.Structure):
    """``espeak_VOICE`` from speak_lib.h (to choose a voice by language code)."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class _ListedVoice(ctypes.Structure):
    """``espeak_VOICE`` as `espeak_ListVoices` returns it: ``languages`` is a run of (priority byte, name,
    NUL) entries ended by a 0 byte, so it is read by address rather than as one C string."""

    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Synthesis:
    """Synthesised speech: mono float32 ``samples`` at ``rate``, its phones (ARPAbet, contiguous) and the
    synthesiser's own phoneme events as (espeak-ng name, start, end) seconds; ``words`` as written in the
    text, each from its word event to the end of its last sound."""

    samples: np.ndarray
    rate: int
    phones: list[Phone]
    events: list[tuple[str, float, float]]
    words: list[Word] = field(default_factory=list)


@lru_cache(maxsize=1)
def _library() -> tuple[Any, int]:
    name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise TalkingHeadError(
            "--text needs espeak-ng: install it (Debian/Ubuntu: sudo apt-get install espeak-ng)") from None
    rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _PHONEME_EVENTS)
    if rate <= 0:
        raise TalkingHeadError("espeak-ng is installed but failed to start (is espeak-ng-data present?)")
    return lib, rate


@lru_cache(maxsize=1)
def _library_file() -> str | None:
    """The file the loaded libespeak-ng came from (from the process's memory map, Linux), or None."""
    _library()
    try:
        with open("/proc/self/maps") as maps:
            paths = {fields[5].strip() for line in maps if len(fields := line.split(maxsplit=5)) == 6}
    except OSError:
        return None
    return next((path for path in sorted(paths) if os.path.basename(path).startswith("libespeak-ng")), None)


@contextmanager
def _speaking_library() -> Iterator[tuple[Any, int]]:
    """A private copy of libespeak-ng for one synthesis, unloaded after it.

    espeak-ng keeps state from one synthesis to the next (its pitch flutter's phase is a function-static
    that only ever advances), so the same text said twice in one process came out different: a few samples
    longer or shorter, every sample changed, and a word a recogniser heard in one copy it missed in the
    other. A copy loaded afresh starts from the same state every time: the same text gives the same sound,
    and so the same video, in a server or a batch worker as in a fresh CLI process. It costs ~10 ms a
    synthesis (and a few kB that the C library does not give back). Where no copy can be loaded (no /proc,
    no writable temporary folder, one mounted noexec), the shared library speaks, as before.
    """
    copy = _fresh_copy()
    if copy is None:
        yield _library()
        return
    lib, rate, folder = copy
    try:
        yield lib, rate
    finally:
        lib.espeak_Terminate()
        _unload(lib)
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_copy() -> tuple[Any, int, str] | None:
    """libespeak-ng loaded from a copy in a private temporary folder and started: (library, sample rate,
    folder), or None where that cannot be done."""
    source = _library_file()
    if source is None:
        return None
    folder = None
    try:
        folder = tempfile.mkdtemp(prefix="talkinghead-espeak-")
        lib = ctypes.CDLL(shutil.copy(source, folder))
    except OSError:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        return None
    rate = lib.espeak_Initialize(_SYNCHRONOUS, 0, None, _PHONEME_EVENTS)
    if rate <= 0:
        _unload(lib)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return lib, rate, folder


def _unload(lib: Any) -> None:
    if hasattr(_ctypes, "dlclose"):  # POSIX
        _ctypes.dlclose(lib._handle)


@dataclass(frozen=True)
class VoiceNames:
    """What espeak-ng itself lists: each voice's spellings (lower case) -> its file identifier, and each
    variant's spellings (lower case) -> its file name (the part after ``+``)."""

    voices: dict[str, str]
    variants: dict[str, str]


@lru_cache(maxsize=1)
def voice_names() -> VoiceNames:
    """The voices and variants of the installed espeak-ng (names, identifiers, file names, languages)."""
    lib, _ = _library()
    voices: dict[str, str] = {}
    for entry in _listed(lib, None):
        identifier = entry.identifier.decode("utf-8", "replace")
        for spelling in (entry.name.decode("utf-8", "replace"), identifier, identifier.rsplit("/", 1)[-1],
                         *_languages(entry)):
            voices.setdefault(spelling.lower(), identifier)
    variants: dict[str, str] = {}
    spec = _Voice(languages=b"variant")
    for entry in _listed(lib, ctypes.byref(spec)):
        file_name = entry.identifier.decode("utf-8", "replace").rsplit("/", 1)[-1]
        variants.setdefault(file_name.lower(), file_name)
    return VoiceNames(voices, variants)


def _listed(lib: Any, spec: Any) -> list[_ListedVoice]:
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_ListedVoice))
    listing = lib.espeak_ListVoices(spec)
    entries = []
    while listing and listing[len(entries)]:
        entries.append(listing[len(entries)].contents)
    return entries


def _languages(entry: _ListedVoice) -> list[str]:
    names, position = [], entry.languages
    while position and ctypes.c_ubyte.from_address(position).value:
        name = ctypes.string_at(position + 1)
        names.append(name.decode("utf-8", "replace"))
        position += len(name) + 2
    return names


def check_voice(voice: str) -> str:
    """``voice`` (``en-us``, ``English (America)``, ``en-gb+f2``) as espeak-ng spells it, or a
    `TalkingHeadError`: only names from espeak-ng's own lists ever reach it (a long or crafted variant name
    overflows a buffer in libespeak-ng, and ``+../x`` makes it open any file)."""
    if not isinstance(voice, str):
        raise TalkingHeadError(f"--voice must be a name, got {type(voice).__name__}")
    name, _, variant = voice.strip().partition("+")
    known = voice_names()
    see = "list voices with `espeak-ng --voices` and variants with `espeak-ng --voices=variant`"
    if name.lower() not in known.voices:
        raise TalkingHeadError(f"unknown espeak-ng voice {voice[:60]!r}: {see}")
    if variant and variant.lower() not in known.variants:
        raise TalkingHeadError(f"unknown espeak-ng voice variant {variant[:60]!r} in --voice: {see}")
    return name + (f"+{known.variants[variant.lower()]}" if variant else "")


def synthesize(text: str, voice: str = "en-us", words_per_minute: int = 160) -> Synthesis:
    """Speak ``text`` with espeak-ng ``voice``; raises TalkingHeadError for empty text or an unknown voice."""
    if not text.strip():
        raise TalkingHeadError("--text is empty: give the words to say")
    voice = check_voice(voice)
    chunks: list[np.ndarray] = []
    events: list[tuple[str, int]] = []
    word_events: list[tuple[int, int, int]] = []  # (character offset, length, sample)

    def collect(wav: Any, n: int, event: Any) -> int:
        if n > 0:
            chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while event[i].type != _EVENT_END:
            if event[i].type == _EVENT_PHONEME:
                events.append((event[i].id.string.decode("utf-8", "replace"), event[i].sample))
            elif event[i].type == _EVENT_WORD:
                word_events.append((event[i].text_position - 1, event[i].length, event[i].sample))
            i += 1
        return 0

    callback = _CALLBACK(collect)
    data = text.encode("utf-8")
    with _LOCK, _speaking_library() as (lib, rate):
        if not _set_voice(lib, voice):
            raise TalkingHeadError(f"unknown espeak-ng voice {voice!r} (list them with `espeak-ng --voices`)")
        lib.espeak_SetParameter(_RATE, int(words_per_minute), 0)
        lib.espeak_SetParameter(_PITCH, 50, 0)
        lib.espeak_SetSynthCallback(callback)
        lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
    samples = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.float32) / 32768.0
    if samples.size == 0:
        raise TalkingHeadError(f"espeak-ng produced no speech for --text {text!r}")
    duration = samples.size / rate
    starts = [sample / rate for _, sample in events] + [duration]
    timed = [(name, starts[k], starts[k + 1]) for k, (name, _) in enumerate(events)]
    phones = contiguous([Phone(espeak_to_arpabet(name), start, end) for name, start, end in timed], duration)
    return Synthesis(samples, rate, phones, timed, _words(text, word_events, rate, phones))


def _words(text: str, events: list[tuple[int, int, int]], rate: int, phones: list[Phone]) -> list[Word]:
    """The written tokens of ``text``, each timed by the word events whose character offset falls in it,
    from its first event to the end of its last sound before the next token starts. (espeak-ng's offsets
    can lag inside numbers and dashes; a token without an event joins the one before it.)"""
    tokens = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", text)]
    starts: dict[int, float] = {}
    for offset, _, sample in events:
        owner = next((k for k, (a, b, _) in enumerate(tokens) if a <= offset < b), None)
        if owner is not None:
            starts.setdefault(owner, sample / rate)
    timed: list[tuple[str, float]] = []
    for k, (_, _, token) in enumerate(tokens):
        if k in starts and (not timed or starts[k] > timed[-1][1]):
            timed.append((token, starts[k]))
        elif timed:
            timed[-1] = (f"{timed[-1][0]} {token}", timed[-1][1])
    words = []
    for k, (token, start) in enumerate(timed):
        limit = timed[k + 1][1] if k + 1 < len(timed) else float("inf")
        sounds = [p for p in phones if p.label != SILENCE and start - 1e-6 <= p.start < limit]
        end = min(sounds[-1].end, limit) if sounds else start
        if end > start:
            words.append(Word(token, start, end))
    return words


def _set_voice(lib: Any, voice: str) -> bool:
    """Choose ``voice`` by name (``en-us``, ``en-us+f2``) or else by language code (``en-gb``)."""
    if lib.espeak_SetVoiceByName(voice.encode("utf-8")) == 0:
        return True
    spec = _Voice(languages=voice.split("+")[0].encode("utf-8"))
    return lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) == 0 and bool(voice.split("+")[0])


def text_speech(text: str, voice: str = "en-us", max_seconds: float = 600.0) -> Speech:
    """`Speech` for ``text`` said by espeak-ng, its phones already known exactly."""
    made = synthesize(text, voice)
    if made.samples.size / made.rate > max_seconds:
        raise TalkingHeadError(f"--text makes {made.samples.size / made.rate:.0f} s of speech, over the limit of "
                               f"{max_seconds:.0f} s (raise it with --max-audio-seconds)")
    speech = speech_from_audio(made.samples, made.rate, transcript=text)
    speech.phones = made.phones
    speech.words = made.words
    return speech
