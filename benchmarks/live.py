"""Live and offline speed: 60 s of speech fed in real time through `LiveSession` and through the WebSocket,
and an offline `render` end to end.

    .venv/bin/python benchmarks/live.py [--mode session|websocket|offline|all] [--size 512] [--fps 25]
                                        [--seconds 60] [--chunk-ms 20] [--playout-ms 170]

Speech: the recordings in ../shared/data/dev/speech (else the bundled one) joined with short pauses and
repeated to ``--seconds``. Each chunk is handed over when a microphone would have delivered it (wall clock);
a frame's latency is the time from the arrival of the chunk holding the frame's centre to the frame coming
out. A frame counts as dropped if it is never made, or comes out after its display slot for a player that
shows frames ``--playout-ms`` after their audio arrives. CPU is process CPU time over wall time (1.0 = one
core busy); memory is peak resident size. Figures are from one run on the machine that ran it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from wav_files import write_wav

from talkinghead.assets import DEMO_PORTRAIT, DEMO_SPEECH
from talkinghead.audio import ANALYSIS_RATE, load_speech
from talkinghead.controls import Controls
from talkinghead.live import LOOKAHEAD_S, LiveSession
from talkinghead.pipeline import render

SHARED_SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "dev" / "speech"
RATE = ANALYSIS_RATE
FRAME_HEADER = struct.Struct("<Id")


def speech_clip(seconds: float) -> np.ndarray:
    """``seconds`` of real speech at 16 kHz: the dev recordings joined with 0.3 s pauses, repeated."""
    files = sorted(SHARED_SPEECH.glob("*.wav")) or [DEMO_SPEECH]
    pause = np.zeros(int(0.3 * RATE), np.float32)
    parts = [np.concatenate([load_speech(f).samples, pause]) for f in files]
    clip = np.concatenate(parts)
    return np.tile(clip, int(np.ceil(seconds * RATE / clip.size)))[: int(seconds * RATE)]


def summary(latencies: list[float], frames: int, expected: int, first: float, last: float, playout: float,
            cpu_s: float, wall_s: float, peak_mb: float) -> dict[str, float]:
    lat = np.array(latencies)
    late = int((lat > playout).sum())
    return {"frames": frames, "expected_frames": expected, "dropped_frames": expected - frames + late,
            "late_frames": late, "sustained_fps": round((frames - 1) / (last - first), 2) if frames > 1 else 0.0,
            "latency_p50_ms": round(float(np.percentile(lat, 50)) * 1000, 1),
            "latency_p95_ms": round(float(np.percentile(lat, 95)) * 1000, 1),
            "latency_max_ms": round(float(lat.max()) * 1000, 1), "cpu_cores": round(cpu_s / wall_s, 2),
            "peak_memory_mb": round(peak_mb, 1)}


def arrival_of(frame_time: float, fps: float, chunk: int, started: float) -> float:
    """Wall time the chunk holding the frame's centre arrived (chunks arrive on the audio clock)."""
    centre_sample = (frame_time + 0.5 / fps) * RATE
    return started + (np.floor(centre_sample / chunk) + 1) * chunk / RATE


def bench_session(samples: np.ndarray, controls: Controls, chunk: int, playout: float) -> dict[str, float]:
    session = LiveSession(DEMO_PORTRAIT, controls, sample_rate=RATE)
    latencies, emitted = [], []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    started = time.perf_counter()
    for index, start in enumerate(range(0, samples.size, chunk)):
        due = started + (index + 1) * chunk / RATE  # the mic has this chunk at the end of its span
        time.sleep(max(0.0, due - time.perf_counter()))
        for frame in session.feed(samples[start : start + chunk]):
            now = time.perf_counter()
            emitted.append(now)
            latencies.append(now - arrival_of(frame.time, controls.fps, chunk, started))
    session.finish()
    expected = session.ready_frames(samples.size / RATE)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return summary(latencies, len(latencies), expected, emitted[0], emitted[-1], playout,
                   time.process_time() - cpu0, time.perf_counter() - wall0, peak)


