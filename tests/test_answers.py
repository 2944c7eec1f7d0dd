"""Answers in the forms people type them; bad ones say what is accepted and lose nothing."""

import pytest

from bot.engine import parse_answers
from bot.engine.answers import parse_number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("6k", 6000), ("6K", 6000), ("6,000", 6000), ("6 000", 6000), ("20M", 20_000_000),
        ("1.5 million", 1_500_000), ("2 billion", 2e9), ("40B", 40e9), ("$3.50", 3.5),
        ("25%", 0.25), ("0.25", 0.25), ("8000", 8000), ("1,234,567", 1234567),
    ],
)
def test_human_number_forms(text, number):
    assert parse_number(text) == pytest.approx(number)


@pytest.mark.parametrize("text", ["lots", "6kk", "1.2.3", "", "k", "twenty"])
def test_not_numbers(text):
    assert parse_number(text) is None


def test_human_forms_become_typed_answers(knowledge):
    answers, errors = parse_answers(
        knowledge,
        {
            "prompt_tokens": "6k", "monthly_calls": "1.5 million", "labelled_examples": "8,000",
            "has_eval_set": "yes", "spec_stable": "No", "deadline": "this week",
            "model_access": "Open-weights model", "cacheable_share": "60%",
        },
    )
    assert errors == []
    assert answers == {
        "model_access": "open_weights", "labelled_examples": 8000, "prompt_tokens": 6000,
        "monthly_calls": 1_500_000, "has_eval_set": True, "spec_stable": False,
        "deadline": "this_week", "cacheable_share": 0.6,
    }


def test_each_bad_value_names_the_question_and_what_is_accepted(knowledge):
    answers, errors = parse_answers(
        knowledge,
        {
            "prompt_tokens": "a lot", "deadline": "yesterday", "has_eval_set": "maybe",
            "labelled_examples": "2.5", "monthly_calls": "20M", "colour": "blue",
        },
    )
    by_id = {e.question: str(e) for e in errors}
    assert set(by_id) == {
        "prompt_tokens", "deadline", "has_eval_set", "labelled_examples", "colour",
    }
    assert "whole number" in by_id["prompt_tokens"] and "6k" in by_id["prompt_tokens"]
    assert "this_week, this_month, this_quarter, no_deadline" in by_id["deadline"]
    assert "yes or no" in by_id["has_eval_set"]
    assert "not a whole number" in by_id["labelled_examples"]
    assert "unknown question id" in by_id["colour"] and "prompt_tokens" in by_id["colour"]
    # The good answer survives the typos around it.
    assert answers == {"monthly_calls": 20_000_000}


def test_numbers_below_the_minimum_are_refused(knowledge):
    _, errors = parse_answers(knowledge, {"prompt_tokens": 0, "monthly_calls": -5})
    assert {e.question for e in errors} == {"prompt_tokens", "monthly_calls"}
    assert all("too small" in str(e) for e in errors)


def test_a_share_above_one_is_refused(knowledge):
    _, errors = parse_answers(knowledge, {"cacheable_share": "150%"})
    assert [e.question for e in errors] == ["cacheable_share"]


@pytest.mark.parametrize(
    ("text", "number"),
    [("2.01M", 2_010_000), ("1.001M", 1_001_000), ("2e7", 20_000_000), ("1.5e6", 1_500_000),
     ("6k tokens", 6000), ("20M calls a month", 20_000_000), ("60%", 0.6)],
)
def test_more_human_forms_exactly(text, number):
    assert parse_number(text) == number


def test_unit_words_that_make_no_sense_are_refused():
    assert parse_number("20M apples") is None
