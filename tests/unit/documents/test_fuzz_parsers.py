"""Fuzzing the document extractor: random bytes and damaged PDFs and Word files.

Whatever arrives, extract_text returns text or raises one of the project's DomainErrors (which the
api answers as a clear 4xx, and the extraction task stores as the document's failure reason),
never another exception. Extraction runs in the worker process itself (documents/tasks.py), so a
hang would stall a worker: each example has a deadline and the test a timeout.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocki.core.errors import DomainError
from mocki.documents.extract import extract_text
from mocki.settings import DocumentLimits
from tests.support.mutation import mutated
from tests.unit.documents.samples import resume_docx, resume_pdf

LIMITS = DocumentLimits()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FUZZ = settings(
    max_examples=200,
    # A hang guard, generous for a loaded CI machine: a real parser loop runs for ever.
    deadline=timedelta(seconds=10),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PDF_SEED = resume_pdf()
DOCX_SEED = resume_docx()


def _extract_or_domain_error(data: bytes, filename: str, media_type: str) -> None:
    try:
        result = extract_text(data, filename, media_type, LIMITS)
    except DomainError as exc:
        assert 400 <= exc.status_code < 500, exc
        return
    assert isinstance(result.text, str) and result.text.strip()


@pytest.mark.timeout(300)
@FUZZ
@given(
    data=st.binary(max_size=4096),
    named=st.sampled_from(
        [("cv.pdf", "application/pdf"), ("cv.docx", DOCX), ("cv.txt", "text/plain"), ("cv", "")]
    ),
)
def test_random_bytes_give_text_or_a_clean_error(data: bytes, named: tuple[str, str]) -> None:
    _extract_or_domain_error(data, *named)


@pytest.mark.timeout(300)
@FUZZ
@given(data=mutated(PDF_SEED))
def test_damaged_pdfs_give_text_or_a_clean_error(data: bytes) -> None:
    _extract_or_domain_error(data, "cv.pdf", "application/pdf")


@pytest.mark.timeout(300)
@FUZZ
@given(data=mutated(DOCX_SEED))
def test_damaged_word_files_give_text_or_a_clean_error(data: bytes) -> None:
    _extract_or_domain_error(data, "cv.docx", DOCX)


def _with_part(seed: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seed)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item.filename, content if item.filename == name else src.read(item.filename))
    return out.getvalue()


with zipfile.ZipFile(io.BytesIO(DOCX_SEED)) as _zip:
    BODY_XML = _zip.read("word/document.xml")


@pytest.mark.timeout(300)
@FUZZ
@given(xml=mutated(BODY_XML))
def test_a_sound_zip_with_damaged_xml_gives_text_or_a_clean_error(xml: bytes) -> None:
    # Damage inside a well-formed zip: what reaches the XML parser, which a broken zip never does.
    _extract_or_domain_error(_with_part(DOCX_SEED, "word/document.xml", xml), "cv.docx", DOCX)
