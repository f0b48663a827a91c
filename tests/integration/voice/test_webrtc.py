"""Voice interviews over WebRTC, end to end: an aiortc caller speaks piper-voiced answers to the
real api (signalling over HTTP, media over UDP on this machine), Silero VAD and Smart-Turn end
the turn, Whisper transcribes it, the interview engine and the local model reply, piper speaks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mocki.models import Turn
from mocki.voice.peer import PeerError, VoicePeer
from mocki.voice.samples import SpokenAnswer
from mocki.voice.session import VoiceHub
from mocki.voice.wer import word_error_rate
from tests.conftest import register
from tests.integration.interviews.helpers import create, done, seed, turn
from tests.integration.tasks.test_monitoring import metric

RTC = "/api/v1/rtc"
# Whisper tiny.en on piper's voice: about 3 % WER measured (MODELS.md); the bound leaves room
# for a segment cut at a pause, never for a different sentence.
MAX_WER = 0.35


async def until(check: Callable[[], Any], wait_s: float = 60.0) -> Any:
    """Wait for something the pipeline makes true (a bound, not a timing assertion)."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def candidate_turns(app: Any, interview_id: str) -> list[Turn]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(Turn)
            .where(Turn.interview_id == uuid.UUID(interview_id), Turn.speaker == "candidate")
            .order_by(Turn.seq)
        )
        return list(rows)


async def interviewer_turns(client: httpx.AsyncClient, headers: dict[str, str], iid: str) -> list[Any]:
    detail = (await client.get(f"/api/v1/interviews/{iid}", headers=headers)).json()
    return [t for t in detail["turns"] if t["speaker"] == "interviewer"]


@pytest.fixture
async def voice_interview(app: Any, client: httpx.AsyncClient, auth: dict[str, str]) -> str:
    await seed(app)
    return str((await create(client, auth, length=3))["id"])


@pytest.fixture
async def peers() -> AsyncIterator[list[VoicePeer]]:
    made: list[VoicePeer] = []
    yield made
    for peer in made:
        await peer.abort()


def hub_of(app: Any) -> VoiceHub:
    hub: VoiceHub = app.state.voice
    return hub


# ------------------------------------------------------------------------------ refusals


