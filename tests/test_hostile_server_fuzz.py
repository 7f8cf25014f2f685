"""Fuzzing the server's parsers (hypothesis): whatever a client sends, a parser answers with a user error
(`TalkingHeadError` / a 4xx) or a valid result, never another exception."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from fastapi import HTTPException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from talkinghead.controls import Controls
from talkinghead.errors import TalkingHeadError
from talkinghead.face.image import image_size
from talkinghead.server.forms import check_field_names
from talkinghead.server.live_ws import ClientGone, audio_message, parse_setup
from talkinghead.server.uploads import check_pixels

from .hostile_cases import png_declaring
from .serving import multipart, request, running_server

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)
option_names = st.sampled_from(["size", "fps", "seed", "lookahead", "gaze", "emotion", "label", "voice", "text",
                                "motion_out", "motion_in", "crop", "intensity", "label_scale", "x"])


@FAST
@given(st.dictionaries(option_names | st.text(max_size=10), json_values, max_size=6),
       st.sampled_from(["yes", "no", 1, None]), json_values, json_values)
def test_setup_message_parser(controls, consent, rate, lookahead) -> None:
    message = {"consent": consent, "sample_rate": rate, "lookahead": lookahead, "controls": controls}
    for text in (json.dumps(message), json.dumps([message]), json.dumps(message)[:-3]):
        try:
            setup = parse_setup(text)
        except TalkingHeadError:
            continue
        assert isinstance(setup["controls"], Controls) and isinstance(setup["sample_rate"], int)
        assert 0 <= setup["lookahead"] <= 1


@FAST
@given(st.one_of(st.binary(max_size=200).map(lambda b: {"type": "websocket.receive", "bytes": b}),
                 st.text(max_size=50).map(lambda t: {"type": "websocket.receive", "text": t}),
                 json_values.map(lambda v: {"type": "websocket.receive", "text": json.dumps(v)}),
                 st.just({"type": "websocket.receive"}),
                 st.just({"type": "websocket.disconnect", "code": 1000})))
def test_audio_message_parser(message) -> None:
    try:
        kind, samples = audio_message(message, max_bytes=64)
    except (TalkingHeadError, ClientGone):
        return
    assert kind in ("audio", "end")
    if kind == "audio":
        assert samples.dtype == np.float32 and np.isfinite(samples).all() and samples.size <= 16


@FAST
@given(st.lists(option_names | st.text(max_size=12), max_size=6))
def test_form_field_names(names) -> None:
    try:
        check_field_names(names)
    except TalkingHeadError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert "motion_out" not in names


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with running_server(tmp_path_factory.mktemp("fuzz-server")) as s:
        yield s


form_values = st.text(max_size=20) | st.integers().map(str) | st.floats().map(str) | st.sampled_from(
    ["", "true", "nan", "-1", "1e309", "0x10", "../../etc/passwd", "/dev/zero", "[]", "{}", "10,-5", "\0"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(option_names | st.text(max_size=10), form_values, max_size=6),
       st.sampled_from([None, "no", "", "maybe"]))
def test_form_parser_answers_4xx(server, portrait_bytes, fields, consent) -> None:
    """Random forms (consent never given, so nothing is queued): always a 4xx with a message, never a 5xx."""
    fields = {name: value for name, value in fields.items() if name not in ("portrait", "audio", "consent")}
    if consent is not None:
        fields["consent"] = consent
    body, content_type = multipart(fields, {"portrait": ("p.png", portrait_bytes)})
    status, _, data = request(server.url + "/v1/videos", "POST", body, {"Content-Type": content_type})
    assert 400 <= status < 500, (status, data)
    assert json.loads(data)["detail"]


@pytest.fixture(scope="module")
def portrait_bytes(portrait) -> bytes:
    return portrait.read_bytes()


def headers(kind: str, width: int, height: int) -> bytes:
    """The smallest well-formed header of each kind declaring ``width`` x ``height``."""
    if kind == "png":
        return png_declaring(width, height)
    if kind == "bmp":
        return b"BM" + b"\0" * 12 + struct.pack("<IiiHH", 40, width, height, 1, 24) + b"\0" * 36
    components = b"\x01\x11\x00\x02\x11\x00\x03\x11\x00"
    # JPEG: start of image, the frame header with the size, then the start of the scan, after which any bytes
    # are entropy-coded data (before it, each byte would be read as a marker segment of its own)
    scan = b"\xff\xda" + struct.pack(">HB", 12, 3) + b"\x01\x00\x02\x11\x03\x11\x00\x3f\x00"
    return b"\xff\xd8\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + components + scan


@FAST
@given(st.sampled_from(["png", "bmp", "jpeg"]), st.integers(1, 65535), st.integers(1, 65535), st.binary(max_size=64))
def test_image_header_reader(kind, width, height, tail) -> None:
    assert image_size(headers(kind, width, height) + tail) == (width, height)
    try:
        check_pixels(width, height, "the portrait")
    except HTTPException as exc:
        assert exc.status_code == 400
    else:
        assert width * height <= 50_000_000


@FAST
@given(st.binary(max_size=300), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8", b"RIFF", b"BM", b"II*\0",
                                                 b"MM\0*"]))
def test_image_header_reader_on_garbage(data, magic) -> None:
    try:
        width, height = image_size(magic + data)
    except TalkingHeadError:
        return
    assert width > 0 and height > 0
