"""Key-encryption keys: wrap and unwrap AES-256 data keys, by key version, for envelope encryption.

Two providers behind one Protocol: `LocalKeyFile` (the default: a 0600 JSON file of versioned
keys under the data dir) and `TransitKeyProvider` (Vault/OpenBao Transit through `hvac`; the
key never leaves the server). Rotation adds a version and keeps the old ones, so what was wrapped
before stays unwrappable while `mocki keys rotate` re-wraps it onto the new one.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mocki.settings import KeySettings, Settings

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
KIND_LOCAL = 1
KIND_TRANSIT = 2


class KeyProviderError(Exception):
    """Base of the key errors; the message says what to do."""


class KeyUnavailable(KeyProviderError):
    """The key provider cannot be used: no readable key file, or the Transit server refuses."""


class UnwrapFailed(KeyProviderError):
    """A wrapped data key does not unwrap: unknown key version, wrong provider, or tampered."""


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under key version `version` of the provider of kind `kind`."""

    kind: int
    version: int
    blob: bytes


class KeyProvider(Protocol):
    kind: int

    def current_version(self) -> int: ...

    def wrap(self, data_key: bytes) -> WrappedKey: ...

    def unwrap(self, wrapped: WrappedKey) -> bytes: ...

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        """The same data key wrapped under the current version, without the caller seeing it."""
        ...

    def rotate(self) -> int:
        """Add a key version, make it current and return it; older versions keep unwrapping."""
        ...


def _check_kind(provider: KeyProvider, wrapped: WrappedKey) -> None:
    if wrapped.kind != provider.kind:
        raise UnwrapFailed(
            "This data key was wrapped by another key provider than the configured one "
            f"(kind {wrapped.kind}, configured {provider.kind}); set MOCKI_KEYS__PROVIDER back."
        )


# --- local key file -------------------------------------------------------------------------------


class LocalKeyFile:
    """Versioned 256-bit keys in a JSON file only its owner may read: {"current": n, "keys": {...}}.

    The file is re-read when it changed on disk, so a rotation by `mocki keys rotate` is seen by
    running processes without a restart (they wrap with the new version from their next call).
    """

    kind = KIND_LOCAL

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self._create = create
        self._lock = Lock()
        self._stamp: tuple[int, int] | None = None
        self._current = 0
        self._keys: dict[int, bytes] = {}

    def current_version(self) -> int:
        self._refresh()
        return self._current

    def wrap(self, data_key: bytes) -> WrappedKey:
        self._refresh()
        return self._wrap_with(self._current, data_key)

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        _check_kind(self, wrapped)
        key = self._key(wrapped.version)
        blob = wrapped.blob
        try:
            return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _wrap_ad(wrapped.version))
        except InvalidTag as exc:
            raise UnwrapFailed(
                "A wrapped data key does not unwrap under its key version (tampered?)."
            ) from exc

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        self._refresh()
        if wrapped.kind == self.kind and wrapped.version == self._current:
            return wrapped
        return self._wrap_with(self._current, self.unwrap(wrapped))

    def rotate(self) -> int:
        with self._lock:
            self._load_or_create()
            version = max(self._keys) + 1
            keys = {**self._keys, version: AESGCM.generate_key(bit_length=256)}
            _write_key_file(self.path, version, keys)
            self._stamp = None
        return self.current_version()

    def _wrap_with(self, version: int, data_key: bytes) -> WrappedKey:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError("a data key is 32 bytes (AES-256)")
        nonce = os.urandom(NONCE_BYTES)
        blob = nonce + AESGCM(self._keys[version]).encrypt(nonce, data_key, _wrap_ad(version))
        return WrappedKey(self.kind, version, blob)

    def _key(self, version: int) -> bytes:
        self._refresh()
        if version not in self._keys:
            raise UnwrapFailed(f"Key version {version} is not in the key file {self.path}.")
        return self._keys[version]

    def _refresh(self) -> None:
        with self._lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                st = None
            if st is not None and self._stamp == (st.st_mtime_ns, st.st_ino):
                return
            self._load_or_create()

    def _load_or_create(self) -> None:
        if not self.path.exists():
            if not self._create:
                raise KeyUnavailable(f"No key file at {self.path}.")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _write_key_file(self.path, 1, {1: AESGCM.generate_key(bit_length=256)}, exclusive=True)
        st = _check_permissions(self.path)
        current, keys = _parse_key_file(self.path)
        self._current, self._keys, self._stamp = current, keys, (st.st_mtime_ns, st.st_ino)


def _wrap_ad(version: int) -> bytes:
    return b"mocki/kek/v%d" % version


def _check_permissions(path: Path) -> os.stat_result:
    st = path.stat()
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyUnavailable(
            f"The key file {path} is readable or writable by others (mode {stat.S_IMODE(st.st_mode):o}); "
            f"refusing to use it. Run: chmod 600 {path}"
        )
    return st


def _parse_key_file(path: Path) -> tuple[int, dict[int, bytes]]:
    try:
        data = json.loads(path.read_text())
        keys = {int(v): base64.b64decode(k) for v, k in data["keys"].items()}
        current = int(data["current"])
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyUnavailable(f"The key file {path} is not a MOCKI key file.") from exc
    if current not in keys or any(len(k) != DATA_KEY_BYTES for k in keys.values()):
        raise KeyUnavailable(f"The key file {path} is damaged (current version missing or bad key).")
    return current, keys


