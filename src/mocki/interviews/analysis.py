"""Plain-text measures shared by the engine and the report: words, keywords, STAR cues, specifics.

Everything here is deterministic and cheap, so the interview flow and the scores never rest on
the small local model alone.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each etc few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just let
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    per same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up upon us very via was we were what when where which while who
    whom why will with within would you your yours yourself yourselves
    ability able across based including include includes strong good great excellent well new using use
    used within work works worked working experience experienced years year role roles team teams job
    responsible responsibilities requirement requirements required preferred plus must etc looking seek
    seeking candidate candidates company skills skill knowledge understanding familiarity related
    environment environments day days ideal bonus nice like want help helping make making take taking
    tell describe explain give time example examples one two three many much way ways thing things"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

# Words that name a technology; the interview's own keywords are added to these at run time.
_TECH_TERMS_TEXT = """
    python java javascript typescript go golang rust c c++ c# ruby php kotlin swift scala sql nosql
    postgresql postgres mysql sqlite mongodb redis kafka rabbitmq celery elasticsearch spark hadoop
    airflow dbt snowflake bigquery aws gcp azure s3 lambda ec2 docker kubernetes k8s terraform ansible
    helm linux bash git github gitlab ci/cd jenkins react vue angular node node.js django flask fastapi
    spring graphql rest grpc http api apis microservices microservice html css pandas numpy pytorch
    tensorflow sklearn llm nginx prometheus grafana datadog sentry oauth jwt tls websocket websockets
    cache caching queue queues index indexes sharding replication latency throughput p99 sla slo"""
TECH_TERMS = frozenset(_TECH_TERMS_TEXT.split())

# Said while thinking rather than meaning anything. "like" is judged separately (_LIKE_FILLER): it
# is a filler only when set off ("so, like, we"), never in "I like" or "looks like".
FILLERS = (
    "um",
    "umm",
    "uh",
    "uhm",
    "erm",
    "hmm",
    "you know",
    "i mean",
    "kind of",
    "sort of",
    "basically",
    "actually",
    "literally",
    "stuff",
    "whatever",
    # Chinese: "mm", "uh", "that...", "I mean...", "and then..." used as pauses.
    "嗯",
    "呃",
    "那个",
    "就是",
    "然后",
)
# Words that soften a claim; a few are fine, many sound unsure of the answer.
HEDGES = (
    "i think",
    "i guess",
    "i believe",
    "i suppose",
    "maybe",
    "probably",
    "perhaps",
    "possibly",
    "might",
    "not sure",
    "kind of",
    "sort of",
    "more or less",
    "我觉得",
    "可能",
    "大概",
    "也许",
    "应该",
    "好像",
)
_LIKE_FILLER = re.compile(
    r"(?:^|[,.!?;:]\s*|\b(?:um|uh|so|and|but|was|is)\s+)like\b(?!\s+(?:a|an|the|this|that)\b)|\blike\s*,"
)
_CJK = re.compile(r"[\u4e00-\u9fff]")

_TOKEN = re.compile(r"[a-z][a-z0-9+#]*(?:[.\-/][a-z0-9+#]+)*")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'+#.\-/]*")
_NUMBER = re.compile(r"\d")
# A sentence ends at . ! ? before a space (not inside "3.12" or "node.js"), or at Chinese 。！？.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")

# Cue words for the four STAR elements; crude on purpose, they only have to notice absence.
STAR_CUES: dict[str, re.Pattern[str]] = {
    "situation": re.compile(
        r"\b(when i was|at my (?:last|previous|current)|in my (?:last|previous|current)|at the time|"
        r"the situation|context|background|our (?:team|company|product|system|service)|we had|there was|"
        r"last (?:year|quarter|month)|a project|the project|a customer|a client)\b"
    ),
    "task": re.compile(
        r"\b(my (?:task|job|role|goal|responsibility)|i was (?:responsible|asked|tasked|in charge)|"
        r"responsible for|needed to|had to|the goal|our goal|objective|challenge|deadline|assigned)\b"
    ),
    "action": re.compile(
        r"\b(i (?:\w+ed|built|led|wrote|made|set|ran|took|drove|began|chose|spoke|met|gave|found|did|"
        r"brought|sent|split|kept|put|went|got|bought|taught|sought|held|decided|proposed)|"
        r"so i|then i|first i|i started|i then)\b"
    ),
    "result": re.compile(
        r"(\b(as a result|result|resulted|outcome|in the end|eventually|reduced|increased|improved|"
        r"saved|cut|grew|shipped|launched|delivered|fixed|solved|achieved|learned|learnt|lesson)\b|%)"
    ),
}


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(token: str) -> str:
    # Plural and singular should meet ("queues" / "queue") without pulling in a stemmer;
    # names like "redis" or "node.js" are left alone.
    if len(token) <= 4 or not token.isalpha():
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def content_words(text: str) -> list[str]:
    """Lowercased, stemmed words that carry meaning, in order, repeats kept."""
    out: list[str] = []
    for token in _TOKEN.findall(text.lower()):
        token = token.rstrip(".-/")
        if len(token) < 2 or token in STOP_WORDS:
            continue
        out.append(stem(token))
    return out


def extract_keywords(weighted_texts: Iterable[tuple[str, float]], n: int = 20) -> list[str]:
    """The `n` most telling words across texts, each text's counts scaled by its weight.

    A word that shows up in more than one text (the resume and the job description both naming
    Kafka) gets a bonus: it is what the interview should be about.
    """
    scores: defaultdict[str, float] = defaultdict(float)
    seen_in: Counter[str] = Counter()
    for text, weight in weighted_texts:
        counts = Counter(w for w in content_words(text) if not w.isdigit())
        for word, count in counts.items():
            # Diminishing returns: a word repeated ten times is not ten times as important.
            scores[word] += weight * min(count, 4)
            seen_in[word] += 1
    for word, count in seen_in.items():
        if count > 1:
            scores[word] += 2.0 * (count - 1)
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return [word for word, _ in ranked[:n]]


def _root(word: str) -> str:
    # Five letters are enough to meet across word forms: build/building, disagreed/disagreement.
    return word[:5]


def overlap(reference: str, text: str) -> float:
    """Share of the reference's distinct content words that also appear in `text` (0..1)."""
    ref = {_root(w) for w in content_words(reference)}
    if not ref:
        return 0.0
    return len(ref & {_root(w) for w in content_words(text)}) / len(ref)


