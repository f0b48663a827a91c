"""The router: which agent runs a planned question, each agent keeping its own memory.

A planned question names its agent (`PlannedQuestion.agent`, set at planning) or is routed by
its category. The engine calls `enter` on the agent when one of its questions starts, so an
agent resets its per-question memory there, and only the routed agent sees the candidate's
turns on its question: switching from a coding problem to a behavioural question leaves the
code with the coding agent.
"""

from __future__ import annotations

from collections.abc import Mapping

from mocki.interviews.agents.behavioural import BehaviouralAgent
from mocki.interviews.agents.coding import CodingAgent
from mocki.interviews.agents.knowledge import KnowledgeAgent
from mocki.interviews.agents.questions import DeepDiveAgent
from mocki.interviews.engine import GeneralInterviewer, Interviewer, PlannedQuestion

# Category of a bank question → the agent that runs it.
CATEGORY_AGENT = {
    "behavioural": "behavioural",
    "coding": "coding",
    "knowledge": "knowledge",
    "system_design": "system_design",
}


class AgentRouter:
    """Picks the agent for a question; the general interviewer closes and fills any gap."""

    def __init__(self, agents: Mapping[str, Interviewer], fallback: Interviewer | None = None) -> None:
        self.agents = dict(agents)
        self.fallback: Interviewer = fallback or GeneralInterviewer()

    def agent_name(self, question: PlannedQuestion) -> str:
        return question.agent or CATEGORY_AGENT.get(question.category, self.fallback.name)

    def __call__(self, question: PlannedQuestion | None) -> Interviewer:
        if question is None:
            return self.fallback
        return self.agents.get(self.agent_name(question), self.fallback)


def default_agents() -> dict[str, Interviewer]:
    agents: list[Interviewer] = [
        BehaviouralAgent(),
        KnowledgeAgent("knowledge"),
        KnowledgeAgent("system_design", design=True),
        DeepDiveAgent(),
        CodingAgent(),
    ]
    return {agent.name: agent for agent in agents}


def default_router() -> AgentRouter:
    return AgentRouter(default_agents())