async def test_config_lists_the_configured_ice_servers(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    assert (await client.get(f"{RTC}/config")).status_code == 401
    resp = await client.get(f"{RTC}/config", headers=auth)
    assert resp.status_code == 200
    assert resp.json() == {"ice_servers": []}


async def test_bad_offers_are_refused_with_4xx(
    app: Any, client: httpx.AsyncClient, auth: dict[str, str], voice_interview: str
) -> None:
    body = {"interview_id": voice_interview, "sdp": "v=0\r\n", "type": "offer"}
    assert (await client.post(f"{RTC}/offer", json=body)).status_code == 401
    resp = await client.post(f"{RTC}/offer", json=body | {"sdp": "hello"}, headers=auth)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_sdp"
    # A well-formed start without any audio m-line.
    no_audio = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    resp = await client.post(f"{RTC}/offer", json=body | {"sdp": no_audio}, headers=auth)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_sdp"
    # An audio m-line in a description aiortc cannot use.
    broken = no_audio + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=garbage\r\n"
    resp = await client.post(f"{RTC}/offer", json=body | {"sdp": broken}, headers=auth)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_sdp"
    resp = await client.post(f"{RTC}/offer", json=body | {"type": "answer"}, headers=auth)
    assert resp.status_code == 422
    # Someone else's interview, and one that does not exist.
    stranger = await register(client)
    resp = await client.post(f"{RTC}/offer", json=body, headers=stranger)
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "interview_not_found"
    resp = await client.post(f"{RTC}/offer", json=body | {"interview_id": str(uuid.uuid4())}, headers=auth)
    assert resp.status_code == 404
    assert (await client.delete(f"{RTC}/{uuid.uuid4()}", headers=auth)).status_code == 404
    assert (await client.delete(f"{RTC}/not-a-call-id", headers=auth)).status_code == 422
    # None of this started a call, nor the models (they load at the first usable offer).
    hub = app.state.voice
    assert hub is None or (hub.live(uuid.UUID(voice_interview), "candidate") is None and hub._models is None)


# ------------------------------------------------------------------------------ calls


@pytest.mark.slow
async def test_spoken_answer_is_stored_replied_to_and_barge_in_stops_the_bot(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    llm_server: str,
    voice_interview: str,
    spoken: list[SpokenAnswer],
    peers: list[VoicePeer],
) -> None:
    peer = VoicePeer(client, auth)
    peers.append(peer)
    answer = await peer.connect(voice_interview)
    assert answer["seat"] == "candidate" and answer["type"] == "answer"
    # The operators' gauge counts the call (issue 7: voice sessions on /metrics).
    assert metric((await client.get("/metrics")).text, "mocki_voice_calls_active") == 1

    # The same seat is taken while this call lives.
    second = VoicePeer(client, auth)
    peers.append(second)
    with pytest.raises(PeerError) as refused:
        await second.connect(voice_interview)
    assert refused.value.status == 409 and refused.value.body["error"]["code"] == "seat_taken"

    # Connecting to a new interview opens it: the first question is spoken.
    opening_heard = await peer.wait_for_audio(within_s=120)
    # Barge in while it speaks: the candidate's answer starts 0.7 s into the question.
    await asyncio.sleep(max(0.0, opening_heard + 0.7 - time.time()))
    said = await peer.say(spoken[0].audio())
    barge_at = said.started_at

    opening = (await until(lambda: interviewer_turns(client, auth, voice_interview)))[0]
    opening_audio = await (await hub_of(app).models())[1].synthesize(opening["text"])
    # The question would still have been playing a second after the barge-in...
    assert opening_audio.seconds > (barge_at - opening_heard) + 2.0, opening["text"]
    # ...but the bot went quiet: at most a few frames after VAD start (0.2 s) and the interruption.
    bot_during_answer = peer.heard.speech_seconds(barge_at + 1.0, said.ended_at)
    assert bot_during_answer < 0.3, bot_during_answer

    # The answer ends the turn: it is stored, with its spoken length, and the AI replies.
    reply_heard = await peer.wait_for_audio(after=said.ended_at, within_s=120)
    stored = await until(lambda: candidate_turns(app, voice_interview))
    first = stored[0]
    assert word_error_rate(spoken[0].text, first.text) <= MAX_WER, first.text
    meta = first.meta or {}
    assert 0.6 * said.seconds <= meta["speech_s"] <= said.seconds + 1.0, (meta, said)
    assert set(meta["voice"]) == {"speech_started_at", "speech_ended_at", "stt_s", "audio_s"}
    assert meta["voice"]["stt_s"] > 0
    print(f"\nend of speech to first reply audio: {reply_heard - said.ended_at:.2f} s")

    # Only the caller hangs up their call; doing so frees the seat.
    stranger = await register(client)
    assert (await client.delete(f"{RTC}/{peer.pc_id}", headers=stranger)).status_code == 404
    assert await peer.hang_up() == 204
    await until(lambda: hub_of(app).live(uuid.UUID(voice_interview), "candidate") is None, 15)
    assert metric((await client.get("/metrics")).text, "mocki_voice_calls_active") == 0


@pytest.mark.slow
@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (48_000, 2)])
async def test_unusual_microphone_formats_still_transcribe(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    llm_server: str,
    voice_interview: str,
    spoken: list[SpokenAnswer],
    peers: list[VoicePeer],
    rate: int,
    channels: int,
) -> None:
    peer = VoicePeer(client, auth, sample_rate=rate, channels=channels)
    peers.append(peer)
    await peer.connect(voice_interview)
    await peer.wait_for_audio(within_s=120)
    # The opening is stored once the model finished it; then let its last sentence play out.
    await until(lambda: interviewer_turns(client, auth, voice_interview), 120)
    await peer.wait_for_silence(quiet_s=2.5)
    said = await peer.say(spoken[1].audio())
    stored = await until(lambda: candidate_turns(app, voice_interview), 90)
    assert word_error_rate(spoken[1].text, stored[0].text) <= MAX_WER, stored[0].text
    assert stored[0].meta["speech_s"] <= said.seconds + 1.0


async def call_through_the_opening(
    client: httpx.AsyncClient, auth: dict[str, str], interview_id: str, peers: list[VoicePeer]
) -> VoicePeer:
    """A candidate's call to a new interview, once its opening question was heard and stored."""
    peer = VoicePeer(client, auth)
    peers.append(peer)
    await peer.connect(interview_id)
    await peer.wait_for_audio(within_s=120)
    # The opening is stored once the model finished it; then let its last sentence play out.
    await until(lambda: interviewer_turns(client, auth, interview_id), 120)
    await peer.wait_for_silence(quiet_s=2.5)
    return peer


@pytest.mark.slow
async def test_a_caller_that_vanishes_mid_turn_leaves_the_interview_usable(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    llm_server: str,
    voice_interview: str,
    spoken: list[SpokenAnswer],
    peers: list[VoicePeer],
) -> None:
    peer = await call_through_the_opening(client, auth, voice_interview, peers)
    await peer.say(spoken[2].audio())
    # Gone without a word while the turn is being detected, transcribed or answered.
    await peer.abort()
    iid = uuid.UUID(voice_interview)
    await until(lambda: hub_of(app).live(iid, "candidate") is None, 90)

    # The interview goes on by text: the next answer is taken and answered.
    async def answered() -> bool:
        resp, events = await turn(client, auth, voice_interview, "I would measure first, then decide.")
        if resp.status_code == 409 and resp.json()["error"]["code"] == "turn_in_progress":
            return False  # the voice turn is still being stored
        assert resp.status_code == 200, resp.text
        assert done(events)["turn"]["speaker"] == "interviewer"
        return True

    await until(answered, 60)
    # And a new call to the same seat is accepted.
    again = VoicePeer(client, auth)
    peers.append(again)
    assert (await again.connect(voice_interview))["seat"] == "candidate"
    await again.hang_up()


