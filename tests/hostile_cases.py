"""Hostile command lines for the CLI, each run in its own forked process with its peak memory measured.

One driver process imports the CLI once and forks a child per case (so forty cases cost one start-up, not
forty): the child runs ``talkinghead.cli.main`` under a memory ceiling and an alarm, and the parent reads
its exit status, stderr and peak resident memory (``wait4``). Run as a script to print the table:

    .venv/bin/python -m tests.hostile_cases
"""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

CEILING_BYTES = 8 << 30  # address space per case: a runaway case fails instead of taking the machine
ALARM_S = 60             # a case that blocks (a FIFO, an endless device) is killed after this
LONG_VOICE = "en+" + "a" * 40


def png_declaring(width: int, height: int) -> bytes:
    """A small PNG whose header declares ``width`` x ``height`` pixels (an image bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(1 << 20), 9))
            + chunk(b"IEND", b""))


def png_with_bad_rows(side: int = 80) -> bytes:
    """A PNG whose header is sound but whose rows name a filter that does not exist (damaged pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x07" + bytes(3 * side)) * side
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def wav_in_unknown_codec() -> bytes:
    """A WAV whose format tag names a codec no decoder knows."""
    data = bytes(3200)
    fmt = struct.pack("<HHIIHH", 0x7E57, 1, 16000, 32000, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tiny_mp4(path: Path, side: int = 2) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        for index in range(3):
            frame = av.VideoFrame.from_ndarray(np.zeros((side, side, 3), np.uint8), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def one_second_wav(path: Path) -> Path:
    import wave

    tone = (np.sin(np.arange(16000) * 0.05) * 3000).astype("<i2")
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(16000)
        handle.writeframes(tone.tobytes())
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """The hostile files the cases use, written into ``folder``."""
    from talkinghead.assets import DEMO_PORTRAIT

    files = {"portrait": DEMO_PORTRAIT, "speech": one_second_wav(folder / "speech.wav"),
             "tiny_mp4": tiny_mp4(folder / "tiny.mp4")}
    for name, content in {
        "bomb32k.png": png_declaring(32000, 32000),
        "bomb100k.png": png_declaring(100000, 100000),
        "bad_rows.png": png_with_bad_rows(),
        "unknown_codec.wav": wav_in_unknown_codec(),
        "binary.json": bytes(range(256)) * 40,
        "schedule_list_emotion.json": b'[{"time": 0.5, "emotion": ["happy"]}]',
        "schedule_1e30.json": b'[{"time": 0.5, "emotion": "happy", "intensity": 1e30}]',
        "schedule_nan.json": b'[{"time": NaN, "emotion": "happy"}]',
        "track_1e30.json": json.dumps({"fps": 25, "channels": {"head_yaw": [1e30] * 25}}).encode(),
        "track_types.json": json.dumps({"fps": 25, "channels": {"head_yaw": ["x"] * 25}}).encode(),
        "track_nan.json": b'{"fps": 25, "channels": {"head_scale": [NaN]}}',
        "track_deep.json": b"[" * 100000 + b"]" * 100000,
    }.items():
        (folder / name).write_bytes(content)
        files[name] = folder / name
    fifo = folder / "fifo.txt"
    os.mkfifo(fifo)
    files["fifo"] = fifo
    return files


def cases(files: dict[str, Path], out: Path) -> dict[str, tuple[list[str], str]]:
    """Case name -> (CLI arguments, what the one error line must say); every one is bad input: exit 2."""
    portrait, speech = str(files["portrait"]), str(files["speech"])
    render = ["render", portrait, speech, "-o", str(out / "out.mp4"), "--size", "128", "-q"]
    say = ["render", portrait, "-o", str(out / "out.mp4"), "--size", "128", "-q", "--text", "Hi."]
    return {
        "voice 43 characters": ([*say, "--voice", LONG_VOICE], "unknown espeak-ng voice"),
        "voice with ../": ([*say, "--voice", "en+../../../../../etc/passwd"], "unknown espeak-ng voice"),
        "voice not listed": ([*say, "--voice", "xx-nowhere"], "espeak-ng --voices=variant"),
        "voice for recorded speech": ([*render, "--voice", "en-gb"], "leave --voice out"),
        "transcript beside --text": ([*say, "--transcript", "Hello."], "leave the transcript out"),
        "portrait declaring 32000x32000": (["render", str(files["bomb32k.png"]), *render[2:]], "pixels"),
        "portrait declaring 100000x100000": (["render", str(files["bomb100k.png"]), *render[2:]], "pixels"),
        "portrait with damaged pixel data": (["render", str(files["bad_rows.png"]), *render[2:]], "as an image"),
        "speech in an unknown codec": (["render", portrait, str(files["unknown_codec.wav"]), *render[3:]],
                                       "codec is unknown"),
        "portrait is a folder": (["render", str(out.parent), *render[2:]], "not a regular file"),
        "transcript-file /dev/zero": ([*render, "--transcript-file", "/dev/zero"], "not a regular file"),
        "transcript-file a FIFO": ([*render, "--transcript-file", str(files["fifo"])], "not a regular file"),
        "transcript-file binary": ([*render, "--transcript-file", str(files["binary.json"])], "not UTF-8 text"),
        "emotion-schedule /dev/urandom": ([*render, "--emotion-schedule", "/dev/urandom"], "not a regular file"),
        "emotion-schedule binary": ([*render, "--emotion-schedule", str(files["binary.json"])], "not UTF-8 text"),
        "emotion-schedule emotion as a list": (
            [*render, "--emotion-schedule", str(files["schedule_list_emotion.json"])], "unknown emotion"),
        "emotion-schedule intensity 1e30": (
            [*render, "--emotion-schedule", str(files["schedule_1e30.json"])], '"intensity" must be'),
        "emotion-schedule NaN": ([*render, "--emotion-schedule", str(files["schedule_nan.json"])], "NaN"),
        "motion-in 1e30": ([*render, "--motion-in", str(files["track_1e30.json"])], "outside -90..90"),
        "motion-in strings": ([*render, "--motion-in", str(files["track_types.json"])], "flat list of numbers"),
        "motion-in NaN": ([*render, "--motion-in", str(files["track_nan.json"])], "NaN"),
        "motion-in binary": ([*render, "--motion-in", str(files["binary.json"])], "not UTF-8 text"),
        "motion-in nested 100000 deep": (
            [*render, "--motion-in", str(files["track_deep.json"])], "cannot read motion track"),
        "motion-in /dev/urandom": ([*render, "--motion-in", "/dev/urandom"], "not a regular file"),
        "output name of 252 characters": (
            ["render", portrait, speech, "-o", str(out / ("a" * 252 + ".mp4")), "-q"], "at most 255"),
        "output in /proc": (["render", portrait, speech, "-o", "/proc/x.mp4", "-q"], "does not take new files"),
        "motion-out name of 300 characters": (
            [*render, "--motion-out", str(out / ("m" * 300 + ".json"))], "at most 255"),
        "verify a 2x2 MP4": (["verify", str(files["tiny_mp4"])], "too small"),
        "verify a damaged PNG": (["verify", str(files["bad_rows.png"])], "as an image"),
        "verify an image bomb": (["verify", str(files["bomb100k.png"])], "pixels"),
        "verify /dev/zero": (["verify", "/dev/zero"], "not a file"),
        "argparse: missing value": ([*render, "--size"], "expected one argument"),
        "argparse: unknown flag": ([*render, "--bogus"], "unrecognized arguments"),
        "argparse: no command": ([], "required: COMMAND"),
        "argparse: size not a number": ([*render[:-3], "--size", "big"], "invalid int value"),
        "visemes transcript /dev/zero": (["visemes", speech, "--transcript-file", "/dev/zero"], "not a regular file"),
        "visemes max-audio-seconds nan": (["visemes", speech, "--max-audio-seconds", "nan"], "between 1 and"),
    }


def run_case(args: list[str]) -> dict:
    """Fork, run the CLI with ``args`` in the child, and report its status, stderr and peak memory."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: stderr into the pipe, a memory ceiling, an alarm, then the CLI
        try:
            os.close(read_end)
            os.dup2(write_end, 2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            resource.setrlimit(resource.RLIMIT_AS, (CEILING_BYTES, CEILING_BYTES))
            signal.alarm(ALARM_S)
            from talkinghead.cli import main

            code = main(args)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        sys.stderr.flush()
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        stderr = pipe.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return {"rc": code, "stderr": stderr, "peak_mb": usage.ru_maxrss / 1024}


def run_all(folder: Path) -> dict[str, dict]:
    """Every case, in a fresh driver process (so the test process never forks itself)."""
    script = ("import json, sys; from pathlib import Path; from tests.hostile_cases import drive; "
              "print(json.dumps(drive(Path(sys.argv[1]))))")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script, str(folder)], capture_output=True, text=True, cwd=root,
                          timeout=1800, env={**os.environ, "TALKINGHEAD_DEBUG": ""})
    if done.returncode:
        raise RuntimeError(f"hostile case driver failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def drive(folder: Path) -> dict[str, dict]:
    files = make_inputs(folder)
    out = folder / "out"
    out.mkdir()
    results = {}
    for name, (args, _) in cases(files, out).items():
        results[name] = run_case(args)
        results[name]["leftovers"] = sorted(os.listdir(out))
        for left in out.iterdir():  # so one case's leftovers are not blamed on the next
            left.unlink()
    return results


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        for name, result in run_all(Path(folder)).items():
            first = (result["stderr"].strip().splitlines() or [""])[-1][:110]
            print(f"{name:<40} rc={result['rc']:<4} peak={result['peak_mb']:7.0f} MB  {first}")
