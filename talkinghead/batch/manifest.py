"""Read a batch manifest (CSV or JSONL, one job per row) and validate every row before anything renders.

Columns (CSV) or keys (JSONL): ``portrait``, ``audio``, ``output`` (a file name inside the batch folder),
and any field of `Controls` (``size``, ``seed``, ...; ``head-distance`` and ``head_distance`` both work).
The options go through `Controls.from_options`, so a field added to `Controls` is a manifest column at
once. All problems are collected, so the user fixes the whole manifest in one go instead of one row per
attempt.

A manifest may come from someone else, so it is read as hostile: input files (``portrait``, ``audio``,
``transcript_file``, ``emotion_schedule``, ``motion_in``; relative paths are read from the manifest's own
folder) must be regular files within their byte budgets, and the small ones are read and checked here, up
front; outputs (``output``, ``motion_out``) are file names inside the batch folder, never paths out of it.
"""

from __future__ import annotations

import csv
import json
import os
import typing
from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path, PurePosixPath
from typing import Any

from talkinghead.batch.jobs import Job
from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.input_files import MIB, check_regular_file, read_json
from talkinghead.video.mp4 import NAME_MAX

PORTRAIT, AUDIO, OUTPUT, MOTION_OUT = "portrait", "audio", "output", "motion_out"
TEXT_COLUMNS = (PORTRAIT, AUDIO, OUTPUT)  # never numbers, whatever a JSONL row says
OUTPUT_SUFFIXES = (".mp4", ".m4v", ".mov")
MANIFEST_BYTES = 16 * MIB  # a hundred thousand jobs
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1", "on"}, {"false", "no", "n", "0", "off"}


@dataclass(frozen=True)
class RowProblem:
    """Why one row cannot be rendered; ``row`` counts data rows from 1, ``line`` is the line in the file."""

    row: int
    line: int
    reason: str

    def __str__(self) -> str:
        return f"row {self.row} (line {self.line}): {self.reason}"


class ManifestError(TalkingHeadError):
    """The manifest has bad rows; ``problems`` lists every one."""

    def __init__(self, path: Path, problems: list[RowProblem], total: int) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} bad row(s) out of {total}; nothing was rendered")


def read_manifest(path: str | Path, out: str | Path | None = None) -> list[Job]:
    """All jobs of the manifest at ``path``, or `ManifestError` naming every bad row.

    ``out`` is the batch folder; a ``motion_out`` column needs it (its files are written there).
    """
    path = Path(path)
    if not path.exists():
        raise TalkingHeadError(f"manifest {path} does not exist or is not a file")
    check_regular_file(path, "manifest", MANIFEST_BYTES)
    base = path.resolve().parent
    jobs: list[Job] = []
    problems: list[RowProblem] = []
    outputs: dict[str, int] = {}
    total = 0
    for total, (line, record) in enumerate(_records(path), start=1):
        try:
            job = _job(total, line, record, base, out)
            for name in _output_names(job, out):
                if name in outputs:
                    raise TalkingHeadError(f"output {name} is also the output of row {outputs[name]}")
                outputs[name] = total
            jobs.append(job)
        except TalkingHeadError as exc:
            problems.append(RowProblem(total, line, str(exc)))
    if total == 0:
        raise TalkingHeadError(f"manifest {path} has no jobs")
    if problems:
        raise ManifestError(path, problems, total)
    return jobs


def _output_names(job: Job, out: str | Path | None) -> list[str]:
    """The files a job writes, relative to the batch folder."""
    names = [job.output]
    if job.options.get(MOTION_OUT) is not None and out is not None:
        names.append(os.path.relpath(job.options[MOTION_OUT], os.path.abspath(out)))
    return names


def _records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, raw record) per row; a record that cannot be parsed is passed on as an exception."""
    suffix = path.suffix.lower()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            if suffix == ".csv":
                reader = csv.DictReader(handle)
                if not reader.fieldnames:
                    raise TalkingHeadError(f"manifest {path} is empty: it needs a header row")
                for record in reader:
                    yield reader.line_num, record
            elif suffix in (".jsonl", ".ndjson"):
                for line, text in enumerate(handle, start=1):
                    if text.strip():
                        yield line, _json_record(text)
            else:
                raise TalkingHeadError(f"manifest {path} must be a .csv or .jsonl file")
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TalkingHeadError(f"cannot read manifest {path}: {exc}") from None


def _json_record(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        return TalkingHeadError(f"not valid JSON: {exc.msg} at column {exc.colno}")


def _job(row: int, line: int, record: Any, base: Path, out: str | Path | None) -> Job:
    if isinstance(record, TalkingHeadError):
        raise record
    if not isinstance(record, dict):
        raise TalkingHeadError("a JSONL row must be an object such as {\"portrait\": ..., \"audio\": ...}")
    if None in record:
        raise TalkingHeadError("more cells than columns in the header")
    values = {_key(key): value for key, value in record.items() if not _blank(value)}
    for column in TEXT_COLUMNS:
        if column in values and not isinstance(values[column], str):
            raise TalkingHeadError(f"{column} must be text (a file name), got {_shown(values[column])}")
    portrait = _input_file(values.pop(PORTRAIT, None), PORTRAIT, base, required=True)
    has_text = bool(values.get("text")) and "text" in _control_types()
    audio = _input_file(values.pop(AUDIO, None), AUDIO, base, required=not has_text)
    output = _output_name(values.pop(OUTPUT, None), OUTPUT_SUFFIXES, OUTPUT)
    options = {name: _convert(name, value) for name, value in values.items()}
    Controls.from_options(options)  # the same checks and messages as the CLI flags and the Python API
    _check_portrait(portrait)
    if options.get("text") is not None and options.get("voice") is not None:
        from talkinghead.audio.tts import check_voice

        check_voice(options["voice"])  # a crafted voice name must not reach espeak-ng in a worker
    for column, check in _INPUT_CHECKS.items():
        if options.get(column) is not None:
            options[column] = str(check(_input_file(options[column], column, base, required=True)))
    if options.get(MOTION_OUT) is not None:
        if out is None:
            raise TalkingHeadError("motion_out is written into the batch folder, which was not given")
        name = _output_name(options[MOTION_OUT], (".json",), MOTION_OUT)
        options[MOTION_OUT] = os.path.join(os.path.abspath(out), name)
    return Job(row, line, portrait, audio, output, options)


def _check_portrait(path: Path | None) -> None:
    """The portrait's header, now: a file that is no image, or an image over the pixel budget, fails up front."""
    from talkinghead.face.image import MAX_IMAGE_BYTES, check_pixel_budget, image_size

    if path is not None:
        check_regular_file(path, PORTRAIT, MAX_IMAGE_BYTES)
        check_pixel_budget(*image_size(path), str(path))


