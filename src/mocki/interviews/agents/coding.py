"""The coding agent: a built-in problem for the role and level, graded hints, the candidate's code
run in the sandbox against visible and hidden tests, then a talk about its complexity.

Per coding question its memory (`ctx.state("coding")`) holds the problem, the hints given, every
run's verdict, and where the discussion stands:

    code ──passing run──▶ complexity ──claim agrees, optimal──▶ done (next question)
      │  ◀──failing run: the failing example, "fix it" (at most MAX_FIXES times)
      └─ an answer without code: "write it as code" once, then move on

In the complexity stage the candidate's stated time complexity (sandbox/complexity.parse_claim)
is held against the static estimate of their code: a difference is pointed out once, and code
slower than the problem's best known complexity is challenged once ("can you improve on it?").

Every reply is a fixed text (no model call): a small model must never garble a statement, an
expected value or a verdict. The question about complexity was model-phrased at first and is
fixed too: asked for "both the time and the space complexity", the packaged 1.5B model asked
for both in 1 of 4 samples, for time only in 2 and answered its own question in 1.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from mocki.core.errors import DomainError
from mocki.interviews import personas
from mocki.interviews.engine import Context, GeneralInterviewer, Move, PlannedQuestion, Tools
from mocki.sandbox import (
    Language,
    Limits,
    Problem,
    SandboxResult,
    SandboxUnavailable,
    builtin_problems,
    run_submission,
)
from mocki.sandbox.complexity import Big, estimate, parse_big_o, parse_claim

NAME = "coding"
# Follow-ups on one coding question: fixes, the complexity question, one disagreement, one
# challenge to improve, and a request for code.
MAX_FOLLOW_UPS = 6
# Failing runs answered with "fix it"; after that the interview moves on.
MAX_FIXES = 3
RUN_LIMITS = Limits()
LANGUAGE_NAMES: dict[Language, str] = {"python": "Python", "javascript": "JavaScript"}
# A returned value longer than this (as JSON) is cut in the reply.
MAX_VALUE_CHARS = 200

Runner = Callable[..., Awaitable[SandboxResult]]
MoveKind = Literal["question", "follow_up", "clarify", "hint", "redirect"]

# ----------------------------------------------------------------------- choosing a problem

_JUNIOR = re.compile(
    r"\b(?:junior|jr|graduate|grad|intern|internship|entry|trainee|apprentice)\b|初级|应届|实习", re.I
)
_SENIOR = re.compile(r"\b(?:senior|sr|staff|lead|principal|architect)\b|高级|资深|专家|主管", re.I)
_FRONTEND = re.compile(
    r"\b(?:front[- ]?end|javascript|typescript|react|vue|angular|web|ui|node(?:\.?js)?)\b|前端", re.I
)


def difficulties(role: str) -> tuple[str, ...]:
    """The problem difficulties that suit the role's level."""
    if _JUNIOR.search(role):
        return ("easy",)
    if _SENIOR.search(role):
        return ("medium", "hard")
    return ("easy", "medium")


def preferred_language(role: str) -> Language:
    return "javascript" if _FRONTEND.search(role) else "python"


def choose_problem(
    role: str, key: str, used: list[str], problems: Mapping[str, Problem] | None = None
) -> Problem:
    """A problem for the role's level, never one already used in this interview, chosen by a hash
    of `key` (the planned question's id): the same interview always gets the same problems."""
    pool = sorted((problems or builtin_problems()).values(), key=lambda p: p.id)
    wanted = difficulties(role)
    fresh = [p for p in pool if p.id not in used]
    candidates = [p for p in fresh if p.difficulty in wanted] or fresh or pool
    digest = int(hashlib.sha256(key.encode()).hexdigest()[:12], 16)
    return candidates[digest % len(candidates)]


