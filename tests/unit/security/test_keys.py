"""The local key file: created 0600, refused when others may read it, versions kept on rotation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mocki.security.keys import (
    KIND_TRANSIT,
    KeyUnavailable,
    LocalKeyFile,
    UnwrapFailed,
    WrappedKey,
    key_file_path,
    key_provider,
)
from mocki.settings import KeySettings, Settings

DATA_KEY = bytes(range(32))


def test_key_file_is_created_owner_only(tmp_path: Path) -> None:
    provider = LocalKeyFile(tmp_path / "keys" / "kek.json")
    wrapped = provider.wrap(DATA_KEY)
    assert os.stat(provider.path).st_mode & 0o777 == 0o600
    assert wrapped.version == 1
    assert DATA_KEY not in wrapped.blob
    assert provider.unwrap(wrapped) == DATA_KEY


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "kek.json"
    LocalKeyFile(path).wrap(DATA_KEY)
    path.chmod(mode)
    with pytest.raises(KeyUnavailable, match="chmod 600"):
        LocalKeyFile(path).wrap(DATA_KEY)


def test_a_missing_file_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(KeyUnavailable):
        LocalKeyFile(tmp_path / "kek.json", create=False).current_version()


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps({"current": 2, "keys": {"1": "AAAA"}}).encode())
    os.close(fd)
    with pytest.raises(KeyUnavailable, match="damaged"):
        LocalKeyFile(path).current_version()


def test_rotation_keeps_old_versions_unwrappable(tmp_path: Path) -> None:
    provider = LocalKeyFile(tmp_path / "kek.json")
    old = provider.wrap(DATA_KEY)
    assert provider.rotate() == 2
    new = provider.wrap(DATA_KEY)
    assert (old.version, new.version) == (1, 2)
    assert provider.unwrap(old) == DATA_KEY
    assert provider.unwrap(new) == DATA_KEY
    assert os.stat(provider.path).st_mode & 0o777 == 0o600


def test_rewrap_moves_a_key_to_the_current_version(tmp_path: Path) -> None:
    provider = LocalKeyFile(tmp_path / "kek.json")
    old = provider.wrap(DATA_KEY)
    provider.rotate()
    moved = provider.rewrap(old)
    assert moved.version == 2
    assert moved.blob != old.blob
    assert provider.unwrap(moved) == DATA_KEY
    assert provider.rewrap(moved) is moved


def test_another_process_sees_a_rotation_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    running, rotating = LocalKeyFile(path), LocalKeyFile(path)
    assert running.wrap(DATA_KEY).version == 1
    rotating.rotate()
    wrapped = running.wrap(DATA_KEY)
    assert wrapped.version == 2
    assert rotating.unwrap(wrapped) == DATA_KEY


def test_tampered_unknown_or_foreign_wrapped_keys_are_refused(tmp_path: Path) -> None:
    provider = LocalKeyFile(tmp_path / "kek.json")
    wrapped = provider.wrap(DATA_KEY)
    flipped = WrappedKey(wrapped.kind, wrapped.version, wrapped.blob[:-1] + bytes([wrapped.blob[-1] ^ 1]))
    with pytest.raises(UnwrapFailed, match="tampered"):
        provider.unwrap(flipped)
    with pytest.raises(UnwrapFailed, match="version 7"):
        provider.unwrap(WrappedKey(wrapped.kind, 7, wrapped.blob))
    # The version is bound into the wrapping: relabelling a key's version does not unwrap it.
    provider.rotate()
    with pytest.raises(UnwrapFailed):
        provider.unwrap(WrappedKey(wrapped.kind, 2, wrapped.blob))
    with pytest.raises(UnwrapFailed, match="another key provider"):
        provider.unwrap(WrappedKey(KIND_TRANSIT, 1, wrapped.blob))
    with pytest.raises(UnwrapFailed):
        LocalKeyFile(tmp_path / "other.json").unwrap(wrapped)


def test_settings_choose_the_provider(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert key_file_path(settings) == tmp_path / "keys" / "kek.json"
    provider = key_provider(settings)
    assert isinstance(provider, LocalKeyFile)
    assert key_provider(settings) is provider
    transit = Settings(data_dir=tmp_path, keys=KeySettings(provider="transit"))
    with pytest.raises(KeyUnavailable, match="VAULT_URL"):
        key_provider(transit)


def test_processes_creating_the_file_together_all_use_the_first_one(tmp_path: Path) -> None:
    path = tmp_path / "kek.json"
    first, second = LocalKeyFile(path), LocalKeyFile(path)
    wrapped = first.wrap(DATA_KEY)
    second._stamp = None  # as if it had found no file an instant before the first wrote it
    second._load_or_create()
    assert second.unwrap(wrapped) == DATA_KEY
    assert [p.name for p in tmp_path.iterdir()] == ["kek.json"]
