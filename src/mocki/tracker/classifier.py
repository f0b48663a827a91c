"""The offline status classifier: which of the seven kinds of job-search email a message is.

A multinomial logistic regression (interviews/intents.py's numpy `SoftmaxRegression`) over the
email's MiniLM embedding and a few dozen cue features: written rules that recognise the phrases
each kind is made of ("we regret", "pick a time", "HackerRank", "offer letter", "came across your
profile"...). The embedding carries the overall meaning and tone, the cues the decisive phrase
wherever it sits, even past the embedding's 256 tokens. It is trained from `data/train.jsonl`
(project-written synthetic emails) at first use and cached under `data_dir/tracker/`, keyed by
the training data, the features and the embedding model.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
import weakref
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np
import numpy.typing as npt

from mocki.core.jsonl import records
from mocki.interviews.intents import SoftmaxRegression

if TYPE_CHECKING:
    from mocki.retrieval.embeddings import Embedder, Vectors
    from mocki.settings import Settings

log = logging.getLogger(__name__)

Status = Literal["applied", "rejected", "interview", "assessment", "offer", "recruiter_outreach", "other"]
STATUSES: tuple[Status, ...] = get_args(Status)

DESCRIPTIONS: dict[Status, str] = {
    "applied": "confirms that an application was received or submitted",
    "rejected": "turns the candidate down, or says the role is closed or filled",
    "interview": "invites to, schedules or confirms an interview or a call with the hiring team",
    "assessment": "asks the candidate to complete a test, coding challenge, take-home or recorded video",
    "offer": "offers the candidate the job",
    "recruiter_outreach": "a recruiter contacts the candidate unprompted about a role",
    "other": "anything else: job alerts, newsletters, account mail, surveys, unrelated mail",
}

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_PATH = DATA_DIR / "train.jsonl"

# Bump when the features or the training change: it is part of the cache key. The values were
# chosen by 5-fold cross-validation on the training set only.
FEATURE_VERSION = 1
L2 = 0.01
STEPS = 400
TEXT_CHARS = 1500
# The subject and the first tokens carry most of the meaning; the cues read the whole text. At
# 128 tokens an email embeds about twice as fast as at the model's 256.
MAX_TOKENS = 128

FloatArray = npt.NDArray[np.float64]


class MailDataError(ValueError):
    """A labelled email file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class LabelledEmail:
    subject: str
    sender: str
    date: str
    body: str
    label: Status
    company: str | None
    position: str | None
    line: int


def _text_field(record: Mapping[str, Any], name: str, where: str) -> str:
    value = record.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MailDataError(f"{where}: field {name!r} must be a string or null")
    return value


def load_labelled(path: Path) -> list[LabelledEmail]:
    """Every email of a JSONL file with the fields subject, from, date, body, label[, company, position]."""
    out: list[LabelledEmail] = []
    for number, record in records(path, MailDataError):
        where = f"{path}:{number}"
        label = record.get("label")
        if label not in STATUSES:
            raise MailDataError(f"{where}: label {label!r} is not one of {', '.join(STATUSES)}")
        subject, body = _text_field(record, "subject", where), _text_field(record, "body", where)
        if not (subject.strip() or body.strip()):
            raise MailDataError(f"{where}: needs a subject or a body")
        company = _text_field(record, "company", where) or None
        position = _text_field(record, "position", where) or None
        out.append(
            LabelledEmail(
                subject,
                _text_field(record, "from", where),
                _text_field(record, "date", where),
                body,
                label,
                company,
                position,
                number,
            )
        )
    if not out:
        raise MailDataError(f"{path}: no emails (expected JSON lines with 'body' and 'label')")
    return out


# ------------------------------------------------------------------------------------ features


