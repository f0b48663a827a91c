"""A scripted WebRTC caller (aiortc) for tests and `mocki bench voice`: it signs in, posts an offer,
speaks WAV/PCM audio into its microphone track in real time, and records what it hears with
arrival times, so "first reply audio after my speech ended" and barge-in can be measured.

    async with signed_client(base_url, email, password) as http:
        peer = VoicePeer(http)
        await peer.connect(interview_id)
        await peer.wait_for_audio(within_s=60)         # the opening question
        await peer.wait_for_silence()
        said = await peer.say(read_wav(...))          # returns when the last sample was sent
        first = await peer.wait_for_audio(after=said.ended_at)
        await peer.close()
"""

from __future__ import annotations

import asyncio
import fractions
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from aiortc import MediaStreamTrack, RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from mocki.security import signing
from mocki.voice.audio import Audio, resample

API = "/api/v1"
FRAME_S = 0.02
# Received audio louder than this (RMS of 16-bit samples) is speech, not codec noise or silence.
SPEECH_RMS = 300.0


class PeerError(Exception):
    """The api refused the offer, or the call did not connect."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"offer refused ({status}): {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Said:
    started_at: float  # time.time() of the first and last speech sample sent
    ended_at: float
    seconds: float


class MicTrack(MediaStreamTrack):
    """The caller's microphone: queued PCM sent in real time in 20 ms frames, silence between.

    `channels=2` or an unusual `sample_rate` (8 kHz) sends the same voice in that format, as
    other devices do; the codec and the server resample it."""

    kind = "audio"

    def __init__(self, sample_rate: int = 48_000, channels: int = 1) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.channels = channels
        self._samples = int(sample_rate * FRAME_S)
        self._queue: deque[npt.NDArray[np.int16]] = deque()
        self._pts = 0
        self._start: float | None = None
        self._done: asyncio.Event = asyncio.Event()
        self._done.set()
        self.last_speech_sent: float | None = None

    def play(self, audio: Audio) -> None:
        samples = audio.samples()
        if audio.sample_rate != self.sample_rate:
            samples = resample(samples, audio.sample_rate, self.sample_rate)
        pad = (-len(samples)) % self._samples
        samples = np.concatenate([samples, np.zeros(pad, dtype=np.int16)])
        for i in range(0, len(samples), self._samples):
            self._queue.append(samples[i : i + self._samples])
        self._done.clear()

    def stop_speaking(self) -> None:
        self._queue.clear()
        self._done.set()

    async def finished(self) -> None:
        await self._done.wait()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.time()
        wait = self._start + self._pts / self.sample_rate - time.time()
        if wait > 0:
            await asyncio.sleep(wait)
        if self._queue:
            chunk = self._queue.popleft()
            self.last_speech_sent = time.time()
            if not self._queue:
                self._done.set()
        else:
            chunk = np.zeros(self._samples, dtype=np.int16)
        if self.channels == 2:
            data = np.repeat(chunk, 2).reshape(1, -1)
            layout = "stereo"
        else:
            data, layout = chunk.reshape(1, -1), "mono"
        frame = AudioFrame.from_ndarray(data, format="s16", layout=layout)
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, self.sample_rate)
        self._pts += self._samples
        return frame


@dataclass
class Received:
    """What the caller heard: 20 ms-ish frames with their arrival time and loudness."""

    sample_rate: int = 48_000
    times: list[float] = field(default_factory=list)
    rms: list[float] = field(default_factory=list)
    pcm: list[bytes] = field(default_factory=list)

    def add(self, frame: AudioFrame) -> None:
        data = frame.to_ndarray()
        channels = len(frame.layout.channels)
        mono = data.reshape(-1, channels).mean(axis=1) if channels > 1 else data.reshape(-1)
        self.sample_rate = frame.sample_rate
        self.times.append(time.time())
        self.rms.append(float(np.sqrt(np.mean(np.square(mono.astype(np.float64))))) if mono.size else 0.0)
        self.pcm.append(mono.astype("<i2").tobytes())

    def first_speech_after(self, t: float) -> float | None:
        for when, level in zip(self.times, self.rms, strict=True):
            if when >= t and level >= SPEECH_RMS:
                return when
        return None

    def last_speech(self) -> float | None:
        for when, level in zip(reversed(self.times), reversed(self.rms), strict=True):
            if level >= SPEECH_RMS:
                return when
        return None

    def speech_seconds(self, start: float, end: float) -> float:
        """Seconds of speech heard between two times (frames over the speech level)."""
        frames = [
            len(p) / 2 / self.sample_rate
            for w, r, p in zip(self.times, self.rms, self.pcm, strict=True)
            if start <= w < end and r >= SPEECH_RMS
        ]
        return sum(frames)

    def audio(self, start: float = 0.0, end: float = float("inf")) -> Audio:
        chunks = [p for w, p in zip(self.times, self.pcm, strict=True) if start <= w < end]
        return Audio(b"".join(chunks), self.sample_rate)


class VoicePeer:
    """One call to the api, as a browser makes it (non-trickle ICE: one offer, one answer)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        headers: dict[str, str] | None = None,
        *,
        sample_rate: int = 48_000,
        channels: int = 1,
        ice_servers: list[RTCIceServer] | None = None,
    ) -> None:
        self.http = http
        self.headers = headers or {}
        self.mic = MicTrack(sample_rate, channels)
        self.heard = Received()
        # Empty: host candidates only, which is what loopback and LAN tests need.
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers or []))
        self.pc_id: str | None = None
        self.seat: str | None = None
        self._readers: list[asyncio.Task[None]] = []
        self.connected = asyncio.Event()

    async def connect(
        self, interview_id: str, *, within_s: float = 30.0, restart_of: str | None = None
    ) -> dict[str, Any]:
        """Offer, answer, connect. `restart_of`: the pc_id of a call to take over with this new
        peer connection (`restart_pc`, as a browser does after losing its network)."""
        self.pc.addTrack(self.mic)

        @self.pc.on("track")
        def _on_track(track: MediaStreamTrack) -> None:
            if track.kind == "audio":
                self._readers.append(asyncio.create_task(self._read(track)))

        @self.pc.on("connectionstatechange")
        async def _on_state() -> None:
            if self.pc.connectionState == "connected":
                self.connected.set()

        await self.pc.setLocalDescription(await self.pc.createOffer())  # waits for ICE gathering
        payload: dict[str, Any] = {"interview_id": interview_id, "sdp": self.pc.localDescription.sdp}
        if restart_of is not None:
            payload |= {"pc_id": restart_of, "restart_pc": True}
        body = await self.offer(payload)
        self.pc_id, self.seat = body["pc_id"], body["seat"]
        await self.pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        await asyncio.wait_for(self.connected.wait(), within_s)
        return body

    async def offer(self, payload: dict[str, Any]) -> dict[str, Any]:
        resp = await self.http.post(f"{API}/rtc/offer", json=payload, headers=self.headers)
        if resp.status_code != 200:
            raise PeerError(resp.status_code, resp.json() if resp.content else None)
        answer: dict[str, Any] = resp.json()
        return answer

    async def _read(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, AudioFrame):
                self.heard.add(frame)

    async def say(self, audio: Audio, *, wait: bool = True) -> Said:
        """Speak `audio` now (in real time); with wait, return once its last sample was sent."""
        started = time.time()
        self.mic.play(audio)
        if wait:
            await self.mic.finished()
        return Said(started, self.mic.last_speech_sent or time.time(), audio.seconds)

    def stop_speaking(self) -> float:
        self.mic.stop_speaking()
        return time.time()

    async def wait_for_audio(self, *, after: float | None = None, within_s: float = 60.0) -> float:
        """The arrival time of the first reply audio heard after `after` (default: now)."""
        since = time.time() if after is None else after
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            found = self.heard.first_speech_after(since)
            if found is not None:
                return found
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no reply audio within {within_s:.0f}s")

    async def wait_for_silence(self, quiet_s: float = 1.5, within_s: float = 120.0) -> float:
        """Wait until nothing but silence was heard for `quiet_s`; returns the last speech time."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            last = self.heard.last_speech() or 0.0
            if time.time() - last >= quiet_s:
                return last
            await asyncio.sleep(0.05)
        raise TimeoutError(f"the other side kept talking for {within_s:.0f}s")

    async def hang_up(self) -> int:
        """DELETE the call (the polite way); returns the status code."""
        status = 0
        if self.pc_id is not None:
            resp = await self.http.delete(f"{API}/rtc/{self.pc_id}", headers=self.headers)
            status = resp.status_code
        await self.abort()
        return status

    async def abort(self) -> None:
        """Vanish: close the peer connection without telling the api."""
        self.mic.stop()
        await self.pc.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)

    close = hang_up


# ---------------------------------------------------------------------------- signed http client


class _Signer:
    """Signs mutating requests with the key sign-in returned, as the web app does (replay guard)."""

    def __init__(self) -> None:
        self.key: str | None = None

    async def on_request(self, request: httpx.Request) -> None:
        if self.key is None or request.method not in signing.SIGNED_METHODS:
            return
        body = await request.aread()
        ts, nonce = int(time.time()), secrets.token_hex(16)
        target = request.url.raw_path.decode("ascii")
        request.headers[signing.TIMESTAMP_HEADER] = str(ts)
        request.headers[signing.NONCE_HEADER] = nonce
        request.headers[signing.SIGNATURE_HEADER] = signing.sign(
            self.key, request.method, target, body, ts, nonce
        )


@asynccontextmanager
async def signed_client(
    base_url: str, email: str, password: str, *, register: bool = False, http_timeout_s: float = 120.0
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client signed in as `email` (registered first with register=True): its requests
    carry the bearer token and the replay guard's signature."""
    signer = _Signer()
    async with httpx.AsyncClient(
        base_url=base_url, timeout=http_timeout_s, event_hooks={"request": [signer.on_request]}
    ) as http:
        path = "register" if register else "login"
        payload = {"email": email, "password": password} | ({"name": email} if register else {})
        resp = await http.post(f"{API}/auth/{path}", json=payload)
        resp.raise_for_status()
        tokens = resp.json()
        signer.key = tokens.get("signing_key")
        http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield http
