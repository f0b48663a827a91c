"""The few, short prompts the interview and the report send to the model.

Prompt evaluation on two cores runs at about 80 tokens/s, so every message here is kept to a
few dozen tokens and the system prompt is one constant: its tokens stay in the model server's
prompt cache from one turn to the next.
"""

from __future__ import annotations

from mocki.interviews.personas import NEUTRAL_EN, Voice, han_count
from mocki.llm.base import ChatMessage

# One system prompt for every interviewer call, so its prefix is evaluated once and then cached.
INTERVIEWER_SYSTEM = (
    "You are a job interviewer. Output only what the interviewer says next: "
    "at most one short sentence, then one question. Never answer for the candidate."
)

# Appended for the other voices: one interview keeps one system prompt, so it stays cached.
TONE = {
    "friendly": " Be warm and encouraging.",
    "neutral": "",
    "tough": " Be brief and demanding, and press for specifics.",
}
SPEAK = {"en": "", "zh": " Speak only Simplified Chinese."}
# The instructions stay English (the small model follows them best); the reply must not.
SAY_IN = {"en": "", "zh": " Say it in Simplified Chinese."}

COACH_SYSTEM = (
    "You are an interview coach. Output only one short sentence of specific advice to the candidate."
)

# The model would otherwise go on to play the candidate.
STOP = ["Candidate:", "\nCandidate", "Answer:", "\nA:", "\nQ:", "Interviewee:", "<|im_end|>"]

ANSWER_EXCERPT_WORDS = 45
LINE_EXCERPT_CHARS = 120

FOCUS = {
    "short": "for more detail on what they just said",
    "no_specifics": "for a concrete example with the tools or numbers involved",
    "star:situation": "what the situation was",
    "star:task": "what exactly their responsibility was",
    "star:action": "what they personally did, step by step",
    "star:result": "what the result was and how they measured it",
}


def excerpt(text: str, max_words: int = ANSWER_EXCERPT_WORDS) -> str:
    parts = text.split()
    short = " ".join(parts[:max_words])
    # A cap on characters too: one pasted 20 kB "word" must not blow up the prompt. Chinese has
    # no spaces and a token or more per character, so there the cap is what bounds it.
    max_chars = max_words * (2 if han_count(short) else 8)
    if len(short) > max_chars:
        short = short[:max_chars]
    return short + (" ..." if short != " ".join(parts) else "")


def interviewer_system(voice: Voice = NEUTRAL_EN) -> str:
    """The system prompt of one interview; exactly INTERVIEWER_SYSTEM for the neutral English voice."""
    return INTERVIEWER_SYSTEM + TONE[voice.persona] + SPEAK[voice.language]


def _messages(voice: Voice, content: str) -> list[ChatMessage]:
    return [{"role": "system", "content": interviewer_system(voice)}, {"role": "user", "content": content}]


def _head(role: str, company: str) -> str:
    # The same first line for every call of one interview keeps the cached prefix longer.
    return f"Role: {role}" + (f" at {company}" if company else "")


def opening(
    role: str, company: str, question: str, line: str | None, voice: Voice = NEUTRAL_EN
) -> list[ChatMessage]:
    parts = [_head(role, company)]
    if line:
        parts.append(f'From the resume or job: "{line[:LINE_EXCERPT_CHARS]}"')
    parts.append(f"First question: {question}")
    task = "Greet the candidate in one short sentence, then ask the first question"
    parts.append(task + (", linked to that line." if line else ".") + SAY_IN[voice.language])
    return _messages(voice, "\n".join(parts))


def answer_context(role: str, company: str, asked: str) -> str:
    """How every answer turn's prompt starts: all of it known while the candidate types.

    The engine warms the model server's prompt cache with it (see `warm`), so once the answer
    arrives only the answer and what follows are evaluated.
    """
    return f"{_head(role, company)}\nInterviewer asked: {excerpt(asked, 50)}"


def with_line(context: str, line: str | None) -> str:
    """The start of a move to the next question: also known early once no follow-up can come."""
    if not line:
        return context
    return f'{context}\nFrom the resume or job: "{line[:LINE_EXCERPT_CHARS]}"'


def warm(context: str, voice: Voice = NEUTRAL_EN) -> list[ChatMessage]:
    return _messages(voice, context)


def follow_up(context: str, answer: str, reason: str, voice: Voice = NEUTRAL_EN) -> list[ChatMessage]:
    focus = FOCUS.get(reason, FOCUS["short"])
    content = f"{context}\nAnswer: {excerpt(answer)}\nAsk one short follow-up question {focus}."
    return _messages(voice, content + SAY_IN[voice.language])


def bridge(
    context: str, previous_answer: str, question: str, line: str | None, voice: Voice = NEUTRAL_EN
) -> list[ChatMessage]:
    # The next question stays after the answer, next to the instruction: measured with the 1.5B
    # model, it kept to the planned question in 11 of 24 tries so, 8 of 24 with the resume line
    # after the answer, and far less often with the question first or without the line.
    # A few words of the answer are enough to thank for it; each one costs prompt time.
    content = (
        f"{with_line(context, line)}\nAnswer: {excerpt(previous_answer, 12)}\nNext question: {question}\n"
        "Thank them in a few words, then ask the next question in your own words."
    )
    return _messages(voice, content + SAY_IN[voice.language])


def feedback(question: str, answer: str, weakest: str) -> list[ChatMessage]:
    content = "\n".join(
        [
            f"Question: {excerpt(question, 40)}",
            f"Answer: {excerpt(answer)}",
            f"Weakest point: {weakest}",
            "Advice:",
        ]
    )
    return [{"role": "system", "content": COACH_SYSTEM}, {"role": "user", "content": content}]


def naive_opening(role: str, company: str, resume: str, job: str, question: str) -> list[ChatMessage]:
    """The baseline a first version would send: everything, every time (used by the benchmark)."""
    system = (
        "You are an expert technical interviewer conducting a realistic mock job interview. "
        "Read the candidate's full resume and the full job description below, then greet the "
        "candidate and ask the first interview question. Ask one question at a time.\n\n"
        f"Role: {role}{' at ' + company if company else ''}\n\nRESUME:\n{resume}\n\nJOB DESCRIPTION:\n{job}"
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Start the interview. First question to cover: {question}"},
    ]


# ---------------------------------- knowledge, system-design and deep-dive agents (interviews/agents)

# What a deep dive's follow-up asks about (agents/questions.py decides which one is missing).
DEPTH_FOCUS = {
    "depth:measure": "how they measured that result",
    "depth:why": "why they chose that approach over the alternatives",
    "depth:tradeoff": "what trade-off or cost that choice had",
    "depth:differently": "what they would do differently now",
}


def missed_point(context: str, answer: str, point: str, voice: Voice = NEUTRAL_EN) -> list[ChatMessage]:
    """A follow-up on a reference point the answer left out, without giving the point away."""
    content = (
        f"{context}\nAnswer: {excerpt(answer)}\nNot covered: {point[:LINE_EXCERPT_CHARS]}\n"
        "Ask one short question about that point, without answering it."
    )
    return _messages(voice, content + SAY_IN[voice.language])


def probe_depth(context: str, answer: str, reason: str, voice: Voice = NEUTRAL_EN) -> list[ChatMessage]:
    focus = DEPTH_FOCUS.get(reason, DEPTH_FOCUS["depth:why"])
    content = f"{context}\nAnswer: {excerpt(answer)}\nAsk one short follow-up question about {focus}."
    return _messages(voice, content + SAY_IN[voice.language])
