"""How the interviewer sounds: a persona (friendly, neutral, tough) and a language (English, Chinese).

The engine decides what to ask whatever the voice; a voice changes only the words: the fixed
texts said without a model call (greeting, follow-up fallbacks, hint, clarification, redirect,
closing) and the tone and language lines of the model's system prompt (see prompts.py). Bank
questions are English; in Chinese the fixed texts keep a question's text as it is inside
Chinese framing, so nothing is machine-translated at run time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Persona = Literal["friendly", "neutral", "tough"]
Language = Literal["en", "zh"]


@dataclass(frozen=True)
class Voice:
    persona: Persona = "neutral"
    language: Language = "en"


NEUTRAL_EN = Voice()

_PERSONAS: dict[str, Persona] = {"friendly": "friendly", "neutral": "neutral", "tough": "tough"}
_LANGUAGES: dict[str, Language] = {"en": "en", "zh": "zh"}


def voice_of(persona: str, language: str) -> Voice:
    """The voice stored on an interview row; a value the API never writes means neutral or English."""
    return Voice(_PERSONAS.get(persona, "neutral"), _LANGUAGES.get(language, "en"))


# Han characters: what Chinese text is made of (its punctuation is not counted).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Chinese words average about 1.5 characters; used where a word count is needed.
HAN_PER_WORD = 1.5


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


def _as_text(role: str, company: str, language: Language) -> str:
    if language == "zh":
        return f"{company} 的 {role}" if company else role
    return f"{role} at {company}" if company else role


# ------------------------------------------------------------------------- opening, moving on

_GREETING: dict[Voice, str] = {
    Voice("neutral", "en"): "Hello, and thank you for joining this {what} interview. {q}",
    Voice("friendly", "en"): (
        "Hi, and welcome! I'm glad you could join this {what} interview; take your time with each answer. {q}"
    ),
    Voice("tough", "en"): "Let's begin this {what} interview. Keep your answers specific. {q}",
    Voice("neutral", "zh"): "您好，感谢您参加这次 {what} 岗位的面试。我们来聊聊这个问题：{q}",
    Voice("friendly", "zh"): (
        "你好，欢迎参加这次 {what} 岗位的面试！放轻松，慢慢回答就好。我们先来聊聊这个问题：{q}"
    ),
    Voice("tough", "zh"): "我们开始这次 {what} 岗位的面试。请尽量具体地回答。第一个问题：{q}",
}


def greeting(voice: Voice, role: str, company: str, question: str) -> str:
    return _GREETING[voice].format(what=_as_text(role, company, voice.language), q=question)


_NEXT: dict[Voice, str] = {
    Voice("neutral", "en"): "{q}",
    Voice("friendly", "en"): "Thank you for sharing that. {q}",
    Voice("tough", "en"): "{q}",
    Voice("neutral", "zh"): "我们来聊聊下一个问题：{q}",
    Voice("friendly", "zh"): "谢谢你的分享！我们来聊聊下一个问题：{q}",
    Voice("tough", "zh"): "下一个问题：{q}",
}


def next_question(voice: Voice, question: str) -> str:
    """The fallback for moving on to the next bank question."""
    return _NEXT[voice].format(q=question)


# ------------------------------------------------------------------------------ follow-ups

_FOLLOW_UP_EN = {
    "short": "Could you go into a bit more detail on that?",
    "no_specifics": "Can you give a concrete example, with the tools or numbers involved?",
    "star:situation": "Can you set the scene: what was the situation?",
    "star:task": "What exactly was your responsibility there?",
    "star:action": "What did you personally do, step by step?",
    "star:result": "What was the result, and how did you measure it?",
}
_FOLLOW_UP_EN_TOUGH = {
    "short": "That is too general. What exactly happened, in detail?",
    "no_specifics": "Be specific: which tools, and which numbers?",
    "star:situation": "Be precise: what was the actual situation?",
    "star:task": "What exactly were you accountable for?",
    "star:action": "Step by step, what did you do yourself, not the team?",
    "star:result": "What was the measurable result?",
}
_FOLLOW_UP_ZH = {
    "short": "能再具体展开讲讲吗？",
    "no_specifics": "能举一个具体的例子吗？比如用到了哪些工具，或者有哪些数据？",
    "star:situation": "能先介绍一下当时的背景吗？具体是什么情况？",
    "star:task": "你在其中具体负责什么？",
    "star:action": "你本人具体做了哪些事情？能一步一步说说吗？",
    "star:result": "最后结果怎么样？你是怎么衡量的？",
}
_FOLLOW_UP_ZH_TOUGH = {
    "short": "这个回答太笼统了。具体细节是什么？",
    "no_specifics": "请具体一点：用了哪些工具？有什么数据？",
    "star:situation": "请说准确：当时的实际情况到底是什么？",
    "star:task": "你自己具体要对什么负责？",
    "star:action": "请一步步说明：哪些是你本人做的，而不是团队做的？",
    "star:result": "可以量化的结果是什么？",
}
_FOLLOW_UP: dict[Voice, dict[str, str]] = {
    Voice("neutral", "en"): _FOLLOW_UP_EN,
    Voice("friendly", "en"): {k: "That's a good start. " + v for k, v in _FOLLOW_UP_EN.items()},
    Voice("tough", "en"): _FOLLOW_UP_EN_TOUGH,
    Voice("neutral", "zh"): _FOLLOW_UP_ZH,
    Voice("friendly", "zh"): {k: "说得不错！" + v for k, v in _FOLLOW_UP_ZH.items()},
    Voice("tough", "zh"): _FOLLOW_UP_ZH_TOUGH,
}


def follow_up(voice: Voice, reason: str) -> str:
    texts = _FOLLOW_UP[voice]
    return texts.get(reason, texts["short"])


# ------------------------------------------------------- replies that keep the current question

_TIPS = {
    ("en", "behavioural"): (
        "pick one specific situation, say what you were responsible for, what you did yourself, "
        "and how it turned out, with a number if you have one"
    ),
    ("en", "other"): (
        "start from the simplest approach you can think of, say where it falls short, then improve "
        "it, naming the tools or numbers involved"
    ),
    ("zh", "behavioural"): "挑一个具体的经历，说清楚你负责什么、你自己做了什么、最后结果如何，最好能给出数据",
    ("zh", "other"): "先从你能想到的最简单的方法说起，指出它的不足，再逐步改进，并说明用到的工具或数据",
}

_STAY: dict[str, dict[Voice, str]] = {
    "clarification": {
        Voice("neutral", "en"): (
            "Of course. Put simply: {q} Answer from your own experience; a concrete example is best."
        ),
        Voice("friendly", "en"): (
            "Of course, happy to explain. Put simply: {q} Answer from your own experience; a concrete "
            "example is best."
        ),
        Voice("tough", "en"): "Put simply: {q} Answer from your own experience, with a concrete example.",
        Voice("neutral", "zh"): "当然。简单来说，问题是：{q} 请结合你自己的经历回答，最好举一个具体的例子。",
        Voice("friendly", "zh"): (
            "没问题，我来解释一下。简单来说，问题是：{q} 结合你自己的经历回答就好，举个具体的例子最好。"
        ),
        Voice("tough", "zh"): "简单来说，问题是：{q} 请用你自己的具体经历回答。",
    },
    "hint": {
        Voice("neutral", "en"): "Here is a hint: {tip}. Whenever you are ready: {q}",
        Voice("friendly", "en"): "No problem, here is a hint: {tip}. Take your time: {q}",
        Voice("tough", "en"): "One hint: {tip}. Now: {q}",
        Voice("neutral", "zh"): "给你一个提示：{tip}。准备好了就请回答：{q}",
        Voice("friendly", "zh"): "没关系，给你一个小提示：{tip}。不着急，准备好了再回答：{q}",
        Voice("tough", "zh"): "提示：{tip}。现在请回答：{q}",
    },
    "off_topic": {
        Voice("neutral", "en"): "Let's keep our time for the interview. {q}",
        Voice("friendly", "en"): "That's a fair thought, but let's keep our time for the interview. {q}",
        Voice("tough", "en"): "Stay on the interview. {q}",
        Voice("neutral", "zh"): "我们还是把时间留给面试吧。{q}",
        Voice("friendly", "zh"): "这个想法不错，不过我们先专注于面试吧。{q}",
        Voice("tough", "zh"): "请回到面试上来。{q}",
    },
}


def stay_reply(voice: Voice, intent: str, question: str, category: str) -> str:
    """The fixed reply to a request for clarification or a hint, or to an off-topic remark."""
    tip = _TIPS[(voice.language, "behavioural" if category == "behavioural" else "other")]
    return _STAY[intent][voice].format(q=question, tip=tip)


_CLOSING: dict[Voice, str] = {
    Voice("neutral", "en"): (
        "Thank you, that was my last question. It was good talking with you; "
        "end the interview to see your report."
    ),
    Voice("friendly", "en"): (
        "Thank you so much, that was my last question! I really enjoyed talking with you; "
        "end the interview to see your report."
    ),
    Voice("tough", "en"): "That was my last question. End the interview to see your report.",
    Voice("neutral", "zh"): "谢谢，这是我的最后一个问题。和你交流很愉快；结束面试后即可查看你的报告。",
    Voice(
        "friendly", "zh"
    ): "非常感谢，这就是最后一个问题了！和你聊得很愉快；结束面试后就可以查看你的报告啦。",
    Voice("tough", "zh"): "这是最后一个问题。结束面试后查看你的报告。",
}


def closing(voice: Voice) -> str:
    return _CLOSING[voice]


# ---------------------------------- knowledge, system-design and deep-dive agents (interviews/agents)

_MISSED_POINT: dict[Voice, str] = {
    Voice("neutral", "en"): "You have not covered this yet: {point}. How would you handle that?",
    Voice("friendly", "en"): (
        "That's a good start. One thing you have not covered yet: {point}. How would you approach it?"
    ),
    Voice("tough", "en"): "You left out one point: {point}. How do you handle it?",
    Voice("neutral", "zh"): "你还没有谈到这一点：{point}。你会怎么处理？",
    Voice("friendly", "zh"): "说得不错！还有一点你没有提到：{point}。你会怎么考虑？",
    Voice("tough", "zh"): "你漏掉了这一点：{point}。这一点怎么处理？",
}


def missed_point(voice: Voice, point: str) -> str:
    """The fallback follow-up on a reference point the answer did not cover (kept as written)."""
    text = point.strip().rstrip(".;:")
    if voice.language == "en" and text[:1].isupper() and text[1:2].islower():
        text = text[0].lower() + text[1:]  # "Ordered tree lookup" reads mid-sentence; "API" stays
    return _MISSED_POINT[voice].format(point=text)


_DEPTH_EN = {
    "depth:measure": "How did you measure that result, and what was the baseline?",
    "depth:why": "Why did you choose that approach over the alternatives?",
    "depth:tradeoff": "What trade-off did that choice come with, and what did it cost you?",
    "depth:differently": "Looking back, what would you do differently today?",
}
_DEPTH_EN_TOUGH = {
    "depth:measure": "How exactly was that measured? What was the baseline?",
    "depth:why": "Why that choice? What else did you consider?",
    "depth:tradeoff": "What did that choice cost you? Name the trade-off.",
    "depth:differently": "What would you do differently if you built it again?",
}
_DEPTH_ZH = {
    "depth:measure": "这个结果是怎么衡量的？基准是多少？",
    "depth:why": "为什么选择这个方案，而不是其他方案？",
    "depth:tradeoff": "这个选择带来了什么权衡？代价是什么？",
    "depth:differently": "现在回头看，你会做哪些不同的决定？",
}
_DEPTH_ZH_TOUGH = {
    "depth:measure": "具体是怎么衡量的？基准是多少？",
    "depth:why": "为什么这么选？你还考虑过哪些方案？",
    "depth:tradeoff": "这个选择的代价是什么？请说出具体的权衡。",
    "depth:differently": "如果重新做一次，你会改变什么？",
}
_DEPTH: dict[Voice, dict[str, str]] = {
    Voice("neutral", "en"): _DEPTH_EN,
    Voice("friendly", "en"): {k: "Thanks, that helps. " + v for k, v in _DEPTH_EN.items()},
    Voice("tough", "en"): _DEPTH_EN_TOUGH,
    Voice("neutral", "zh"): _DEPTH_ZH,
    Voice("friendly", "zh"): {k: "谢谢，讲得很清楚。" + v for k, v in _DEPTH_ZH.items()},
    Voice("tough", "zh"): _DEPTH_ZH_TOUGH,
}


def depth_probe(voice: Voice, reason: str) -> str:
    """The fallback follow-up of a deep dive: how it was measured, why, the trade-off, hindsight."""
    texts = _DEPTH[voice]
    return texts.get(reason, texts["depth:why"])


# A deep-dive question about one resume line, by what the line names: a result with a number, a
# technology.
_DEEP_DIVE: dict[Language, dict[str, str]] = {
    "en": {
        "number_tech": (
            'Your resume says: "{line}". How did you get to {number}, how was it measured, and why {tech}?'
        ),
        "number": 'Your resume says: "{line}". How did you get to {number}, and how was it measured?',
        "tech": 'Your resume says: "{line}". Why {tech} there, and what was the hardest decision?',
        "plain": 'Your resume says: "{line}". What exactly was your part, and what was the hardest decision?',
    },
    "zh": {
        "number_tech": (
            "你的简历上写着：“{line}”。{number} 这个结果是怎么得到、怎么衡量的？为什么选择 {tech}？"
        ),
        "number": "你的简历上写着：“{line}”。{number} 是怎么得出来的？你是怎么衡量的？",
        "tech": "你的简历上写着：“{line}”。为什么在这里选择 {tech}？其中最难的决定是什么？",
        "plain": "你的简历上写着：“{line}”。你具体负责哪一部分？其中最难的决定是什么？",
    },
}


def deep_dive_question(language: Language, line: str, number: str | None, tech: str | None) -> str:
    """The template question when no model-written one is specific to the line."""
    shape = "number_tech" if number and tech else "number" if number else "tech" if tech else "plain"
    return _DEEP_DIVE[language][shape].format(line=line, number=number, tech=tech)


# =============================================================================================
# Coding agent (interviews/agents/coding.py): fixed texts of a coding question, shared by the
# three personas. A problem's statement and hints stay English inside Chinese framing, like
# bank questions; `{...}` fields are filled by the agent (code literals in backticks).
# =============================================================================================

_CODING: dict[Language, dict[str, str]] = {
    "en": {
        "present": (
            "Let's do a coding problem: {title}. {statement} Write `{signature}` in {language} "
            "({other} is fine too). For example, `{call}` should return `{expected}`. When you are "
            "ready, paste your code here, in a fenced block or as plain code, and I will run it "
            "against the examples and some hidden tests."
        ),
        "clarify": (
            "Sure. {statement} You write `{signature}`: it gets the input as arguments and returns "
            "the answer, nothing is read or printed. For example, `{call}` returns `{expected}`. "
            "Paste your code when you are ready."
        ),
        "reminder": "Back to the coding problem, {title}: paste your `{signature}` when you are ready.",
        "hint": "Hint {level} of {total}: {hint}",
        "no_more_hints": (
            "That was my last hint ({total} of {total}). Work from those, and paste your code when you "
            "have it."
        ),
        "failed_case": (
            "I ran your code: {passed} of {total} tests pass. For `{call}` it should return `{expected}`, "
            "but it returned `{got}`. Can you find the bug and send a fixed version?"
        ),
        "error_case": (
            "I ran your code: {passed} of {total} tests pass. For `{call}` it raised {error}. "
            "Can you fix it and send it again?"
        ),
        "error": "I ran your code, and it stopped with: {error} Can you fix it and send it again?",
        "hidden": (
            "I ran your code: the examples pass, but {failed} of the {hidden} hidden tests fail. Think "
            "about edge cases such as empty or very large inputs, duplicates and negative numbers. "
            "Can you send a fixed version?"
        ),
        "limit": (
            "I ran your code: {message} Is there a loop that never ends, or one doing far more work "
            "than needed? Send a fixed version when you have one."
        ),
        "no_sandbox": (
            "I can't run code on this server, so let's reason about it instead: walk me through what "
            "your function returns for `{call}`, and tell me its time and space complexity."
        ),
        "ask_complexity": "All {total} tests pass. What are the time and space complexity of your solution?",
        "complexity_again": (
            "What is that in big-O terms: how does the running time grow with the size of the input, "
            "and how much extra space does it use?"
        ),
        "too_optimistic": (
            "I read it differently: {why}, which makes it {estimate} rather than {claim}. Can you do better?"
        ),
        "too_optimistic_final": (
            "I read it differently: {why}, which makes it {estimate} rather than {claim}. Do you see where "
            "that comes from?"
        ),
        "too_pessimistic": (
            "I would call it {estimate} rather than {claim}: {why}. Where do you see the extra cost?"
        ),
        "improve": "Agreed, {estimate}. Can you improve on that? Tell me how, or send the faster version.",
        "ask_code": (
            "Could you write that as code? Paste `{signature}` here, in a fenced block or as plain code, "
            "and I will run it."
        ),
    },
    "zh": {
        "present": (
            "这是一道编程题「{title}」：{statement} "
            "请用 {language} 写出 `{signature}`（用 {other} 也可以）。"
            "例如，`{call}` 应该返回 `{expected}`。写好后把代码贴在这里，放在代码块里或直接粘贴都可以，"
            "我会用示例和一些隐藏测试来运行它。"
        ),
        "clarify": (
            "好的。{statement} 你需要写 `{signature}`："
            "输入通过参数传入，结果作为返回值返回，不需要读取输入或打印。"
            "例如，`{call}` 返回 `{expected}`。准备好了就把代码贴上来。"
        ),
        "reminder": "回到这道编程题 {title}：准备好了就把你的 `{signature}` 贴上来。",
        "hint": "提示 {level}/{total}：{hint}",
        "no_more_hints": "提示已经全部给出（{total}/{total}）。请根据这些提示继续，写好后把代码贴上来。",
        "failed_case": (
            "我运行了你的代码：{total} 个测试通过了 {passed} 个。对于 `{call}`，应该返回 `{expected}`，"
            "但实际返回了 `{got}`。你能找到问题并发一个修正后的版本吗？"
        ),
        "error_case": (
            "我运行了你的代码：{total} 个测试通过了 {passed} 个。对于 `{call}`，代码抛出了 {error}。"
            "你能修复后再发一次吗？"
        ),
        "error": "我运行了你的代码，它出错停止了：{error} 你能修复后再发一次吗？",
        "hidden": (
            "我运行了你的代码：示例都通过了，但 {hidden} 个隐藏测试中有 {failed} 个没有通过。"
            "想想边界情况，比如空输入、很大的输入、重复元素和负数。你能发一个修正后的版本吗？"
        ),
        "limit": (
            "我运行了你的代码：{message} 是不是有循环停不下来，或者做了太多不必要的工作？修好后再发给我。"
        ),
        "no_sandbox": (
            "这台服务器不能运行代码，我们来分析一下：请讲讲你的函数对 `{call}` 会返回什么，"
            "并说说它的时间复杂度和空间复杂度。"
        ),
        "ask_complexity": "{total} 个测试全部通过。你的解法的时间复杂度和空间复杂度分别是多少？",
        "complexity_again": "用大 O 表示法是多少？运行时间随输入规模怎样增长，额外用了多少空间？",
        "too_optimistic": "我的看法不同：{why}，所以是 {estimate}，而不是 {claim}。你能做得更好吗？",
        "too_optimistic_final": (
            "我的看法不同：{why}，所以是 {estimate}，而不是 {claim}。你看出这是从哪里来的吗？"
        ),
        "too_pessimistic": "我认为是 {estimate}，而不是 {claim}：{why}。你觉得额外的开销在哪里？",
        "improve": "同意，是 {estimate}。还能再优化吗？说说思路，或者直接发更快的版本。",
        "ask_code": "能把它写成代码吗？把 `{signature}` 贴在这里，放在代码块里或直接粘贴都可以，我会运行它。",
    },
}

# Why a submission costs what it does (sandbox/complexity.py reasons); {detail} names the code.
_COMPLEXITY_WHY: dict[Language, dict[str, str]] = {
    "en": {
        "constant": "it does a fixed amount of work whatever the input",
        "halving": "it halves the range at every step",
        "loop": "it makes a single pass ({detail})",
        "scan": "it goes through the input a fixed number of times ({detail})",
        "sort": "the sort alone costs n log n ({detail})",
        "nested_loops": "your loop inside a loop multiplies the work ({detail})",
        "scan_in_loop": "every pass of the loop scans a whole collection again ({detail})",
        "sort_in_loop": "it sorts inside a loop ({detail})",
        "recursion": "the recursion goes one level per element ({detail})",
        "memoized_recursion": "the memo computes each subproblem once",
        "divide_and_conquer": "it splits the input in halves and does linear work on each level",
        "branching_recursion": (
            "each call makes two or more further calls with no memo, so the calls multiply"
        ),
    },
    "zh": {
        "constant": "无论输入多大，它做的工作量都是固定的",
        "halving": "它每一步都把范围减半",
        "loop": "它只遍历了一遍输入",
        "scan": "它只把输入遍历了固定的几遍",
        "sort": "光是排序就要 n log n",
        "nested_loops": "循环里面又套了一层循环，工作量成倍增加",
        "scan_in_loop": "循环的每一轮都要把整个集合重新扫描一遍",
        "sort_in_loop": "它在循环里面排序",
        "recursion": "递归对每个元素都要深入一层",
        "memoized_recursion": "有了备忘录，每个子问题只计算一次",
        "divide_and_conquer": "它把输入对半拆分，每一层做线性的工作",
        "branching_recursion": "每次调用又会产生两次或更多次调用，而且没有备忘录，调用次数成倍增长",
    },
}


def coding_text(voice: Voice, key: str, **fields: object) -> str:
    """A fixed text of the coding agent in the interview's language."""
    return _CODING[voice.language][key].format(**fields)


def complexity_why(voice: Voice, reason: str, detail: str) -> str:
    texts = _COMPLEXITY_WHY[voice.language]
    return texts.get(reason, texts["loop"]).format(detail=detail or "the input")