def bench_websocket(samples: np.ndarray, controls: Controls, chunk: int, playout: float) -> dict[str, float]:
    from websockets.sync.client import connect

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.serving import running_server

    with tempfile.TemporaryDirectory() as folder, running_server(Path(folder)) as server, \
            connect(server.url.replace("http", "ws") + "/v1/live", max_size=None) as ws:
        ws.send(DEMO_PORTRAIT.read_bytes())
        ws.send(json.dumps({"consent": "yes", "sample_rate": RATE,
                            "controls": {"size": controls.size, "fps": controls.fps}}))
        json.loads(ws.recv(timeout=120))
        cpu0, wall0 = _process_cpu(server.process.pid), time.perf_counter()
        received: list[tuple[float, float]] = []
        started = time.perf_counter()

        def send() -> None:
            for index, start in enumerate(range(0, samples.size, chunk)):
                time.sleep(max(0.0, started + (index + 1) * chunk / RATE - time.perf_counter()))
                ws.send(samples[start : start + chunk].astype("<f4").tobytes())
            ws.send(json.dumps({"type": "end"}))

        sender = threading.Thread(target=send)
        sender.start()
        while True:
            message = ws.recv(timeout=120)
            if isinstance(message, str):
                break
            _, stamp = FRAME_HEADER.unpack(message[:12])
            received.append((time.perf_counter(), stamp))
        sender.join()
        cpu_s, wall_s = _process_cpu(server.process.pid) - cpu0, time.perf_counter() - wall0
        peak = _peak_mb(server.process.pid)
    live_part = [(now, stamp) for now, stamp in received  # not the tail held back for the look-ahead
                 if stamp + 0.5 / controls.fps + LOOKAHEAD_S <= samples.size / RATE + 1e-9]
    latencies = [now - arrival_of(stamp, controls.fps, chunk, started) for now, stamp in live_part]
    expected = int((samples.size / RATE - LOOKAHEAD_S) * controls.fps + 0.5 + 1e-9)
    return summary(latencies, len(live_part), expected, live_part[0][0], live_part[-1][0], playout, cpu_s, wall_s,
                   peak)


def bench_offline(size: int, fps: float, seconds: float) -> dict[str, float]:
    """`render` end to end (decode, analysis, rig, motion, render, label, encode) on ``seconds`` of speech."""
    with tempfile.TemporaryDirectory() as folder:
        audio = Path(folder) / "speech.wav"
        write_wav(audio, speech_clip(seconds), RATE)
        started, cpu0 = time.perf_counter(), time.process_time()
        result = render(DEMO_PORTRAIT, audio, Path(folder) / "out.mp4", size=size, fps=fps)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu0
    return {"frames": result.n_frames, "seconds": round(wall, 2), "end_to_end_fps": round(result.n_frames / wall, 1),
            "realtime_factor": round(result.n_frames / wall / fps, 2), "cpu_cores": round(cpu / wall, 2)}


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("session", "websocket", "offline", "all"), default="all")
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--chunk-ms", type=float, default=20.0)
    parser.add_argument("--playout-ms", type=float, default=170.0)
    args = parser.parse_args()
    controls = Controls(size=args.size, fps=args.fps)
    samples = speech_clip(args.seconds)
    chunk = round(args.chunk_ms / 1000 * RATE)
    playout = args.playout_ms / 1000
    results = {}
    if args.mode in ("session", "all"):
        results["live_session"] = bench_session(samples, controls, chunk, playout)
        print("LiveSession:", json.dumps(results["live_session"]), flush=True)
    if args.mode in ("websocket", "all"):
        results["websocket"] = bench_websocket(samples, controls, chunk, playout)
        print("WebSocket:", json.dumps(results["websocket"]), flush=True)
    if args.mode in ("offline", "all"):
        results["offline"] = bench_offline(args.size, args.fps, args.seconds)
        print("offline render:", json.dumps(results["offline"]), flush=True)


if __name__ == "__main__":
    main()
