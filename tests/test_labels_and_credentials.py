"""The visible label in any language the font draws, and the C2PA manifest every render carries by default."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import talkinghead
from talkinghead import Controls, TalkingHeadError
from talkinghead.assets import DEMO_PORTRAIT
from talkinghead.controls import LABEL_POSITIONS
from talkinghead.provenance.credentials import CONFIG_ENV, INSTALLATION_SIGNER, read_manifest
from talkinghead.provenance.label import VisibleLabel, label_text_problem

from .test_cli import cli

LOCALISED = ["Généré par IA", "KI-generiert", "Создано ИИ", "Δημιουργήθηκε με ΤΝ", "נוצר על ידי בינה מלאכותית",
             "由人工智能生成", "AIによる生成", "AI 생성", "एआई द्वारा निर्मित", "สร้างโดย AI"]
NOT_IN_FONT = "བོད་ཡིག"  # Tibetan: in none of the label fonts


@pytest.fixture(autouse=True)
def own_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own config folder (no key is made in the tester's home)."""
    folder = tmp_path / "config"
    monkeypatch.setenv(CONFIG_ENV, str(folder))
    for name in ("TALKINGHEAD_C2PA_CERT", "TALKINGHEAD_C2PA_KEY"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.mark.parametrize("text", LOCALISED)
def test_label_in_other_languages_fits_every_size_scale_and_corner(text: str) -> None:
    for size in (128, 256, 512, 1024, 2048):
        previous_height = 0
        for scale in (0.5, 1.0, 2.0, 4.0):
            for position in LABEL_POSITIONS:
                label = VisibleLabel(size, text, position, scale)
                height, width = label.alpha.shape[:2]
                assert label.y0 >= 0 and label.y0 + height <= size and label.x0 >= 0 and label.x0 + width <= size
                frame = label.apply(np.full((size, size, 3), 90, np.uint8))
                ink = frame[label.y0 : label.y0 + height, label.x0 : label.x0 + width].max(axis=2) > 200
                assert ink.mean() > 0.05, (text, size, scale, position)  # white text is there, not an empty box
            assert height >= previous_height  # larger scales never draw smaller text
            assert height >= 12  # legible: text at least 9 pixels high plus the box
            previous_height = height


def test_chinese_japanese_and_korean_labels_are_never_too_small_to_read() -> None:
    """At the smallest size in range (128 px, scale 0.5) the strokes of 智 or 能 merged at 9 px: CJK characters
    are drawn at least 12 px high (Latin keeps its 9 px)."""
    from talkinghead.provenance.label import BOX_ALPHA

    for text in ("由人工智能生成", "AIによる生成", "AI 생성"):
        label = VisibleLabel(128, text, "top-left", 0.5)
        ink = (label.alpha[..., 0] - BOX_ALPHA) / (1 - BOX_ALPHA) > 0.5
        rows = np.nonzero(ink.any(axis=1))[0]
        assert rows.max() - rows.min() + 1 >= 12, text


def test_text_the_font_cannot_draw_is_refused_with_a_clear_error() -> None:
    problem = label_text_problem(NOT_IN_FONT)
    assert problem and "cannot draw" in problem and "བ" in problem and "Chinese" in problem
    assert "cannot order" in label_text_problem("نص عربي 生成")  # right-to-left runs in two fonts
    with pytest.raises(TalkingHeadError, match="cannot draw"):
        Controls(label_text=NOT_IN_FONT)
    with pytest.raises(TalkingHeadError, match="control"):
        Controls(label_text="AI\x00generated")
    for text in LOCALISED:
        assert Controls(label_text=text).label_text == text


def test_cli_refuses_undrawable_label_text(tmp_path: Path, silence_wav: Path) -> None:
    run = cli("render", DEMO_PORTRAIT, silence_wav, "-o", tmp_path / "x.mp4", "--label-text", NOT_IN_FONT)
    assert run.returncode == 2 and run.stderr.startswith("talkinghead: error: --label-text"), run.stderr
    assert "??" not in run.stderr and not (tmp_path / "x.mp4").exists()


def test_largest_label_on_a_small_frame_fits() -> None:
    """Hostile input: --size 256 --label-scale 4 raised an internal error (the label was wider than the frame)."""
    for size in (128, 256):
        for text in ("AI-generated", "KI-generiert (synthetisch, nicht echt)", "x" * 60):
            label = VisibleLabel(size, text, "bottom-right", 4.0)
            frame = label.apply(np.zeros((size, size, 3), np.uint8))
            assert frame.max() > 200 and label.x0 >= 0 and label.y0 >= 0


@pytest.mark.slow
@pytest.mark.parametrize(("text", "size", "scale", "corner"), [("Создано ИИ", 256, 4, "top-left"),
                                                             ("由人工智能生成", 128, 0.5, "bottom-left")])
def test_a_render_with_a_localised_label_is_verified(tmp_path: Path, silence_wav: Path, text: str, size: int,
                                                     scale: float, corner: str) -> None:
    out = tmp_path / "label.mp4"
    run = cli("render", DEMO_PORTRAIT, silence_wav, "-o", out, "--size", str(size), "--label-scale", str(scale),
              "--label-text", text, "--label-position", corner, "--fps", "10")
    assert run.returncode == 0, run.stderr
    report = json.loads(cli("verify", out, "--json").stdout)
    findings = {f["check"]: f for f in report["findings"]}
    assert findings["label"]["found"] and text in findings["label"]["detail"], findings["label"]
    assert findings["manifest"]["found"], findings["manifest"]


@pytest.mark.slow
def test_default_render_carries_a_manifest_signed_by_the_installation_key(tmp_path: Path, silence_wav: Path,
                                                                          own_config_dir: Path) -> None:
    out = tmp_path / "signed.mp4"
    notes: list[str] = []
    result = talkinghead.render(DEMO_PORTRAIT, silence_wav, out, size=128, fps=10, notify=notes.append)
    manifest = read_manifest(out)
    assert manifest.by_talkinghead and manifest.video_id == result.video_id, manifest
    assert INSTALLATION_SIGNER in (manifest.signer or "") and not manifest.trusted
    assert not any("C2PA" in note for note in notes), notes
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask  # signing keeps a video's ordinary permissions
    key_folder = own_config_dir / "c2pa"
    assert stat.S_IMODE(key_folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in key_folder.iterdir())
    key_bytes = (key_folder / "signer.key").read_bytes()
    talkinghead.render(DEMO_PORTRAIT, silence_wav, tmp_path / "again.mp4", size=128, fps=10)
    assert (key_folder / "signer.key").read_bytes() == key_bytes  # made once, then reused
    report = json.loads(cli("verify", out, "--json").stdout)
    findings = {f["check"]: f for f in report["findings"]}
    assert findings["manifest"]["found"] and findings["watermark"]["found"]
    assert "not trusted" in findings["manifest"]["detail"] and "signer" in findings["manifest"]["detail"]


@pytest.mark.slow
def test_render_works_without_a_writable_config_folder(tmp_path: Path, silence_wav: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only home: the render works, carries no manifest, and says so in one line."""
    home = tmp_path / "home"
    home.mkdir()
    if os.geteuid() == 0:  # root writes into read-only folders: a file where the folder should be blocks it
        (home / ".config").write_text("not a folder")
    home.chmod(0o555)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    notes: list[str] = []
    out = tmp_path / "plain.mp4"
    try:
        talkinghead.render(DEMO_PORTRAIT, silence_wav, out, size=128, fps=10, notify=notes.append)
    finally:
        home.chmod(0o755)
    assert out.is_file() and not read_manifest(out).present
    c2pa_notes = [note for note in notes if "C2PA" in note]
    assert len(c2pa_notes) == 1 and "\n" not in c2pa_notes[0] and str(home) in c2pa_notes[0], notes


def test_verify_finds_a_label_in_any_language_size_scale_and_corner() -> None:
    """The label finding, on frames made like renders (the portrait, the label, lossy compression)."""
    import cv2

    from talkinghead.provenance.verify import _label_finding

    photo = cv2.cvtColor(cv2.imread(str(DEMO_PORTRAIT)), cv2.COLOR_BGR2RGB)
    cases = [(128, 0.5, "top-left", "Généré par IA"), (128, 4.0, "bottom-right", "KI-generiert"),
             (512, 1.0, "top-right", "Создано ИИ"), (2048, 0.5, "bottom-left", "KI-generiert"),
             (2048, 4.0, "top-left", "Généré par IA"), (512, 2.0, "bottom-left", "AI-generated"),
             (256, 1.0, "top-right", "由人工智能生成"), (1024, 0.5, "bottom-right", "एआई द्वारा निर्मित")]
    for size, scale, position, text in cases:
        frame = VisibleLabel(size, text, position, scale).apply(cv2.resize(photo, (size, size)))
        frame = cv2.imdecode(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 75])[1], cv2.IMREAD_UNCHANGED)
        tags = {"talkinghead_label": text, "talkinghead_label_position": position,
                "talkinghead_label_scale": f"{scale:g}"}
        finding = _label_finding(frame, tags)
        assert finding.found and text in finding.detail, (size, scale, position, finding)
        assert not _label_finding(cv2.resize(photo, (size, size)), tags).found
    default = VisibleLabel(512, position="top-left", scale=2.0).apply(cv2.resize(photo, (512, 512)))
    assert _label_finding(default, {}).found  # no tags: the default text, searched at the usual scales