@pytest.mark.slow
async def test_a_restarted_peer_connection_keeps_the_call_and_its_interview(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    llm_server: str,
    voice_interview: str,
    spoken: list[SpokenAnswer],
    peers: list[VoicePeer],
) -> None:
    first = await call_through_the_opening(client, auth, voice_interview, peers)
    iid = uuid.UUID(voice_interview)
    call = hub_of(app).live(iid, "candidate")
    assert call is not None

    # The browser lost its network: a new peer connection takes over the same call (restart_pc).
    second = VoicePeer(client, auth)
    peers.append(second)
    body = await second.connect(voice_interview, restart_of=first.pc_id)
    assert body["pc_id"] == first.pc_id and body["seat"] == "candidate"
    await first.abort()  # the old connection goes away for good
    # The question waiting for its answer is spoken again, through the new connection...
    await second.wait_for_audio(within_s=60)
    await second.wait_for_silence(quiet_s=2.5)
    assert hub_of(app).live(iid, "candidate") is call and hub_of(app).call_count == 1
    # ...and not stored again.
    assert len(await interviewer_turns(client, auth, voice_interview)) == 1

    # The same call goes on: the answer is heard, stored and replied to.
    said = await second.say(spoken[3].audio())
    stored = await until(lambda: candidate_turns(app, voice_interview), 120)
    assert word_error_rate(spoken[3].text, stored[0].text) <= MAX_WER, stored[0].text
    await second.wait_for_audio(after=said.ended_at, within_s=120)
    assert await second.hang_up() == 204
    await until(lambda: hub_of(app).live(iid, "candidate") is None, 15)


async def all_turns(app: Any, interview_id: str) -> list[Turn]:
    async with app.state.sessionmaker() as session:
        rows = await session.scalars(
            select(Turn).where(Turn.interview_id == uuid.UUID(interview_id)).order_by(Turn.seq)
        )
        return list(rows)


@pytest.mark.slow
async def test_a_human_interviewer_speaks_through_their_own_seat(
    app: Any,
    client: httpx.AsyncClient,
    auth: dict[str, str],
    llm_server: str,
    voice_interview: str,
    spoken: list[SpokenAnswer],
    peers: list[VoicePeer],
) -> None:
    url = f"/api/v1/interviews/{voice_interview}"
    code = (await client.post(f"{url}/invites", headers=auth)).json()["code"]
    human = await register(client)
    assert (
        await client.post("/api/v1/invites/accept", json={"code": code}, headers=human)
    ).status_code == 200

    candidate = VoicePeer(client, auth)
    interviewer = VoicePeer(client, human)
    peers.extend([candidate, interviewer])
    await candidate.connect(voice_interview)
    await candidate.wait_for_audio(within_s=120)  # the AI's opening question
    await until(lambda: interviewer_turns(client, auth, voice_interview), 120)
    await candidate.wait_for_silence(quiet_s=2.5)
    assert (await interviewer.connect(voice_interview))["seat"] == "interviewer"
    resp = await client.post(f"{url}/takeover", headers=human)
    assert resp.status_code == 200, resp.text

    # The human's words reach the candidate (relayed, no renegotiation) and are stored as theirs.
    said = await interviewer.say(spoken[3].audio())
    relayed = lambda: candidate.heard.speech_seconds(said.started_at, said.ended_at + 5.0)  # noqa: E731
    await until(lambda: relayed() > 0.5 * said.seconds, 5.0)

    async def human_line() -> Turn | None:
        return next(
            (t for t in await all_turns(app, voice_interview) if (t.meta or {}).get("role") == "human"), None
        )

    line = await until(human_line, 90)
    assert line.speaker == "interviewer"
    assert word_error_rate(spoken[3].text, line.text) <= MAX_WER, line.text

    # The candidate's answer reaches the interviewer and is stored; the AI stays silent.
    answer = await candidate.say(spoken[4].audio())
    heard = lambda: interviewer.heard.speech_seconds(answer.started_at, answer.ended_at + 5.0)  # noqa: E731
    await until(lambda: heard() > 0.5 * answer.seconds, 5.0)
    stored = await until(lambda: candidate_turns(app, voice_interview), 90)
    assert word_error_rate(spoken[4].text, stored[-1].text) <= MAX_WER, stored[-1].text
    assert stored[-1].meta["answered"] == "human" and stored[-1].meta["speech_s"] > 0
    ai_lines = [t for t in await all_turns(app, voice_interview) if t.speaker == "interviewer"]
    assert [(t.meta or {}).get("role", "ai") for t in ai_lines] == ["ai", "human"]
