"""The voice room in real Chromium against a real api server (voice pipeline, tiny model, worker).

Chromium's fake microphone plays a spoken answer made at test time with the packaged piper
voice; the candidate's words must come back as a caption (Whisper through the api's pipeline)
and the interviewer's reply must be heard (the <audio> element gets a live track and WebRTC's
stats show audio received with energy in it). A second test refuses the microphone and expects
the text mode with a message saying why.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright, expect

from mocki.settings import Settings
from mocki.voice.audio import Audio, resample
from mocki.voice.samples import ANSWERS, spoken_answers
from mocki.voice.tts import LocalTTS
from tests.e2e.conftest import CHROMIUM_ARGS, SLOW_MS
from tests.e2e.helpers import sign_up, start_interview

pytestmark = pytest.mark.slow

# Chromium's fake capture converts whatever it reads, but 48 kHz 16-bit mono PCM is its own
# rate, so nothing depends on its resampler.
CAPTURE_RATE = 48_000
# Silence before the answer, on top of the spoken question's length: getUserMedia → ICE → DTLS
# on loopback and the server's first synthesis. After it, the end-of-turn detector needs a pause.
LEAD_SILENCE_S = 5.0
TAIL_SILENCE_S = 4.0
ANSWER = ANSWERS[0]  # "In my last role I led a small team that rebuilt the billing service, ..."
# Words of ANSWER that Whisper tiny.en gets right; one of them is enough to know it heard us.
# WebRTC's totalAudioEnergy adds audioLevel² × seconds: 1e-4 is a second at level 0.01 (-40 dBFS),
# quieter than any speech, so more than this received after the answer is the reply being heard.
ENERGY_HEARD = 1e-4
HEARD = re.compile(r"billing|team|batch|hours|service", re.IGNORECASE)

# Test-only: keep every RTCPeerConnection the page makes, so its stats can be read.
RECORD_PEERS = """
(() => {
  const Original = window.RTCPeerConnection;
  if (!Original) return;
  window.__peers = [];
  window.RTCPeerConnection = class extends Original {
    constructor(...args) { super(...args); window.__peers.push(this); }
  };
})();
"""

INBOUND_AUDIO = """
async () => {
  let bytes = 0, energy = 0, tracks = 0;
  for (const pc of window.__peers || []) {
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "audio") {
        bytes += r.bytesReceived || 0;
        energy += r.totalAudioEnergy || 0;
      }
    });
  }
  const audio = document.querySelector('[data-testid="remote-audio"]');
  const stream = audio && audio.srcObject;
  if (stream) tracks = stream.getAudioTracks().filter((t) => t.readyState === "live").length;
  return { bytes, energy, tracks };
}
"""


class FakeMicrophone:
    """The fake microphone's WAV: written once the question is known, before the page opens the
    microphone (Chromium opens the file then). Like a person, it waits for the spoken question to
    end, then answers: silence for the question's length (piper, as the server speaks it) plus a
    margin, the answer, and silence for the end-of-turn detector."""

    def __init__(self, settings: Settings, path: Path) -> None:
        self.tts = LocalTTS(settings.voice)
        self.path = path

    async def write(self, question: str) -> float:
        spoken_question = await self.tts.synthesize(question)
        [answer] = await spoken_answers(self.tts, self.path.parent / "samples", (ANSWER,))
        audio = answer.audio()
        samples = resample(audio.samples(), audio.sample_rate, CAPTURE_RATE)
        lead_s = LEAD_SILENCE_S + spoken_question.seconds
        lead = np.zeros(int(lead_s * CAPTURE_RATE), dtype=np.int16)
        tail = np.zeros(int(TAIL_SILENCE_S * CAPTURE_RATE), dtype=np.int16)
        pcm = np.concatenate([lead, samples, tail]).astype("<i2").tobytes()
        Audio(pcm, CAPTURE_RATE).write_wav(self.path)
        return lead_s


@pytest.fixture
async def fake_mic(settings: Settings, tmp_path: Path) -> AsyncIterator[FakeMicrophone]:
    mic = FakeMicrophone(settings, tmp_path / "answer.wav")
    try:
        yield mic
    finally:
        await mic.tts.aclose()


async def launch(pw: Playwright, chromium: str, extra: list[str]) -> Browser:
    return await pw.chromium.launch(
        executable_path=chromium,
        args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required", *extra],
    )


async def open_interview(page: Page, base: str) -> None:
    await sign_up(page, base, "Sam")
    await start_interview(page)


async def inbound(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(INBOUND_AUDIO)
    return result


async def test_spoken_answer_in_the_voice_room(
    chromium: str, api_server: str, fake_mic: FakeMicrophone, tmp_path: Path
) -> None:
    page_errors: list[str] = []
    mic_flags = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        # Played once, not looped: one answer, then silence.
        f"--use-file-for-fake-audio-capture={fake_mic.path}%noloop",
    ]
    async with async_playwright() as pw:
        browser = await launch(pw, chromium, mic_flags)
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        await context.grant_permissions(["microphone"])
        await context.add_init_script(RECORD_PEERS)
        page = await context.new_page()
        try:
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.set_default_timeout(30_000)
            await open_interview(page, api_server)
            transcript = page.get_by_role("log", name="Transcript")
            question = await transcript.locator(".msg-interviewer p").first.inner_text()
            lead_s = await fake_mic.write(question)
            print(f"answering after {lead_s:.1f} s of silence")

            await page.get_by_role("button", name="Voice", exact=True).click()
            voice = page.get_by_role("region", name="Voice room")
            await expect(voice).to_be_visible()
            await expect(voice.get_by_role("status")).to_have_text(
                re.compile(r"Listening|is speaking"), timeout=60_000
            )
            await expect(page.get_by_test_id("voice-fallback")).to_have_count(0)

            # The answer, transcribed by the server, comes back as the candidate's caption...
            captions = voice.get_by_role("list", name="Live captions")
            said = captions.locator(".caption-candidate")
            await expect(said.first).to_contain_text(HEARD, timeout=SLOW_MS)
            # ...and as the stored turn in the transcript.
            await expect(transcript.locator(".msg-candidate").first).to_contain_text(HEARD)

            # The interviewer replies: a caption after the answer, and audio that is heard. The
            # opening question was spoken too, so the reply is the energy received after this.
            before = await inbound(page)
            reply = captions.locator(".caption-candidate ~ .caption-ai")
            await expect(reply.first).not_to_be_empty(timeout=SLOW_MS)
            heard = before
            for _ in range(600):  # until the reply's audio has arrived (bounded: 600 × 0.5 s)
                heard = await inbound(page)
                if heard["energy"] - before["energy"] > ENERGY_HEARD and heard["bytes"] > before["bytes"]:
                    break
                await asyncio.sleep(0.5)
            assert heard["tracks"] >= 1, heard
            assert heard["bytes"] > before["bytes"], (before, heard)
            assert heard["energy"] - before["energy"] > ENERGY_HEARD, (before, heard)
            print("candidate caption:", await said.first.inner_text())
            print("interviewer reply:", await reply.first.inner_text())
            print("inbound audio before/after the reply:", before, heard)
            await page.screenshot(path=str(tmp_path / "voice-room.png"), full_page=True)

            # Hanging up returns to the text mode with the transcript kept.
            await voice.get_by_role("button", name="Hang up").click()
            await expect(voice).to_have_count(0)
            await expect(page.get_by_label("Your answer")).to_be_visible()
        except Exception:
            await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"failure screenshot: {tmp_path / 'failure.png'}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()
    assert page_errors == [], page_errors


async def test_refused_microphone_falls_back_to_text(chromium: str, api_server: str, tmp_path: Path) -> None:
    page_errors: list[str] = []
    async with async_playwright() as pw:
        # A fake device, but no fake consent: the permission prompt is denied.
        browser = await launch(
            pw, chromium, ["--use-fake-device-for-media-stream", "--deny-permission-prompts"]
        )
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        try:
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.set_default_timeout(30_000)
            await open_interview(page, api_server)

            await page.get_by_role("button", name="Voice", exact=True).click()
            fallback = page.get_by_test_id("voice-fallback")
            await expect(fallback).to_contain_text("Microphone access was refused")
            await expect(page.get_by_role("region", name="Voice room")).to_have_count(0)
            # The text mode works as before.
            answer_box = page.get_by_label("Your answer")
            await expect(answer_box).to_be_enabled(timeout=SLOW_MS)
            await answer_box.fill(
                "I would measure first, then cache the hot reads behind a clear expiry policy."
            )
            await expect(page.get_by_role("button", name="Send answer")).to_be_enabled(timeout=SLOW_MS)
            await answer_box.press("Enter")
            transcript = page.get_by_role("log", name="Transcript")
            await expect(transcript.locator(".msg-candidate:not(.msg-pending)")).to_have_count(
                1, timeout=SLOW_MS
            )
            await page.screenshot(path=str(tmp_path / "voice-refused.png"), full_page=True)
        except Exception:
            await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"failure screenshot: {tmp_path / 'failure.png'}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()
    assert page_errors == [], page_errors