# -------------------------------------------------------------------------- finding code

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+#.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_FENCE_TAGS: dict[str, Language] = {
    "python": "python",
    "py": "python",
    "python3": "python",
    "javascript": "javascript",
    "js": "javascript",
    "node": "javascript",
    "nodejs": "javascript",
    "jsx": "javascript",
}
# The first line of plain code: a definition, a declaration, an import, or a function assigned to a
# name (`module.exports.f = function (…)`, `solve = (a) => …`) — never an ordinary prose line.
_CODE_START = re.compile(
    r"^\s*(?:(?:async\s+)?def\s+\w+\s*\(|class\s+\w+|@\w[\w.]*\s*(?:\(.*\))?\s*$|"
    r"(?:export\s+(?:default\s+)?)?(?:async\s+)?function\b\s*\*?\s*[\w$]*\s*\(|"
    r"(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*=|"
    r"[\w$]+(?:\.[\w$]+)*\s*=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*=>|[\w$]+\s*=>)|"
    r"import\s+\w|from\s+\S+\s+import\s)"
)
_PY_SIGNS = (
    (re.compile(r"^\s*def\s+\w+\s*\(.*\)\s*(?:->.*)?:\s*$", re.M), 3),
    (re.compile(r":\s*$", re.M), 1),
    (re.compile(r"\b(?:elif|None|True|False|lambda|self|range|len)\b"), 1),
    (re.compile(r"^\s*(?:import|from)\s+\w", re.M), 1),
)
_JS_SIGNS = (
    (re.compile(r"\bfunction\b"), 3),
    (re.compile(r"\b(?:const|let|var)\s+\w"), 2),
    (re.compile(r"=>"), 2),
    (re.compile(r";\s*$", re.M), 1),
    (re.compile(r"[{}]\s*$", re.M), 1),
    (re.compile(r"===|!==|\+\+|\.length\b|\bnull\b|\bundefined\b"), 1),
)


@dataclass(frozen=True)
class Submission:
    code: str
    language: Language
    prose: str  # the turn's text outside the code


def detect_language(code: str) -> Language | None:
    """Python or JavaScript by their telltale signs; None when it is neither."""
    py = sum(weight * len(p.findall(code)) for p, weight in _PY_SIGNS)
    js = sum(weight * len(p.findall(code)) for p, weight in _JS_SIGNS)
    if py == js == 0:
        return None
    if py > js:
        return "python"
    if js > py:
        return "javascript"
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return "javascript"
    return "python"


def extract_code(text: str, submitted: bool = False) -> Submission | None:
    """The code in a candidate's turn: the largest fenced block, or plain code that starts with a
    definition. `submitted` (the classifier called the turn a code submission) also accepts plain
    code that does not start with one."""
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text) if body.strip()]
    if blocks:
        tag, body = max(blocks, key=lambda b: len(b[1]))
        language = _FENCE_TAGS.get(tag) or detect_language(body)
        if language is None:
            return None
        return Submission(body.strip("\n"), language, _FENCE.sub(" ", text).strip())
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if _CODE_START.match(line)), None)
    if start is None and submitted:
        start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None:
        return None
    code = "\n".join(lines[start:]).strip("\n")
    language = detect_language(code)
    if language is None or len([ln for ln in code.splitlines() if ln.strip()]) < 2:
        return None
    return Submission(code, language, "\n".join(lines[:start]).strip())


