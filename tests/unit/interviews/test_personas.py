"""Interviewer personas and languages: the fixed texts, the follow-up rules, the prompts, the guard."""

from __future__ import annotations

import pytest

from mocki.interviews import personas, prompts
from mocki.interviews.engine import (
    Context,
    InterviewEngine,
    Move,
    PlannedQuestion,
    StreamGuard,
    decide_follow_up,
    finalize,
)
from mocki.interviews.personas import Voice, han_count
from tests.unit.interviews.test_engine import STAR_ANSWER, TECH_ANSWER, _plan

ALL_VOICES = [Voice(p, lang) for p in ("friendly", "neutral", "tough") for lang in ("en", "zh")]

# The English neutral system prompt as it was before personas: its tokens are the cached prefix.
SYSTEM_BEFORE = (
    "You are a job interviewer. Output only what the interviewer says next: "
    "at most one short sentence, then one question. Never answer for the candidate."
)


def _started(voice: Voice) -> tuple[InterviewEngine, Context, Move]:
    engine = InterviewEngine()
    ctx = Context("Backend Engineer", "Acme", _plan(), voice=voice)
    return engine, ctx, engine.opening(ctx)


# ------------------------------------------------------------------ neutral English unchanged


def test_neutral_english_prompts_are_the_ones_before_personas() -> None:
    engine, ctx, opening = _started(Voice())
    assert prompts.interviewer_system(Voice()) == prompts.INTERVIEWER_SYSTEM == SYSTEM_BEFORE
    assert opening.messages == [
        {"role": "system", "content": SYSTEM_BEFORE},
        {
            "role": "user",
            "content": (
                "Role: Backend Engineer at Acme\n"
                'From the resume or job: "Led incident reviews and wrote the on-call runbook"\n'
                "First question: Tell me about a time you fixed a production incident.\n"
                "Greet the candidate in one short sentence, then ask the first question, linked to that line."
            ),
        },
    ]
    follow = engine.after_answer(ctx, "It was bad.")
    assert follow.messages is not None and follow.messages[0]["content"] == SYSTEM_BEFORE
    assert follow.messages[1]["content"].endswith(
        "Answer: It was bad.\nAsk one short follow-up question what they personally did, step by step."
    )
    assert follow.fallback == "What did you personally do, step by step?"
    nxt = engine.after_answer(ctx, "It was bad.")
    assert nxt.messages is not None and nxt.messages[1]["content"].endswith(
        "Thank them in a few words, then ask the next question in your own words."
    )
    assert nxt.fallback == "How would you scale PostgreSQL reads for a busy API?"
    assert opening.fallback == (
        "Hello, and thank you for joining this Backend Engineer at Acme interview. "
        "Tell me about a time you fixed a production incident."
    )


def test_each_voice_has_its_own_constant_system_prompt() -> None:
    systems = {prompts.interviewer_system(v) for v in ALL_VOICES}
    assert len(systems) == len(ALL_VOICES)
    assert all(s.startswith(SYSTEM_BEFORE) for s in systems)
    assert "Simplified Chinese" in prompts.interviewer_system(Voice("tough", "zh"))
    assert "warm" in prompts.interviewer_system(Voice("friendly", "en"))
    assert "demanding" in prompts.interviewer_system(Voice("tough", "en"))


@pytest.mark.parametrize("voice", ALL_VOICES)
def test_one_interview_keeps_one_system_prompt_and_zh_asks_for_chinese(voice: Voice) -> None:
    engine, ctx, opening = _started(voice)
    moves = [opening, engine.after_answer(ctx, "It was bad."), engine.after_answer(ctx, "It was bad.")]
    systems = {m.messages[0]["content"] for m in moves if m.messages}
    assert systems == {prompts.interviewer_system(voice)}
    for move in moves:
        assert move.messages is not None and move.language == voice.language
        asks_chinese = move.messages[1]["content"].endswith("Say it in Simplified Chinese.")
        assert asks_chinese == (voice.language == "zh")


