"""Documents over HTTP with a real Celery worker, on PostgreSQL and SQLite."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import register
from tests.unit.documents.samples import (
    RESUME_LINES,
    encrypted_pdf,
    pdf_bytes,
    resume_docx,
    resume_pdf,
    scanned_pdf,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql", "sqlite"], indirect=True)

URL = "/api/v1/documents"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JD_TEXT = "We are hiring a backend engineer to build Python services on PostgreSQL."


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str,
    media_type: str,
    kind: str = "resume",
    title: str | None = None,
) -> httpx.Response:
    form = {"kind": kind} if title is None else {"kind": kind, "title": title}
    return await client.post(URL, headers=headers, files={"file": (filename, data, media_type)}, data=form)


async def wait_until_done(client: httpx.AsyncClient, headers: dict[str, str], doc_id: str) -> dict[str, Any]:
    """Poll as the web app does until the worker has finished with the document."""
    for _ in range(600):
        resp = await client.get(f"{URL}/{doc_id}", headers=headers)
        assert resp.status_code == 200, resp.text
        if resp.json()["status"] in ("ready", "failed"):
            return dict(resp.json())
        await asyncio.sleep(0.2)
    pytest.fail(f"document {doc_id} never finished")


async def assert_nothing_saved(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    resp = await client.get(URL, headers=headers)
    assert resp.status_code == 200 and resp.json() == []


def assert_error(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    err = dict(resp.json()["error"])
    assert err["code"] == code, err
    assert err["message"]
    return err


# --- the main flow ----------------------------------------------------------------------------


async def test_pdf_is_extracted_by_the_worker(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    resp = await upload(client, auth, resume_pdf(), "Jane CV.pdf", PDF)
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "pending"
    assert body["kind"] == "resume" and body["title"] == "Jane CV" and body["filename"] == "Jane CV.pdf"
    assert body["media_type"] == PDF and body["page_count"] == 2 and body["size_bytes"] == len(resume_pdf())
    assert "text" not in body and "content" not in body

    done = await wait_until_done(client, auth, body["id"])
    assert done["status"] == "ready", done
    assert done["error"] is None and done["page_count"] == 2

    text = await client.get(f"{URL}/{body['id']}/text", headers=auth)
    assert text.status_code == 200
    assert text.json()["id"] == body["id"]
    for line in RESUME_LINES:
        assert line in text.json()["text"]
    assert done["char_count"] == len(text.json()["text"])


async def test_docx_is_extracted_by_the_worker(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    resp = await upload(client, auth, resume_docx(), "cv.docx", DOCX, title="  My resume  ")
    assert resp.status_code == 202, resp.text
    assert resp.json()["title"] == "My resume" and resp.json()["media_type"] == DOCX

    done = await wait_until_done(client, auth, resp.json()["id"])
    assert done["status"] == "ready", done
    text = (await client.get(f"{URL}/{done['id']}/text", headers=auth)).json()["text"]
    assert RESUME_LINES[0] in text
    assert "Python | 8" in text  # table rows survive
    assert "jane@example.com" in text  # so does the page header


async def test_scanned_pdf_fails_with_a_reason_and_can_be_deleted(
    client: httpx.AsyncClient, auth: dict[str, str], worker: Any
) -> None:
    resp = await upload(client, auth, scanned_pdf(), "scan.pdf", PDF)
    assert resp.status_code == 202, resp.text
    done = await wait_until_done(client, auth, resp.json()["id"])
    assert done["status"] == "failed"
    assert "scanned" in done["error"]

    text = await client.get(f"{URL}/{done['id']}/text", headers=auth)
    err = assert_error(text, 409, "not_ready")
    assert "scanned" in err["message"]

    assert (await client.delete(f"{URL}/{done['id']}", headers=auth)).status_code == 204
    assert (await client.get(f"{URL}/{done['id']}", headers=auth)).status_code == 404
    await assert_nothing_saved(client, auth)


async def test_text_files_are_ready_at_once(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await upload(
        client, auth, "\ufeffZoë Müller\r\n\r\nPython   engineer.\n".encode("utf-16"), "cv.txt", "text/plain"
    )
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "ready" and body["media_type"] == "text/plain" and body["page_count"] is None
    text = (await client.get(f"{URL}/{body['id']}/text", headers=auth)).json()["text"]
    assert text == "Zoë Müller\n\nPython engineer."
    assert body["char_count"] == len(text)

    md = await upload(
        client, auth, b"# Job\n\n" + JD_TEXT.encode(), "jd.md", "text/markdown", kind="job_description"
    )
    assert md.status_code == 202 and md.json()["status"] == "ready"
    assert md.json()["media_type"] == "text/markdown"


async def test_pasted_text(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    resp = await client.post(
        f"{URL}/text",
        headers=auth,
        json={"kind": "job_description", "title": "Acme backend", "text": JD_TEXT + "\x00  "},
    )
    assert resp.status_code == 202, resp.text
    body = resp.json()
    assert body["status"] == "ready" and body["filename"] == "" and body["title"] == "Acme backend"
    text = await client.get(f"{URL}/{body['id']}/text", headers=auth)
    assert text.json()["text"] == JD_TEXT

    untitled = await client.post(f"{URL}/text", headers=auth, json={"kind": "resume", "text": JD_TEXT})
    assert untitled.json()["title"] == "Pasted resume"


async def test_list_is_newest_first_and_filters_by_kind(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    ids = []
    for kind in ("resume", "job_description", "resume"):
        resp = await client.post(
            f"{URL}/text", headers=auth, json={"kind": kind, "title": kind, "text": JD_TEXT}
        )
        ids.append(resp.json()["id"])
    everything = await client.get(URL, headers=auth)
    assert [d["id"] for d in everything.json()] == ids[::-1]
    resumes = await client.get(URL, headers=auth, params={"kind": "resume"})
    assert [d["id"] for d in resumes.json()] == [ids[2], ids[0]]
    assert_error(
        await client.get(URL, headers=auth, params={"kind": "cover_letter"}), 422, "validation_error"
    )


# --- refused uploads: a clear 4xx and nothing saved ----------------------------------------


async def test_empty_file(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await upload(client, auth, b"", "cv.pdf", PDF), 422, "empty_file")
    await assert_nothing_saved(client, auth)


async def test_oversized_file(client: httpx.AsyncClient, auth: dict[str, str], settings: Any) -> None:
    data = b"a" * (settings.documents.max_bytes + 1)
    err = assert_error(await upload(client, auth, data, "cv.txt", "text/plain"), 413, "file_too_large")
    assert "MB" in err["message"]
    await assert_nothing_saved(client, auth)


@pytest.mark.parametrize(
    ("data", "filename", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "photo.png", "image/png"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "cv.doc", "application/msword"),
        (JD_TEXT.encode(), "cv.pdf", PDF),  # a text file wearing a .pdf name
        (resume_pdf(), "cv.docx", DOCX),
    ],
    ids=["png", "doc", "text-as-pdf", "pdf-as-docx"],
)
async def test_unsupported_or_mismatched_type(
    client: httpx.AsyncClient, auth: dict[str, str], data: bytes, filename: str, media_type: str
) -> None:
    err = assert_error(await upload(client, auth, data, filename, media_type), 415, "unsupported_type")
    assert "Supported types: PDF (.pdf), Word (.docx), plain text (.txt) or Markdown (.md)" in err["message"]
    await assert_nothing_saved(client, auth)


async def test_corrupt_pdf(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for data in (b"%PDF-1.7\n1 0 obj << garbage", resume_pdf()[:400]):
        assert_error(await upload(client, auth, data, "cv.pdf", PDF), 422, "corrupt_file")
    assert_error(await upload(client, auth, resume_docx()[:600], "cv.docx", DOCX), 422, "corrupt_file")
    await assert_nothing_saved(client, auth)


async def test_encrypted_pdf(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    err = assert_error(
        await upload(client, auth, encrypted_pdf("secret"), "cv.pdf", PDF), 422, "encrypted_file"
    )
    assert "password" in err["message"]
    await assert_nothing_saved(client, auth)


async def test_too_many_pages(client: httpx.AsyncClient, auth: dict[str, str], settings: Any) -> None:
    pages = [f"Page {i}" for i in range(settings.documents.max_pages + 1)]
    err = assert_error(await upload(client, auth, pdf_bytes(pages), "long.pdf", PDF), 422, "too_many_pages")
    assert str(settings.documents.max_pages) in err["message"]
    await assert_nothing_saved(client, auth)


async def test_text_without_enough_words(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    assert_error(await upload(client, auth, b"  \n\t hi \n", "cv.txt", "text/plain"), 422, "no_text")
    resp = await client.post(
        f"{URL}/text", headers=auth, json={"kind": "resume", "title": "", "text": "   \x00\x01  "}
    )
    assert_error(resp, 422, "no_text")
    await assert_nothing_saved(client, auth)


async def test_too_much_pasted_text(client: httpx.AsyncClient, auth: dict[str, str], settings: Any) -> None:
    text = "word " * (settings.documents.max_chars // 4)
    resp = await client.post(f"{URL}/text", headers=auth, json={"kind": "resume", "title": "", "text": text})
    assert_error(resp, 413, "too_much_text")
    await assert_nothing_saved(client, auth)


async def test_invalid_kind_missing_file_and_bad_json(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    err = assert_error(
        await upload(client, auth, resume_pdf(), "cv.pdf", PDF, kind="poem"), 422, "validation_error"
    )
    assert any(p["field"] == "kind" for p in err["details"])

    resp = await client.post(
        URL, headers=auth, data={"kind": "resume"}, files={"other": ("x.txt", b"hello", "text/plain")}
    )
    err = assert_error(resp, 422, "validation_error")
    assert any(p["field"] == "file" for p in err["details"])

    resp = await client.post(URL, headers=auth, files={"file": ("cv.txt", JD_TEXT.encode(), "text/plain")})
    err = assert_error(resp, 422, "validation_error")
    assert any(p["field"] == "kind" for p in err["details"])

    resp = await client.post(
        f"{URL}/text", headers=auth, json={"kind": "resume", "text": JD_TEXT, "owner_id": "x"}
    )
    assert_error(resp, 422, "validation_error")
    resp = await client.post(f"{URL}/text", headers=auth, json={"kind": "memo", "text": JD_TEXT})
    assert_error(resp, 422, "validation_error")
    await assert_nothing_saved(client, auth)


# --- ownership and addressing -------------------------------------------------------------


async def test_other_users_documents_are_invisible(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    mine = await client.post(
        f"{URL}/text", headers=auth, json={"kind": "resume", "title": "", "text": JD_TEXT}
    )
    doc_id = mine.json()["id"]
    intruder = await register(client)

    assert (await client.get(URL, headers=intruder)).json() == []
    assert_error(await client.get(f"{URL}/{doc_id}", headers=intruder), 404, "document_not_found")
    assert_error(await client.get(f"{URL}/{doc_id}/text", headers=intruder), 404, "document_not_found")
    assert_error(await client.delete(f"{URL}/{doc_id}", headers=intruder), 404, "document_not_found")
    # Still there for its owner.
    assert (await client.get(f"{URL}/{doc_id}", headers=auth)).status_code == 200
    # An id that never existed looks the same as a foreign one.
    assert_error(await client.get(f"{URL}/{uuid.uuid4()}", headers=auth), 404, "document_not_found")


async def test_malformed_id_is_422(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for method, path in (("GET", "not-a-uuid"), ("GET", "123/text"), ("DELETE", "nope")):
        resp = await client.request(method, f"{URL}/{path}", headers=auth)
        err = assert_error(resp, 422, "validation_error")
        assert any(p["field"] == "path.document_id" for p in err["details"])


async def test_everything_needs_a_sign_in(client: httpx.AsyncClient) -> None:
    some_id = uuid.uuid4()
    calls = [
        client.get(URL),
        client.get(f"{URL}/{some_id}"),
        client.get(f"{URL}/{some_id}/text"),
        client.delete(f"{URL}/{some_id}"),
        client.post(f"{URL}/text", json={"kind": "resume", "text": JD_TEXT}),
        client.post(URL, data={"kind": "resume"}, files={"file": ("cv.txt", JD_TEXT.encode(), "text/plain")}),
    ]
    for call in calls:
        assert_error(await call, 401, "not_authenticated")
