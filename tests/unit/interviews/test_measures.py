"""Delivery measures counted from text, and the rule-based hiring signal and bullets."""

from __future__ import annotations

from mocki.interviews import analysis, measures


def test_fillers_count_like_only_when_set_off() -> None:
    assert analysis.filler_hits("I like Python and it looks like a cache.") == {}
    hits = analysis.filler_hits("Um, like, basically we, you know, sort of cached it. So like it worked.")
    assert hits == {"um": 1, "basically": 1, "you know": 1, "sort of": 1, "like": 2}


def test_chinese_fillers_and_hedges() -> None:
    text = "嗯，那个，我觉得可能就是用缓存，然后加索引。"
    assert analysis.filler_hits(text) == {"嗯": 1, "那个": 1, "就是": 1, "然后": 1}
    assert analysis.hedge_hits(text) == {"我觉得": 1, "可能": 1}
    assert measures.word_count(text) == 18  # one word per Chinese character


def test_hedges_are_whole_words() -> None:
    assert analysis.hedge_hits("I'm not sure, maybe I think it probably works.") == {
        "i think": 1,
        "maybe": 1,
        "probably": 1,
        "not sure": 1,
    }
    assert analysis.hedge_hits("The mighty unsure maybelline") == {}


def test_answer_measures_rates_and_timings() -> None:
    answers = ["Um, I think we sharded by user id.", "Then we added replicas and cached hot rows in Redis."]
    m = measures.answer_measures(answers, [42.0, 10.0], [])
    assert m["words"] == 18 and m["fillers"] == 1 and m["hedges"] == 1
    assert m["fillers_per_100_words"] == round(100 / 18, 2)
    assert m["response_s"] == 42.0  # the time to start on the main question
    assert m["words_per_minute"] is None and m["fillers_per_minute"] is None  # typed: no speech length
    spoken = measures.answer_measures(answers, [], [6.0, 3.0])
    assert spoken["words_per_minute"] == 120.0 and spoken["fillers_per_minute"] == round(60 / 9, 2)
    assert spoken["response_s"] is None


def test_overall_measures_sum_over_answers() -> None:
    a = measures.answer_measures(["Um um basically yes, it works well enough for now."], [20.0], [])
    b = measures.answer_measures(["We used Kafka with three partitions and a consumer group."], [], [])
    overall = measures.overall_measures([a, b])
    assert overall is not None
    assert overall["answers"] == 2 and overall["words"] == a["words"] + b["words"]
    assert overall["fillers"] == 3 and overall["filler_terms"] == {"um": 2, "basically": 1}
    assert overall["mean_response_s"] == 20.0 and overall["words_per_minute"] is None
    assert measures.overall_measures([]) is None


def _item(*values: float | None) -> dict[str, object]:
    names = ("relevance", "structure", "depth", "communication", "correctness")
    return {"scores": dict(zip(names, values, strict=False))}


def test_hiring_signal_follows_score_and_consistency() -> None:
    strong = [_item(4.5, 4.5, 4, 4.5), _item(4, 4.5, 4.5, 5)]
    assert measures.hiring_signal(strong, 88.0) == "strong_hire"
    uneven = [_item(5, 5, 5, 5), _item(5, 5, 5, 5), _item(1, 1, 1, 2)]
    assert measures.hiring_signal(uneven, 82.0) == "lean_no"  # one weak answer in three costs two steps
    assert measures.hiring_signal([_item(3.5, 3.5, 3.5, 3.5)], 70.0) == "hire"
    assert measures.hiring_signal([_item(1, 1, 1, 2)], 25.0) == "no"
    assert measures.hiring_signal([], None) == "no"


def test_correctness_counts_only_where_scored() -> None:
    means = measures.dimension_means([_item(4, 4, 4, 4, 2.0), _item(2, 2, 2, 2, None)])
    assert means == {
        "relevance": 3.0,
        "structure": 3.0,
        "depth": 3.0,
        "communication": 3.0,
        "correctness": 2.0,
    }
    assert measures.item_mean({"relevance": 4.0, "correctness": None}) == 4.0


def test_strengths_and_weaknesses_name_scores_and_delivery() -> None:
    items = [_item(4.5, 2.0, 4.0, 4.0, 1.5)]
    chatty = measures.answer_measures(["Um, like, you know, basically it, um, works, kind of."], [], [])
    strengths, weaknesses = measures.strengths_and_weaknesses(items, measures.overall_measures([chatty]))
    assert 1 <= len(strengths) <= 3 and 1 <= len(weaknesses) <= 3
    assert strengths[0].startswith("Answers stayed on the question") and "4.5/5" in strengths[0]
    assert weaknesses[0].startswith("Many filler words")
    assert any("key points" in w for w in weaknesses)
    _, none_given = measures.strengths_and_weaknesses([], None)
    assert none_given == ["No answers were given."]