def code_digest(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------- formatting


def literal(value: Any, language: str) -> str:
    """A value as the candidate's language writes it: True/None in Python, true/null in JavaScript."""
    text = repr(value) if language == "python" else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def call_text(problem: Problem, language: str, args: list[Any]) -> str:
    name = problem.function["python" if language == "python" else "javascript"]
    return f"{name}({', '.join(literal(a, language) for a in args)})"


def signature(problem: Problem, language: Language) -> str:
    """`def two_sum(nums, target)` / `function twoSum(nums, target)`: the starter's first line."""
    first = next((ln.strip() for ln in problem.starter[language].splitlines() if ln.strip()), "")
    return first.rstrip("{: ").strip() or problem.function[language]


def _other(language: Language) -> Language:
    return "javascript" if language == "python" else "python"


# ------------------------------------------------------------------------------ evidence


def _json_safe(value: Any) -> Any:
    """A returned value small enough to store; a big one is kept as its (cut) text."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)[:MAX_VALUE_CHARS]
    return value if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def run_evidence(result: SandboxResult) -> dict[str, Any]:
    """What the decision and the reply need from a run: counts, the verdict, the first failing
    VISIBLE case and error text. A hidden test contributes only its status, never its input."""
    visible = [t for t in result.tests if not t.hidden]
    hidden = [t for t in result.tests if t.hidden]
    evidence: dict[str, Any] = {
        "verdict": result.verdict,
        "message": result.message,
        "passed": result.passed,
        "total": result.total,
        "visible_passed": sum(t.status == "passed" for t in visible),
        "visible_total": len(visible),
        "hidden_passed": sum(t.status == "passed" for t in hidden),
        "hidden_total": len(hidden),
    }
    failing = next((t for t in visible if t.status in ("failed", "error")), None)
    if failing is not None:
        evidence["failing"] = {
            "index": failing.index,
            "args": _json_safe(failing.args),
            "expected": _json_safe(failing.expected),
            "got": _json_safe(failing.actual),
            "error": failing.error,
        }
    return evidence


def run_summary(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """One run as the agent's memory (and the report) keeps it."""
    complexity = evidence.get("complexity") or {}
    return {
        "verdict": evidence.get("verdict") or ("not_run" if evidence.get("sandbox") else "error"),
        "passed": int(evidence.get("passed") or 0),
        "total": int(evidence.get("total") or 0),
        "language": evidence.get("language"),
        "time": complexity.get("time"),
        "code": evidence.get("code_digest"),
        "sandbox": evidence.get("sandbox", "ran"),
    }


# --------------------------------------------------------------------------------- agent


class CodingAgent(GeneralInterviewer):
    name = NAME

    def __init__(
        self,
        problems: Mapping[str, Problem] | None = None,
        runner: Runner = run_submission,
        limits: Limits = RUN_LIMITS,
    ) -> None:
        super().__init__()
        self._problems = problems
        self.runner = runner
        self.limits = limits

    # ------------------------------------------------------------------------- memory

    @property
    def problems(self) -> Mapping[str, Problem]:
        return self._problems if self._problems is not None else builtin_problems()

    def enter(self, ctx: Context, index: int) -> None:
        state = ctx.state(self.name)
        used = [str(u) for u in state.get("used", [])]
        question = ctx.plan.questions[index]
        problem = choose_problem(ctx.role, question.id or f"{index}:{question.text}", used, self.problems)
        state["used"] = [*used, problem.id]
        state["question"] = index
        state.setdefault("questions", {})[str(index)] = {
            "problem": problem.id,
            "language": preferred_language(ctx.role),
            "hints": 0,
            "runs": [],
            "stage": "code",
            "fixes": 0,
            "asked_code": False,
            "asked_again": False,
            "pointed": False,
            "improve": False,
            "estimate": None,
            "claim": None,
        }

    def memory(self, ctx: Context) -> dict[str, Any]:
        """This question's memory, entered on first use (a plan written before this agent ran it)."""
        state = ctx.state(self.name)
        entries: dict[str, dict[str, Any]] = state.setdefault("questions", {})
        if state.get("question") != ctx.plan.cursor or str(ctx.plan.cursor) not in entries:
            self.enter(ctx, ctx.plan.cursor)
        return entries[str(ctx.plan.cursor)]

    def problem(self, ctx: Context) -> Problem:
        pid = self.memory(ctx)["problem"]
        return self.problems.get(pid) or next(iter(self.problems.values()))

    def may_follow_up(self, ctx: Context, question: PlannedQuestion) -> bool:
        return question.follow_ups < MAX_FOLLOW_UPS

    # ------------------------------------------------------------------------- gather

    async def gather(self, ctx: Context, text: str, tools: Tools) -> dict[str, Any]:
        """Run the code in the turn, if any: visible and hidden tests, plus a static estimate."""
        submission = extract_code(text, submitted=ctx.intent == "code_submission")
        if submission is None:
            return {}
        problem = self.problem(ctx)
        read = estimate(submission.code, submission.language, problem.function[submission.language])
        found: dict[str, Any] = {
            "code": True,
            "problem_id": problem.id,
            "language": submission.language,
            "code_digest": code_digest(submission.code),
            "complexity": read.to_json() if read else None,
        }
        try:
            result = await self.runner(submission.language, submission.code, problem, self.limits)
        except SandboxUnavailable as exc:
            return found | {"sandbox": "unavailable", "message": exc.message}
        except DomainError as exc:  # the code itself was refused (too long, not text)
            total = len(problem.visible) + len(problem.hidden)
            return found | {"verdict": "error", "message": exc.message, "passed": 0, "total": total}
        return found | run_evidence(result)

    # ---------------------------------------------------------------------- decisions

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        memory = self.memory(ctx)
        evidence = ctx.evidence if ctx.evidence.get("code") else None
        if evidence is not None:
            memory["runs"].append(run_summary(evidence))
            if evidence.get("language") in LANGUAGE_NAMES:
                memory["language"] = evidence["language"]  # later replies quote values their way
        reason = self._decide(ctx, memory, answer, evidence)
        if reason is not None and question.follow_ups >= MAX_FOLLOW_UPS:
            return None
        return reason

    def _decide(
        self, ctx: Context, memory: dict[str, Any], answer: str, evidence: Mapping[str, Any] | None
    ) -> str | None:
        if evidence is not None:
            return self._after_run(ctx, memory, answer, evidence)
        if memory["stage"] == "complexity":
            claim = parse_claim(answer)
            if claim.time is None:
                if memory["asked_again"]:
                    return None
                memory["asked_again"] = True
                return "complexity_again"
            return self._judge(ctx, memory, claim.time)
        if memory["stage"] == "code" and not memory["asked_code"]:
            memory["asked_code"] = True
            return "ask_code"
        return None

    def _after_run(
        self, ctx: Context, memory: dict[str, Any], answer: str, evidence: Mapping[str, Any]
    ) -> str | None:
        memory["estimate"] = evidence.get("complexity")
        if evidence.get("sandbox") == "unavailable":
            memory["stage"] = "complexity"
            return "no_sandbox"
        if evidence.get("verdict") != "passed":
            memory["stage"] = "code"
            if memory["fixes"] >= MAX_FIXES:
                return None
            memory["fixes"] += 1
            return "tests_failed"
        # New working code: its complexity is discussed afresh.
        memory.update(stage="complexity", pointed=False, asked_again=False)
        submission = extract_code(answer, submitted=True)
        claim = parse_claim(submission.prose if submission else "")
        if claim.time is not None:
            return self._judge(ctx, memory, claim.time)
        return "ask_complexity"

    def _judge(self, ctx: Context, memory: dict[str, Any], claim: Big) -> str | None:
        """The stated time complexity against the estimate of the code and the problem's best."""
        memory["claim"] = claim.label
        read = parse_big_o(str((memory.get("estimate") or {}).get("time") or ""))
        optimal = parse_big_o(self.problem(ctx).complexity or "")
        actual = read or claim
        if read is not None and claim != read and not memory["pointed"]:
            memory["pointed"] = True
            if claim < read:
                improvable = optimal is not None and read > optimal
                memory["improve"] = memory["improve"] or improvable
                return "too_optimistic" if improvable else "too_optimistic_final"
            return "too_pessimistic"
        if optimal is not None and actual > optimal and not memory["improve"]:
            memory["improve"] = True
            return "improve"
        memory["stage"] = "done"
        return None

    # -------------------------------------------------------------------------- moves

    def _fields(self, ctx: Context, problem: Problem) -> dict[str, Any]:
        language: Language = self.memory(ctx)["language"]
        example = problem.visible[0]
        return {
            "title": problem.title,
            "statement": problem.statement,
            "signature": signature(problem, language),
            "language": LANGUAGE_NAMES[language],
            "other": LANGUAGE_NAMES[_other(language)],
            "call": call_text(problem, language, example.args),
            "expected": literal(example.expected, language),
        }

    def _data(self, ctx: Context, **extra: Any) -> dict[str, Any]:
        """What the web app needs to show the problem's editor beside the turn."""
        problem = self.problem(ctx)
        memory = self.memory(ctx)
        return {
            "problem_id": problem.id,
            "title": problem.title,
            "language": memory["language"],
            "function": dict(problem.function),
            "starter": dict(problem.starter),
            "stage": memory["stage"],
            **extra,
        }

    def _move(self, ctx: Context, kind: MoveKind, text: str, index: int, **extra: Any) -> Move:
        question = ctx.plan.questions[index]
        return Move(
            kind=kind,
            fallback=text,
            messages=None,
            question_index=index,
            question_id=question.id,
            provenance=[asdict(question.ground)] if question.ground else [],
            agent=self.name,
            language=ctx.voice.language,
            data=self._data(ctx, **extra),
        )

    def _present(self, ctx: Context) -> str:
        problem = self.problem(ctx)
        return personas.coding_text(ctx.voice, "present", **self._fields(ctx, problem))

    def opening(self, ctx: Context, index: int) -> Move:
        text = personas.greeting(ctx.voice, ctx.role, ctx.company, self._present(ctx))
        return self._move(ctx, "question", text, index)

    def next_question(self, ctx: Context, index: int, previous_answer: str) -> Move:
        return self._move(ctx, "question", personas.next_question(ctx.voice, self._present(ctx)), index)

    def stay(self, ctx: Context, intent: str) -> Move:
        problem = self.problem(ctx)
        memory = self.memory(ctx)
        index = ctx.plan.cursor
        if intent == "hint":
            return self._hint(ctx, problem, memory, index)
        if intent == "clarification":
            text = personas.coding_text(ctx.voice, "clarify", **self._fields(ctx, problem))
            return replace(self._move(ctx, "clarify", text, index), reason=intent)
        reminder = personas.coding_text(ctx.voice, "reminder", **self._fields(ctx, problem))
        fallback = personas.stay_reply(ctx.voice, intent, reminder, "coding")
        return replace(super().stay(ctx, intent), fallback=fallback, data=self._data(ctx))

    def _hint(self, ctx: Context, problem: Problem, memory: dict[str, Any], index: int) -> Move:
        total = len(problem.hints)
        level = int(memory["hints"]) + 1
        if level > total:
            text = personas.coding_text(ctx.voice, "no_more_hints", total=total)
            move = self._move(
                ctx, "hint", text, index, hint_level=total, hints_total=total, no_more_hints=True
            )
        else:
            memory["hints"] = level
            hint = problem.hints[level - 1]
            text = personas.coding_text(ctx.voice, "hint", level=level, total=total, hint=hint)
            move = self._move(ctx, "hint", text, index, hint_level=level, hints_total=total)
        return replace(move, reason="hint")

    def follow_up(self, ctx: Context, index: int, answer: str, reason: str) -> Move:
        problem = self.problem(ctx)
        memory = self.memory(ctx)
        evidence = ctx.evidence if ctx.evidence.get("code") else {}
        fields = self._fields(ctx, problem)
        language: str = str(evidence.get("language") or memory["language"])
        extra: dict[str, Any] = {}
        if evidence:
            extra["run"] = {k: v for k, v in evidence.items() if k not in ("question_index", "code")}
        if reason == "tests_failed":
            text = self._failure(ctx, problem, evidence, language)
        elif reason == "no_sandbox":
            text = personas.coding_text(ctx.voice, "no_sandbox", **fields)
        elif reason == "ask_complexity":
            text = personas.coding_text(ctx.voice, "ask_complexity", total=evidence.get("total", 0))
        elif reason in ("too_optimistic", "too_optimistic_final", "too_pessimistic", "improve"):
            text = self._complexity_reply(ctx, memory, reason)
            extra["complexity"] = memory.get("estimate")
        elif reason == "ask_code":
            text = personas.coding_text(ctx.voice, "ask_code", **fields)
        else:
            text = personas.coding_text(ctx.voice, "complexity_again")
        return replace(self._move(ctx, "follow_up", text, index, **extra), reason=reason)

    def _failure(self, ctx: Context, problem: Problem, evidence: Mapping[str, Any], language: str) -> str:
        counts = {"passed": evidence.get("passed", 0), "total": evidence.get("total", 0)}
        failing = evidence.get("failing")
        verdict = evidence.get("verdict")
        if isinstance(failing, dict):
            call = call_text(problem, language, list(failing.get("args") or []))
            if failing.get("error"):
                return personas.coding_text(
                    ctx.voice, "error_case", call=call, error=failing["error"], **counts
                )
            return personas.coding_text(
                ctx.voice,
                "failed_case",
                call=call,
                expected=literal(failing.get("expected"), language),
                got=literal(failing.get("got"), language),
                **counts,
            )
        if verdict in ("timeout", "memory_limit", "output_limit", "killed"):
            return personas.coding_text(ctx.voice, "limit", message=evidence.get("message", ""))
        hidden = int(evidence.get("hidden_total") or 0)
        visible = evidence.get("visible_total")
        examples_pass = bool(visible) and evidence.get("visible_passed") == visible
        if verdict in ("failed", "error") and examples_pass and hidden:
            failed = hidden - int(evidence.get("hidden_passed") or 0)
            return personas.coding_text(ctx.voice, "hidden", failed=failed, hidden=hidden)
        return personas.coding_text(ctx.voice, "error", error=evidence.get("message", ""))

    def _complexity_reply(self, ctx: Context, memory: Mapping[str, Any], reason: str) -> str:
        read = memory.get("estimate") or {}
        why = personas.complexity_why(ctx.voice, str(read.get("reason") or ""), str(read.get("detail") or ""))
        estimate_label = str(read.get("time") or memory.get("claim") or "")
        return personas.coding_text(
            ctx.voice, reason, why=why, estimate=estimate_label, claim=memory.get("claim") or ""
        )