def _write_key_file(path: Path, current: int, keys: dict[int, bytes], *, exclusive: bool = False) -> None:
    """Write atomically with mode 0600 from the first byte (never a moment of a readable file).

    `exclusive`: only if no file is there yet; processes starting together (api, workers) then
    all read the one that won, never a half-written file."""
    text = json.dumps(
        {"current": current, "keys": {str(v): base64.b64encode(k).decode() for v, k in keys.items()}}
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    if not exclusive:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


# --- Vault / OpenBao Transit ----------------------------------------------------------------------

_TRANSIT_VERSION = re.compile(r"^(?:vault|bao):v(\d+):")


class TransitKeyProvider:
    """Data keys wrapped by a named Transit key (aes256-gcm96); the key-encryption key stays there."""

    kind = KIND_TRANSIT

    def __init__(self, url: str, token: str, key_name: str, mount_point: str = "transit") -> None:
        import hvac  # type: ignore[import-untyped]

        self._client: Any = hvac.Client(url=url, token=token, timeout=10)
        self.key_name = key_name
        self.mount_point = mount_point
        self._ready = False

    def current_version(self) -> int:
        self._ensure_key()
        data = self._call("read_key", name=self.key_name)
        return int(data["latest_version"])

    def wrap(self, data_key: bytes) -> WrappedKey:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError("a data key is 32 bytes (AES-256)")
        self._ensure_key()
        plaintext = base64.b64encode(data_key).decode()
        data = self._call("encrypt_data", name=self.key_name, plaintext=plaintext)
        return self._wrapped(data["ciphertext"])

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        _check_kind(self, wrapped)
        data = self._call("decrypt_data", name=self.key_name, ciphertext=wrapped.blob.decode(), unwrap=True)
        return base64.b64decode(data["plaintext"])

    def rewrap(self, wrapped: WrappedKey) -> WrappedKey:
        _check_kind(self, wrapped)
        data = self._call("rewrap_data", name=self.key_name, ciphertext=wrapped.blob.decode(), unwrap=True)
        return self._wrapped(data["ciphertext"])

    def rotate(self) -> int:
        self._ensure_key()
        self._call("rotate_key", name=self.key_name)
        return self.current_version()

    def _wrapped(self, ciphertext: str) -> WrappedKey:
        match = _TRANSIT_VERSION.match(ciphertext)
        if match is None:
            raise KeyUnavailable("The Transit server answered a ciphertext in an unknown format.")
        return WrappedKey(self.kind, int(match.group(1)), ciphertext.encode())

    def _ensure_key(self) -> None:
        if self._ready:
            return
        # Idempotent on the server: creating an existing key leaves it as it is.
        self._call("create_key", name=self.key_name, key_type="aes256-gcm96")
        self._ready = True

    def _call(self, method: str, *, unwrap: bool = False, **kwargs: Any) -> dict[str, Any]:
        import hvac.exceptions  # type: ignore[import-untyped]
        import requests

        try:
            response = getattr(self._client.secrets.transit, method)(mount_point=self.mount_point, **kwargs)
        except (hvac.exceptions.InvalidRequest, hvac.exceptions.InvalidPath) as exc:
            if unwrap:
                raise UnwrapFailed(f"Transit refused to unwrap a data key: {_first_error(exc)}") from exc
            raise KeyUnavailable(f"Transit refused {method}: {_first_error(exc)}") from exc
        except (hvac.exceptions.VaultError, requests.RequestException) as exc:
            raise KeyUnavailable(
                f"The Transit server is unavailable ({method}): {_first_error(exc)}"
            ) from exc
        if not isinstance(response, dict):  # create_key/rotate_key answer 204 or the key on newer servers
            return {}
        data: dict[str, Any] = response.get("data") or {}
        return data


def _first_error(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    return str(errors[0]) if errors else str(exc) or type(exc).__name__


# --- factory --------------------------------------------------------------------------------------


def key_file_path(settings: Settings) -> Path:
    return Path(settings.keys.key_file) if settings.keys.key_file else settings.data_dir / "keys" / "kek.json"


_providers: dict[tuple[Any, ...], KeyProvider] = {}
_providers_lock = Lock()


def key_provider(settings: Settings) -> KeyProvider:
    """The configured provider, one per configuration per process (it caches keys and a client)."""
    keys: KeySettings = settings.keys
    ident: tuple[Any, ...]
    if keys.provider == "transit":
        ident = (
            "transit",
            keys.vault_url,
            keys.vault_token.get_secret_value(),
            keys.transit_key,
            keys.transit_mount,
        )
    else:
        ident = ("local", str(key_file_path(settings).resolve()))
    with _providers_lock:
        if ident not in _providers:
            _providers[ident] = _build(settings)
        return _providers[ident]


def _build(settings: Settings) -> KeyProvider:
    keys = settings.keys
    if keys.provider == "transit":
        token = keys.vault_token.get_secret_value()
        if not keys.vault_url or not token:
            raise KeyUnavailable(
                "MOCKI_KEYS__PROVIDER=transit needs MOCKI_KEYS__VAULT_URL and __VAULT_TOKEN."
            )
        return TransitKeyProvider(keys.vault_url, token, keys.transit_key, keys.transit_mount)
    return LocalKeyFile(key_file_path(settings))
