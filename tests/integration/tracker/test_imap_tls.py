"""IMAP over TLS against a real Dovecot with a certificate made at test time (`cryptography`): SSL
(an imaps port) and STARTTLS both work once the CA is trusted (`tracker.imap_ca_file`), an untrusted
certificate is refused with a clear 422, and so is a CA file that cannot be read."""

from __future__ import annotations

import ipaddress
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mocki.settings import Settings
from mocki.tracker import tasks
from mocki.tracker.sources import MailSource
from tests.integration.tracker import letters
from tests.integration.tracker.conftest import API, CONFIG, DOVECOT, MAIL_UID, Dovecot
from tests.support.processes import Child, free_port, port_open


@dataclass
class Pki:
    ca: Path  # the test CA's certificate (PEM): what `imap_ca_file` trusts
    cert: Path
    key: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


CA_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
    key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
)  # fmt: skip


def make_pki(root: Path) -> Pki:
    """A CA and a server certificate for 127.0.0.1 and localhost, signed by it."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("MOCKI test CA"))
        .issuer_name(_name("MOCKI test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(CA_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki = Pki(root / "ca.pem", root / "server.pem", root / "server.key")
    pki.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pki.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    os.chmod(pki.key, 0o600)
    return pki


@dataclass
class TlsDovecot:
    server: Dovecot
    starttls_port: int
    ssl_port: int
    pki: Pki


def _tls_config(root: Path, starttls_port: int, ssl_port: int) -> str:
    """The suite's Dovecot, but TLS only: STARTTLS on one port, implicit TLS on another."""
    config = CONFIG.format(root=root, port=starttls_port, uid=MAIL_UID)
    config = config.replace(
        "ssl = no\n", f"ssl = required\nssl_cert = <{root}/server.pem\nssl_key = <{root}/server.key\n"
    )
    config = config.replace("disable_plaintext_auth = no\n", "disable_plaintext_auth = yes\n")
    return config.replace(
        "  inet_listener imaps {\n    port = 0\n  }",
        f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {ssl_port}\n    ssl = yes\n  }}",
    )


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[TlsDovecot]:
    if not Path(DOVECOT).exists():
        pytest.skip("Dovecot is not installed (Debian package dovecot-imapd)")
    if os.geteuid() != 0:
        pytest.skip("the Dovecot fixture starts the server as root (it drops to 'nobody' for mail)")
    root = Path(tempfile.mkdtemp(prefix="mocki-dovecot-tls-"))
    os.chmod(root, 0o755)
    (root / "mail").mkdir()
    (root / "users").mkdir()
    pki = make_pki(root)
    starttls_port, ssl_port = free_port(), free_port()
    (root / "dovecot.conf").write_text(_tls_config(root, starttls_port, ssl_port))
    child = Child(
        [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], env=dict(os.environ), log=root / "stdout.log"
    )
    child.wait_until(lambda: port_open(starttls_port) and port_open(ssl_port), 30, "dovecot (TLS)")
    try:
        yield TlsDovecot(Dovecot(root, starttls_port, child), starttls_port, ssl_port, pki)
    finally:
        child.stop()
        shutil.rmtree(root, ignore_errors=True)


def _body(server: TlsDovecot, security: str, user: str, password: str) -> dict[str, Any]:
    port = server.ssl_port if security == "ssl" else server.starttls_port
    return {"host": "127.0.0.1", "port": port, "security": security, "username": user, "password": password}


def _trusting(app: Any, ca: Path | str) -> None:
    """The running app's settings with `imap_ca_file` set (what MOCKI_TRACKER__IMAP_CA_FILE does)."""
    current: Settings = app.state.settings
    tracker = current.tracker.model_copy(update={"imap_ca_file": str(ca)})
    app.state.settings = current.model_copy(update={"tracker": tracker})


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_tls_sign_in_and_sync_with_the_ca_trusted(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], tls_dovecot: TlsDovecot, security: str
) -> None:
    user, password = tls_dovecot.server.add_user()
    tls_dovecot.server.deliver(user, [letters.ACME_APPLIED, letters.ACME_INTERVIEW])
    _trusting(app, tls_dovecot.pki.ca)

    resp = await client.post(
        f"{API}/accounts/imap", headers=auth, json=_body(tls_dovecot, security, user, password)
    )
    assert resp.status_code == 201, resp.text

    # The sync task's own source (tasks.open_source) reads the mailbox over the same TLS path.
    resp = await client.post(f"{API}/accounts/{resp.json()['id']}/sync", headers=auth)
    assert resp.status_code == 202, resp.text
    sync_id = uuid.UUID(resp.json()["id"])
    opened: list[MailSource] = []

    def source(job: Any, settings: Settings) -> MailSource:
        opened.append(tasks.open_source(job, settings))
        return opened[-1]

    result = await tasks.sync_once(
        app.state.sessionmaker, app.state.settings, sync_id, lambda *_: None, source_factory=source
    )
    assert result == "fetched" and len(opened) == 1
    sync = (await client.get(f"{API}/syncs/{sync_id}", headers=auth)).json()
    assert (sync["fetched"], sync["stored"], sync["error"]) == (2, 2, None), sync


@pytest.mark.parametrize("security", ["ssl", "starttls"])
async def test_an_untrusted_certificate_is_a_clear_422(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], tls_dovecot: TlsDovecot, security: str
) -> None:
    user, password = tls_dovecot.server.add_user()
    resp = await client.post(
        f"{API}/accounts/imap", headers=auth, json=_body(tls_dovecot, security, user, password)
    )
    assert resp.status_code == 422, resp.text
    error = resp.json()["error"]
    assert error["code"] == "mail_account_unusable"
    assert "TLS certificate that cannot be trusted" in error["message"]
    assert "certificate" in error["message"] and "MOCKI_TRACKER__IMAP_CA_FILE" in error["message"]


async def test_a_missing_ca_file_is_explained(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], tls_dovecot: TlsDovecot
) -> None:
    user, password = tls_dovecot.server.add_user()
    _trusting(app, "/nonexistent/ca.pem")
    resp = await client.post(
        f"{API}/accounts/imap", headers=auth, json=_body(tls_dovecot, "ssl", user, password)
    )
    assert resp.status_code == 422, resp.text
    assert "CA file '/nonexistent/ca.pem' could not be read" in resp.json()["error"]["message"]