def _cue(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# Each cue is a phrase family a person recognises a kind of email by. Counts, capped, are features.
CUES: dict[str, re.Pattern[str]] = {
    "regret": _cue(r"\bunfortunately\b", r"\bregret", r"\bsorry to (?:inform|share|say|tell)"),
    "not_forward": _cue(
        r"not (?:be )?(?:moving|move|going) (?:forward|ahead)",
        r"(?:won't|will not|cannot|can't) (?:be )?(?:moving|move|proceed)",
        r"decided not to (?:proceed|move|pursue|continue)",
        r"not to (?:proceed|move forward|pursue)",
        r"no longer (?:under|being) consider",
        r"not (?:been )?selected",
        r"unable to offer",
        r"(?:won't|will not) be extending",
        r"not (?:the )?right (?:match|fit)",
        r"not a (?:match|fit)",
    ),
    "others_chosen": _cue(
        r"(?:other|another|different) (?:candidate|applicant)s?",
        r"more closely (?:match|align)",
        r"better (?:match|fit|aligned)",
        r"pursue other",
        r"move forward with (?:other|another)",
    ),
    "filled": _cue(
        r"(?:position|role|job|opening) (?:has been|was|is now) (?:filled|closed|cancelled|on hold)",
        r"closing all applications",
    ),
    "on_file": _cue(
        r"(?:keep|retain) your (?:resume|cv|information|details|application) on file",
        r"future (?:openings|opportunities|roles|positions)",
    ),
    "good_luck": _cue(
        r"(?:best of luck|wish you (?:the best|success|luck|all the best))",
        r"future endeavou?rs",
        r"in your (?:job )?search",
    ),
    "received": _cue(
        r"(?:received|receipt of|got) your (?:application|resume|cv)",
        r"application (?:has been |was |is )?(?:received|submitted|complete)",
        r"(?:successfully|been) submitted",
        r"application was sent",
        r"confirm(?:s|ing)? (?:that )?(?:we )?(?:have )?receiv",
    ),
    "thanks_apply": _cue(
        r"thank(?:s| you) for (?:applying|your application|submitting|your interest)",
        r"interest in (?:joining|working)",
    ),
    "will_review": _cue(
        r"(?:will|are) (?:carefully )?review(?:ing)?",
        r"under review",
        r"be in touch",
        r"(?:will|'ll) (?:get back|contact|reach out)",
        r"if (?:your|there is a|we)[^.]{0,60}(?:match|fit|move forward)",
        r"next steps? if",
    ),
    "interview": _cue(r"\binterview", r"phone screen", r"\bscreening call", r"\bon-?site\b", r"panel"),
    "schedule": _cue(
        r"\bschedul",
        r"availability",
        r"\bavailable\b",
        r"pick a (?:time|slot)",
        r"book a (?:time|slot)",
        r"time slot",
        r"calendly",
        r"are you free",
        r"times? that (?:suit|work)",
        r"\bconfirmed for\b",
    ),
    "meeting": _cue(
        r"zoom\.us",
        r"meet\.google",
        r"teams\.microsoft",
        r"\bvideo call\b",
        r"\bcall with\b",
        r"speak with you",
        r"hiring manager",
    ),
    "invite": _cue(
        r"(?:like|love|happy|pleased) to (?:invite|schedule|set up|move you)",
        r"invite you to",
        r"next (?:round|step|stage)",
    ),
    "assessment": _cue(
        r"assessment",
        r"coding (?:challenge|test|exercise)",
        r"take-?home",
        r"technical (?:challenge|test|exercise)",
        r"skills? test",
        r"aptitude",
        r"case study",
        r"questionnaire",
        r"one-way video",
        r"\btest\b",
    ),
    "test_platform": _cue(
        r"hackerrank",
        r"codility",
        r"codesignal",
        r"hirevue",
        r"testgorilla",
        r"coderbyte",
        r"leetcode",
        r"karat",
    ),
    "complete_by": _cue(
        r"complete (?:it|the|this|your|our)",
        r"within \d+ (?:days|hours)",
        r"\bexpires?\b",
        r"\bdeadline\b",
        r"\bby (?:monday|tuesday|wednesday|thursday|friday|\w+ \d)",
    ),
    "offer": _cue(
        r"offer letter",
        r"(?:pleased|delighted|happy|thrilled) to (?:offer|extend)",
        r"extend (?:an|the|you an) offer",
        r"make you an offer",
        r"\boffer of employment",
    ),
    "offer_terms": _cue(
        r"\bsalary\b",
        r"compensation",
        r"start date",
        r"\bequity\b",
        r"sign (?:and return|the offer)",
        r"accept(?:ing)? the offer",
        r"background check",
    ),
    "congrats": _cue(
        r"congratulations", r"welcome (?:aboard|to the team)", r"(?:thrilled|excited) to (?:welcome|have you)"
    ),
    "outreach": _cue(
        r"came across your (?:profile|background|resume)",
        r"your (?:profile|background|experience) (?:caught|stood out)",
        r"open to (?:new |hearing about )?(?:opportunit|roles|a chat)",
        r"(?:i'm|i am) (?:a )?(?:recruiter|reaching out)",
        r"reaching out",
        r"my client",
        r"would you be (?:interested|open)",
        r"quick (?:chat|call)",
        r"thought (?:of you|you (?:could|might|would))",
    ),
    "alert": _cue(
        r"job alert",
        r"jobs? (?:that )?match(?:ing)? your",
        r"recommended (?:jobs|for you)",
        r"saved search",
        r"new jobs",
        r"apply with one click",
    ),
    "account": _cue(
        r"verify your email",
        r"reset your password",
        r"account has been created",
        r"sign in to",
        r"log in",
        r"complete your (?:candidate )?profile",
    ),
    "marketing": _cue(
        r"unsubscribe",
        r"newsletter",
        r"webinar",
        r"career fair",
        r"info session",
        r"privacy policy",
        r"talent community",
        r"survey",
    ),
    "withdrawn": _cue(r"withdrawn", r"withdrew"),
    "question": _cue(r"\?"),
}
N_CUES = len(CUES)


def classifier_text(subject: str, body: str) -> str:
    return " ".join(f"{subject}\n{body}".split())[:TEXT_CHARS]


def cue_features(subject: str, body: str) -> FloatArray:
    text = f"{subject}\n{body}"
    return np.array([min(len(p.findall(text)), 3) / 3 for p in CUES.values()], dtype=np.float64)


def features(items: Sequence[tuple[str, str]], vectors: Vectors) -> FloatArray:
    """One row per (subject, body): the embedding, then the cue counts."""
    if len(items) != len(vectors):
        raise ValueError(f"{len(items)} emails but {len(vectors)} vectors")
    cues = np.vstack([cue_features(s, b) for s, b in items]) if items else np.zeros((0, N_CUES))
    return np.hstack([np.asarray(vectors, dtype=np.float64), cues])


# ------------------------------------------------------------------------------------- the model


@dataclass
class StatusModel:
    regression: SoftmaxRegression
    embedder_id: str
    train_examples: int

    def predict(self, items: Sequence[tuple[str, str]], vectors: Vectors) -> FloatArray:
        """Probabilities, one row per email, columns in STATUSES order."""
        return self.regression.predict_proba(features(items, vectors))


def fit_model(emails: Sequence[LabelledEmail], vectors: Vectors, embedder_id: str) -> StatusModel:
    x = features([(e.subject, e.body) for e in emails], vectors)
    y = np.array([STATUSES.index(e.label) for e in emails], dtype=np.int64)
    regression = SoftmaxRegression.fit(x, y, len(STATUSES), l2=L2, steps=STEPS)
    return StatusModel(regression, embedder_id, len(emails))


def cache_key(train_path: Path, embedder_id: str) -> str:
    digest = hashlib.sha256(train_path.read_bytes())
    patterns = "|".join(f"{k}={p.pattern}" for k, p in CUES.items())
    digest.update(
        f"|v{FEATURE_VERSION}|{L2}|{STEPS}|{TEXT_CHARS}|{MAX_TOKENS}|{embedder_id}|{patterns}".encode()
    )
    return digest.hexdigest()[:20]


def _save(model: StatusModel, path: Path) -> None:
    """Written to a temporary name and renamed, so a concurrent reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
    r = model.regression
    np.savez(
        tmp, weights=r.weights, bias=r.bias, mean=r.mean, scale=r.scale, n=np.array(model.train_examples)
    )
    os.replace(tmp, path)


def _load(path: Path, embedder_id: str) -> StatusModel | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            regression = SoftmaxRegression(data["weights"], data["bias"], data["mean"], data["scale"])
            n = int(data["n"])
    except FileNotFoundError:
        return None
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("Ignoring the unreadable status model cache %s: %s", path, exc)
        return None
    if regression.weights.shape != (regression.mean.shape[0], len(STATUSES)):
        return None
    return StatusModel(regression, embedder_id, n)


_models: dict[str, StatusModel] = {}
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def load_model(settings: Settings, embedder: Embedder, *, train_path: Path = TRAIN_PATH) -> StatusModel:
    """The trained model: from memory, from `data_dir/tracker/`, or trained now (a few seconds).

    Callers are workers, the eval and benchmarks, where blocking on the fit is fine."""
    key = cache_key(train_path, embedder.model_id)
    if key in _models:
        return _models[key]
    lock = _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    async with lock:
        if key not in _models:
            _models[key] = await _load_or_train(settings, embedder, train_path, key)
        return _models[key]


async def _load_or_train(settings: Settings, embedder: Embedder, train_path: Path, key: str) -> StatusModel:
    path = settings.data_dir / "tracker" / f"status-{key}.npz"
    model = _load(path, embedder.model_id)
    if model is not None:
        return model
    emails = load_labelled(train_path)
    started = time.perf_counter()
    vectors = await embedder.embed(
        [classifier_text(e.subject, e.body) for e in emails], max_tokens=MAX_TOKENS
    )
    model = fit_model(emails, vectors, embedder.model_id)
    log.info(
        "Trained the email status model on %d emails in %.1f s", len(emails), time.perf_counter() - started
    )
    try:
        _save(model, path)
    except OSError as exc:
        log.warning("Could not cache the status model at %s: %s", path, exc)
    return model
