"""Steps several browser tests share: signing up and starting an interview from the web app."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect

from tests.e2e.conftest import SLOW_MS


async def sign_up(page: Page, base: str, name: str) -> str:
    """A new account through the sign-up page; returns its email. The dashboard follows."""
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    await page.goto(f"{base}/signup")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("correct horse battery")
    await page.get_by_role("button", name="Create account").click()
    # Password hashing on a busy 2-core machine can take longer than expect's default 5 s.
    await expect(page.get_by_role("heading", name="Your documents")).to_be_visible(timeout=60_000)
    return email


async def start_interview(page: Page, questions: int = 2) -> None:
    """From the dashboard: a short interview without documents; waits for the opening question."""
    await page.get_by_role("link", name="New interview").first.click()
    await page.get_by_label("Target role").fill("Backend engineer")
    await page.get_by_label("Number of questions").fill(str(questions))
    await page.get_by_role("button", name="Start interview").click()
    transcript = page.get_by_role("log", name="Transcript")
    await expect(transcript.locator(".msg-interviewer:not(.msg-pending)")).to_have_count(1, timeout=SLOW_MS)
