"""What every mail source gives a sync: batches of raw messages, each with the cursor to store with it.

A sync stores a batch's new emails and the batch's cursor in one transaction, so a sync killed
half-way resumes after the last stored batch and never skips a message (duplicates are dropped
by Message-ID). Sources are synchronous: they run in a Celery io worker, which may block.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mocki.tracker.parsing import upload_messages


class MailSourceError(Exception):
    """The source cannot be read (wrong password, unreachable server, revoked grant); the message is
    for the user."""


@dataclass(frozen=True)
class RawMessage:
    ref: str  # where it came from: "INBOX:1700000000:42", a Gmail id, "file.mbox#3"
    data: bytes | None  # None when it was not fetched (see `problem`)
    received_at: datetime | None = None
    problem: str | None = None


@dataclass
class Batch:
    messages: list[RawMessage]
    cursor: dict[str, Any]  # the account's cursor once this batch is stored
    total: int | None = None  # how many messages this sync reads, once known
    credentials: dict[str, Any] | None = field(default=None)  # refreshed tokens to store, if any


class MailSource(Protocol):
    def batches(self, cursor: dict[str, Any]) -> Iterator[Batch]: ...

    def close(self) -> None: ...


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class UploadSource:
    """The messages of an uploaded .eml or .mbox file.

    Every upload of a user shares one account, so the cursor names the sync it belongs to: a
    resumed sync goes on from its own position, any other starts at the first message."""

    def __init__(self, filename: str, data: bytes, *, sync_id: str, batch_size: int, max_bytes: int) -> None:
        self.filename, self.data, self.sync_id = filename, data, sync_id
        self.batch_size, self.max_bytes = batch_size, max_bytes

    def batches(self, cursor: dict[str, Any]) -> Iterator[Batch]:
        messages = [
            RawMessage(ref, None, problem=f"larger than {self.max_bytes} bytes")
            if len(raw) > self.max_bytes
            else RawMessage(ref, raw)
            for ref, raw in upload_messages(self.filename, self.data)
        ]
        done = int(cursor.get("done", 0)) if cursor.get("sync") == self.sync_id else 0
        for start in range(done, len(messages), self.batch_size):
            part = messages[start : start + self.batch_size]
            yield Batch(part, {"sync": self.sync_id, "done": start + len(part)}, total=len(messages))

    def close(self) -> None:
        self.data = b""
