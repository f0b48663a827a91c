"""What an email says about an application: status, company, position, dates, links, next action.

The local default is the offline classifier (tracker/classifier.py) for the status and the rules
(tracker/extract.py) for everything else; it runs a batch of emails in a few hundred milliseconds.
The LLM is asked, through `tracker/llm.py`'s structured output and under its concurrency cap:

- `always` (the default when an endpoint is configured): for every email; its answer wins where
  it gave one, the rules fill the gaps;
- `fallback` (the default with the packaged local model): only for the emails the classifier is
  unsure about (confidence below `tracker.llm_fallback_below`), and only to settle what the
  offline path cannot: the status between the classifier's two best labels, and a company or
  position the rules did not find, when the model's answer is written in the email;
- `off`: never (the eval and the benchmark's local figure).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mocki.core.timeutil import utcnow
from mocki.llm.base import Usage
from mocki.tracker import extract
from mocki.tracker.classifier import MAX_TOKENS, STATUSES, Status, StatusModel, classifier_text, load_model
from mocki.tracker.llm import LLMView, StructuredLLM, llm_slot

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from mocki.retrieval.embeddings import Embedder
    from mocki.settings import Settings

log = logging.getLogger(__name__)

LLMMode = Literal["always", "fallback", "off"]
ANALYSIS_VERSION = 1


@dataclass(frozen=True)
class MailInput:
    subject: str
    sender_name: str
    sender_address: str
    sent_at: datetime | None
    body: str
    links: list[dict[str, str]] = field(default_factory=list)

    @property
    def sender(self) -> str:
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_name or self.sender_address


@dataclass
class Analysis:
    status: Status
    confidence: float
    scores: dict[str, float]
    company: str | None
    position: str | None
    interview_at: datetime | None
    deadline_at: datetime | None
    assessment_url: str | None
    links: list[dict[str, str]]
    next_action: str
    source: str  # model | llm

    def as_json(self) -> dict[str, Any]:
        return {
            "version": ANALYSIS_VERSION,
            "status": self.status,
            "confidence": round(self.confidence, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "company": self.company,
            "position": self.position,
            "interview_at": self.interview_at.isoformat() if self.interview_at else None,
            "deadline_at": self.deadline_at.isoformat() if self.deadline_at else None,
            "assessment_url": self.assessment_url,
            "links": self.links,
            "next_action": self.next_action,
            "source": self.source,
        }


def llm_mode(settings: Settings) -> LLMMode:
    configured = settings.tracker.llm
    if configured != "auto":
        return configured
    if settings.llm.base_url:
        return "always"
    return "fallback" if settings.tracker.llm_fallback_below > 0 else "off"


def offline_analysis(item: MailInput, probs: np.ndarray[Any, Any]) -> Analysis:
    """The classifier's status and the rules' fields."""
    scores: dict[str, float] = {s: float(p) for s, p in zip(STATUSES, probs, strict=True)}
    status: Status = STATUSES[int(np.argmax(probs))]
    return with_fields(item, status, scores[status], scores, "model")


def with_fields(
    item: MailInput,
    status: Status,
    confidence: float,
    scores: dict[str, float],
    source: str,
    view: LLMView | None = None,
    *,
    trust_view: bool = False,
) -> Analysis:
    """The rules' extraction for `status`, with the LLM's fields where it is trusted."""
    received = item.sent_at or utcnow()
    company = extract.extract_company(item.subject, item.sender_name, item.sender_address, item.body)
    position = extract.extract_position(item.subject, item.body)
    interview_at, deadline_at = extract.pick_dates(
        status, extract.find_dates(f"{item.subject}\n{item.body}", received)
    )
    links = extract.useful_links(item.links)
    assessment = next((link["url"] for link in links if link["kind"] == "assessment"), None)
    if view is not None:
        text = f"{item.subject}\n{item.sender}\n{item.body}".lower()
        # A small model invents names: take one only where the rules found none and it is in the email.
        if view.company and (trust_view or (company is None and view.company.lower() in text)):
            company = view.company
        if view.position and (trust_view or (position is None and view.position.lower() in text)):
            position = view.position
        if trust_view:
            interview_at = view.interview_at or interview_at
            deadline_at = view.deadline_at or deadline_at
            if view.assessment_url and view.assessment_url.lower() in text:
                assessment = view.assessment_url
    assessment_url = assessment if status in {"assessment", "interview"} else None
    return Analysis(
        status=status,
        confidence=confidence,
        scores=scores,
        company=company,
        position=position,
        interview_at=interview_at,
        deadline_at=deadline_at,
        assessment_url=assessment_url,
        links=links,
        next_action=extract.next_action(status, interview_at, deadline_at, links),
        source=source,
    )


def merge_view(item: MailInput, offline: Analysis, view: LLMView, mode: LLMMode) -> Analysis:
    if mode == "always":
        return with_fields(item, view.status, 1.0, offline.scores, "llm", view, trust_view=True)
    top_two = sorted(offline.scores, key=lambda s: offline.scores[s], reverse=True)[:2]
    status: Status = view.status if view.status in top_two else offline.status
    confidence = 1.0 if status == view.status else offline.confidence
    source = "llm" if status != offline.status else offline.source
    return with_fields(item, status, confidence, offline.scores, source, view)


class Analyzer:
    """Analyses batches of emails: embeds them once, classifies, extracts, asks the LLM as configured."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        *,
        llm: StructuredLLM | None = None,
        redis: Redis[bytes] | None = None,
        mode: LLMMode | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.mode: LLMMode = mode or llm_mode(settings)
        self.llm = llm if self.mode != "off" else None
        self.redis = redis
        self._local = asyncio.Semaphore(settings.tracker.llm_concurrency)
        self._model: StatusModel | None = None

    async def model(self) -> StatusModel:
        if self._model is None:
            self._model = await load_model(self.settings, self.embedder)
        return self._model

    async def classify(self, items: Sequence[MailInput]) -> list[Analysis]:
        """The offline path only: classifier and rules."""
        if not items:
            return []
        model = await self.model()
        vectors = await self.embedder.embed(
            [classifier_text(i.subject, i.body) for i in items], max_tokens=MAX_TOKENS
        )
        probs = model.predict([(i.subject, i.body) for i in items], vectors)
        return [offline_analysis(item, row) for item, row in zip(items, probs, strict=True)]

    def wants_llm(self, analysis: Analysis) -> bool:
        if self.llm is None:
            return False
        return self.mode == "always" or analysis.confidence < self.settings.tracker.llm_fallback_below

    async def analyse(self, items: Sequence[MailInput]) -> tuple[list[Analysis], list[Usage]]:
        """One analysis per item, in order, and the usage of every LLM call made."""
        results = await self.classify(items)
        asked = [i for i, a in enumerate(results) if self.wants_llm(a)]
        if not asked:
            return results, []
        replies = await asyncio.gather(*(self._ask(items[i]) for i in asked))
        usages: list[Usage] = []
        for index, (view, usage) in zip(asked, replies, strict=True):
            usages.append(usage)
            if view is not None:
                results[index] = merge_view(items[index], results[index], view, self.mode)
        return results, usages

    async def _ask(self, item: MailInput) -> tuple[LLMView | None, Usage]:
        assert self.llm is not None
        async with self._local:
            if self.redis is None:
                reply = await self.llm.read(item.subject, item.sender, item.sent_at, item.body)
            else:
                async with llm_slot(self.redis, self.settings.tracker.llm_concurrency):
                    reply = await self.llm.read(item.subject, item.sender, item.sent_at, item.body)
        return reply.view, reply.usage


def make_structured_llm(settings: Settings) -> StructuredLLM:
    from mocki.llm.factory import local_base_url

    cfg = settings.llm
    # The packaged model's server answers one request at a time: a call may wait behind the others.
    return StructuredLLM(
        cfg.base_url or local_base_url(settings), cfg.api_key, cfg.model, timeout_s=cfg.timeout_s
    )
