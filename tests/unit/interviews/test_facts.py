"""Facts from candidate turns: what is found, what is not, dedup, ranking and the compact line."""

from __future__ import annotations

import pytest

from mocki.interviews.facts import Fact, FactSheet, extract_facts, render, specificity


def found(text: str) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in extract_facts(text, 0)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I worked at Google for 3 years, then joined a startup called Brightline as a senior backend "
            "engineer.",
            {
                ("company", "Google"),
                ("number", "3 years"),
                ("company", "Brightline"),
                ("title", "senior backend engineer"),
            },
        ),
        (
            "Our pipeline on Kafka and PostgreSQL handled 40k events per second and 3 million requests "
            "a day.",
            {
                ("technology", "Kafka"),
                ("technology", "PostgreSQL"),
                ("number", "40k events per second"),
                ("number", "3 million requests a day"),
            },
        ),
        (
            "We cut p99 from 900 to 180 ms, saved $2.5 million a year and got a 35% reduction in pages.",
            {("number", "180 ms"), ("number", "$2.5 million a year"), ("number", "35% reduction")},
        ),
        (
            "I studied at the University of Texas and did my master's at Stanford in 2019.",
            {("school", "University of Texas"), ("school", "Stanford"), ("date", "2019")},
        ),
        (
            "In May 2021 I interned at Lincoln Lab doing computer vision with OpenCV.",
            {
                ("date", "May 2021"),
                ("company", "Lincoln Lab"),
                ("technology", "Computer Vision"),
                ("technology", "OpenCV"),
            },
        ),
        (
            "I'm an SDE II now, probably L5, and I was the teaching assistant for algorithms.",
            {
                ("title", "SDE II"),
                ("title", "L5"),
                ("title", "teaching assistant"),
                ("technology", "Algorithms"),
            },
        ),
        (
            "uh so I I started the frisbee club in my high school um and became captain  it was "
            "like 15 people",
            {("school", "high school"), ("title", "captain"), ("number", "15 people")},
        ),
        (
            "We practised three times a week with two junior engineers and a team of 7 people.",
            {("number", "three times a week"), ("number", "two junior engineers"), ("number", "7 people")},
        ),
    ],
)
def test_finds_the_stated_facts(text: str, expected: set[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_aliases_and_canonical_spelling() -> None:
    facts = found("We moved from postgres on k8s to node.js services written in golang.")
    assert {("technology", "PostgreSQL"), ("technology", "Kubernetes"), ("technology", "Go")} <= facts


@pytest.mark.parametrize(
    "text",
    [
        "Go to the store and come back. React quickly when the alarm rings.",  # words at a sentence start
        "One day I realised that one person can change a team.",  # "one day", "one person"
        "I had 2 main reasons and 15 or 20 of us went.",  # a number before a vague word or "of us"
        "My manager asked me to help, so I did.",  # someone else's role
        "I joined The team in August and worked for Professor Smith.",  # no organisation named
    ],
)
def test_ignores_what_is_not_a_fact(text: str) -> None:
    assert not {f for f in found(text) if f[0] in ("technology", "number", "company", "title")}


def test_exact_case_terms_are_found_mid_sentence() -> None:
    assert {("technology", "Go"), ("technology", "Rust"), ("technology", "C")} <= found(
        "Mostly I write Go and Rust, and some C for the firmware."
    )


def test_each_fact_once_per_turn_in_spoken_order() -> None:
    facts = extract_facts("Python at Google, then Python again at Google, then Kafka.", 7)
    assert [(f.kind, f.value) for f in facts] == [
        ("technology", "Python"),
        ("company", "Google"),
        ("technology", "Kafka"),
    ]
    assert {f.turn_index for f in facts} == {7}


def test_sheet_deduplicates_across_turns_and_remembers_the_last_mention() -> None:
    sheet = FactSheet()
    sheet.add(extract_facts("I used Python and Kafka.", 1))
    sheet.add(extract_facts("python again, and 3 years at Google.", 4))
    assert len(sheet) == 4
    python = next(f for f in sheet.facts if f.value == "Python")
    assert python.turn_index == 1 and sheet.last_seen(python) == 4


def test_ranking_prefers_specific_then_recent() -> None:
    sheet = FactSheet()
    sheet.add([Fact("technology", "Python", 1), Fact("number", "40k events per second", 2)])
    sheet.add([Fact("technology", "Kafka", 3), Fact("company", "Google", 0)])
    ranked = [f.value for f in sheet.ranked()]
    assert ranked == ["40k events per second", "Google", "Kafka", "Python"]
    assert specificity(Fact("number", "40k events per second", 0)) > specificity(Fact("number", "40k", 0))


def test_render_is_one_compact_line_grouped_by_kind() -> None:
    facts = extract_facts("At Google I was a backend engineer using Go and Python for 3 years.", 0)
    assert render(facts) == (
        "Candidate facts: companies Google; roles backend engineer; tech Go, Python; numbers 3 years."
    )
    assert render([]) == ""


def test_a_long_rambling_turn_yields_no_noise() -> None:
    filler = "um so like I mean we we just kind of did the thing you know and it was fine. " * 200
    assert extract_facts(filler, 0) == []
