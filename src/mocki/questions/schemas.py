"""Request and response bodies of the question bank, and the validation every question passes."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator

from mocki.core.db import MAX_OFFSET
from mocki.core.timeutil import as_utc
from mocki.models import Question

Category = Literal["behavioural", "coding", "knowledge", "system_design"]
Level = Literal["any", "junior", "mid", "senior", "staff"]
Scope = Literal["all", "mine", "builtin"]
CATEGORIES: tuple[str, ...] = ("behavioural", "coding", "knowledge", "system_design")
TECHNICAL: tuple[str, ...] = ("coding", "knowledge", "system_design")

MAX_TAGS = 20
MAX_TAG_CHARS = 40
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,118}[a-z0-9])?$")
# Tags are matched exactly (filters, ranking), so they stay short, lowercase and free of quotes.
_TAG = re.compile(r"^[a-z0-9][a-z0-9 +#./_-]*$")

Text = Annotated[str, Field(min_length=10, max_length=2000)]
Role = Annotated[str, Field(min_length=1, max_length=100)]
Rubric = Annotated[str, Field(max_length=4000)]
Difficulty = Annotated[StrictInt, Field(ge=1, le=5)]


def _clean_slug(value: str | None) -> str | None:
    if value is None:
        return None
    slug = value.strip().lower()
    if not _SLUG.fullmatch(slug):
        raise ValueError(
            "slug must be 1-120 characters of a-z, 0-9, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return slug


def _clean_tags(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if len(value) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags, got {len(value)}")
    tags: list[str] = []
    for raw in value:
        tag = " ".join(raw.lower().split())
        if not 1 <= len(tag) <= MAX_TAG_CHARS:
            raise ValueError(f"each tag must be 1-{MAX_TAG_CHARS} characters, got {raw!r}")
        if not _TAG.fullmatch(tag):
            raise ValueError(f"tag {raw!r} may only use letters, digits, spaces and + # . / _ -")
        if tag not in tags:
            tags.append(tag)
    return tags


def _clean_role(value: str | None) -> str | None:
    return None if value is None else " ".join(value.lower().split())


class QuestionIn(BaseModel):
    """A new question, from the API, an import line or the built-in bank."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str | None = Field(default=None, max_length=120)
    category: Category
    text: Text
    role: Role = "any"
    level: Level = "any"
    tags: list[str] = Field(default_factory=list)
    difficulty: Difficulty = 2
    rubric: Rubric = ""

    _slug = field_validator("slug")(_clean_slug)
    _tags = field_validator("tags")(_clean_tags)
    _role = field_validator("role")(_clean_role)


class QuestionPatch(BaseModel):
    """A partial update: only the fields sent change; null is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    slug: str | None = Field(default=None, max_length=120)
    category: Category | None = None
    text: Text | None = None
    role: Role | None = None
    level: Level | None = None
    tags: list[str] | None = None
    difficulty: Difficulty | None = None
    rubric: Rubric | None = None

    _slug = field_validator("slug")(_clean_slug)
    _tags = field_validator("tags")(_clean_tags)
    _role = field_validator("role")(_clean_role)

    @model_validator(mode="after")
    def _no_nulls(self) -> QuestionPatch:
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        return self

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class QuestionFilters(BaseModel):
    """Query filters shared by the list and the export."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    category: Category | None = None
    role: str | None = Field(default=None, max_length=100)
    level: Level | None = None
    tag: str | None = Field(default=None, max_length=MAX_TAG_CHARS)
    q: str | None = Field(default=None, max_length=200, description="case-insensitive text search")
    scope: Scope = Field(default="all", description="all (yours and built-in), mine, or builtin")

    @field_validator("role", "tag")
    @classmethod
    def _lower(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(value.lower().split()) or None


class QuestionQuery(QuestionFilters):
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class QuestionOut(BaseModel):
    id: uuid.UUID
    slug: str | None
    category: str
    text: str
    role: str
    level: str
    tags: list[str]
    difficulty: int
    rubric: str
    builtin: bool
    created_at: datetime

    @classmethod
    def of(cls, q: Question) -> QuestionOut:
        return cls(
            id=q.id,
            slug=q.slug,
            category=q.category,
            text=q.text,
            role=q.role,
            level=q.level,
            tags=list(q.tags or []),
            difficulty=q.difficulty,
            rubric=q.rubric,
            builtin=q.owner_id is None,
            created_at=as_utc(q.created_at),
        )


class QuestionPage(BaseModel):
    items: list[QuestionOut]
    total: int


class ImportLineError(BaseModel):
    line: int
    message: str


class ImportResult(BaseModel):
    created: int
    updated: int
    errors: list[ImportLineError]
