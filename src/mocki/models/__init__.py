"""SQLAlchemy models, one module per aggregate; importing this registers them all."""

from mocki.models import tracker  # noqa: F401  (registers the tracker tables)
from mocki.models.audit import AuditEntry
from mocki.models.base import Base
from mocki.models.document import Document
from mocki.models.interview import Interview, Report, Turn
from mocki.models.jobs import JobImport, JobPosting
from mocki.models.live import InterviewerNote, InterviewInvite, InterviewParticipant
from mocki.models.llm_call import LLMCall
from mocki.models.question import Question
from mocki.models.retrieval import Chunk, QAPair, VectorSync
from mocki.models.task import DeadLetter, TaskRun
from mocki.models.user import RefreshToken, User

__all__ = [
    "AuditEntry",
    "Base",
    "Chunk",
    "DeadLetter",
    "Document",
    "Interview",
    "InterviewInvite",
    "InterviewParticipant",
    "InterviewerNote",
    "JobImport",
    "JobPosting",
    "LLMCall",
    "QAPair",
    "Question",
    "RefreshToken",
    "Report",
    "TaskRun",
    "Turn",
    "User",
    "VectorSync",
]
