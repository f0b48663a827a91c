"""Turn uploaded bytes into clean text: type sniffing, cheap upfront checks and full extraction.

Everything here is pure and synchronous so the api (for the cheap checks) and the cpu worker
(for the full extraction) share one implementation. Problems are raised as domain errors whose
message can be shown to the user as is.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

import docx
from docx.table import Table
from pypdf import PasswordType, PdfReader

from mocki.core.errors import DomainError, Invalid, TooLarge, UnsupportedMedia
from mocki.settings import DocumentLimits

SUPPORTED = "PDF (.pdf), Word (.docx), plain text (.txt) or Markdown (.md)"

# A .docx is a zip; its XML is inflated in memory, so refuse archives that would inflate absurdly.
MAX_DOCX_INFLATED_BYTES = 100 * 1024 * 1024

# pypdf logs every recoverable oddity of a malformed file; those are the user's problem, not ours.
logging.getLogger("pypdf").setLevel(logging.ERROR)


class DocType(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    TEXT = "text"


MEDIA_TYPES: dict[DocType, str] = {
    DocType.PDF: "application/pdf",
    DocType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocType.TEXT: "text/plain",
}
MARKDOWN = "text/markdown"

_EXTENSIONS: dict[str, DocType] = {
    ".pdf": DocType.PDF,
    ".docx": DocType.DOCX,
    ".txt": DocType.TEXT,
    ".text": DocType.TEXT,
    ".md": DocType.TEXT,
    ".markdown": DocType.TEXT,
}
_CLAIMED_MEDIA: dict[str, DocType] = {
    "application/pdf": DocType.PDF,
    "application/x-pdf": DocType.PDF,
    MEDIA_TYPES[DocType.DOCX]: DocType.DOCX,
    "text/plain": DocType.TEXT,
    "text/markdown": DocType.TEXT,
    "text/x-markdown": DocType.TEXT,
}
# Sent by browsers and tools that do not know better; they claim nothing.
_GENERIC_MEDIA = {"", "application/octet-stream", "binary/octet-stream", "application/x-www-form-urlencoded"}
_LABEL = {DocType.PDF: "a PDF", DocType.DOCX: "a Word .docx file", DocType.TEXT: "plain text"}


@dataclass(frozen=True)
class ExtractedText:
    text: str
    page_count: int | None


@dataclass(frozen=True)
class Inspection:
    """What the cheap upfront check learned: the real type and, for PDFs, the page count."""

    doc_type: DocType
    media_type: str
    page_count: int | None


def unsupported(detail: str) -> UnsupportedMedia:
    return UnsupportedMedia(f"{detail} Supported types: {SUPPORTED}.", code="unsupported_type")


# --- type detection -----------------------------------------------------------------------------


def claimed_type(filename: str, media_type: str) -> DocType | None:
    """The type the name (or, without an extension, the content type) promises; None if no promise."""
    suffix = PurePath(filename).suffix.lower()
    if suffix:
        if suffix not in _EXTENSIONS:
            raise unsupported(f"Files of type {suffix!r} are not supported.")
        return _EXTENSIONS[suffix]
    base = media_type.split(";")[0].strip().lower()
    if base in _GENERIC_MEDIA:
        return None
    if base not in _CLAIMED_MEDIA:
        raise unsupported(f"Content type {base!r} is not supported.")
    return _CLAIMED_MEDIA[base]


def sniff(data: bytes) -> DocType | None:
    """The type the bytes themselves say they are; None when they are none of ours."""
    # The PDF spec allows a little junk before the header; readers accept it within the first 1 KB.
    if b"%PDF-" in data[:1024]:
        return DocType.PDF
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return DocType.DOCX  # a broken zip: let the claimed type decide between corrupt and unknown
        return DocType.DOCX if "word/document.xml" in names else None
    if decode_text(data) is not None:
        return DocType.TEXT
    return None


def detect(data: bytes, filename: str, media_type: str) -> DocType:
    claimed = claimed_type(filename, media_type)
    actual = sniff(data)
    if actual is None:
        what = f"The file {filename!r}" if filename else "The file"
        raise unsupported(f"{what} is not a document we can read.")
    if actual is DocType.DOCX and claimed is not DocType.DOCX and not _is_docx(data):
        raise unsupported("The file is a zip archive, not a Word document.")
    if claimed is not None and claimed is not actual:
        raise unsupported(f"The file is named like {_LABEL[claimed]} but its content is {_LABEL[actual]}.")
    return actual


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def stored_media_type(doc_type: DocType, filename: str) -> str:
    if doc_type is DocType.TEXT and PurePath(filename).suffix.lower() in {".md", ".markdown"}:
        return MARKDOWN
    return MEDIA_TYPES[doc_type]


# --- text decoding and normalisation ------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# C0 and C1 controls other than tab, line feed, form feed and carriage return.
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode_text(data: bytes) -> str | None:
    """Decode text bytes (BOM, then UTF-8, then Windows-1252/Latin-1); None when it looks binary."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                return None
    if b"\x00" in data:  # NUL bytes without a UTF-16/32 BOM: binary, not text
        return None
    for encoding in ("utf-8", "cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        controls = len(_BINARY_CONTROLS.findall(text))
        # A stray control byte happens in real text files; many of them mean it is not text.
        return text if controls <= max(2, len(text) // 100) else None
    return None


_LINE_BREAKS = re.compile(r"\r\n|[\r\f\v\x1c\x1d\x1e\x85\u2028\u2029]")
_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
# Control, surrogate and private-use characters (icon fonts) carry no words and NUL breaks
# PostgreSQL; zero-width marks and soft hyphens are scattered through words by PDF and Word exports.
_NO_WORDS = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff"
    r"\ud800-\udfff\ue000-\uf8ff\U000f0000-\U0010ffff]"
)


def normalise(text: str) -> str:
    """One space between words, at most one blank line between paragraphs, no control characters."""
    # NFKC folds ligatures (ﬁ), full-width forms and odd spaces that PDF text extraction yields.
    text = unicodedata.normalize("NFKC", text)
    text = _NO_WORDS.sub("", _LINE_BREAKS.sub("\n", text))
    lines = (_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return _MANY_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def check_text(text: str, limits: DocumentLimits, *, scanned_hint: bool = False) -> str:
    """Enforce the character limits on normalised text and return it."""
    if len(text) < limits.min_chars:
        if scanned_hint:
            raise Invalid(
                "No text could be read from this PDF; it looks like a scanned image. "
                "Upload a PDF with selectable text, a .docx, or paste the text instead.",
                code="no_text",
            )
        raise Invalid(
            f"The document contains too little text ({len(text)} characters; at least "
            f"{limits.min_chars} are needed).",
            code="no_text",
        )
    if len(text) > limits.max_chars:
        raise TooLarge(
            f"The document has {len(text):,} characters of text; the limit is {limits.max_chars:,}. "
            "Shorten it or upload only the relevant part.",
            code="too_much_text",
        )
    return text


# --- PDF ----------------------------------------------------------------------------------------


def _open_pdf(data: bytes, limits: DocumentLimits) -> PdfReader:
    corrupt = Invalid(
        "The PDF is damaged and cannot be read. Export it again and re-upload.", code="corrupt_file"
    )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            # Only an owner password (restrictions on printing etc.) opens with "", and that is fine.
            raise Invalid(
                "The PDF is password-protected. Remove the password (print to PDF) and upload it again.",
                code="encrypted_file",
            )
        pages = len(reader.pages)
    except DomainError:
        raise
    except Exception as exc:  # pypdf raises many types on malformed input; all mean the same here
        raise corrupt from exc
    if pages == 0:
        raise corrupt
    if pages > limits.max_pages:
        raise Invalid(
            f"The PDF has {pages} pages; at most {limits.max_pages} are accepted.", code="too_many_pages"
        )
    return reader


def _pdf_text(data: bytes, limits: DocumentLimits) -> ExtractedText:
    reader = _open_pdf(data, limits)
    parts: list[str] = []
    failed = 0
    for page in reader.pages:
        try:
            parts.append(page.extract_text() or "")
        except Exception:  # one unreadable page should not lose the others
            failed += 1
    if failed == len(reader.pages):
        raise Invalid("The PDF is damaged and no page could be read.", code="corrupt_file")
    text = normalise("\n\n".join(parts))
    return ExtractedText(check_text(text, limits, scanned_hint=True), len(reader.pages))


# --- DOCX ---------------------------------------------------------------------------------------


def _open_docx(data: bytes) -> Any:
    corrupt = Invalid(
        "The Word document is damaged and cannot be read. Save it again as .docx and re-upload.",
        code="corrupt_file",
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
            if "word/document.xml" not in archive.namelist():
                raise corrupt
    except zipfile.BadZipFile as exc:
        raise corrupt from exc
    if inflated > MAX_DOCX_INFLATED_BYTES:
        raise Invalid("The Word document unpacks to an unreasonable size.", code="corrupt_file")
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx/lxml raise many types on malformed input
        raise corrupt from exc


def _block_lines(container: Any) -> Iterator[str]:
    """Paragraphs and tables in reading order; one line per paragraph and per table row."""
    for block in container.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                seen: set[int] = set()
                for cell in row.cells:
                    # Merged cells come back once per grid column they span.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    value = " ".join(line for line in _block_lines(cell) if line.strip())
                    if value.strip():
                        cells.append(value.strip())
                if cells:
                    yield " | ".join(cells)
            yield ""
        else:
            yield block.text


def _docx_text(data: bytes, limits: DocumentLimits) -> ExtractedText:
    document = _open_docx(data)
    try:
        lines: list[str] = []
        seen_parts: set[int] = set()
        for section in document.sections:
            # Resumes often keep name and contact details in the page header.
            for part in (section.header, section.footer):
                if part.is_linked_to_previous or id(part.part) in seen_parts:
                    continue
                seen_parts.add(id(part.part))
                lines.extend(_block_lines(part))
        lines.extend(_block_lines(document))
        # Text boxes live inside drawings that python-docx's paragraphs skip; the VML fallback copy
        # of each box is ignored so its text is not read twice.
        body = document.element.body
        boxes = body.xpath(".//w:txbxContent[not(ancestor::*[local-name()='Fallback'])]//w:p")
        lines.extend("".join(t.text or "" for t in p.xpath(".//w:t")) for p in boxes)
    except DomainError:
        raise
    except Exception as exc:
        raise Invalid("The Word document is damaged and cannot be read.", code="corrupt_file") from exc
    return ExtractedText(check_text(normalise("\n".join(lines)), limits), None)


# --- entry points -------------------------------------------------------------------------------


def inspect(data: bytes, filename: str, media_type: str, limits: DocumentLimits) -> Inspection:
    """Cheap checks worth making while the user waits: real type, PDF opens, not locked, page count."""
    doc_type = detect(data, filename, media_type)
    page_count: int | None = None
    if doc_type is DocType.PDF:
        page_count = len(_open_pdf(data, limits).pages)
    elif doc_type is DocType.DOCX:
        _open_docx(data)
    return Inspection(doc_type, stored_media_type(doc_type, filename), page_count)


def extract_text(data: bytes, filename: str, media_type: str, limits: DocumentLimits) -> ExtractedText:
    """Full extraction of PDF, DOCX or text bytes into normalised text, within the limits."""
    if not data:
        raise Invalid("The file is empty.", code="empty_file")
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"The file is {len(data) / 1048576:.1f} MB; the limit is {limits.max_bytes / 1048576:.0f} MB.",
            code="file_too_large",
        )
    doc_type = detect(data, filename, media_type)
    if doc_type is DocType.PDF:
        return _pdf_text(data, limits)
    if doc_type is DocType.DOCX:
        return _docx_text(data, limits)
    decoded = decode_text(data)
    if decoded is None:  # detect() already decoded it; kept for the type checker
        raise unsupported("The file is not readable text.")
    return ExtractedText(check_text(normalise(decoded), limits), None)
