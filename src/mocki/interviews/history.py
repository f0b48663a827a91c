"""Each agent's conversation memory inside the interview plan, and its use in the prompts.

Every agent keeps the exchanges on its own questions in a `ConversationMemory` (recent turns
verbatim, older ones folded into summary lines, under a token budget); the facts the candidate
states go into every agent's memory, so the system-design agent still knows the employer named in
a behavioural answer. The memory lives in the plan (`plan.agents[name]["memory"]`), so it needs
no table and survives between requests and processes.

Whether the prompts carry the memory is a setting: with a hosted model it is on (long prompts
are cheap there); with the local model it is off by default, because measured on two cores every
fold of the window makes llama.cpp re-evaluate the shifted prompt (about twice the new tokens per
turn of sending nothing), while the agents' own short prompts already hold what a turn needs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import cached_property

from mocki.interviews.engine import Move, Plan
from mocki.interviews.memory import ConversationMemory, MemoryBudgetError
from mocki.llm.tokens import TokenCounter, counter_for
from mocki.settings import Settings

log = logging.getLogger(__name__)

CANDIDATE = "candidate"
INTERVIEWER = "interviewer"


class History:
    """Reads and writes the agents' memories in a plan; puts one into a move's prompt."""

    def __init__(self, counter: TokenCounter | None, budget_tokens: int, *, in_prompts: bool) -> None:
        self._counter = counter
        self.budget_tokens = budget_tokens
        self.in_prompts = in_prompts
        self._settings: Settings | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> History:
        cfg = settings.interview
        in_prompts = cfg.history == "on" or (cfg.history == "auto" and bool(settings.llm.base_url))
        history = cls(None, cfg.history_tokens, in_prompts=in_prompts)
        history._settings = settings  # the counter is built on first use: it may load a vocabulary
        return history

    @cached_property
    def counter(self) -> TokenCounter:
        if self._counter is not None:
            return self._counter
        assert self._settings is not None
        return counter_for(self._settings)

    def memory(self, plan: Plan, agent: str) -> ConversationMemory:
        memory = ConversationMemory(self.counter, self.budget_tokens)
        saved = plan.agents.get(agent, {}).get("memory")
        if saved:
            memory.load_json(saved)
        return memory

    def _save(self, plan: Plan, agent: str, memory: ConversationMemory) -> None:
        plan.agents.setdefault(agent, {})["memory"] = memory.to_json()

    async def add(self, plan: Plan, agent: str, speaker: str, text: str, others: Iterable[str] = ()) -> None:
        """Record a turn in `agent`'s memory; a candidate's facts also go to the `others`."""
        memory = self.memory(plan, agent)
        await memory.add(speaker, text)
        self._save(plan, agent, memory)
        if speaker != CANDIDATE:
            return
        for other in others:
            if other == agent:
                continue
            theirs = self.memory(plan, other)
            theirs.note(text)
            self._save(plan, other, theirs)

    def apply(self, plan: Plan, move: Move) -> None:
        """Put the speaking agent's memory in front of the move's prompt (when set to)."""
        if not self.in_prompts or not move.messages or move.messages[0]["role"] != "system":
            return
        memory = self.memory(plan, move.agent)
        try:
            context = memory.context_messages(move.messages[0]["content"])
        except MemoryBudgetError:
            log.warning(
                "memory budget %s is below the system prompt; sent without memory", self.budget_tokens
            )
            return
        move.messages = [*context, *move.messages[1:]]
