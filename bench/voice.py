"""`mocki bench voice`: voice-to-voice latency, transcript accuracy, CPU and concurrent calls.

A real `mocki api` process (SQLite, the real Redis, the local STT and TTS pools) answers WebRTC
calls from aiortc callers in this process (voice/peer.py) over UDP on loopback. Each caller
speaks the project's piper-voiced answers (voice/samples.py, trimmed to their speech) into a
voice interview and records what it hears.

- voice-to-voice: end of the caller's speech → first reply audio heard; what the pipeline adds
  on top of the model is VAD stop + end-of-turn + Whisper + the first sentence of piper. Measured
  with a fixed-reply model stand-in (an OpenAI-compatible server that streams one reply at once:
  the baseline the pipeline is judged by) and with the packaged local model.
- stages: where each answer's wait went (VAD stop, end-of-turn verdict, the last transcript, the
  turn's release, the engine, the reply's first text and audio), from the line the api logs per
  answer (voice/bridge.py), set against the caller's last word (same machine, same clock).
- WER of the stored candidate turns against the texts that were spoken.
- CPU of the api process and its model processes, per idle (connected, silent) and per active
  (answering) call, from psutil's cpu times.
- max_sessions: calls answering at the same moment, 1, 2, 3, ...; the most calls whose median
  voice-to-voice stays within twice the single call's (everyone speaking at once: the worst case).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil  # type: ignore[import-untyped]  # no stubs installed
from rich.console import Console
from rich.table import Table

from bench.abuse import ApiProcess
from bench.common import LlamaServer, median, p95
from bench.replay import bench_redis
from mocki.settings import get_settings
from mocki.voice.audio import Audio
from mocki.voice.ice import allow_loopback
from mocki.voice.peer import SPEECH_RMS, VoicePeer, signed_client
from mocki.voice.samples import SpokenAnswer, spoken_answers
from mocki.voice.tts import LocalTTS
from mocki.voice.wer import word_error_rate

PASSWORD = "correct horse battery staple"
# The stand-in's reply: two sentences, so the first can be spoken while the second streams.
STANDIN_REPLY = "Thank you, that is helpful. Could you walk me through how you measured the result?"
FIRST_AUDIO_WITHIN_S = 120.0
IDLE_WINDOW_S = 8.0
# Answers each call gives in the concurrency test: three, so one answer that Smart-Turn keeps
# open (it waits turn_silence_s) does not make a level's median on its own.
CONCURRENT_ROUNDS = 3


# ------------------------------------------------------------------------ the model stand-in


def standin_server() -> ThreadingHTTPServer:
    """An OpenAI-compatible chat endpoint that streams STANDIN_REPLY at once, word by word."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if not request.get("stream"):
                self._json(self._completion())
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            words = STANDIN_REPLY.split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else " " + word
                self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            self._event(
                {
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                    "usage": {
                        "prompt_tokens": 300,
                        "completion_tokens": len(words),
                        "total_tokens": 300 + len(words),
                    },
                }
            )
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

        def _completion(self) -> dict[str, Any]:
            message = {"role": "assistant", "content": STANDIN_REPLY}
            return {
                "id": "standin", "object": "chat.completion", "created": 0, "model": "standin",
                "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                "usage": {"prompt_tokens": 300, "completion_tokens": 20, "total_tokens": 320},
            }  # fmt: skip

        def _event(self, chunk: dict[str, Any]) -> None:
            body = {
                "id": "standin",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "standin",
            } | chunk
            self.wfile.write(f"data: {json.dumps(body)}\n\n".encode())
            self.wfile.flush()

        def _json(self, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ------------------------------------------------------------------------------ the spoken set


def trimmed(audio: Audio, frame_s: float = 0.02) -> Audio:
    """The audio without leading and trailing silence, so "end of speech" is the last word."""
    samples = audio.samples()
    step = max(1, int(audio.sample_rate * frame_s))
    frames = [samples[i : i + step] for i in range(0, len(samples), step)]
    loud = [
        i
        for i, f in enumerate(frames)
        if f.size and np.sqrt(np.mean(np.square(f.astype(np.float64)))) >= SPEECH_RMS
    ]
    if not loud:
        return audio
    kept = samples[loud[0] * step : (loud[-1] + 1) * step]
    return Audio(kept.astype("<i2").tobytes(), audio.sample_rate)


async def spoken_set() -> list[tuple[SpokenAnswer, Audio]]:
    settings = get_settings()
    folder = Path(os.environ.get("MOCKI_CACHE") or Path.home() / ".cache" / "mocki") / "voice-samples"
    tts = LocalTTS(settings.voice)
    try:
        answers = await spoken_answers(tts, folder)
    finally:
        await tts.aclose()
    return [(a, trimmed(a.audio())) for a in answers]


# ------------------------------------------------------------------------------ one call


@dataclass
class Call:
    peer: VoicePeer
    interview_id: str
    http: httpx.AsyncClient
    v2v: list[float] = field(default_factory=list)
    said_ends: list[float] = field(default_factory=list)  # time.time() of each answer's last word
    spoken: list[str] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # the candidate turns the api stored


async def _open_call(base_url: str, stack: list[Any], length: int) -> Call:
    email = f"voice-{uuid.uuid4().hex[:10]}@example.com"
    context = signed_client(base_url, email, PASSWORD, register=True)
    http = await context.__aenter__()
    stack.append(context)
    resp = await http.post("/api/v1/interviews", json={"target_role": "Backend Engineer", "length": length})
    resp.raise_for_status()
    interview_id = str(resp.json()["id"])
    peer = VoicePeer(http)
    stack.append(peer)
    await peer.connect(interview_id, within_s=60)
    # The opening question, spoken in full, before the first answer.
    await peer.wait_for_audio(after=0.0, within_s=FIRST_AUDIO_WITHIN_S)
    await peer.wait_for_silence(quiet_s=1.5)
    return Call(peer, interview_id, http)


async def _answer(call: Call, answer: SpokenAnswer, audio: Audio) -> float:
    """Say one answer; the seconds from its last word to the first reply audio heard."""
    said = await call.peer.say(audio)
    first = await call.peer.wait_for_audio(after=said.ended_at, within_s=FIRST_AUDIO_WITHIN_S)
    await call.peer.wait_for_silence(quiet_s=1.5)
    call.spoken.append(answer.text)
    call.said_ends.append(said.ended_at)
    v2v = first - said.ended_at
    call.v2v.append(v2v)
    return v2v


async def _warm_up(base_url: str, answers: list[tuple[SpokenAnswer, Audio]]) -> None:
    """One call with one answer, not measured: the api's first call starts the model processes
    (Whisper, piper, Smart-Turn) and imports pipecat, which no later call pays again."""
    stack: list[Any] = []
    try:
        call = await _open_call(base_url, stack, length=2)
        await _answer(call, *answers[0])
    finally:
        await _close(stack)


async def _close(stack: list[Any]) -> None:
    for item in reversed(stack):
        if isinstance(item, VoicePeer):
            await item.hang_up()
        else:
            await item.__aexit__(None, None, None)
    stack.clear()


async def _stored_answers(call: Call) -> list[str]:
    detail = (await call.http.get(f"/api/v1/interviews/{call.interview_id}")).json()
    return [t["text"] for t in detail["turns"] if t["speaker"] == "candidate"]


def _wer(calls: Sequence[Call]) -> float | None:
    """Word error rate of everything said against everything stored, per call then averaged (an
    answer the pipeline split into two turns is still compared with what was said)."""
    rates = [word_error_rate(" ".join(c.spoken), " ".join(c.stored)) for c in calls if c.spoken]
    return round(sum(rates) / len(rates), 4) if rates else None


# ------------------------------------------------------------------------------ stages

# The steps of one answer's wait, in order, as the api logs them (voice/bridge.py): the VAD's stop,
# the end-of-turn verdict, the last transcript, the turn handed to the engine after its grace, the
# engine's turn (classification and evidence, the candidate turn's transaction, the reply's first
# text) and the reply's first audio sent; then "heard", the caller's first reply audio.
STAGES = (
    "vad_stop",
    "turn_end",
    "stt_start",
    "stt_done",
    "released",
    "engine_start",
    "gathered",
    "prepared",
    "first_token",
    "first_audio",
)
STAGE_LINE = re.compile(r"voice turn stages (\{.*\})")


def _stages(log: Path, call: Call) -> list[dict[str, float]]:
    """Each answer's stages in seconds after its last word was sent, from the api's log lines
    (same machine, same clock); an answer whose line is missing gets only "heard"."""
    logged = [json.loads(m.group(1)) for m in STAGE_LINE.finditer(log.read_text(errors="replace"))]
    rows: list[dict[str, float]] = []
    for ended, v2v in zip(call.said_ends, call.v2v, strict=True):
        near = [s for s in logged if abs(s.get("speech_end", 0.0) - ended) < 1.5]
        row = {"heard": round(v2v, 3)}
        if near:
            found = min(near, key=lambda s: abs(s["speech_end"] - ended))
            row |= {name: round(found[name] - ended, 3) for name in STAGES if name in found}
        rows.append(row)
    return rows


def _stage_medians(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    medians: dict[str, float] = {}
    for name in (*STAGES, "heard"):
        values = [r[name] for r in rows if name in r]
        if values:
            medians[f"stage_s_{name}_median"] = round(median(values), 3)
    return medians


# ------------------------------------------------------------------------------ CPU


def _tree_cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


# ------------------------------------------------------------------------------ scenarios


async def _latency_run(api: ApiProcess, answers: list[tuple[SpokenAnswer, Audio]]) -> dict[str, Any]:
    """One call through every answer: v2v per answer and its stages, WER, CPU idle and active."""
    stack: list[Any] = []
    proc = psutil.Process(api.proc.pid)
    base_url = api.base_url
    try:
        before = _tree_cpu(proc)
        await asyncio.sleep(IDLE_WINDOW_S / 2)
        base_cpu = (_tree_cpu(proc) - before) / (IDLE_WINDOW_S / 2)
        call = await _open_call(base_url, stack, length=len(answers) + 2)
        before = _tree_cpu(proc)
        await asyncio.sleep(IDLE_WINDOW_S)
        idle_cpu = (_tree_cpu(proc) - before) / IDLE_WINDOW_S
        active_s, active_cpu = 0.0, 0.0
        for answer, audio in answers:
            started, cpu0 = time.monotonic(), _tree_cpu(proc)
            await _answer(call, answer, audio)
            active_s += time.monotonic() - started
            active_cpu += _tree_cpu(proc) - cpu0
        call.stored = await _stored_answers(call)
        return {
            "v2v": call.v2v,
            "stages": _stages(api.log, call),
            "wer": _wer([call]),
            # Answers stored as more than one turn (end of turn fired at a pause mid-answer).
            "answers_split": max(0, len(call.stored) - len(call.spoken)),
            "transcripts": [{"said": a, "stored": b} for a, b in zip(call.spoken, call.stored, strict=False)],
            "cpu_idle_pct_per_session": round(max(0.0, idle_cpu - base_cpu) * 100, 1),
            "cpu_active_pct_per_session": round(active_cpu / active_s * 100, 1) if active_s else None,
        }
    finally:
        await _close(stack)


async def _concurrency_run(
    base_url: str, answers: list[tuple[SpokenAnswer, Audio]], levels: Sequence[int]
) -> list[dict[str, Any]]:
    """N calls, all answering at once; the median v2v per level, until it doubles."""
    rows: list[dict[str, Any]] = []
    single: float | None = None
    for n in levels:
        stack: list[Any] = []
        try:
            calls = [await _open_call(base_url, stack, length=CONCURRENT_ROUNDS + 2) for _ in range(n)]
            for round_no in range(CONCURRENT_ROUNDS):
                picked = [answers[(i + round_no) % len(answers)] for i in range(n)]
                await asyncio.gather(*(_answer(c, a, au) for c, (a, au) in zip(calls, picked, strict=True)))
            v2v = [v for c in calls for v in c.v2v]
            row = {"sessions": n, "v2v_s_median": round(median(v2v), 3), "v2v_s_p95": round(p95(v2v), 3)}
            rows.append(row)
            single = single or row["v2v_s_median"]
            if row["v2v_s_median"] > 2 * single:
                break
        finally:
            await _close(stack)
    return rows


def _env(tmp: Path, redis_url: str, llm_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MOCKI_ENV": "test",  # skips training the intent model at start-up
        "MOCKI_SECRET_KEY": secrets.token_urlsafe(48),
        "MOCKI_DATA_DIR": str(tmp),
        "MOCKI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        "MOCKI_REDIS_URL": redis_url,
        "MOCKI_LLM_BASE_URL": llm_url,
        "MOCKI_LLM_MODEL": "local",
        "MOCKI_RATE_LIMITS__ENABLED": "false",
        "MOCKI_VOICE__ICE_LOOPBACK": "true",
        # Prompts without conversation memory: what `mocki up` runs with the local model.
        "MOCKI_INTERVIEW__HISTORY": "off",
    }


async def _with_api(
    tmp: Path, name: str, llm_url: str, answers: list[tuple[SpokenAnswer, Audio]], body: Any
) -> Any:
    with bench_redis() as redis_url:
        env = _env(tmp / name, redis_url, llm_url)
        # Migrated and the built-in question bank seeded, as `mocki up` does.
        command = [sys.executable, "-m", "mocki.cli", "db", "upgrade"]
        await asyncio.to_thread(subprocess.run, command, env=env, check=True, capture_output=True)
        api = ApiProcess(env, tmp / f"api-{name}.log")
        try:
            api.wait_ready()
            await _warm_up(api.base_url, answers)
            return await body(api)
        finally:
            api.stop()


def run(
    *, levels: Sequence[int] = (1, 2, 3, 4), local_llm: bool = True, model: str = "tiny"
) -> dict[str, Any]:
    console = Console()
    allow_loopback()  # the callers' ICE candidates on 127.0.0.1, like the api's
    answers = asyncio.run(spoken_set())
    figures: dict[str, Any] = {
        "answers": len(answers),
        "answer_s_mean": round(sum(a.seconds for _, a in answers) / len(answers), 2),
    }
    with tempfile.TemporaryDirectory(prefix="mocki-bench-voice-") as tmp_name:
        tmp = Path(tmp_name)
        for sub in ("standin", "local"):
            (tmp / sub).mkdir()
        server = standin_server()
        standin_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        try:
            console.print(
                f"[bold]stand-in model[/]: one call through every answer, then {list(levels)} at once ..."
            )

            async def standin_runs(api: ApiProcess) -> tuple[dict[str, Any], list[dict[str, Any]]]:
                single = await _latency_run(api, answers)
                return single, await _concurrency_run(api.base_url, answers, levels)

            single, rows = asyncio.run(_with_api(tmp, "standin", standin_url, answers, standin_runs))
        finally:
            server.shutdown()
        figures |= {
            "v2v_s_median_standin": round(median(single["v2v"]), 3),
            "v2v_s_p95_standin": round(p95(single["v2v"]), 3),
            "wer": single["wer"],
            "answers_split": single["answers_split"],
            "v2v_s_standin": [round(v, 3) for v in single["v2v"]],
            # Where each answer's wait went: seconds after its last word, per step (STAGES).
            "stages_standin": single["stages"],
            **_stage_medians(single["stages"]),
            "transcripts_standin": single["transcripts"],
            "cpu_idle_pct_per_session": single["cpu_idle_pct_per_session"],
            "cpu_active_pct_per_session": single["cpu_active_pct_per_session"],
            "concurrency": rows,
            "max_sessions": max(
                (r["sessions"] for r in rows if r["v2v_s_median"] <= 2 * rows[0]["v2v_s_median"]), default=0
            ),
        }
        if local_llm:
            console.print(f"[bold]local model ({model})[/]: one call through every answer ...")
            with LlamaServer(model) as llm:
                local = asyncio.run(
                    _with_api(
                        tmp,
                        "local",
                        llm.base_url,
                        answers,
                        lambda api: _latency_run(api, answers),
                    )
                )
            figures |= {
                "v2v_s_median_local_llm": round(median(local["v2v"]), 3),
                "v2v_s_p95_local_llm": round(p95(local["v2v"]), 3),
                "wer_local_llm_run": local["wer"],
            }
    _print(console, figures)
    return figures


def _print(console: Console, f: dict[str, Any]) -> None:
    table = Table(
        title=f"Voice calls over WebRTC ({f['answers']} piper-voiced answers, {f['answer_s_mean']} s each)"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("voice-to-voice median, stand-in model", f"{f['v2v_s_median_standin']:.2f} s", "≤ 1.2 s")
    table.add_row("voice-to-voice p95, stand-in model", f"{f['v2v_s_p95_standin']:.2f} s", "")
    steps = [(n, f.get(f"stage_s_{n}_median")) for n in (*STAGES, "heard")]
    table.add_row(
        "  where it goes (median s after the last word)",
        "\n".join(f"{name} {at:.2f}" for name, at in steps if at is not None),
        "",
    )
    if "v2v_s_median_local_llm" in f:
        table.add_row("voice-to-voice median, local model", f"{f['v2v_s_median_local_llm']:.2f} s", "")
        table.add_row("voice-to-voice p95, local model", f"{f['v2v_s_p95_local_llm']:.2f} s", "")
    wer = f["wer"]
    table.add_row("transcript WER", "n/a" if wer is None else f"{wer * 100:.1f} %", "≤ 15 %")
    table.add_row("answers cut in two by a pause", str(f["answers_split"]), "0")
    table.add_row("CPU per idle call", f"{f['cpu_idle_pct_per_session']} % of a core", "")
    table.add_row("CPU per answering call", f"{f['cpu_active_pct_per_session']} % of a core", "")
    for row in f["concurrency"]:
        ratio = row["v2v_s_median"] / f["concurrency"][0]["v2v_s_median"]
        table.add_row(
            f"{row['sessions']} calls answering at once",
            f"median {row['v2v_s_median']:.2f} s, p95 {row['v2v_s_p95']:.2f} s ({ratio:.1f}× one call)",
            "",
        )
    table.add_row("calls held before latency doubles", str(f["max_sessions"]), "")
    console.print(table)
