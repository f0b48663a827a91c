"""Job recommendations: the catalogue's postings ranked for the user's latest resume.

A posting's score blends how close its vector is to the resume's lines (the best line and the
mean of the three best, so one lucky line does not carry a posting) with how many of its skills
the resume names. Postings the user already applied to (an application with the same company
and title) are left out. Each recommendation says why: the skills matched, the resume line that
matched best, and the skills the resume does not show.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from mocki.core.errors import Conflict
from mocki.documents import service as documents
from mocki.models.jobs import SHARED_SCOPE, JobPosting
from mocki.models.tracker import Application
from mocki.retrieval.embeddings import Embedder, Vectors
from mocki.retrieval.indexing import from_bytes
from mocki.tracker import skills

SEMANTIC_WEIGHT = 0.7
SKILL_WEIGHT = 0.3
TOP_LINES = 3
MAX_LINES = 200
LINE_MAX_TOKENS = 64
_BULLET = re.compile(r"^[\s\-*•·▪◦●–>]+")


@dataclass(frozen=True)
class ResumeView:
    document_id: uuid.UUID
    title: str
    lines: list[tuple[int, str]]  # (1-based line number, text)
    vectors: Vectors  # one unit row per line
    text: str
    skills: set[str]


@dataclass(frozen=True)
class Recommendation:
    posting: JobPosting
    score: float
    semantic: float
    skill_overlap: float
    matched_skills: list[str]
    missing_skills: list[str]
    best_line: tuple[int, str] | None


def resume_lines(text: str) -> list[tuple[int, str]]:
    """Lines worth matching: at least three words, bullets stripped."""
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _BULLET.sub("", raw).strip()
        if len(re.findall(r"\w+", line)) >= 3:
            out.append((number, line[:400]))
    return out[:MAX_LINES]


async def latest_resume(session: AsyncSession, owner_id: uuid.UUID) -> tuple[uuid.UUID, str, str] | None:
    """(id, title, text) of the user's newest resume whose text is ready."""
    for doc in await documents.list_documents(session, owner_id, "resume"):
        if doc.status == "ready":
            found, text = await documents.get_ready_text(session, owner_id, doc.id, "resume")
            return found.id, found.title, text
    return None


async def resume_view(session: AsyncSession, embedder: Embedder, owner_id: uuid.UUID) -> ResumeView:
    resume = await latest_resume(session, owner_id)
    if resume is None:
        raise Conflict(
            "Upload your resume first (Documents → resume): recommendations are ranked against it.",
            code="resume_required",
        )
    doc_id, title, text = resume
    lines = resume_lines(text)
    if not lines:
        raise Conflict("Your resume has no lines to match postings against.", code="resume_empty")
    vectors = await embedder.embed([t for _, t in lines], max_tokens=LINE_MAX_TOKENS)
    return ResumeView(doc_id, title, lines, vectors, text, skills.find(text))


async def candidates(session: AsyncSession, owner_id: uuid.UUID, model_id: str) -> Sequence[JobPosting]:
    """The user's and the shared postings embedded by this model, minus those already applied to."""
    stmt = (
        select(JobPosting)
        .where(
            or_(JobPosting.scope == str(owner_id), JobPosting.scope == SHARED_SCOPE),
            JobPosting.embed_model == model_id,
        )
        .options(undefer(JobPosting.embedding), undefer(JobPosting.description))
    )
    postings = (await session.execute(stmt)).scalars().all()
    applied = {
        (c, p)
        for c, p in (
            await session.execute(
                select(Application.company_key, Application.position_key).where(
                    Application.owner_id == owner_id
                )
            )
        ).all()
    }
    return [p for p in postings if (p.company_key, p.position_key) not in applied]


def posting_skills(posting: JobPosting) -> list[str]:
    """The posting's own list, else what its title and description name; display spelling kept."""
    if posting.skills:
        return list(posting.skills)
    return sorted(skills.find(f"{posting.title}\n{posting.description}"))


def score(resume: ResumeView, posting: JobPosting, vector: np.ndarray) -> Recommendation:
    sims = resume.vectors @ vector
    order = np.argsort(-sims)
    top = sims[order[:TOP_LINES]]
    semantic = float(0.5 * top[0] + 0.5 * top.mean())
    wanted = posting_skills(posting)
    matched = [s for s in wanted if skills.canonical(s) in resume.skills or skills.mentions(resume.text, s)]
    missing = [s for s in wanted if s not in matched]
    overlap = len(matched) / len(wanted) if wanted else 0.0
    total = SEMANTIC_WEIGHT * max(semantic, 0.0) + SKILL_WEIGHT * overlap
    best = resume.lines[int(order[0])]
    return Recommendation(
        posting, round(total, 4), round(semantic, 4), round(overlap, 4), matched, missing, best
    )


def rank(resume: ResumeView, postings: Sequence[JobPosting], limit: int) -> list[Recommendation]:
    scored = [score(resume, p, from_bytes(p.embedding)) for p in postings if p.embedding]
    scored.sort(key=lambda r: (-r.score, r.posting.title, str(r.posting.id)))
    return scored[:limit]


async def recommend(
    session: AsyncSession, embedder: Embedder, owner_id: uuid.UUID, limit: int
) -> tuple[ResumeView, list[Recommendation]]:
    resume = await resume_view(session, embedder, owner_id)
    return resume, rank(resume, await candidates(session, owner_id, embedder.model_id), limit)
