"""Facts a candidate states in an answer: employers, roles, schools, technologies, numbers, dates.

The interviewer's memory keeps these after the turns that said them are summarised away, so a
follow-up can still refer to "40k events per second at Parcelworks". Rule-based on purpose: it
runs on every turn, must be deterministic and cheap, and has to cope with spoken transcripts
(fillers, missing commas, run-on sentences), where the small local model adds little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

FactKind = Literal["company", "title", "school", "technology", "number", "date"]
KINDS: tuple[FactKind, ...] = ("company", "title", "school", "technology", "number", "date")
LABELS: dict[FactKind, str] = {
    "company": "companies",
    "title": "roles",
    "school": "schools",
    "technology": "tech",
    "number": "numbers",
    "date": "dates",
}


@dataclass(frozen=True)
class Fact:
    kind: FactKind
    value: str
    turn_index: int

    @property
    def key(self) -> tuple[str, str]:
        return self.kind, self.value.casefold()


def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


def _terms(block: str) -> list[str]:
    return [t.strip() for t in re.split(r"[,\n]", block) if t.strip()]


# ------------------------------------------------------------------------------------ vocabulary

# Written as they should be shown; matched in any case, since nobody says these in another sense.
TECHNOLOGIES = _terms("""
Python, JavaScript, TypeScript, Java, Kotlin, Scala, Golang, C++, C#, Objective-C, PHP, Perl,
Haskell, Elixir, Erlang, Clojure, F#, Fortran, COBOL, MATLAB, Lua, Bash, PowerShell, Solidity,
WebAssembly, Verilog, VHDL, SQL, NoSQL, GraphQL, HTML, CSS, Sass, Tailwind, Visual Basic, OCaml,
React.js, ReactJS, Next.js, Vue.js, Nuxt, Angular, AngularJS, Svelte, jQuery, Redux, Webpack,
Node.js, NodeJS, Express.js, Deno, Django, Flask, FastAPI, Ruby on Rails, Rails, Laravel, Symfony,
Spring Boot, .NET, ASP.NET, Blazor, Hibernate, Bootstrap, Three.js, D3.js, Electron,
PyTorch, TensorFlow, Keras, scikit-learn, NumPy, pandas, SciPy, Matplotlib, Jupyter, XGBoost,
LightGBM, Hugging Face, LangChain, LlamaIndex, OpenCV, spaCy, NLTK, MLflow, Kubeflow, ONNX, CUDA,
OpenMP, MPI, OpenGL, Vulkan, DirectX, Kafka, Hadoop, Ansible, Tableau,
PostgreSQL, Postgres, MySQL, MariaDB, SQLite, MongoDB, Cassandra, DynamoDB, Redis, Memcached,
Elasticsearch, OpenSearch, Neo4j, CouchDB, Couchbase, CockroachDB, ClickHouse, BigQuery, Redshift,
Databricks, Teradata, Supabase, Firebase, Firestore, Qdrant, Pinecone, SQL Server, HBase,
RabbitMQ, ActiveMQ, ZeroMQ, NATS, Celery, Sidekiq, Dagster, Prefect, HDFS, MapReduce,
Presto, Trino, dbt, Kinesis, Pub/Sub, Apache Kafka, Apache Spark, PySpark, Apache Flink,
AWS, Amazon Web Services, Azure, GCP, Google Cloud, EC2, S3, AWS Lambda, CloudFront, CloudWatch,
ECS, EKS, Fargate, Heroku, Vercel, Netlify, DigitalOcean, Cloudflare, OpenStack,
Docker, Kubernetes, K8s, Helm, Terraform, Vagrant, GitHub Actions, GitLab CI, CircleCI,
Travis CI, Argo CD, ArgoCD, Prometheus, Grafana, Datadog, Splunk, New Relic, Sentry, PagerDuty,
Nginx, HAProxy, Envoy, Istio, Consul, etcd, ZooKeeper, gRPC, Protobuf, Thrift, REST API,
RESTful, WebSocket, WebSockets, OAuth, JWT, SAML, LDAP, Kerberos, TLS, SSL, TCP/IP, HTTP,
Git, GitHub, GitLab, Bitbucket, Jira, Confluence, Linux, Unix, Ubuntu, Debian, macOS, iOS,
Android, Xcode, Android Studio, React Native, Flutter, SwiftUI, Unreal Engine, Arduino,
Raspberry Pi, ROS, Simulink, SolidWorks, AutoCAD, LabVIEW, Power BI, Figma, Photoshop,
Illustrator, Selenium, Playwright, Cypress, Jest, pytest, JUnit, Mocha, Postman, Swagger,
Machine Learning, Deep Learning, Computer Vision, Natural Language Processing, NLP,
Reinforcement Learning, Data Science, Data Engineering, Distributed Systems, Microservices,
Web Development, Mobile Development, Embedded Systems, Robotics, Computational Photography,
Signal Processing, Information Retrieval, Recommendation Systems, Large Language Models, LLM,
LLMs, Blockchain, Cybersecurity, DevOps, MLOps, CI/CD, A/B testing, ETL, Big Data, Data Mining,
Operating Systems, Compilers, Computer Graphics, Cloud Computing, Serverless, Web Scraping,
Neural Networks, Statistics, Linear Algebra, Algorithms, Data Structures, Unit Testing,
Object-Oriented Programming, Functional Programming, Agile, Scrum, Kanban
""")

# Also ordinary English words or letters: recognised only when written exactly like this.
TECHNOLOGIES_EXACT_CASE = _terms("""
C, R, Go, Rust, Ruby, Swift, Dart, Julia, Spark, Flink, Hive, Pig, Storm, Beam, React, Vue,
Express, Spring, Ember, Backbone, Chef, Puppet, Jenkins, Excel, Unity, Lambda, Airflow,
Snowflake, Looker, Mercurial, Perforce, Maven, Gradle, Bazel, CMake,
Oracle Database, Windows, Java EE, Scratch
""")

ALIASES = {
    "postgres": "PostgreSQL",
    "k8s": "Kubernetes",
    "golang": "Go",
    "nodejs": "Node.js",
    "reactjs": "React",
    "react.js": "React",
    "vue.js": "Vue",
    "express.js": "Express",
    "argocd": "Argo CD",
    "amazon web services": "AWS",
    "websockets": "WebSocket",
    "llms": "LLM",
    "large language models": "LLM",
    "natural language processing": "NLP",
    "rails": "Ruby on Rails",
}

# Employers well known enough to recognise wherever they are named (exact case).
COMPANIES = _terms("""
Google, Alphabet, YouTube, DeepMind, Microsoft, LinkedIn, Amazon, Apple, Meta, Facebook,
Instagram, WhatsApp, Netflix, TikTok, ByteDance, Uber, Lyft, Airbnb, Stripe, Square, PayPal,
Visa, Mastercard, Salesforce, Oracle, IBM, Intel, AMD, Nvidia, NVIDIA, Qualcomm, Cisco, Adobe,
SAP, VMware, Dell, HP, Twitter, Snap, Snapchat, Pinterest, Reddit, Dropbox, Slack, Zoom, Shopify,
Spotify, Atlassian, Palantir, OpenAI, Anthropic, Tesla, SpaceX, Boeing, Lockheed Martin,
Raytheon, Siemens, Bosch, Samsung, Sony, Huawei, Alibaba, Tencent, Baidu, Xiaomi, Infosys,
Wipro, Tata Consultancy Services, TCS, Accenture, Deloitte, McKinsey, BCG, Bain, PwC, KPMG,
Goldman Sachs, JPMorgan, J.P. Morgan, Morgan Stanley, Citadel, Jane Street, Two Sigma, Bloomberg,
Capital One, Bank of America, Wells Fargo, Citibank, Walmart, Target, Costco, eBay, Etsy,
Wayfair, Instacart, DoorDash, Coinbase, Robinhood, Yelp, Zillow, Expedia, Intuit, Workday,
ServiceNow, Twilio, HashiCorp, JetBrains, Red Hat, Canonical, Mozilla, Wikipedia, Yahoo,
Verizon, AT&T, Comcast, Disney, Nike, Starbucks, Procter & Gamble, Johnson & Johnson, Pfizer,
Moderna, General Electric, General Motors, Ford, Toyota, BMW, Volkswagen, Airbus, NASA,
Lincoln Lab, Microsoft Research, Google Research, Bell Labs, Xerox PARC, Akamai, Hubspot,
HubSpot, Squarespace, Asana, Notion, Figma Inc, Grammarly, Duolingo, Epic Systems
""")

SCHOOLS = _terms("""
MIT, Stanford, Harvard, UC Berkeley, Berkeley, CMU, Carnegie Mellon, Caltech, Princeton, Yale,
Columbia, Cornell, UCLA, UCSD, USC, NYU, Georgia Tech, Duke, Dartmouth, UPenn, Wharton,
Northwestern, UChicago, Johns Hopkins, Vanderbilt, Purdue, UIUC, Waterloo, McGill, Oxford,
Cambridge, Imperial College, ETH Zurich, EPFL, TU Munich, IIT, Tsinghua, NUS, KAIST, Technion,
Olin, Harvey Mudd, Wellesley, Tufts, Northeastern, UMich, UT Austin, Virginia Tech, Rutgers,
Penn State, Ohio State, Media Lab, Sloan, Brandeis, Babson, Boston College, Georgetown
""")

_ROLE_NOUN = (
    r"engineer|developer|programmer|scientist|analyst|architect|designer|researcher|consultant|"
    r"manager|director|administrator|specialist|technician|assistant|intern|lead|officer|advisor"
)
_ROLE_MODIFIER = (
    r"senior|sr\.?|junior|jr\.?|staff|principal|lead|chief|head|associate|software|back-?end|"
    r"front-?end|full-?stack|data|machine learning|ml|ai|product|project|program|engineering|"
    r"research|qa|test|devops|site reliability|security|mobile|web|cloud|systems?|embedded|"
    r"hardware|platform|infrastructure|applications?|solutions?|network|database|teaching|summer|"
    r"technical|marketing|sales|business|ux|ui|undergraduate|graduate|financial|mechanical|"
    r"electrical|civil|chemical|biomedical|operations|support|release|build|game|graphics|"
    r"computer vision|nlp|quantitative|quant|policy|communications|design|lab"
)
# Roles that mean something on their own ("manager" alone is usually someone else's).
_STANDALONE_ROLE = (
    r"intern|co-?founder|founder|president|vice president|captain|co-?captain|team lead|tech lead|"
    r"teaching assistant|(?-i:TA|CTO|CEO|COO|CFO)|VP of engineering|treasurer|tutor|team leader|"
    r"chairman|chairwoman|editor in chief|editor-in-chief"
)

_TIME_UNITS = (
    r"ms|milliseconds?|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?|"
    r"quarters?|semesters?|sprints?|decades?"
)
_COUNT_NOUNS = (
    r"people|persons?|engineers?|developers?|members?|users?|customers?|clients?|teams?|projects?|"
    r"services?|microservices?|servers?|machines?|nodes?|clusters?|instances?|requests?|queries|"
    r"query|transactions?|events?|messages?|records?|rows?|lines?|tickets?|bugs?|features?|apps?|"
    r"applications?|students?|kids|children|classes|courses?|languages?|interns?|reports?|"
    r"countries|cities|stores?|products?|companies|startups?|hackathons?|papers?|patents?|awards?|"
    r"times|downloads|installs|visitors|views|subscribers|employees|hires|candidates|interviews|"
    r"questions|stories|pages|files|tests|repos|repositories|commits|releases|deployments|"
    r"partners|vendors|accounts|orders|shipments|devices|sensors|robots|games|"
    r"dollars|euros|pounds|points|stars|votes|calls|emails|sessions|meetings|weekends|players|"
    r"volunteers|schools|workshops|talks|articles|models|datasets|tables|jobs|pipelines|"
    r"dashboards|alerts|incidents|outages|regions|data centers|markets|sites|stations|units"
)
_OTHER_UNITS = (
    r"%|percent|per cent|x|kb|mb|gb|tb|pb|bytes|qps|rps|tps|fps|rpm|req/s|loc|lines of code|"
    r"gpa|hz|khz|mhz|ghz|km|miles|kg|lbs"
)
_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|million|billion|dozen|a hundred|a thousand|a million|a billion|a dozen|half"
)
_SCALE = r"hundred|thousand|million|billion|trillion|k|m|mm|bn|b"
_MONTHS = (
    r"January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)

# Capitalised words that start sentences or name days, never an employer.
_NOT_NAMES = _words(
    """I I'm I've I'd I'll So And But Um Umm Uh Uhh Ok OK Okay Yeah Yes No Well Then The A An It We
    They He She This That There My Our Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December Christmas
    Thanksgiving First Least Most Home Night End Some All One Like Because When What How Where Why
    Which Who Just Also Maybe Actually Basically Really Now Here Sorry Thanks Thank Hi Hello Mmm Hmm
    Oh Ah Ahh Er Right Sure Great Good Cool Alright Professor Prof Dr Mr Ms Mrs"""
)

# One capitalised word after "joined"/"worked at" that names no organisation.
_GENERIC_NAMES = _words("""Tech Lab Labs Team Company Startup School College University Group Club Inc""")

# Said all the time, never a measurement.
_NOT_AMOUNTS = frozenset({"one day", "one time", "one times", "half the time", "one second", "one minute"})

# "2 main ...", "16 different ...": the noun that would say what was counted comes later.
_VAGUE_ADJECTIVES = _words(
    """main major different other big small few new whole full separate total various similar"""
)

_STOP_AFTER_NUMBER = _words(
    """a an the of or and to in on at for from by with as is was are were be been that this these those
    it its i we you he she they my our your his her their me us them so but if than then also just
    more less about around over under into out up down off like per each every other another times
    which who whom whose when where what why how isn wasn aren weren don didn doesn won um umm uh
    uhh hmm ah yeah okay ok because since while until though although there here"""
)
_NOT_COUNTED = _STOP_AFTER_NUMBER | _VAGUE_ADJECTIVES


# --------------------------------------------------------------------------------------- patterns


def _alternation(terms: Iterable[str]) -> str:
    # Longest first, so "Spring Boot" wins over "Spring" and "C++" over "C".
    ordered = sorted(set(terms), key=lambda t: (-len(t), t))
    return "|".join(re.escape(t) for t in ordered)


def _term_regex(terms: Iterable[str], *, ignore_case: bool) -> re.Pattern[str]:
    # Terms may end in "+", "#" or "." where \b does not work: look around for word characters.
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(rf"(?<![\w+#/-])(?:{_alternation(terms)})(?![\w+#]|[.\-/]\w)", flags)


_TECH_RE = _term_regex(TECHNOLOGIES, ignore_case=True)
_TECH_EXACT_RE = _term_regex(TECHNOLOGIES_EXACT_CASE, ignore_case=False)
_CANONICAL = {t.casefold(): t for t in TECHNOLOGIES + TECHNOLOGIES_EXACT_CASE}
_COMPANY_RE = _term_regex(COMPANIES, ignore_case=False)
_SCHOOL_RE = _term_regex(SCHOOLS, ignore_case=False)

_NAME_WORD = r"(?:[A-Z][\w&'.-]*[\w&]|[A-Z])"
_NAME = rf"{_NAME_WORD}(?:\s+(?:of\s+|&\s+|and\s+)?{_NAME_WORD}){{0,3}}"
_SCHOOL_PATTERN_RE = re.compile(
    rf"\b(?:University\s+of\s+{_NAME}|{_NAME}\s+(?:University|College|Institute\s+of\s+Technology|"
    rf"Polytechnic|Academy)|[Hh]igh\s+[Ss]chool|[Gg]rad(?:uate)?\s+[Ss]chool|[Cc]ommunity\s+[Cc]ollege)\b"
)
_EMPLOYER_TRIGGER = (
    r"(?:work(?:ed|ing|s)?|intern(?:ed|ing)?|internship|job|role|position|employed|offer|"
    r"interview(?:ed|ing)?|time|summer|years?|months?|engineer|developer|manager|scientist|analyst)"
    r"\s+(?:at|for)|joined|joining|left|quit|(?:company|startup|firm|employer|lab)\s+(?:called|named)"
)
# Only the trigger ignores case: the name after it must be capitalised.
_EMPLOYER_RE = re.compile(rf"\b(?i:{_EMPLOYER_TRIGGER})\s+(?:the\s+)?({_NAME})")
_TITLE_RE = re.compile(
    rf"\b(?:(?:(?:{_ROLE_MODIFIER})[\s-]+){{1,3}}(?:{_ROLE_NOUN})|(?:{_STANDALONE_ROLE}))\b",
    re.IGNORECASE,
)
_LEVEL_RE = re.compile(r"\b(?:L\d{1,2}|SDE\s?(?:I{1,3}|[1-3])|SWE\s?(?:I{1,3}|[1-3])|E[3-9]|IC[1-9])\b")

# "10 000" too: some transcripts print thousands with a space.
_DIGITS = r"(?:\d{1,3}(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)*)(?:\s?(?:k|m|mm|bn|b)\b)?"
_WORD_NUMBER = rf"(?:{_NUMBER_WORDS})(?:[\s-]+(?:and\s+)?(?:{_NUMBER_WORDS}))*"
_RATE = (
    r"(?:\s+(?:per|a|an|each|every)\s+"
    r"(?:second|minute|hour|day|week|month|year|user|request|sprint|quarter|person))?"
)
# One describing word may stand between a number and what it counts ("two junior engineers").
_DESCRIBER = r"(?:(?!(?:or|and|of|the|a|an|to|in|on|which|that|more|times)\b)[a-z][\w-]*\s+)?"
_MONEY_RE = re.compile(
    rf"[$€£]\s?\d+(?:[.,]\d+)*(?:\s?(?:{_SCALE})\b)?{_RATE}|"
    rf"\b(?:{_DIGITS}|{_WORD_NUMBER})(?:\s+(?:{_SCALE}))?\s+(?:dollars|euros|pounds|usd|eur)\b{_RATE}",
    re.IGNORECASE,
)
_MEASURE_RE = re.compile(
    rf"\b(?:{_DIGITS}|{_WORD_NUMBER})(?:\s+(?:{_SCALE}))?\s?(?:{_OTHER_UNITS})(?![\w])"
    rf"(?:\s+(?:faster|slower|more|less|fewer|reduction|increase|improvement|growth|drop))?{_RATE}",
    re.IGNORECASE,
)
_COUNT_RE = re.compile(
    rf"\b(?:{_DIGITS}|{_WORD_NUMBER})(?:\s+(?:{_SCALE}))?\s+{_DESCRIBER}(?:{_TIME_UNITS}|{_COUNT_NOUNS})\b{_RATE}",
    re.IGNORECASE,
)
# A number in digits before any other content word: "40k events", "3 regional warehouses".
_DIGIT_NOUN_RE = re.compile(rf"\b({_DIGITS})(?:\s+(?:{_SCALE}))?\s+([A-Za-z][\w-]{{2,}}){_RATE}")
_YEAR_RE = re.compile(
    r"\b(?:(?:" + _MONTHS + r")\.?\s+|(?:spring|summer|fall|autumn|winter)\s+)?(?:19[5-9]\d|20[0-4]\d)\b"
)
# "one person", "one instance": a count of one says nothing; "one year" still does.
_ONE_THING = re.compile(rf"(?i:one)\s+(?!(?:{_SCALE}|{_TIME_UNITS})\b)")
_SENTENCE_END = re.compile(r"[.!?:;\"“(]\s*$")
_MONTH_RE = re.compile(rf"\b(?:in|since|until|by|from|last|next|this)\s+((?:{_MONTHS}))\b")


# ------------------------------------------------------------------------------------ extraction


def _clean(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" .,;:-")


class _Spans:
    """Character ranges already claimed, so one phrase yields one fact ("Amazon Web Services")."""

    def __init__(self) -> None:
        self._taken: list[tuple[int, int]] = []

    def claim(self, start: int, end: int) -> bool:
        if any(start < e and s < end for s, e in self._taken):
            return False
        self._taken.append((start, end))
        return True


def _starts_sentence(text: str, pos: int) -> bool:
    before = text[max(0, pos - 8) : pos]
    return not text[:pos].strip() or bool(_SENTENCE_END.search(before))


def _company_name(raw: str) -> str | None:
    words = raw.split()
    while words and (words[-1] in {"of", "&", "and"} or words[-1] in _NOT_NAMES):
        words.pop()
    if not words or words[0] in _NOT_NAMES or (len(words) == 1 and words[0] in _GENERIC_NAMES):
        return None
    name = " ".join(words)
    if name.casefold() in _CANONICAL or _SCHOOL_RE.fullmatch(name):
        return None
    return name


def _matches(text: str) -> Iterator[tuple[FactKind, int, int, str]]:
    """Candidate facts in priority order: earlier kinds claim their words first."""
    for m in _SCHOOL_RE.finditer(text):
        yield "school", m.start(), m.end(), m.group()
    for m in _SCHOOL_PATTERN_RE.finditer(text):
        value = m.group()
        yield "school", m.start(), m.end(), value.lower() if value.lower().endswith("school") else value
    for m in _COMPANY_RE.finditer(text):
        yield "company", m.start(), m.end(), m.group()
    for m in _EMPLOYER_RE.finditer(text):
        name = _company_name(m.group(1))
        if name:
            yield "company", m.start(1), m.start(1) + len(name), name
    for m in _LEVEL_RE.finditer(text):
        yield "title", m.start(), m.end(), m.group()
    for m in _TITLE_RE.finditer(text):
        value = m.group()
        yield "title", m.start(), m.end(), value if value.isupper() else value.lower()
    for regex in (_TECH_RE, _TECH_EXACT_RE):
        for m in regex.finditer(text):
            # "Go to the store": a capital at a sentence start says nothing.
            if regex is _TECH_EXACT_RE and _starts_sentence(text, m.start()):
                continue
            canonical = _CANONICAL[m.group().casefold()]
            yield "technology", m.start(), m.end(), ALIASES.get(canonical.casefold(), canonical)
    yield from _numbers(text)
    for m in _YEAR_RE.finditer(text):
        yield "date", m.start(), m.end(), m.group()
    for m in _MONTH_RE.finditer(text):
        yield "date", m.start(1), m.end(1), m.group(1)


def _numbers(text: str) -> Iterator[tuple[FactKind, int, int, str]]:
    for regex in (_MONEY_RE, _MEASURE_RE, _COUNT_RE):
        for m in regex.finditer(text):
            if m.group().lower() not in _NOT_AMOUNTS and not _ONE_THING.match(m.group()):
                yield "number", m.start(), m.end(), m.group()
    for m in _DIGIT_NOUN_RE.finditer(text):
        digits, noun = m.group(1), m.group(2)
        if noun.lower() in _NOT_COUNTED or re.fullmatch(r"(19|20)\d\d", digits):
            continue
        yield "number", m.start(), m.end(), m.group()


def extract_facts(text: str, turn_index: int) -> list[Fact]:
    """Every fact in one turn, in the order they were said, each once."""
    spans = _Spans()
    found: list[tuple[int, Fact]] = []
    seen: set[tuple[str, str]] = set()
    for kind, start, end, raw in _matches(text):
        value = _clean(raw)
        if not value or not spans.claim(start, end):
            continue
        fact = Fact(kind, value, turn_index)
        if fact.key not in seen:
            seen.add(fact.key)
            found.append((start, fact))
    return [fact for _, fact in sorted(found, key=lambda pair: pair[0])]


# ------------------------------------------------------------------------------------ collecting


# How much a fact tells the interviewer, for choosing which to keep when they do not all fit.
_SPECIFICITY: dict[FactKind, int] = {
    "number": 3,
    "company": 3,
    "title": 2,
    "school": 2,
    "technology": 1,
    "date": 1,
}


def specificity(fact: Fact) -> int:
    bonus = 1 if fact.kind in ("number", "title") and len(fact.value.split()) > 1 else 0
    return _SPECIFICITY[fact.kind] + bonus


class FactSheet:
    """All facts of a conversation, deduplicated, remembering when each was last mentioned."""

    def __init__(self) -> None:
        self._facts: dict[tuple[str, str], Fact] = {}
        self._last_seen: dict[tuple[str, str], int] = {}

    def __len__(self) -> int:
        return len(self._facts)

    @property
    def facts(self) -> list[Fact]:
        return list(self._facts.values())

    def add(self, facts: Iterable[Fact]) -> None:
        for fact in facts:
            self._facts.setdefault(fact.key, fact)
            self._last_seen[fact.key] = max(self._last_seen.get(fact.key, -1), fact.turn_index)

    def last_seen(self, fact: Fact) -> int:
        return self._last_seen[fact.key]

    def ranked(self) -> list[Fact]:
        """Most specific first, then most recently mentioned: the order in which they are kept."""
        return sorted(self.facts, key=lambda f: (-specificity(f), -self.last_seen(f), f.turn_index))


def render(facts: Iterable[Fact]) -> str:
    """One compact line per conversation: "Candidate facts: companies A, B; tech C; numbers D."."""
    by_kind: dict[FactKind, list[str]] = {kind: [] for kind in KINDS}
    for fact in sorted(facts, key=lambda f: f.turn_index):
        by_kind[fact.kind].append(fact.value)
    groups = [f"{LABELS[kind]} {', '.join(values)}" for kind, values in by_kind.items() if values]
    return "Candidate facts: " + "; ".join(groups) + "." if groups else ""