def _checked_transcript(path: Path) -> Path:
    from talkinghead.audio.phonetics import read_transcript

    read_transcript(path)
    return path


def _checked_schedule(path: Path) -> Path:
    from talkinghead.motion.expression import load_emotion_schedule

    load_emotion_schedule(path)
    return path


def _checked_track(path: Path) -> Path:
    from talkinghead.input_files import MOTION_TRACK_BYTES
    from talkinghead.motion.track_file import parse_motion_track

    parse_motion_track(read_json(path, "motion track", MOTION_TRACK_BYTES), f"motion track {path}")
    return path


_INPUT_CHECKS = {"transcript_file": _checked_transcript, "emotion_schedule": _checked_schedule,
                 "motion_in": _checked_track}


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _key(key: str) -> str:
    return str(key).strip().lower().replace("-", "_")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _input_file(value: Any, column: str, base: Path, required: bool) -> Path | None:
    if value is None:
        if required:
            raise TalkingHeadError(f"no {column} given")
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TalkingHeadError(f"{column} must be text (a file name), got {_shown(value)}")
    path = base / Path(os.fspath(value).strip()).expanduser()
    if not path.exists():
        raise TalkingHeadError(f"{column} {path} does not exist or is not a file")
    check_regular_file(path, column)
    if not os.access(path, os.R_OK):
        raise TalkingHeadError(f"{column} {path} cannot be read (no permission)")
    return path


def _output_name(value: Any, suffixes: tuple[str, ...], column: str) -> str:
    if value is None:
        raise TalkingHeadError("no output given (a file name such as clip-001.mp4)")
    if not isinstance(value, str):
        raise TalkingHeadError(f"{column} must be text (a file name), got {_shown(value)}")
    name = PurePosixPath(value.strip())
    if (name.is_absolute() or ".." in name.parts or str(name).startswith("~") or "\\" in str(name)
            or "\x00" in str(name) or not name.name.strip(".")):
        raise TalkingHeadError(f"{column} {_shown(value)} must be a file name inside the batch folder, "
                               "not a path out of it")
    if len(os.fsencode(name.name)) > NAME_MAX:
        raise TalkingHeadError(f"{column} {_shown(value)} is longer than {NAME_MAX} bytes")
    if name.suffix.lower() not in suffixes:
        raise TalkingHeadError(f"{column} {_shown(value)} must end in {', '.join(suffixes)}")
    return str(name)


def _control_types() -> dict[str, type]:
    """Each `Controls` field's plain type (``str | None`` -> ``str``)."""
    hints = typing.get_type_hints(Controls)
    return {spec.name: next((t for t in typing.get_args(hints[spec.name]) if t is not type(None)),
                            hints[spec.name]) for spec in fields(Controls)}


def _convert(name: str, value: Any) -> Any:
    """A CSV cell (text) as the option's type; JSON values are already typed and pass through. An option with
    a parser of its own in `Controls` (gaze: "10,-5") takes its text through that parser, as the CLI flag does."""
    kind = _control_types().get(name)
    if not isinstance(value, str) or kind in (None, str):
        return value
    text = value.strip()
    parse = Controls.__dataclass_fields__[name].metadata.get("parse")
    if parse is not None:
        return list(parse(text))  # a list, like a JSON row's pair: the job's options travel as JSON
    if kind is bool:
        if text.lower() in TRUE_WORDS | FALSE_WORDS:
            return text.lower() in TRUE_WORDS
        raise TalkingHeadError(f"{name} must be true or false, got {value!r}")
    try:
        return kind(text)
    except ValueError:
        wanted = "a whole number" if kind is int else "a number"
        raise TalkingHeadError(f"{name} must be {wanted}, got {value!r}") from None
