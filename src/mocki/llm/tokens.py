"""Counting prompt tokens the way the model that reads them does, offline.

The conversation memory keeps every prompt under a token budget, so it needs the count the
model will see: the packaged GGUF's own tokenizer for the local model, tiktoken for an OpenAI
endpoint (its encoding files ship in litellm's package, so nothing is downloaded), and a plain
estimate only when neither is available.
"""

from __future__ import annotations

import abc
import functools
import importlib.util
import logging
import math
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mocki.llm.base import ChatMessage
from mocki.llm.local_models import ModelUnavailable, ensure_model

if TYPE_CHECKING:
    import tiktoken
    from llama_cpp import Llama

    from mocki.settings import Settings

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
# tiktoken names its cached files after the sha1 of the URL it would download them from.
TIKTOKEN_FILES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}
# Models that read o200k_base; every other OpenAI-style name is counted with cl100k_base.
_O200K_MODEL = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d)", re.IGNORECASE)


class TokenCounter(Protocol):
    name: str

    def count(self, text: str) -> int:
        """Tokens of a piece of text on its own (no special tokens)."""
        ...

    def count_messages(self, messages: Sequence[ChatMessage]) -> int:
        """Tokens of a whole chat prompt: contents, each message's framing, and the reply's priming.

        A sum over the messages plus a constant: the memory counts each recent turn once and
        adds them up, instead of counting the whole prompt again every turn.
        """
        ...


class _FramedCounter(abc.ABC):
    """Shared `count_messages`: content tokens plus a fixed frame per message and for the reply."""

    name: str
    per_message: dict[str, int]
    reply_priming: int

    @abc.abstractmethod
    def count(self, text: str) -> int: ...

    def count_messages(self, messages: Sequence[ChatMessage]) -> int:
        total = self.reply_priming
        for message in messages:
            total += self.per_message[message["role"]] + self.count(message["content"])
        return total


# --------------------------------------------------------------------------- local GGUF tokenizer


_vocab_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _load_vocab(path: str) -> tuple[Llama, float]:
    """Only the vocabulary (no weights): 0.1 s for the tiny model, 0.6 s for the 1.5B one here."""
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    started = time.perf_counter()
    # llama.cpp prints context warnings from C even with verbose=False.
    with suppress_stdout_stderr(disable=False):
        vocab = Llama(model_path=path, vocab_only=True, verbose=False)
    return vocab, time.perf_counter() - started


class LlamaTokenCounter(_FramedCounter):
    """The packaged model's own tokenizer, read from its GGUF; one loaded copy per file."""

    def __init__(self, model_path: Path) -> None:
        with _vocab_lock:
            self._vocab, self.load_s = _load_vocab(str(model_path))
        self.name = f"llama:{model_path.name}"
        template = str(self._vocab.metadata.get("tokenizer.chat_template", ""))
        if "<|im_start|>" in template:
            # ChatML (Qwen2.5, SmolLM2): measure the frame, since "assistant" is one token in one
            # vocabulary and two in another.
            self.per_message = {role: self._special(f"<|im_start|>{role}\n<|im_end|>\n") for role in ROLES}
            self.reply_priming = self._special("<|im_start|>assistant\n")
        else:
            self.per_message = dict.fromkeys(ROLES, 4)
            self.reply_priming = 3

    def _special(self, text: str) -> int:
        return len(self._vocab.tokenize(text.encode(), add_bos=False, special=True))

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._vocab.tokenize(text.encode(), add_bos=False, special=False))


# --------------------------------------------------------------------------------------- tiktoken


def litellm_tokenizer_dir() -> Path | None:
    """Where litellm's wheel keeps the tiktoken files, found without importing litellm itself."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def encoding_name_for(model: str) -> str:
    # "openai/gpt-4o", "azure/gpt-4.1-mini": the provider prefix says nothing about the tokenizer.
    bare = model.rsplit("/", 1)[-1]
    return "o200k_base" if _O200K_MODEL.match(bare) else "cl100k_base"


@functools.lru_cache(maxsize=2)
def _encoding(name: str) -> tiktoken.Encoding:
    current = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not current or not (Path(current) / TIKTOKEN_FILES[name]).is_file():
        folder = litellm_tokenizer_dir()
        if folder is None or not (folder / TIKTOKEN_FILES[name]).is_file():
            raise ModelUnavailable(
                f"No {name} file for tiktoken: install litellm==1.110.2 (with --no-deps), which ships it."
            )
        # tiktoken reads this on every load and checks the file's sha256 before using it.
        os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    import tiktoken

    return tiktoken.get_encoding(name)


class TiktokenCounter(_FramedCounter):
    """OpenAI's tokenizers; the per-message frame is the one OpenAI's cookbook documents."""

    def __init__(self, model: str) -> None:
        self.encoding_name = encoding_name_for(model)
        self._encoding = _encoding(self.encoding_name)
        self.name = f"tiktoken:{self.encoding_name}"
        self.per_message = dict.fromkeys(ROLES, 3)
        self.reply_priming = 3

    def count(self, text: str) -> int:
        return len(self._encoding.encode(text, disallowed_special=()))


# --------------------------------------------------------------------------------------- estimate


class EstimateCounter(_FramedCounter):
    """About four characters a token for English: only when no real tokenizer can be loaded."""

    name = "estimate:chars/4"

    def __init__(self) -> None:
        self.per_message = dict.fromkeys(ROLES, 4)
        self.reply_priming = 3

    def count(self, text: str) -> int:
        return math.ceil(len(text) / 4)


def counter_for(settings: Settings) -> TokenCounter:
    """The counter matching the configured model: local GGUF, an OpenAI-style endpoint, or an estimate."""
    try:
        if settings.llm.base_url:
            return TiktokenCounter(settings.llm.model)
        # Never downloads: the model is already assembled wherever the local model is served.
        return LlamaTokenCounter(ensure_model(settings.local_model.name, download=False))
    except (ModelUnavailable, ImportError, ValueError) as exc:
        log.warning("counting tokens by estimate (chars/4): %s", exc)
        return EstimateCounter()
