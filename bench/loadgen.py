"""A lean HTTP/1.1 keep-alive load generator on asyncio streams, for loopback benchmarks.

httpx costs about as much CPU per request as a cached api answer, and both share this machine's
two cores; raw streams leave the cores to the server under test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bench.common import median


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    writer.write(head + body)
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return int(status_line.split()[1])


def request_bytes(method: str, path: str, port: int, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def load(
    port: int,
    make: Callable[[int], tuple[bytes, bytes]],
    seconds: float,
    concurrency: int,
    warm_s: float = 1.0,
    ok: tuple[int, ...] = (200, 201, 204),
) -> dict[str, float]:
    """`concurrency` connections each sending `make(n)` (head, body) back to back for `seconds`."""
    latencies: list[float] = []
    errors = 0
    sent = 0  # warm-up included: what the server did in all

    async def slot(i: int) -> None:
        nonlocal errors, sent
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = i
        try:
            for until, record in ((time.perf_counter() + warm_s, False), (None, True)):
                if until is None:
                    await started.wait()
                    until = began + seconds
                while time.perf_counter() < until:
                    head, body = make(n)
                    n += concurrency
                    t0 = time.perf_counter()
                    status = await _request(reader, writer, head, body)
                    sent += 1
                    if record:
                        latencies.append((time.perf_counter() - t0) * 1000)
                        errors += status not in ok
        finally:
            writer.close()

    started = asyncio.Event()
    began = 0.0

    async def starter() -> None:
        nonlocal began
        await asyncio.sleep(warm_s)
        began = time.perf_counter()
        started.set()

    await asyncio.gather(starter(), *(slot(i) for i in range(concurrency)))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "qps": round(len(latencies) / elapsed, 1),
        "p50_ms": median(latencies),
        "p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))], 3) if ordered else float("nan"),
        "errors": errors,
        "sent": sent,
    }
