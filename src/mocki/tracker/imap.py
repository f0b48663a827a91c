"""IMAP mailboxes through imapclient: SSL, STARTTLS or plain (tests, local bridges), app passwords,
folder and date filters, incremental by UID.

The cursor keeps each folder's UIDVALIDITY and the highest UID stored. A new sync searches
`UID last+1:*` only; when the server's UIDVALIDITY changed (the folder was rebuilt) the folder is
read again from the start, and Message-ID dedupe keeps that harmless. Messages are fetched with
BODY.PEEK[] so nothing is marked as read.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from imapclient import IMAPClient  # type: ignore[import-untyped]
from imapclient.exceptions import IMAPClientError, LoginError  # type: ignore[import-untyped]

from mocki.tracker.sources import Batch, MailSourceError, RawMessage, chunks

Security = Literal["ssl", "starttls", "none"]
_NETWORK_ERRORS = (OSError, socket.timeout, ssl.SSLError, IMAPClientError)


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    security: Security = "ssl"
    folders: list[str] = field(default_factory=lambda: ["INBOX"])
    since: date | None = None

    @classmethod
    def from_account(cls, config: dict[str, Any], username: str) -> ImapConfig:
        since = config.get("since")
        return cls(
            host=str(config["host"]),
            port=int(config["port"]),
            username=username,
            security=config.get("security", "ssl"),
            folders=list(config.get("folders") or ["INBOX"]),
            since=date.fromisoformat(since) if since else None,
        )


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Certificates checked against the system's CAs, plus those in `ca_file` (PEM) when given."""
    context = ssl.create_default_context()
    if ca_file:
        try:
            context.load_verify_locations(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise MailSourceError(f"The IMAP CA file {ca_file!r} could not be read: {exc}") from exc
    return context


def _untrusted(config: ImapConfig, exc: ssl.SSLCertVerificationError) -> MailSourceError:
    reason = exc.verify_message or str(exc)
    return MailSourceError(
        f"The IMAP server {config.host}:{config.port} presented a TLS certificate that cannot be trusted "
        f"({reason}). Use the server's proper host name, or, for a server with its own certificate "
        "authority, ask the operator to set MOCKI_TRACKER__IMAP_CA_FILE."
    )


def connect(
    config: ImapConfig, password: str, *, timeout_s: float, ssl_context: ssl.SSLContext | None = None
) -> IMAPClient:
    """A logged-in client, or MailSourceError with what went wrong in words."""
    context = ssl_context or ssl.create_default_context()
    try:
        client = IMAPClient(
            config.host,
            port=config.port,
            ssl=config.security == "ssl",
            ssl_context=context,
            timeout=timeout_s,
        )
    except ssl.SSLCertVerificationError as exc:
        raise _untrusted(config, exc) from exc
    except _NETWORK_ERRORS as exc:
        raise MailSourceError(f"Could not reach the IMAP server {config.host}:{config.port}: {exc}") from exc
    try:
        if config.security == "starttls":
            client.starttls(context)
        client.login(config.username, password)
    except ssl.SSLCertVerificationError as exc:
        _logout(client)
        raise _untrusted(config, exc) from exc
    except LoginError as exc:
        plain_refused = config.security == "none" and _login_disabled(client)
        _logout(client)
        if plain_refused:
            raise MailSourceError(
                f"The IMAP server {config.host} accepts sign-in only over TLS: use security ssl or starttls."
            ) from exc
        raise MailSourceError(
            "The IMAP server refused the user name or password (for Gmail and Outlook, use an app password)."
        ) from exc
    except _NETWORK_ERRORS as exc:
        _logout(client)
        raise MailSourceError(f"The IMAP server {config.host} failed during sign-in: {exc}") from exc
    # Dates come back timezone-aware instead of converted to this machine's local time.
    client.normalise_times = False
    return client


def _login_disabled(client: IMAPClient) -> bool:
    """The server announced LOGINDISABLED: no sign-in before STARTTLS."""
    try:
        return b"LOGINDISABLED" in client.capabilities()
    except Exception:  # a dying connection: the generic message will do
        return False


def _logout(client: IMAPClient) -> None:
    # Closing a broken connection may fail too; there is nothing to save.
    with contextlib.suppress(Exception):
        client.logout()


def check_account(
    config: ImapConfig, password: str, *, timeout_s: float, ssl_context: ssl.SSLContext | None = None
) -> list[str]:
    """Sign in and check the folders exist; returns the folders on the server."""
    client = connect(config, password, timeout_s=timeout_s, ssl_context=ssl_context)
    try:
        names = [name for _flags, _delimiter, name in client.list_folders()]
    except _NETWORK_ERRORS as exc:
        raise MailSourceError(f"Could not list the folders on {config.host}: {exc}") from exc
    finally:
        _logout(client)
    missing = [f for f in config.folders if f not in names]
    if missing:
        raise MailSourceError(
            f"No such folder on the server: {', '.join(missing)} (it has: {', '.join(names[:20])})."
        )
    return [str(name) for name in names]


class ImapSource:
    def __init__(
        self,
        config: ImapConfig,
        password: str,
        *,
        batch_size: int,
        max_bytes: int,
        timeout_s: float,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.batch_size, self.max_bytes = batch_size, max_bytes
        self.client = connect(config, password, timeout_s=timeout_s, ssl_context=ssl_context)

    def batches(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        folders: dict[str, Any] = dict(cursor.get("folders") or {})
        plan = [(folder, *self._new_uids(folder, folders.get(folder))) for folder in self.config.folders]
        total = sum(len(uids) for _folder, _validity, uids in plan)
        for folder, validity, uids in plan:
            if not uids:
                folders[folder] = {
                    "uidvalidity": validity,
                    "last_uid": folders.get(folder, {}).get("last_uid", 0),
                }
                continue
            self._select(folder)
            for part in chunks(uids, self.batch_size):
                messages = self._fetch(folder, validity, part)
                folders[folder] = {"uidvalidity": validity, "last_uid": max(part)}
                yield Batch(messages, {"folders": dict(folders)}, total=total)
        if not any(uids for _f, _v, uids in plan):
            yield Batch([], {"folders": folders}, total=0)

    def _select(self, folder: str) -> int:
        try:
            info = self.client.select_folder(folder, readonly=True)
        except _NETWORK_ERRORS as exc:
            raise MailSourceError(f"Could not open the folder {folder!r}: {exc}") from exc
        return int(info[b"UIDVALIDITY"])

    def _new_uids(self, folder: str, state: dict[str, Any] | None) -> tuple[int, list[int]]:
        validity = self._select(folder)
        last = int(state["last_uid"]) if state and int(state.get("uidvalidity", -1)) == validity else 0
        criteria: list[Any] = ["UID", f"{last + 1}:*"]
        if last == 0 and self.config.since:
            criteria += ["SINCE", self.config.since]
        try:
            found = self.client.search(criteria)
        except _NETWORK_ERRORS as exc:
            raise MailSourceError(f"Searching {folder!r} failed: {exc}") from exc
        # "last+1:*" always matches the newest message, even when it is older than last+1.
        return validity, sorted(uid for uid in found if uid > last)

    def _fetch(self, folder: str, validity: int, uids: list[int]) -> list[RawMessage]:
        try:
            sizes = self.client.fetch(uids, ["RFC822.SIZE"])
            small = [uid for uid in uids if int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0)) <= self.max_bytes]
            data = self.client.fetch(small, ["BODY.PEEK[]", "INTERNALDATE"]) if small else {}
        except _NETWORK_ERRORS as exc:
            raise MailSourceError(f"Fetching messages from {folder!r} failed: {exc}") from exc
        out: list[RawMessage] = []
        for uid in uids:
            ref = f"{folder}:{validity}:{uid}"
            if uid not in sizes:
                continue  # deleted since the search
            if uid not in data:
                out.append(RawMessage(ref, None, problem=f"larger than {self.max_bytes} bytes"))
                continue
            item = data[uid]
            received = item.get(b"INTERNALDATE")
            out.append(
                RawMessage(
                    ref,
                    bytes(item.get(b"BODY[]") or b""),
                    received if isinstance(received, datetime) else None,
                )
            )
        return out

    def close(self) -> None:
        _logout(self.client)
