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
