"""A human interviewer joins someone's interview from the web app, in two real browser sessions.

The candidate creates an invite link; a second account opens it and lands in the interviewer's
seat with the transcript and the AI's suggested question; it takes over (the candidate's page
says a human is interviewing), sees the candidate's answer arrive live, asks its own question
(which reaches the candidate's transcript), writes a scored note and hands back to the AI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS, SLOW_MS
from tests.e2e.helpers import sign_up, start_interview

pytestmark = pytest.mark.slow

HUMAN_QUESTION = "What would you measure first if the billing batch got slow again?"


async def test_human_interviewer_takes_over(chromium: str, api_server: str, tmp_path: Path) -> None:
    page_errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        candidate_ctx = await browser.new_context(viewport={"width": 1200, "height": 900})
        interviewer_ctx = await browser.new_context(viewport={"width": 1200, "height": 900})
        candidate = await candidate_ctx.new_page()
        interviewer = await interviewer_ctx.new_page()
        try:
            for page in (candidate, interviewer):
                page.on("pageerror", lambda exc: page_errors.append(str(exc)))
                page.set_default_timeout(30_000)

            await sign_up(candidate, api_server, "Casey")
            await start_interview(candidate)
            seat = candidate.get_by_label("Who is interviewing")
            await expect(seat).to_have_text("AI interviewer")

            # The owner's single-use invite link.
            await candidate.get_by_role("button", name="Create invite link").click()
            link_box = candidate.get_by_label("Invite link (single use)")
            await expect(link_box).to_have_value(re.compile(r"/join/[A-Za-z0-9_-]{16,}$"))
            link = await link_box.input_value()

            # Another account opens it and gets the interviewer's seat.
            await sign_up(interviewer, api_server, "Ivy")
            await interviewer.goto(link)
            await expect(interviewer.get_by_role("heading", name="Interviewer seat")).to_be_visible()
            transcript = interviewer.get_by_role("log", name="Live transcript")
            await expect(transcript.locator(".msg-interviewer")).to_have_count(1)
            suggestion = interviewer.get_by_role("region", name="Suggested next question")
            await expect(suggestion).to_be_visible()

            await interviewer.get_by_role("button", name="Take over").click()
            await expect(interviewer.get_by_role("button", name="Hand back to the AI")).to_be_visible()
            await expect(seat).to_have_text("Human interviewer")

            # The candidate answers; the AI stays quiet and the interviewer sees the answer live.
            answer_box = candidate.get_by_label("Your answer")
            await answer_box.fill("I rebuilt the billing batch and cut it from four hours to one.")
            await candidate.get_by_role("button", name="Send answer").click()
            waiting = candidate.get_by_text("A human interviewer has the seat")
            await expect(waiting).to_be_visible(timeout=SLOW_MS)
            await expect(transcript.locator(".msg-candidate")).to_contain_text("billing", timeout=SLOW_MS)

            # The interviewer's own question reaches the candidate's transcript, marked human.
            await interviewer.get_by_label("Your question").fill(HUMAN_QUESTION)
            await interviewer.get_by_role("button", name="Ask").click()
            said = candidate.get_by_role("log", name="Transcript").get_by_label("Interviewer (human) says")
            await expect(said).to_contain_text(HUMAN_QUESTION, timeout=SLOW_MS)
            await expect(waiting).to_have_count(0)
            await expect(transcript.locator(".msg-interviewer").last).to_contain_text(HUMAN_QUESTION)

            # A note with scores.
            notes = interviewer.get_by_role("region", name="Your notes")
            await notes.get_by_label("Note").fill("Clear on the outcome, vague on how it was measured.")
            await notes.get_by_label("communication (1–5)").select_option("4")
            await notes.get_by_role("button", name="Add note").click()
            await expect(notes.get_by_role("listitem")).to_contain_text("communication 4/5")

            await interviewer.get_by_role("button", name="Hand back to the AI").click()
            await expect(interviewer.get_by_role("button", name="Take over")).to_be_visible()
            await expect(seat).to_have_text("AI interviewer")
            await candidate.screenshot(path=str(tmp_path / "candidate.png"), full_page=True)
            await interviewer.screenshot(path=str(tmp_path / "interviewer.png"), full_page=True)
        except Exception:
            await candidate.screenshot(path=str(tmp_path / "failure-candidate.png"), full_page=True)
            await interviewer.screenshot(path=str(tmp_path / "failure-interviewer.png"), full_page=True)
            print(f"failure screenshots in {tmp_path}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()
    assert page_errors == [], page_errors