# ----------------------------------------------------------------------------- fixed texts


def _fixed_texts(voice: Voice) -> list[tuple[str, Move]]:
    engine, ctx, opening = _started(voice)
    out = [("opening", opening)]
    for intent in ("clarification", "hint", "off_topic"):
        out.append((intent, engine.after_turn(ctx, "?", intent)))
    out.append(("follow_up", engine.after_answer(ctx, "It was bad.")))
    out.append(("next", engine.after_answer(ctx, "It was bad.")))
    out.append(("change_topic", engine.after_turn(ctx, "next topic", "change_topic")))
    out.append(("closing", engine.after_turn(ctx, "stop", "end")))
    return out


@pytest.mark.parametrize("persona", ["friendly", "neutral", "tough"])
def test_chinese_fixed_texts_are_chinese_and_keep_the_bank_question(persona: str) -> None:
    voice = personas.voice_of(persona, "zh")
    plan_texts = [q.text for q in _plan().questions]
    for name, move in _fixed_texts(voice):
        assert han_count(move.fallback) >= 4, (name, move.fallback)
        if move.question_index is not None and move.kind != "follow_up":
            # The English bank question is kept as it is, inside Chinese framing.
            assert plan_texts[move.question_index] in move.fallback, (name, move.fallback)
    follow = dict(_fixed_texts(voice))["follow_up"]
    assert follow.fallback.endswith("？")


def test_english_fixed_texts_have_no_chinese_and_personas_differ() -> None:
    by_voice = {v: [m.fallback for _, m in _fixed_texts(v)] for v in ALL_VOICES if v.language == "en"}
    for texts in by_voice.values():
        assert all(han_count(t) == 0 for t in texts)
    friendly, neutral, tough = (by_voice[Voice(p, "en")] for p in ("friendly", "neutral", "tough"))
    assert friendly[0] != neutral[0] != tough[0] and friendly[-1] != neutral[-1] != tough[-1]
    assert "welcome" in friendly[0] and "specific" in tough[0]


def test_every_voice_has_every_follow_up_reason_and_each_asks() -> None:
    for voice in ALL_VOICES:
        for reason in prompts.FOCUS:
            text = personas.follow_up(voice, reason)
            assert text.endswith(("?", "？")), text
            assert text != personas.follow_up(voice, "short") or reason == "short"


def test_unknown_stored_values_read_as_neutral_english() -> None:
    assert personas.voice_of("grumpy", "fr") == Voice("neutral", "en")
    assert personas.voice_of("tough", "zh") == Voice("tough", "zh")


# ------------------------------------------------------------------------ follow-up rules


def test_tough_follows_up_on_an_answer_neutral_accepts() -> None:
    question = PlannedQuestion(id="q", text="How would you scale PostgreSQL reads?", category="system_design")
    assert decide_follow_up(question, TECH_ANSWER, []) is None
    for voice, expected in ((Voice("neutral"), "question"), (Voice("tough"), "follow_up")):
        engine, ctx, _ = _started(voice)
        ctx.plan.cursor = 1  # the PostgreSQL question
        assert engine.after_answer(ctx, TECH_ANSWER).kind == expected


def test_tough_asks_twice_neutral_once_friendly_lets_short_answers_stand() -> None:
    kinds = {}
    for persona in ("friendly", "neutral", "tough"):
        engine, ctx, _ = _started(personas.voice_of(persona, "en"))
        kinds[persona] = [
            engine.after_answer(ctx, "I fixed a bug at my last job quickly.").kind for _ in range(3)
        ]
    assert kinds["neutral"][:2] == ["follow_up", "question"]
    assert kinds["tough"][:3] == ["follow_up", "follow_up", "question"]
    # A STAR-complete answer of ~50 words: friendly and neutral move on.
    for persona in ("friendly", "neutral"):
        engine, ctx, _ = _started(personas.voice_of(persona, "en"))
        assert engine.after_answer(ctx, STAR_ANSWER).kind == "question"


