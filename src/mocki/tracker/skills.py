"""A small vocabulary of skills, found in resumes and postings by whole-word match.

Aliases fold spellings together (postgres -> postgresql, k8s -> kubernetes). A few names are
also English words or single letters (Go, R, C); those match only as written, capitalised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

# canonical name -> other spellings (all lower case)
VOCABULARY: dict[str, tuple[str, ...]] = {
    "python": (), "java": (), "javascript": ("js", "ecmascript"), "typescript": (),
    "c++": ("cpp",), "c#": ("csharp",), "ruby": (), "rust": (), "kotlin": (), "swift": (),
    "scala": (), "php": (), "perl": (), "haskell": (), "elixir": (), "clojure": (), "matlab": (),
    "sql": (), "bash": ("shell scripting",), "html": (), "css": (), "sass": (),
    "django": (), "flask": (), "fastapi": (), "spring": ("spring boot",), "rails": ("ruby on rails",),
    "node.js": ("nodejs",), "express.js": ("expressjs",), "react": ("react.js", "reactjs"),
    "vue": ("vue.js",),
    "angular": (), "svelte": (), "next.js": ("nextjs",), ".net": ("dotnet",), "graphql": (),
    "rest api": ("restful", "rest apis"), "grpc": (), "celery": (), "sqlalchemy": (),
    "postgresql": ("postgres",), "mysql": (), "sqlite": (), "mongodb": ("mongo",), "redis": (),
    "elasticsearch": ("elastic search", "opensearch"), "cassandra": (), "dynamodb": (), "kafka": (),
    "rabbitmq": (), "spark": ("apache spark", "pyspark"), "hadoop": (), "airflow": (), "dbt": (),
    "snowflake": (), "bigquery": (), "pandas": (), "numpy": (), "scikit-learn": ("sklearn",),
    "pytorch": ("torch",), "tensorflow": (), "keras": (), "machine learning": ("ml",),
    "deep learning": (), "nlp": ("natural language processing",), "computer vision": (),
    "llm": ("llms", "large language models"), "statistics": (), "data analysis": (), "tableau": (),
    "power bi": ("powerbi",), "microsoft excel": (), "etl": (), "docker": (), "kubernetes": ("k8s",),
    "terraform": (), "ansible": (), "aws": ("amazon web services",), "gcp": ("google cloud",),
    "azure": (), "linux": (), "git": (), "ci/cd": ("ci", "continuous integration"), "jenkins": (),
    "github actions": (), "prometheus": (), "grafana": (), "microservices": ("microservice",),
    "distributed systems": (), "system design": (), "security": (), "networking": (),
    "ios": (), "android": (), "flutter": (), "react native": (), "figma": (), "ux": ("user experience",),
    "agile": ("scrum",), "product management": (), "selenium": (), "cypress": (),
    "testing": ("unit testing", "test automation"),
    "embedded": (), "rtos": (), "fpga": (), "verilog": (), "ros": (), "unity": (), "unreal": (),
}  # fmt: skip
# Names that are also common words: matched only with this exact spelling.
CASED: dict[str, str] = {"go": "Go", "golang": "go", "r": "R", "c": "C"}

_EDGE_BEFORE = r"(?<![\w+#.])"
_EDGE_AFTER = r"(?![\w+#])"


def canonical(skill: str) -> str:
    """The vocabulary's name for a skill, or the skill itself lower-cased and trimmed."""
    name = " ".join(skill.strip().lower().split())
    if name == "golang":
        return "go"
    for canon, aliases in VOCABULARY.items():
        if name == canon or name in aliases:
            return canon
    return name


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    spelled: dict[str, str] = {}
    for canon, aliases in VOCABULARY.items():
        for name in (canon, *aliases):
            spelled[name] = canon
    names = sorted(spelled, key=len, reverse=True)  # longest first: "react native" before "react"
    loose = re.compile(_EDGE_BEFORE + "(" + "|".join(re.escape(n) for n in names) + ")" + _EDGE_AFTER, re.I)
    cased = re.compile(r"(?<![\w+#.])(Go|golang|Golang|R|C)(?![\w+#]|\.\w)")
    return loose, cased, spelled


def find(text: str) -> set[str]:
    """The vocabulary's skills a text names, canonical."""
    loose, cased, spelled = _patterns()
    found = {spelled[m.group(1).lower()] for m in loose.finditer(text)}
    found |= {
        "go" if m.group(1).lower() in ("go", "golang") else m.group(1).lower() for m in cased.finditer(text)
    }
    return found


def mentions(text: str, skill: str) -> bool:
    """Whether a text names a skill that may be outside the vocabulary (a posting's own list)."""
    canon = canonical(skill)
    if canon in VOCABULARY or canon in CASED:
        return canon in find(text)
    return re.search(_EDGE_BEFORE + re.escape(canon) + _EDGE_AFTER, text, re.I) is not None


def parse_list(value: object) -> list[str]:
    """A posting's skills as given: a list, or one comma/semicolon-separated string."""
    if value is None:
        return []
    items: Iterable[object] = value if isinstance(value, list) else re.split(r"[,;|]", str(value))
    out: list[str] = []
    for item in items:
        name = " ".join(str(item).split())[:80]
        if name and name.lower() not in (o.lower() for o in out):
            out.append(name)
    return out[:50]
