"""The job tracker's pages in a real browser, against `mocki api` and a real worker.

A new account uploads a small mailbox (an application confirmation and an interview invitation
with a date, written here), waits on the sync's progress until it is done, finds both applications
on the board in their columns, renames one position by hand (still there after a reload), and ticks
the interview's todo done in one tab while a second tab of the same account sees it done live
through the account's Socket.IO room, without a reload; then analytics, jobs and notification
settings load and save.

The api and an io worker run on their own task prefix with the tracker's LLM off (as the tracker's
integration tests do): with an endpoint configured the tracker trusts the LLM's reading, and the
suite's tiny stand-in model misreads these letters, so the columns would depend on it.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from mocki.settings import Settings
from mocki.tasks.names import worker_command
from tests.conftest import ROOT, process_env
from tests.e2e.conftest import CHROMIUM_ARGS, SLOW_MS
from tests.e2e.helpers import sign_up
from tests.integration.tracker.letters import message
from tests.support.processes import PYTHON, Child, free_port
from tests.unit.tracker.mails import mbox

pytestmark = pytest.mark.slow

APPLIED = message(
    "Your application to Nimbus Analytics",
    "Nimbus Analytics Talent <jobs@nimbusanalytics.example>",
    4,
    "Dear Sam,\n\nThank you for applying for the Platform Engineer position at Nimbus Analytics. We have "
    "received your application and our hiring team is reviewing it now. We will be in touch about next "
    "steps.\n\nKind regards,\nNimbus Analytics Talent Team",
    message_id="nimbus-applied-e2e",
)
INVITATION = message(
    "Interview invitation - Site Reliability Engineer",
    "Lumen Labs Careers <careers@lumenlabs.example>",
    8,
    "Hi Sam,\n\nWe enjoyed reading your application and would like to invite you to an interview for the "
    "Site Reliability Engineer position. Your interview is confirmed for Thursday, March 14 at 3:00 PM UTC "
    "over Google Meet: https://meet.google.com/abc-defg-hij\n\nThe Lumen Labs Recruiting Team",
    message_id="lumen-interview-e2e",
)
NEW_POSITION = "Senior Site Reliability Engineer"


@pytest.fixture
def tracker_api(web_dist: Path, settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`mocki api` and an io worker sharing a task prefix of their own, the tracker's LLM off."""
    env = {
        **process_env(settings),
        "MOCKI_WEB_DIST": str(web_dist),
        "MOCKI_DATA_DIR": str(tmp_path / "data"),
        "MOCKI_TASKS__KEY_PREFIX": f"trk-e2e-{uuid.uuid4().hex[:8]}:",
        "MOCKI_TRACKER__LLM": "off",
    }
    subprocess.run(
        [PYTHON, "-m", "mocki.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    worker = Child(
        worker_command(PYTHON, "io", concurrency=2, hostname=f"e2e-tracker-{uuid.uuid4().hex[:6]}@%h"),
        env=env,
        log=tmp_path / "worker.log",
        cwd=ROOT,
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uvicorn = [PYTHON, "-m", "uvicorn", "mocki.app:create_app", "--factory", "--host", "127.0.0.1"]
    api = None
    try:
        worker.wait_until(lambda: "ready." in worker.tail(100_000), 90, "tracker worker")
        api = Child(
            [*uvicorn, "--port", str(port), "--log-level", "info"],
            env=env,
            log=tmp_path / "api.log",
            cwd=ROOT,
        )

        def healthy() -> bool:
            try:
                return httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        api.wait_until(healthy, 60, "api server")
        yield base
    finally:
        if api is not None:
            api.stop()
        worker.stop()


async def test_tracker_pages(chromium: str, tracker_api: str, tmp_path: Path) -> None:
    mailbox = tmp_path / "jobs.mbox"
    mailbox.write_bytes(mbox(APPLIED, INVITATION))
    page_errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        # One context: both tabs share the account's stored session, as two tabs of one browser do.
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        second: Page | None = None
        try:
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.set_default_timeout(30_000)
            await sign_up(page, tracker_api, "Sam")

            # Upload the mailbox and follow the sync until it is done.
            await page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracker").click()
            await page.get_by_role("navigation", name="Tracker").get_by_role("link", name="Mail").click()
            await page.get_by_label("Mailbox file (.eml or .mbox)").set_input_files(str(mailbox))
            await page.get_by_role("button", name="Upload").click()
            syncs = page.get_by_role("list", name="Syncs")
            await expect(syncs.get_by_role("status")).to_have_text("Done: 2 new, 2 analysed", timeout=SLOW_MS)
            await expect(syncs).to_contain_text("fetched 2 of 2 · stored 2 · duplicates 0 · malformed 0")
            await page.screenshot(path=str(tmp_path / "mail.png"), full_page=True)

            # Both applications, each in its column.
            await page.get_by_role("navigation", name="Tracker").get_by_role("link", name="Board").click()
            applied = page.get_by_role("region", name="Applied", exact=True)
            interview = page.get_by_role("region", name="Interview", exact=True)
            await expect(applied.get_by_role("link")).to_have_count(1)
            await expect(applied.get_by_role("link")).to_contain_text("Nimbus Analytics")
            await expect(interview.get_by_role("link")).to_have_count(1)
            await expect(interview.get_by_role("link")).to_contain_text("Lumen Labs")
            await page.screenshot(path=str(tmp_path / "board.png"), full_page=True)

            # Rename the position by hand; it is marked as such and survives a reload.
            await interview.get_by_role("link").click()
            timeline = page.get_by_role("list", name="Timeline")
            await expect(timeline).to_contain_text("Interview")
            await page.get_by_label("Position", exact=True).fill(NEW_POSITION)
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await page.reload()
            await expect(
                page.get_by_role("heading", level=2, name=f"{NEW_POSITION} at Lumen Labs")
            ).to_be_visible()
            await expect(page.get_by_label("Position", exact=True)).to_have_value(NEW_POSITION)
            await expect(page.get_by_role("button", name="Hand position back to the emails")).to_be_visible()
            await page.screenshot(path=str(tmp_path / "application.png"), full_page=True)

            # The invitation's todo, ticked in one tab and seen done live in the other.
            await page.get_by_role("navigation", name="Tracker").get_by_role("link", name="Todos").click()
            second = await context.new_page()
            second.on("pageerror", lambda exc: page_errors.append(str(exc)))
            second.set_default_timeout(30_000)
            await second.goto(f"{tracker_api}/tracker/todos")
            tick = re.compile(r"^Done: Prepare for your interview at Lumen Labs")
            for tab in (page, second):
                await expect(tab.get_by_label("Live updates")).to_have_text("● live")
                await expect(tab.get_by_role("checkbox", name=tick)).not_to_be_checked()
            await page.get_by_role("checkbox", name=tick).click()
            await expect(page.get_by_role("list", name="Done todos")).to_contain_text("Lumen Labs")
            await expect(second.get_by_role("checkbox", name=tick)).to_be_checked()
            await expect(second.get_by_role("list", name="Done todos")).to_contain_text("Lumen Labs")
            await page.screenshot(path=str(tmp_path / "todos.png"), full_page=True)
            await second.screenshot(path=str(tmp_path / "todos-second-tab.png"), full_page=True)

            # The other views load: analytics of the two, recommendations asking for a resume first,
            # and notification settings saved (an unknown time zone refused with the api's reason).
            tracker_nav = page.get_by_role("navigation", name="Tracker")
            await tracker_nav.get_by_role("link", name="Analytics").click()
            await expect(page.get_by_role("region", name="Responses")).to_contain_text("Applications2")
            await tracker_nav.get_by_role("link", name="Jobs for you").click()
            await expect(page.get_by_text("Recommendations are ranked for your resume")).to_be_visible()
            await tracker_nav.get_by_role("link", name="Notifications").click()
            await page.get_by_label("Weekly digest").uncheck()
            await page.get_by_label("Time zone").fill("Mars/Olympus")
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("alert")).to_contain_text("Mars/Olympus")
            await page.get_by_label("Time zone").fill("Europe/Berlin")
            await page.get_by_role("button", name="Save").click()
            await expect(page.get_by_role("status")).to_have_text("Saved.")
            await page.reload()
            await expect(page.get_by_label("Time zone")).to_have_value("Europe/Berlin")
            await expect(page.get_by_label("Weekly digest")).not_to_be_checked()
            await page.screenshot(path=str(tmp_path / "settings.png"), full_page=True)
        except Exception:
            await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            if second is not None:
                await second.screenshot(path=str(tmp_path / "failure-second-tab.png"), full_page=True)
            print(f"failure screenshots in {tmp_path}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()
    assert page_errors == [], page_errors
