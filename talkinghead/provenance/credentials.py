"""C2PA content credentials: every MP4 carries a signed manifest saying an AI tool made it.

Who signs:

- an organisation's certificate, when two environment variables name it: ``TALKINGHEAD_C2PA_CERT`` (PEM
  chain, signer first, then its CA) and ``TALKINGHEAD_C2PA_KEY`` (the signer's PKCS#8 PEM key, ES256/P-256);
- otherwise the installation's own key: made once, on the first render, under the user's config directory
  (``$XDG_CONFIG_HOME/talkinghead/c2pa``, by default ``~/.config/talkinghead/c2pa``; ``TALKINGHEAD_CONFIG_DIR``
  moves it): a local CA and an ES256 signer it issues, the folder mode 0700 and the keys 0600. Verifiers
  report such a signer as untrusted (no CA on the C2PA trust list issued it), yet the manifest still says,
  signed, that the file is AI-generated, by which tool and with which id, and that it was not altered.

Everything is offline (no time stamp authority). When the key cannot be made (a read-only home, no
c2pa-python) the render still works, without a manifest, and says so in one line. A manifest only lasts as
long as the file is not re-encoded: the watermark carries the load after that.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from talkinghead import __version__
from talkinghead.errors import TalkingHeadError

CERT_ENV, KEY_ENV, CONFIG_ENV = "TALKINGHEAD_C2PA_CERT", "TALKINGHEAD_C2PA_KEY", "TALKINGHEAD_CONFIG_DIR"
AI_SOURCE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CHAIN_FILE, KEY_FILE = "chain.pem", "signer.key"
INSTALLATION_SIGNER = "talkinghead installation signer"  # common name of the installation's own signer
NOT_CONFIGURED = "no C2PA content credentials added"


@dataclass(frozen=True)
class SigningConfig:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Signing:
    """How this render is signed: ``config`` None means no manifest, and ``note`` says why in one line."""

    config: SigningConfig | None
    note: str | None = None


def config_dir() -> Path:
    """talkinghead's folder under the user's config directory."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "talkinghead"


def configured_signer() -> SigningConfig | None:
    """The organisation's key and certificate named by the environment, or None when none is named."""
    cert, key = os.environ.get(CERT_ENV, ""), os.environ.get(KEY_ENV, "")
    if not cert and not key:
        return None
    if not (cert and key):
        raise TalkingHeadError(f"set both {CERT_ENV} and {KEY_ENV} for C2PA signing (or neither)")
    for name, value in ((CERT_ENV, cert), (KEY_ENV, key)):
        if not Path(value).is_file():
            raise TalkingHeadError(f"{name}={value} is not a readable file")
    return SigningConfig(Path(cert), Path(key))


def signing_config() -> Signing:
    """Who signs this render: the configured certificate, else the installation's key (made on first use).

    Raises `TalkingHeadError` only for a half or wrong configuration; a key that cannot be made gives a
    `Signing` without config and a note.
    """
    configured = configured_signer()
    if configured:
        return Signing(configured)
    if _c2pa() is None:
        return Signing(None, f"{NOT_CONFIGURED}: c2pa-python is not installed")
    folder = config_dir() / "c2pa"
    try:
        return Signing(installation_signer(folder))
    except (OSError, ImportError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        return Signing(None, f"{NOT_CONFIGURED}: cannot keep a signing key in {folder} ({reason}; set "
                             f"{CONFIG_ENV} to a writable folder or {CERT_ENV}/{KEY_ENV})")


def installation_signer(folder: Path) -> SigningConfig:
    """The installation's signer in ``folder``, made there the first time: both files are written into a
    private temporary folder that is then renamed into place, so that two renders starting at once never
    pair one's certificate with the other's key."""
    chain, key = folder / CHAIN_FILE, folder / KEY_FILE
    if not (chain.is_file() and key.is_file()):
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".c2pa-"))  # mode 0700
        try:
            for name, data in zip((CHAIN_FILE, KEY_FILE), _new_signer(), strict=True):
                handle = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
            try:
                os.rename(staging, folder)
            except OSError:
                if not (chain.is_file() and key.is_file()):  # not another render that made it first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return SigningConfig(chain, key)


def _new_signer() -> tuple[bytes, bytes]:
    """A local CA and an ES256 signer it issues (the certificate profile C2PA validators accept): the PEM
    chain (signer, then CA) and the signer's PKCS#8 key. The CA's key is not kept."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, signer_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "talkinghead (self-issued)")])

    def usage(**flags: bool) -> x509.KeyUsage:
        names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                 "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
        return x509.KeyUsage(**{n: flags.get(n, False) for n in names})

    ca_name = name("talkinghead installation CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(key_cert_sign=True, crl_sign=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    signer = (x509.CertificateBuilder().subject_name(name(INSTALLATION_SIGNER)).issuer_name(ca_name)
              .public_key(signer_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(usage(digital_signature=True), critical=True)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (signer, ca))
    key = signer_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    return chain, key


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
        os.chmod(temp, path.stat().st_mode & 0o777)  # the video keeps the permissions it was written with
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
    signer: str | None = None
    trusted: bool = False


def read_manifest(path: Path) -> ManifestFinding:
    """What C2PA manifest the file carries, who signed it and whether a verifier trusts that signer."""
    c2pa = _c2pa()
    if c2pa is None:
        return ManifestFinding(False, False, "not checked: c2pa-python is not installed")
    try:
        with c2pa.Reader(str(path)) as reader:
            report = json.loads(reader.json())
    except Exception as exc:  # c2pa raises its own error types for "no manifest" and unsupported formats
        return ManifestFinding(False, False, f"none ({str(exc).splitlines()[0][:80]})")
    active = report.get("manifests", {}).get(report.get("active_manifest", ""), {})
    generators = [g.get("name", "") for g in active.get("claim_generator_info", [])]
    video_id = next((a["data"].get("video_id") for a in active.get("assertions", [])
                     if a.get("label") == "org.talkinghead.video"), None)
    signature = active.get("signature_info", {}) or {}
    signer = signature.get("common_name") or signature.get("issuer") or "unknown"
    if signature.get("issuer") and signature.get("issuer") != signer:
        signer += f" (issued by {signature['issuer']})"
    state = report.get("validation_state", "unknown")
    problems = [s.get("code", "") for s in report.get("validation_status", []) or []]
    untrusted = any("untrusted" in code for code in problems)
    broken = [code for code in problems if "untrusted" not in code]
    valid = state != "Invalid" and not broken
    trusted = valid and not untrusted and state in ("Trusted", "Valid")
    detail = (f"signed manifest by {', '.join(generators) or 'unknown'}; signer {signer}; "
              f"{'trusted' if trusted else 'not trusted (the signer is on no trust list this reader knows)'}; "
              f"signature {'valid' if valid else 'INVALID: ' + ', '.join(broken or [state])}")
    if INSTALLATION_SIGNER in signer:
        detail += "; signed by a talkinghead installation's own key"
    return ManifestFinding(True, "talkinghead" in generators and valid, detail, video_id, signer, trusted)
