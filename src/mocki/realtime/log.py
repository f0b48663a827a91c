"""Per-room sequence numbers and a bounded per-room event log in Redis, for resuming clients.

One Lua script numbers an event and appends it, so two api processes and a worker emitting to
the same room at once never share a number and the log is always in number order. The log is a
Redis stream whose entry ids are `<seq>-0`, so "everything after seq N" is one XRANGE. Both keys
of a room share a hash tag, so the script also runs on Redis Cluster.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

# Events a room keeps for resuming clients: several interviews' worth of transcript lines.
MAX_EVENTS = 2000
# A room idle this long is forgotten; a client coming back later reloads the interview over REST.
TTL_MS = 24 * 3600 * 1000

_APPEND = """
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], seq .. '-0', 'e', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return seq
"""


@dataclass(frozen=True)
class LoggedEvent:
    seq: int
    event: str
    data: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"event": self.event, "data": self.data}


@dataclass(frozen=True)
class Missed:
    """What a client missed after `after_seq`: the events in order, the room's last number, and
    whether the log still held all of them (False: some were trimmed; reload over REST)."""

    events: list[LoggedEvent]
    last_seq: int
    complete: bool


def _keys(interview_id: uuid.UUID | str) -> tuple[str, str]:
    tag = f"{{room:{interview_id}}}"
    return f"mocki:{tag}:seq", f"mocki:{tag}:log"


def envelope(interview_id: uuid.UUID | str, seq: int, data: dict[str, Any]) -> dict[str, Any]:
    """The payload a client receives: the event's fields, its room and its number."""
    return {**data, "interview_id": str(interview_id), "seq": seq}


class RoomLog:
    def __init__(self, redis: Redis[bytes], max_events: int = MAX_EVENTS, ttl_ms: int = TTL_MS) -> None:
        self.redis = redis
        self.max_events = max_events
        self.ttl_ms = ttl_ms
        self._append = redis.register_script(_APPEND)

    async def append(self, interview_id: uuid.UUID | str, event: str, data: dict[str, Any]) -> int:
        """Number the event and keep it; returns its sequence number."""
        body = json.dumps(data, default=str, separators=(",", ":"), ensure_ascii=False)
        seq = await self._append(
            keys=list(_keys(interview_id)), args=[self.max_events, event, body, self.ttl_ms]
        )
        return int(seq)

    async def last_seq(self, interview_id: uuid.UUID | str) -> int:
        value = await self.redis.get(_keys(interview_id)[0])
        return int(value) if value is not None else 0

    async def since(self, interview_id: uuid.UUID | str, after_seq: int) -> Missed:
        seq_key, log_key = _keys(interview_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.get(seq_key)
            # Exclusive start: the entry `after_seq-0` itself is not missed.
            pipe.xrange(log_key, min=f"({after_seq}-0", max="+")
            raw_last, entries = await pipe.execute()
        last = int(raw_last) if raw_last is not None else 0
        events = [_decode(interview_id, entry_id, fields) for entry_id, fields in entries]
        wanted = max(0, last - after_seq)
        return Missed(events=events, last_seq=last, complete=after_seq <= last and len(events) == wanted)

    async def forget(self, interview_id: uuid.UUID | str) -> None:
        await self.redis.delete(*_keys(interview_id))


def _decode(interview_id: uuid.UUID | str, entry_id: bytes | str, fields: dict[Any, Any]) -> LoggedEvent:
    ident = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    seq = int(ident.split("-", 1)[0])
    values = {(k.decode() if isinstance(k, bytes) else k): v for k, v in fields.items()}
    event = values["e"].decode() if isinstance(values["e"], bytes) else values["e"]
    data = json.loads(values["d"])
    return LoggedEvent(seq=seq, event=event, data=envelope(interview_id, seq, data))
