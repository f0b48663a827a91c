"""Real PDF and Word files built in memory for the documents tests (fpdf2, pypdf, python-docx)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import docx
from docx.oxml import parse_xml
from fpdf import FPDF
from PIL import Image
from pypdf import PdfWriter

# A fixed creation date keeps the bytes of a sample the same from one call to the next.
CREATED = datetime(2024, 1, 1, tzinfo=UTC)

RESUME_LINES = [
    "Jane Doe - Senior Backend Engineer",
    "Experience: eight years building Python services with PostgreSQL and Redis.",
    "Led the migration of a payments platform to event-driven architecture.",
]


def pdf_bytes(pages: list[str]) -> bytes:
    """A PDF with selectable text, one string per page."""
    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def resume_pdf() -> bytes:
    return pdf_bytes(["\n".join(RESUME_LINES), "Skills: Python, SQL, Kubernetes, mentoring."])


def scanned_pdf() -> bytes:
    """A page that is only a picture, like a scan: nothing to extract."""
    image = Image.new("RGB", (400, 200), "white")
    for x in range(40, 360):
        for y in range(90, 110):
            image.putpixel((x, y), (20, 20, 20))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    pdf = FPDF()
    pdf.set_creation_date(CREATED)
    pdf.add_page()
    pdf.image(io.BytesIO(buf.getvalue()), x=10, y=10, w=180)
    return bytes(pdf.output())


def encrypted_pdf(user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(resume_pdf()))
    writer.encrypt(user_password, owner_password=owner_password, algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


_TEXTBOX_RUN = """
<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"
     xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"
     xmlns:v="urn:schemas-microsoft-com:vml">
  <mc:AlternateContent>
    <mc:Choice Requires="wps">
      <w:drawing><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent></w:drawing>
    </mc:Choice>
    <mc:Fallback>
      <w:pict><v:textbox><w:txbxContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:txbxContent>
      </v:textbox></w:pict>
    </mc:Fallback>
  </mc:AlternateContent>
</w:r>
"""


def docx_bytes(
    paragraphs: list[str],
    table: list[list[str]] | None = None,
    header: str | None = None,
    textbox: str | None = None,
) -> bytes:
    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    if textbox:
        document.add_paragraph()._p.append(parse_xml(_TEXTBOX_RUN.format(text=textbox)))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def resume_docx() -> bytes:
    return docx_bytes(
        RESUME_LINES,
        table=[["Skill", "Years"], ["Python", "8"], ["PostgreSQL", "6"]],
        header="jane@example.com",
    )