def star_elements(text: str) -> dict[str, bool]:
    lowered = text.lower()
    return {name: bool(pattern.search(lowered)) for name, pattern in STAR_CUES.items()}


def _phrase_hits(text: str, phrases: Iterable[str]) -> Counter[str]:
    lowered = re.sub(r"\s+", " ", text.lower().replace("’", "'"))
    hits: Counter[str] = Counter()
    for phrase in phrases:
        if _CJK.search(phrase):
            count = lowered.count(phrase)  # Chinese has no spaces to mark word edges
        else:
            count = len(re.findall(rf"(?<![a-z']){re.escape(phrase)}(?![a-z'])", lowered))
        if count:
            hits[phrase] = count
    return hits


def filler_hits(text: str) -> Counter[str]:
    """Filler words and phrases by how often each was said."""
    hits = _phrase_hits(text, FILLERS)
    likes = len(_LIKE_FILLER.findall(re.sub(r"\s+", " ", text.lower())))
    if likes:
        hits["like"] = likes
    return hits


def hedge_hits(text: str) -> Counter[str]:
    return _phrase_hits(text, HEDGES)


def filler_count(text: str) -> int:
    return sum(filler_hits(text).values())


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


_SKIP = re.compile(
    r"^\s*(i\s+(?:do\s*n[o']?t|dont)\s+know|no idea|not sure|pass|skip|next( question)?|"
    r"i\s+(?:can(?:'|no)?t|cannot)\s+(?:answer|say|remember))\b"
)


def is_skip(text: str) -> bool:
    """The candidate declined the question; following up would only press them."""
    return len(words(text)) <= 8 and bool(_SKIP.search(text.lower()))


@dataclass
class AnswerMeasures:
    word_count: int
    sentence_count: int
    star: dict[str, bool]
    numbers: int
    tech_terms: list[str]
    fillers: int
    relevance: float
    skipped: bool
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def star_count(self) -> int:
        return sum(self.star.values())

    @property
    def specifics(self) -> int:
        return self.numbers + len(self.tech_terms)

    @property
    def filler_ratio(self) -> float:
        return self.fillers / max(1, self.word_count)


def measure(question: str, answer: str, keywords: Iterable[str] = ()) -> AnswerMeasures:
    tokens = set(content_words(answer))
    vocabulary = {stem(t) for t in TECH_TERMS} | {stem(k) for k in keywords}
    return AnswerMeasures(
        word_count=len(words(answer)),
        sentence_count=len(sentences(answer)),
        star=star_elements(answer),
        numbers=len(re.findall(r"\d+(?:[.,]\d+)?", answer)),
        tech_terms=sorted(tokens & vocabulary),
        fillers=filler_count(answer),
        relevance=overlap(question, answer),
        skipped=is_skip(answer),
    )


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text))