def test_friendly_accepts_a_shorter_answer_than_neutral() -> None:
    answer = "I would add a Redis cache in front of PostgreSQL and read replicas for the heavy reports."
    outcomes = {}
    for persona in ("friendly", "neutral"):
        engine, ctx, _ = _started(personas.voice_of(persona, "en"))
        ctx.plan.cursor = 1
        outcomes[persona] = engine.after_answer(ctx, answer).kind
    assert outcomes == {"friendly": "question", "neutral": "follow_up"}


ZH_STAR = (
    "当时在上一家公司，我们的结账服务在促销期间经常超时。我负责在下一次活动之前解决这个问题。"
    "我先分析了慢查询，加了两个索引，又用 Redis 缓存了商品信息，然后写了压测脚本。"
    "最终 p99 延迟从 2 秒降低到 300 毫秒，促销期间没有再出故障。"
)


def test_chinese_answers_are_measured_not_taken_for_empty_ones() -> None:
    question = PlannedQuestion(id="q", text="Tell me about a production incident.", category="behavioural")
    assert decide_follow_up(question, ZH_STAR, [], language="zh") is None
    assert decide_follow_up(question, "我修好了。", [], language="zh") is not None
    assert decide_follow_up(question, "不知道", [], language="zh") is None
    # Read as English the same answer has no words and no STAR cues at all.
    assert decide_follow_up(question, ZH_STAR, [], language="en") == "star:action"


# ---------------------------------------------------------------------------- output guard

ZH_QUESTION = Move(
    kind="question",
    fallback="",
    messages=None,
    anchor="How would you scale PostgreSQL reads for a busy API?",
    language="zh",
)
ZH_FOLLOW = Move(kind="follow_up", fallback="", messages=None, language="zh")


def test_finalize_accepts_chinese_text_for_a_chinese_interview() -> None:
    text = "谢谢你的回答。对于一个繁忙的 API，你会如何扩展 PostgreSQL 的读取能力？"
    assert finalize("面试官：" + text + "\n候选人：我会加只读副本。", ZH_QUESTION) == text
    assert finalize("你具体负责哪一部分？", ZH_FOLLOW) == "你具体负责哪一部分？"


@pytest.mark.parametrize(
    ("raw", "move"),
    [
        ("How would you scale PostgreSQL reads for a busy API?", ZH_QUESTION),  # not Chinese
        ("谢谢。你会如何设计一个缓存系统？", ZH_QUESTION),  # drifted: PostgreSQL not named
        ("你具体负责哪一部分。", ZH_FOLLOW),  # a follow-up must ask
        ("你具体负责哪一部分，以及后来", ZH_FOLLOW),  # cut off
        ("好？", ZH_FOLLOW),  # too short
        ("Привет, как ты масштабируешь базу данных?", ZH_FOLLOW),
    ],
)
def test_finalize_rejects_unusable_chinese_turns(raw: str, move: Move) -> None:
    assert finalize(raw, move) is None


def test_finalize_still_rejects_chinese_in_an_english_interview() -> None:
    move = Move(kind="follow_up", fallback="", messages=None)
    assert finalize("你具体负责哪一部分？", move) is None


def test_stream_guard_streams_chinese_by_clause_and_cuts_role_play() -> None:
    guard = StreamGuard()
    shown = [
        guard.feed(c)
        for c in ["面试官：谢谢你的分享，", "我想再问一下", "，你具体负责", "哪一部分？候选", "人：我负责"]
    ]
    assert "".join(shown) == "谢谢你的分享，我想再问一下，你具体负责哪一部分？"
    assert shown[1] == "谢谢你的分享，"  # shown before the question mark arrived
    assert "候选" not in "".join(shown)
