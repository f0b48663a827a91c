"""The behavioural agent: STAR-style questions, probing for the Situation, Task, Action or Result
the candidate has not told yet.

Its memory holds, for the question under discussion, which STAR elements the candidate's answers
have covered so far and how many words they said: a follow-up answer that supplies the missing
Result completes the story told before it instead of being judged alone.
"""

from __future__ import annotations

from mocki.interviews.engine import STAR_ORDER, Context, GeneralInterviewer, PlannedQuestion, measure_answer


class BehaviouralAgent(GeneralInterviewer):
    name = "behavioural"

    def enter(self, ctx: Context, index: int) -> None:
        state = ctx.state(self.name)
        state.clear()
        state.update(question=index, star=dict.fromkeys(STAR_ORDER, False), words=0)

    def follow_up_reason(self, ctx: Context, question: PlannedQuestion, answer: str) -> str | None:
        state = ctx.state(self.name)
        if state.get("question") != ctx.plan.cursor:
            self.enter(ctx, ctx.plan.cursor)
        m = measure_answer(question, answer, ctx.plan.keywords, ctx.voice.language)
        heard = {name: bool(state["star"].get(name)) or m.star[name] for name in STAR_ORDER}
        state["star"], state["words"] = heard, int(state["words"]) + m.word_count
        rules = self.rules_for(ctx)
        if question.follow_ups >= rules.max_follow_ups or m.skipped:
            return None
        if sum(heard.values()) < rules.min_star:
            return "star:" + next(name for name in STAR_ORDER if not heard[name])
        if state["words"] < rules.min_words:
            return "short"
        return None
