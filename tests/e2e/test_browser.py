"""The built web app in real Chromium against a real api server, Celery worker and local model.

Signs up, uploads a PDF resume and pastes a job description, waits for both to be processed,
runs a two-question interview with streamed replies, ends it and waits for the scored report,
then opens the progress chart. Screenshots of the interview room, the report and the progress
page land in the test's tmp dir.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from fpdf import FPDF
from playwright.async_api import async_playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS, SLOW_MS

pytestmark = pytest.mark.slow

RESUME_LINES = [
    "Jordan Example - Backend Engineer",
    "Experience: five years building Python web services with FastAPI and PostgreSQL.",
    "Led the migration of a billing system to an event-driven design with Celery and Redis.",
    "Improved p95 latency of the search api by caching and query tuning.",
    "Mentored two junior engineers and ran the team's code review practice.",
    "Skills: Python, SQL, Docker, observability, testing.",
]
JOB_DESCRIPTION = (
    "We are hiring a backend engineer to build reliable Python services. You will design REST APIs, "
    "own PostgreSQL schemas, run background jobs, and work closely with product on delivery. "
    "Experience with distributed systems, caching and on-call is a plus."
)


def make_resume_pdf(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in RESUME_LINES:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


async def test_interview_in_the_browser(chromium: str, api_server: str, tmp_path: Path) -> None:
    resume = make_resume_pdf(tmp_path / "resume.pdf")
    page_errors: list[str] = []

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1200, "height": 900})
        page = await context.new_page()
        try:
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.set_default_timeout(30_000)

            # Sign up; the dashboard follows.
            await page.goto(f"{api_server}/signup")
            await page.get_by_label("Name").fill("Jordan")
            await page.get_by_label("Email").fill(f"e2e-{uuid.uuid4().hex[:8]}@example.com")
            await page.get_by_label("Password").fill("correct horse battery")
            await page.get_by_role("button", name="Create account").click()
            await expect(page.get_by_role("heading", name="Your documents")).to_be_visible()

            # A PDF resume goes through the Celery worker; the pasted job description too or inline.
            await page.get_by_label("Document type").select_option("resume")
            await page.get_by_label("Title").fill("My resume")
            await page.get_by_label("File (PDF, DOCX or TXT)").set_input_files(resume)
            await page.get_by_role("button", name="Add document").click()
            await expect(page.get_by_text("resume.pdf")).to_be_visible()

            await page.get_by_label("Document type").select_option("job_description")
            await page.get_by_label("Paste text").check()
            await page.get_by_label("Title").fill("Backend engineer JD")
            await page.get_by_label("Text", exact=True).fill(JOB_DESCRIPTION)
            await page.get_by_role("button", name="Add document").click()

            documents = page.get_by_role("list", name="Documents")
            await expect(documents.locator("li")).to_have_count(2)
            busy = documents.locator('li[data-status="pending"], li[data-status="processing"]')
            await expect(busy).to_have_count(0, timeout=SLOW_MS)
            await expect(documents.get_by_role("alert")).to_have_count(0)
            await expect(documents.get_by_label("Status: ready")).to_have_count(2)
            # Both are then chunked and embedded by the worker, and the api's vector store gets them.
            await expect(documents.locator('[data-index-status="ready"]')).to_have_count(2, timeout=SLOW_MS)

            # Set up a two-question interview with both documents (preselected as the newest).
            await page.get_by_role("link", name="New interview").first.click()
            await page.get_by_label("Target role").fill("Backend engineer")
            await page.get_by_label("Company").fill("Acme")
            await expect(page.get_by_label("Resume")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
            await expect(page.get_by_label("Job description")).to_have_value(re.compile(r"^[0-9a-f-]{36}$"))
            await page.get_by_label("Interview type").select_option("mixed")
            await page.get_by_label("Number of questions").fill("2")

            # The opening question arrives as a stream of token events.
            async with page.expect_response(lambda r: r.url.endswith("/start"), timeout=SLOW_MS) as start:
                await page.get_by_role("button", name="Start interview").click()
            response = await start.value
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            # The page reads the stream itself (its body is not kept for the test to read: the api
            # answers with no-store); the tokens and the stored turn show in the transcript below.

            transcript = page.get_by_role("log", name="Transcript")
            interviewer = transcript.locator(".msg-interviewer:not(.msg-pending)")
            candidate = transcript.locator(".msg-candidate:not(.msg-pending)")
            await expect(interviewer).to_have_count(1, timeout=SLOW_MS)
            assert (await interviewer.first.inner_text()).strip()
            # The question shows the resume or job-description line it came from.
            why = interviewer.first.get_by_role("list", name="Why this question")
            await expect(why).to_contain_text(re.compile(r"From (your resume|the job description), line \d+"))

            # First answer with Enter, second with the button.
            answer_box = page.get_by_label("Your answer")
            await expect(answer_box).to_be_enabled()
            await answer_box.fill(
                "At my last job I led the billing migration to Celery and Redis. I split the work into "
                "small releases, measured error rates, and we cut failed invoices by half."
            )
            # As a user would: send once the button says an answer can go.
            await expect(page.get_by_role("button", name="Send answer")).to_be_enabled(timeout=SLOW_MS)
            await answer_box.press("Enter")
            await expect(candidate).to_have_count(1, timeout=SLOW_MS)
            await expect(interviewer).to_have_count(2, timeout=SLOW_MS)

            await expect(answer_box).to_be_enabled(timeout=SLOW_MS)
            await answer_box.fill(
                "I would design the api around clear resources, keep PostgreSQL as the source of truth, "
                "and move slow work to background jobs with retries and idempotent tasks."
            )
            await page.get_by_role("button", name="Send answer").click()
            await expect(candidate).to_have_count(2, timeout=SLOW_MS)
            end = page.get_by_role("button", name="End interview")
            await expect(end).to_be_enabled(timeout=SLOW_MS)
            await expect(page.get_by_role("alert")).to_have_count(0)
            await page.screenshot(path=str(tmp_path / "interview-room.png"), full_page=True)

            # Ending sends the report to the worker; the page polls until it is scored.
            await end.click()
            await expect(page.get_by_role("heading", name="Interview report")).to_be_visible()
            await expect(page.get_by_role("heading", name="Overall score")).to_be_visible(timeout=SLOW_MS)
            score = (await page.locator(".score-value").inner_text()).strip()
            assert re.fullmatch(r"\d{1,3}", score) and 0 <= int(score) <= 100, score
            # One item per bank question; a rule-chosen follow-up folds into its question's item.
            await expect(page.locator(".items > li").first).to_be_visible()
            assert 1 <= await page.locator(".items > li").count() <= 2
            # The radar chart is drawn: one vertex per scored dimension, inside the chart.
            radar = page.locator("svg.radar")
            await expect(radar).to_be_visible()
            assert await radar.locator("circle.radar-dot").count() >= 4
            box = await radar.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100
            # The PDF downloads with the user's token and is a PDF.
            async with page.expect_download(timeout=SLOW_MS) as download_info:
                await page.get_by_role("button", name="Download PDF").click()
            pdf_path = tmp_path / "report.pdf"
            await (await download_info.value).save_as(pdf_path)
            assert pdf_path.read_bytes().startswith(b"%PDF")
            await page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

            # The progress page charts the scored interview: the overall score and each dimension.
            await page.get_by_role("link", name="Progress", exact=True).click()
            await expect(page.get_by_role("heading", name="Your progress")).to_be_visible()
            chart = page.locator("svg.progress-chart")
            await expect(chart).to_be_visible()
            await expect(chart.locator('[data-series="overall"] circle.chart-dot')).to_have_count(1)
            assert await chart.locator("circle.chart-dot").count() >= 5
            box = await chart.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
            await expect(page.get_by_role("heading", name="Weak points")).to_be_visible()
            await page.screenshot(path=str(tmp_path / "progress.png"), full_page=True)
        except Exception:
            # What the user saw when it went wrong is the quickest diagnosis.
            await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"failure screenshot: {tmp_path / 'failure.png'}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()

    assert page_errors == [], page_errors
    shots = ("interview-room.png", "report.png", "progress.png")
    print("screenshots:", *(tmp_path / name for name in shots))
