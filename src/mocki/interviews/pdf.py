"""The interview report as a PDF a candidate can keep or share: scores, signal, measures, each answer.

Rendered with fpdf2 from the same `ReportOut` the api returns, so the PDF never says anything
the web page does not. fpdf2's built-in fonts cover Latin-1 only: a Unicode TrueType font is used
when the machine has one (DejaVu Sans on Debian and Ubuntu; a CJK font for Chinese answers), and
otherwise text is folded to Latin-1 so the PDF still renders.
"""

from __future__ import annotations

import asyncio
import unicodedata
import uuid
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from sqlalchemy.ext.asyncio import AsyncSession

from mocki.core.errors import Conflict
from mocki.interviews import measures, service
from mocki.interviews.schemas import AnswerMeasures, ReportItem, ReportOut

_UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)
_CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
)
_ASCII_FOR = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "-"})
LINE = 5.5


def _first(paths: tuple[Path, ...]) -> Path | None:
    return next((p for p in paths if p.is_file()), None)


class _ReportPDF(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(18, 18, 18)
        regular = _first(_UNICODE_FONTS)
        self.has_unicode = regular is not None
        if regular is not None:
            self.add_font("body", "", str(regular))
            bold = regular.with_name("DejaVuSans-Bold.ttf")
            self.add_font("body", "B", str(bold if bold.is_file() else regular))
            cjk = _first(_CJK_FONTS)
            if cjk is not None:
                self.add_font("cjk", "", str(cjk))
                self.set_fallback_fonts(["cjk"], exact_match=False)
        self.body_font = "body" if self.has_unicode else "Helvetica"

    def text_of(self, text: str) -> str:
        if self.has_unicode:
            return text
        folded = unicodedata.normalize("NFKC", text).translate(_ASCII_FOR)
        return folded.encode("latin-1", "replace").decode("latin-1")

    def para(self, text: str, size: float = 10, style: str = "", indent: float = 0) -> None:
        self.set_font(self.body_font, style, size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(
            self.epw - indent, LINE * size / 10, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )

    def heading(self, text: str, size: float = 14) -> None:
        self.ln(2)
        self.para(text, size, "B")
        self.ln(1)


def _measures_line(m: AnswerMeasures) -> str:
    parts = [
        f"{m.words} words",
        f"{m.fillers_per_100_words:.1f} fillers/100 words",
        f"{m.hedges_per_100_words:.1f} hedges/100 words",
    ]
    if m.response_s is not None:
        parts.append(f"response time {m.response_s:.0f} s")
    if m.words_per_minute is not None:
        parts.append(f"{m.words_per_minute:.0f} words/min")
    return "Measures: " + ", ".join(parts)


def _item(pdf: _ReportPDF, n: int, item: ReportItem) -> None:
    pdf.heading(f"Question {n}", 12)
    pdf.para(item.question, 10, "B")
    pdf.ln(1)
    pdf.para("Your answer: " + item.answer, 10, indent=4)
    pdf.ln(1)
    scores = item.scores.model_dump(exclude_none=True)
    pdf.para("Scores: " + ", ".join(f"{name} {value:.1f}/5" for name, value in scores.items()), 9.5)
    if item.measures is not None:
        pdf.para(_measures_line(item.measures), 9.5)
    pdf.para("Feedback: " + item.feedback, 10)
    if item.evidence:
        pdf.para("Based on:", 9.5, "B")
        for ev in item.evidence:
            pdf.para(f'- {ev.dimension} (turn {ev.seq}): "{ev.quote}" ({ev.note})', 9, indent=4)


def render_report(report: ReportOut, title: str) -> bytes:
    """The whole report as PDF bytes; `title` names the interview (role and company)."""
    pdf = _ReportPDF()
    pdf.set_title(f"MOCKI interview report: {title}")
    pdf.add_page()
    pdf.para("MOCKI interview report", 18, "B")
    pdf.para(title, 11)
    pdf.ln(3)
    score = "-" if report.overall_score is None else f"{report.overall_score:.0f}/100"
    signal = measures.SIGNAL_LABELS[report.signal] if report.signal else "-"
    pdf.para(f"Overall score: {score}    Hiring signal: {signal}", 13, "B")
    pdf.para(report.summary, 10)
    means = measures.dimension_means([{"scores": i.scores.model_dump()} for i in report.items])
    if means:
        pdf.para("Average scores: " + ", ".join(f"{d} {v:.1f}/5" for d, v in means.items()), 10)
    overall = report.measures
    if overall is not None:
        line = (
            f"Delivery: {overall.mean_words:.0f} words per answer, "
            f"{overall.fillers_per_100_words:.1f} fillers and {overall.hedges_per_100_words:.1f} hedges "
            "per 100 words"
        )
        if overall.mean_response_s is not None:
            line += f", {overall.mean_response_s:.0f} s mean response time"
        pdf.para(line + ".", 10)
    for heading, bullets in (("Strengths", report.strengths), ("To work on", report.weaknesses)):
        if bullets:
            pdf.heading(heading, 12)
            for bullet in bullets:
                pdf.para("- " + bullet, 10, indent=2)
    for n, item in enumerate(report.items, start=1):
        _item(pdf, n, item)
    return bytes(pdf.output())


async def report_pdf(session: AsyncSession, owner_id: uuid.UUID, interview_id: uuid.UUID) -> bytes:
    """The owner's ready report as PDF; 404 for anyone else, 409 until the report is ready."""
    report = await service.get_report(session, owner_id, interview_id)
    if report.status != "ready":
        raise Conflict(
            "The report is still being written; try again in a moment."
            if report.status == "pending"
            else "The report could not be generated; end the interview again to retry.",
            code=f"report_{report.status}",
        )
    interview = await service.get_interview(session, owner_id, interview_id)
    title = interview.target_role + (f" at {interview.company}" if interview.company else "")
    # ~0.1 s of pure-Python layout for a long report: off the event loop so other requests go on.
    return await asyncio.to_thread(render_report, report, title)
