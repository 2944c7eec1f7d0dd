"""The prior of realistic answers that the flow weighs its next question by."""

import dataclasses

import pytest

from bot.engine import NOT_SURE, next_question
from bot.engine.priors import answer_weights
from tests.conftest import TODAY


def test_every_asked_questions_answers_add_up_to_one(knowledge):
    for question in knowledge.asked_questions:
        weights = answer_weights(knowledge, question)
        assert sum(w for _, w in weights) == pytest.approx(1.0), question.id
        assert all(w >= 0 for _, w in weights)


def test_number_ranges_give_their_share_to_the_values_that_stand_for_them(knowledge):
    question = knowledge.question("labelled_examples")
    weights = dict(answer_weights(knowledge, question))
    prior = question.prior
    assert weights[0] == pytest.approx(prior["0"])  # the share of teams with none at all
    assert weights[NOT_SURE] == pytest.approx(prior["not_sure"])
    at_most_999 = sum(w for v, w in weights.items() if v != NOT_SURE and 0 < v <= 999)
    assert at_most_999 == pytest.approx(prior["99"] + prior["999"])


def test_a_model_prior_by_provider_is_shared_among_its_models(knowledge):
    question = knowledge.question("model")
    weights = dict(answer_weights(knowledge, question))
    openai = [v for v in weights if v != NOT_SURE and knowledge.model(v).provider == "openai"]
    share = sum(weights[v] for v in openai)
    assert share == pytest.approx(question.prior["openai"])
    assert len({round(weights[v], 9) for v in openai}) == 1


def test_the_prior_decides_between_equally_useful_questions(knowledge):
    """With a tunable model and nothing else known, which question comes first depends on
    how likely its answers are to settle the verdict: if nearly every team's problem were
    missing knowledge (which settles it at once: retrieval, not fine-tuning), the gap
    would be the question to ask first."""
    answers = {"model": "open:llama-3.1-8b"}
    usual = next_question(knowledge, answers, TODAY).id
    questions = tuple(
        q.model_copy(update={"prior": {"knowledge": 0.97, "behaviour": 0.01,
                                       "cost_latency": 0.01, "accuracy": 0.01}})
        if q.id == "gap" else q for q in knowledge.questions)
    facts_missing = dataclasses.replace(knowledge, questions=questions)
    assert usual != "gap"
    assert next_question(facts_missing, answers, TODAY).id == "gap"
