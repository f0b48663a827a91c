"""extract_text and its helpers on real bytes: types, encodings, limits, damaged and locked files."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest

from mocki.core.errors import DomainError, Invalid, TooLarge, UnsupportedMedia
from mocki.documents.extract import (
    DocType,
    ExtractedText,
    decode_text,
    detect,
    extract_text,
    inspect,
    normalise,
)
from mocki.settings import DocumentLimits
from tests.unit.documents.samples import (
    RESUME_LINES,
    docx_bytes,
    encrypted_pdf,
    pdf_bytes,
    resume_docx,
    resume_pdf,
    scanned_pdf,
)

LIMITS = DocumentLimits()
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "Senior engineer with ten years of Python and distributed systems.\n"


def error(exc_type: type[DomainError], call: object) -> DomainError:
    assert callable(call)
    with pytest.raises(exc_type) as info:
        call()
    return info.value


def test_pdf_text_and_page_count() -> None:
    result = extract_text(resume_pdf(), "cv.pdf", PDF, LIMITS)
    assert isinstance(result, ExtractedText)
    assert result.page_count == 2
    for line in RESUME_LINES:
        assert line in result.text
    assert "Skills: Python, SQL" in result.text


def test_docx_paragraphs_tables_header_and_text_boxes() -> None:
    result = extract_text(resume_docx(), "cv.docx", DOCX, LIMITS)
    assert result.page_count is None
    assert "jane@example.com" in result.text
    assert RESUME_LINES[1] in result.text
    assert "Python | 8" in result.text and "Skill | Years" in result.text

    boxed = extract_text(
        docx_bytes(["Plain paragraph of the resume."], textbox="Inside a text box"), "a.docx", "", LIMITS
    )
    assert boxed.text.count("Inside a text box") == 1  # the VML fallback copy is not read twice


def test_merged_table_cells_are_read_once() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Work history of the candidate follows.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Acme Corp 2019-2024"
    table.cell(1, 0).text = "Engineer"
    table.cell(1, 1).text = "Berlin"
    buf = io.BytesIO()
    document.save(buf)
    text = extract_text(buf.getvalue(), "cv.docx", DOCX, LIMITS).text
    assert text.count("Acme Corp 2019-2024") == 1
    assert "Engineer | Berlin" in text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), TEXT.strip()),
        (codecs.BOM_UTF8 + "Café résumé, naïve façade — done.".encode(), "Café résumé, naïve façade — done."),
        (
            codecs.BOM_UTF16_LE + "Zoë worked at Müller GmbH for years.".encode("utf-16-le"),
            "Zoë worked at Müller GmbH for years.",
        ),
        (
            codecs.BOM_UTF16_BE + "Zoë worked at Müller GmbH for years.".encode("utf-16-be"),
            "Zoë worked at Müller GmbH for years.",
        ),
        ("Zoë worked at Müller GmbH – “quoted”.".encode("cp1252"), "Zoë worked at Müller GmbH – “quoted”."),
        ("Señor Müller, façade très naïve ÿ.".encode("latin-1"), "Señor Müller, façade très naïve ÿ."),
    ],
)
def test_text_encodings(data: bytes, expected: str) -> None:
    assert extract_text(data, "cv.txt", "text/plain", LIMITS).text == expected


def test_markdown_is_text() -> None:
    data = b"# Jane Doe\n\n- Python\n- PostgreSQL and Redis at scale\n"
    assert detect(data, "cv.md", "text/markdown") is DocType.TEXT
    assert inspect(data, "cv.md", "", LIMITS).media_type == "text/markdown"
    assert extract_text(data, "cv.md", "", LIMITS).text.startswith("# Jane Doe\n\n- Python")


def test_normalise_collapses_whitespace_and_strips_controls_but_keeps_lines() -> None:
    raw = (
        "  Jane\u00a0\u00a0Doe \t  Engineer\x00\x07\r\n\r\n\r\n\r\n"
        "Skills:\u200b  Py\u00adthon\ufb01\f Page two \ue000 "
    )
    assert normalise(raw) == "Jane Doe Engineer\n\nSkills: Pythonfi\nPage two"


def test_decode_text_refuses_binary() -> None:
    assert decode_text(bytes(range(256)) * 4) is None
    assert decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") is None
    assert decode_text(b"plain words") == "plain words"


def test_extension_content_mismatch_is_unsupported() -> None:
    exc = error(UnsupportedMedia, lambda: extract_text(TEXT.encode(), "cv.pdf", PDF, LIMITS))
    assert "named like a PDF" in exc.message and "plain text" in exc.message
    assert "Supported types" in exc.message
    exc = error(UnsupportedMedia, lambda: extract_text(resume_pdf(), "cv.docx", DOCX, LIMITS))
    assert "Word" in exc.message


def test_type_comes_from_bytes_when_the_name_says_nothing() -> None:
    assert extract_text(resume_pdf(), "upload", "application/octet-stream", LIMITS).page_count == 2
    assert detect(resume_docx(), "upload", "") is DocType.DOCX


@pytest.mark.parametrize(
    ("data", "filename", "media_type"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "photo.png", "image/png"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "photo", "application/octet-stream"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old.doc", "application/msword"),
        (TEXT.encode(), "cv.rtf", "application/rtf"),
        (TEXT.encode(), "cv", "image/jpeg"),
    ],
)
def test_unknown_types_are_unsupported(data: bytes, filename: str, media_type: str) -> None:
    exc = error(UnsupportedMedia, lambda: extract_text(data, filename, media_type, LIMITS))
    assert "Supported types: PDF" in exc.message


def test_zip_that_is_not_a_word_document() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    error(UnsupportedMedia, lambda: extract_text(buf.getvalue(), "sheet", "", LIMITS))
    # A spreadsheet renamed to .docx is the wrong type, not a damaged Word file.
    error(UnsupportedMedia, lambda: extract_text(buf.getvalue(), "cv.docx", DOCX, LIMITS))


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.4\n this is not really a pdf", "cv.pdf"),
        (resume_pdf()[:300], "cv.pdf"),
        (resume_docx()[:500], "cv.docx"),
        (b"PK\x03\x04" + bytes(100), "cv.docx"),
    ],
)
def test_damaged_files_are_corrupt(data: bytes, filename: str) -> None:
    exc = error(Invalid, lambda: extract_text(data, filename, "", LIMITS))
    assert exc.code == "corrupt_file"
    assert "damaged" in exc.message


def test_password_protected_pdf_is_refused_but_owner_only_password_is_fine() -> None:
    exc = error(Invalid, lambda: inspect(encrypted_pdf("secret"), "cv.pdf", PDF, LIMITS))
    assert exc.code == "encrypted_file"
    # Only an owner password (restricting printing etc.): opens without asking the user anything.
    assert RESUME_LINES[0] in extract_text(encrypted_pdf("", "owner"), "cv.pdf", PDF, LIMITS).text


def test_too_many_pages() -> None:
    data = pdf_bytes([f"Page {i} of a very long document." for i in range(LIMITS.max_pages + 1)])
    exc = error(Invalid, lambda: inspect(data, "cv.pdf", PDF, LIMITS))
    assert exc.code == "too_many_pages"
    assert str(LIMITS.max_pages) in exc.message


def test_scanned_pdf_has_no_text() -> None:
    data = scanned_pdf()
    assert inspect(data, "scan.pdf", PDF, LIMITS).page_count == 1  # opens fine; only extraction tells
    exc = error(Invalid, lambda: extract_text(data, "scan.pdf", PDF, LIMITS))
    assert exc.code == "no_text" and "scanned" in exc.message


def test_character_and_byte_limits() -> None:
    limits = DocumentLimits(max_bytes=1000, max_chars=100, min_chars=20)
    assert error(Invalid, lambda: extract_text(b"too short", "a.txt", "", limits)).code == "no_text"
    assert error(TooLarge, lambda: extract_text(b"word " * 50, "a.txt", "", limits)).code == "too_much_text"
    assert error(TooLarge, lambda: extract_text(b"x" * 1001, "a.txt", "", limits)).code == "file_too_large"
    assert error(Invalid, lambda: extract_text(b"", "a.txt", "", limits)).code == "empty_file"
    # Whitespace does not count against the limit once collapsed.
    assert extract_text(b"word     " * 15, "a.txt", "", limits).text == ("word " * 15).strip()
