"""Optional C2PA content credentials: a signed manifest saying the video was made by an AI tool.

Signing needs `c2pa-python` and a key + certificate chain, named by two environment variables:

- ``TALKINGHEAD_C2PA_CERT``: PEM certificate chain (signer first, then the CA);
- ``TALKINGHEAD_C2PA_KEY``: the signer's PKCS#8 PEM private key (ES256, P-256);

README.md ("Content credentials") shows how to make them with openssl. Everything works offline (no time
stamp authority). A manifest only survives as long as the file is not re-encoded: the watermark carries
the load after that.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talkinghead import __version__
from talkinghead.errors import TalkingHeadError

CERT_ENV, KEY_ENV = "TALKINGHEAD_C2PA_CERT", "TALKINGHEAD_C2PA_KEY"
AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
NOT_CONFIGURED = (f"no C2PA content credentials added: set {CERT_ENV} and {KEY_ENV} to a certificate chain and "
                  "key (README: 'Content credentials')")


@dataclass(frozen=True)
class SigningConfig:
    cert: Path
    key: Path


def signing_config() -> SigningConfig | None:
    """The configured key and certificate, or None when none is configured."""
    cert, key = os.environ.get(CERT_ENV, ""), os.environ.get(KEY_ENV, "")
    if not cert and not key:
        return None
    if not (cert and key):
        raise TalkingHeadError(f"set both {CERT_ENV} and {KEY_ENV} for C2PA signing (or neither)")
    for name, value in ((CERT_ENV, cert), (KEY_ENV, key)):
        if not Path(value).is_file():
            raise TalkingHeadError(f"{name}={value} is not a readable file")
    return SigningConfig(Path(cert), Path(key))


def _c2pa():
    try:
        import c2pa
    except ImportError:
        return None
    return c2pa


def manifest_definition(video_id: str) -> dict:
    return {
        "claim_generator_info": [{"name": "talkinghead", "version": __version__}],
        "title": f"talkinghead video {video_id}",
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": AI_SOURCE,
                 "softwareAgent": {"name": "talkinghead", "version": __version__}},
            ]}},
            {"label": "org.talkinghead.video", "data": {"video_id": video_id, "ai_generated": True}},
        ],
    }


def sign_video(path: Path, video_id: str, config: SigningConfig) -> None:
    """Embed a signed manifest into the MP4 at ``path`` (atomically: temp file, then rename)."""
    c2pa = _c2pa()
    if c2pa is None:
        raise TalkingHeadError(f"{CERT_ENV} is set but c2pa-python is not installed: pip install c2pa-python")
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".c2pa.mp4")
    temp = Path(name)
    try:
        info = c2pa.C2paSignerInfo(b"es256", config.cert.read_bytes(), config.key.read_bytes(), None)
        builder = c2pa.Builder(json.dumps(manifest_definition(video_id)))
        with os.fdopen(handle, "w+b") as dest, path.open("rb") as source:
            builder.sign(c2pa.Signer.from_info(info), "video/mp4", source, dest)
        os.replace(temp, path)
    except c2pa.C2paError as exc:
        raise TalkingHeadError(f"C2PA signing failed (check {CERT_ENV} and {KEY_ENV}): {exc}") from None
    finally:
        temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class ManifestFinding:
    present: bool
    by_talkinghead: bool
    detail: str
    video_id: str | None = None


def read_manifest(path: Path) -> ManifestFinding:
    """What C2PA manifest the file carries, if c2pa-python is installed to read it."""
    c2pa = _c2pa()
    if c2pa is None:
        return ManifestFinding(False, False, "not checked: c2pa-python is not installed")
    try:
        report = json.loads(c2pa.Reader(str(path)).json())
    except Exception as exc:  # c2pa raises its own error types for "no manifest" and unsupported formats
        return ManifestFinding(False, False, f"none ({str(exc).splitlines()[0][:80]})")
    active = report.get("manifests", {}).get(report.get("active_manifest", ""), {})
    generators = [g.get("name", "") for g in active.get("claim_generator_info", [])]
    video_id = next((a["data"].get("video_id") for a in active.get("assertions", [])
                     if a.get("label") == "org.talkinghead.video"), None)
    state = report.get("validation_state", "unknown")
    problems = [s.get("code", "") for s in report.get("validation_status", []) or []]
    detail = f"signed manifest by {', '.join(generators) or 'unknown'}; validation {state}"
    if problems:
        detail += f" ({', '.join(problems)})"
    return ManifestFinding(True, "talkinghead" in generators and state != "Invalid", detail, video_id)
