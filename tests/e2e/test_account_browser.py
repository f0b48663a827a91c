"""Browser-sealed uploads and the account page, in real Chromium against `mocki api` and a worker.

A new account uploads a .txt resume holding a unique marker through the documents form while the
test records the request: only ciphertext leaves the browser (the marker is not in the bytes sent,
and the form carries `key_id` and a 12-byte `nonce`); the worker processes it and the document's
text, read through the page's own session, holds the marker. Then the account page refuses a weak
new password with the server's policy message, changes the password (signing out and back in with
the new one works, the old one does not), and deletes the account: the sign-in page says so, and
signing in fails afterwards.
"""

from __future__ import annotations

import base64
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from tests.e2e.conftest import CHROMIUM_ARGS, SLOW_MS
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.slow

OLD_PASSWORD = "correct horse battery"  # what helpers.sign_up sets
NEW_PASSWORD = "violet kettle on the moor 42"
UPLOAD_PATH = "/api/v1/documents"


def multipart_fields(body: bytes) -> dict[str, bytes]:
    """The named parts of a multipart/form-data body (enough for the fields this form sends)."""
    fields: dict[str, bytes] = {}
    boundary = body.split(b"\r\n", 1)[0]
    for part in body.split(boundary)[1:]:
        head, _, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if name:
            fields[name.group(1).decode()] = value.removesuffix(b"\r\n")
    return fields


async def read_as_page(page: Page, path: str) -> tuple[int, Any]:
    """GET an api path with the page's own stored session (a GET is not signed)."""
    status, body = await page.evaluate(
        """async (path) => {
            const tokens = JSON.parse(localStorage.getItem("mocki.tokens") || "{}");
            const headers = { Authorization: `Bearer ${tokens.access_token}` };
            const response = await fetch(path, { headers });
            return [response.status, await response.json()];
        }""",
        path,
    )
    return int(status), body


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def test_sealed_upload_and_account(chromium: str, api_server: str, tmp_path: Path) -> None:
    marker = f"MARKER{uuid.uuid4().hex}"
    resume = tmp_path / "resume.txt"
    resume.write_text(
        "Sam Example - Platform Engineer\n"
        f"Internal reference {marker}\n"
        "Six years of Python services, PostgreSQL and Kubernetes operations.\n"
        "Built the deployment pipeline and the on-call runbooks for a payments team.\n",
        encoding="utf-8",
    )
    page_errors: list[str] = []
    uploads: list[bytes | None] = []

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))

            async def record_upload(route: Route) -> None:
                if route.request.method == "POST":
                    uploads.append(route.request.post_data_buffer)
                await route.continue_()

            # Intercepted, the request is the bytes Chromium sends; the plain "request" event came
            # without the body of this multipart request (its parts are in-memory Blobs).
            await page.route(f"**{UPLOAD_PATH}", record_upload)
            page.set_default_timeout(30_000)
            email = await sign_up(page, api_server, "Sam")

            # The file goes sealed: the recorded request holds ciphertext and how to open it.
            await page.get_by_label("Document type").select_option("resume")
            await page.get_by_label("File (PDF, DOCX or TXT)").set_input_files(resume)
            async with page.expect_response(
                lambda r: r.request.method == "POST" and r.url.endswith(UPLOAD_PATH)
            ) as answer:
                await page.get_by_role("button", name="Add document").click()
            response = await answer.value
            assert response.status == 202, await response.text()
            document = await response.json()
            assert document["encrypted_upload"] is True

            assert len(uploads) == 1
            body = uploads[0]
            assert body, "the upload request's body was not recorded"
            assert marker.encode() not in body
            fields = multipart_fields(body)
            assert {"file", "kind", "key_id", "nonce"} <= fields.keys(), sorted(fields)
            uuid.UUID(fields["key_id"].decode())
            assert len(base64.b64decode(fields["nonce"], validate=True)) == 12
            # The original file's bytes plus the 16-byte GCM tag, none of them in the clear.
            assert len(fields["file"]) == len(resume.read_bytes()) + 16

            documents = page.get_by_role("list", name="Documents")
            await expect(documents.get_by_label("Status: ready")).to_have_count(1, timeout=SLOW_MS)
            await expect(documents.get_by_text("encrypted in your browser")).to_be_visible()
            await page.screenshot(path=str(tmp_path / "documents.png"), full_page=True)
            status, text = await read_as_page(page, f"{UPLOAD_PATH}/{document['id']}/text")
            assert status == 200, text
            assert marker in text["text"]

            # The account page shows the server's password policy, then changes the password.
            await page.get_by_role("link", name="Account", exact=True).click()
            await expect(page.get_by_role("heading", name="Account", exact=True)).to_be_visible()
            await page.get_by_label("Current password").fill(OLD_PASSWORD)
            await page.get_by_label("New password", exact=True).fill("short")
            await page.get_by_label("Repeat the new password").fill("short")
            await page.get_by_role("button", name="Change password").click()
            await expect(page.get_by_role("alert")).to_contain_text("Password is too weak")
            await expect(page.get_by_role("alert")).to_contain_text("at least 10 characters")
            await page.screenshot(path=str(tmp_path / "account.png"), full_page=True)

            await page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
            await page.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
            await page.get_by_role("button", name="Change password").click()
            await expect(page.get_by_role("status").filter(has_text="Password changed")).to_be_visible(
                timeout=60_000
            )
            await expect(page.get_by_role("alert")).to_have_count(0)

            await page.get_by_role("button", name="Sign out").click()
            await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            await sign_in(page, api_server, email, OLD_PASSWORD)
            await expect(page.get_by_role("alert")).to_be_visible(timeout=60_000)
            await sign_in(page, api_server, email, NEW_PASSWORD)
            # Signed in (back on the page the sign-out left, or the dashboard).
            await expect(page.get_by_role("button", name="Sign out")).to_be_visible(timeout=60_000)

            # Deleting needs the typed email and the password; then the sign-in page says so.
            await page.get_by_role("link", name="Account", exact=True).click()
            await expect(page.get_by_role("alert")).to_have_count(0)
            await page.get_by_role("button", name="Delete account…").click()
            delete = page.get_by_role("button", name="Delete my account")
            await expect(delete).to_be_disabled()
            await page.get_by_label("Type your email address to confirm").fill(email)
            await page.get_by_label("Your password").fill(NEW_PASSWORD)
            await delete.click()
            await expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=60_000)
            await expect(page.get_by_role("status")).to_contain_text(
                "account and everything in it were deleted"
            )

            await sign_in(page, api_server, email, NEW_PASSWORD)
            await expect(page.get_by_role("alert")).to_be_visible(timeout=60_000)
            await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        except Exception:
            await page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"failure screenshot: {tmp_path / 'failure.png'}; api log: {tmp_path / 'api.log'}")
            raise
        finally:
            await browser.close()

    assert page_errors == [], page_errors
    # And not only in the page: the api refuses the deleted account's credentials.
    async with httpx.AsyncClient(base_url=api_server) as http:
        login = await http.post("/api/v1/auth/login", json={"email": email, "password": NEW_PASSWORD})
    assert login.status_code == 401, login.text
