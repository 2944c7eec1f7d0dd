"""A latency budget in milliseconds, compared with the latency the team measures today.

The knowledge has no sourced latency per model, so "the model's latency where it is
known" is the team's own measurement. Over budget, latency stays a reason to fine-tune
(with a caution to try a faster model first); within budget, it is no reason at all."""

import shutil

import pytest

from bot.engine import NOT_SURE, decide, next_question, parse_value, possible_verdicts
from bot.engine.answers import AnswerError
from bot.engine.freetext import parse_freetext
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ROOT, TODAY

KNOWLEDGE = load_knowledge()

# Fine-tuning with exactly two points (behaviour, latency) and nothing blocking: the
# latency reason is what tips it.
PIVOTAL = dict(model="open:llama-3.1-8b", gap="behaviour", latency_critical="yes",
               prompt_engineering_tried="yes", has_eval_set="yes", spec_stable="yes",
               labelled_examples="500")


def ids(items):
    return [item.rule for item in items]


def test_over_budget_keeps_latency_as_a_reason_and_says_by_how_much(answers_of):
    decision = decide(KNOWLEDGE, answers_of(**PIVOTAL, latency_budget_ms="300 ms",
                                            latency_now_ms="1.2 s"), TODAY)
    assert decision.verdict == "fine_tuning"
    assert "latency_critical_repeated_task" in ids(decision.reasons)
    caution = next(c for c in decision.cautions if c.rule == "latency_over_budget")
    assert "1,200 ms against a budget of 300 ms" in caution.text
    assert "smaller or faster model" in caution.text
    assert "anthropic-prompt-engineering" in caution.sources


def test_within_budget_latency_is_no_reason_and_the_verdict_says_so(answers_of):
    decision = decide(KNOWLEDGE, answers_of(**PIVOTAL, latency_budget_ms="300",
                                            latency_now_ms="250ms"), TODAY)
    assert decision.verdict == "prompt_engineering"
    assert "latency_critical_repeated_task" not in ids(decision.reasons)
    within = next(r for r in decision.reasons if r.rule == "latency_within_budget")
    assert "250 ms, within your budget of 300 ms" in within.text
    assert not any(c.rule == "latency_over_budget" for c in decision.cautions)


@pytest.mark.parametrize(("now", "verdict"), [("300", "prompt_engineering"),
                                              ("301", "fine_tuning")])
def test_the_edge_is_the_budget_itself(answers_of, now, verdict):
    """Exactly on budget is within it; one millisecond over is over."""
    answers = answers_of(**PIVOTAL, latency_budget_ms="300", latency_now_ms=now)
    assert decide(KNOWLEDGE, answers, TODAY).verdict == verdict


def test_what_would_change_the_verdict_names_both_figures_in_milliseconds(answers_of):
    decision = decide(KNOWLEDGE, answers_of(**PIVOTAL, latency_budget_ms="300",
                                            latency_now_ms="1200"), TODAY)
    texts = [c.text for c in decision.counterfactuals]
    assert "With calls taking 300 ms or fewer today, the verdict would be Prompt engineering." \
        in texts
    assert "With a latency budget of 1,200 ms or more, the verdict would be Prompt " \
        "engineering." in texts


def test_a_budget_alone_compares_nothing_and_says_so(answers_of):
    """Without today's figure nothing is compared: latency mattering still counts, and the
    assumption says the comparison was not made (not a made-up number)."""
    decision = decide(KNOWLEDGE, answers_of(**PIVOTAL, latency_budget_ms="300"), TODAY)
    assert decision.verdict == "fine_tuning"
    latency = next(r for r in decision.reasons if r.rule == "latency_critical_repeated_task")
    assert "not answered yet: latency today" in latency.text
    assumed = next(a for a in decision.assumptions if a.question == "latency_now_ms")
    assert assumed.text == "latency today: not answered, so nothing is compared with it"


def test_the_flow_asks_the_budget_only_where_it_can_change_the_verdict(answers_of):
    pivotal = answers_of(**PIVOTAL)
    asked = []
    answers = dict(pivotal)
    truth = {"latency_budget_ms": 300, "latency_now_ms": 250}
    while (question := next_question(KNOWLEDGE, answers, TODAY)) is not None:
        asked.append(question.id)
        answers[question.id] = truth.get(question.id, NOT_SURE)
    assert {"latency_budget_ms", "latency_now_ms"} <= set(asked)
    assert decide(KNOWLEDGE, answers, TODAY).verdict == "prompt_engineering"

    # latency does not matter: neither figure is asked
    no_latency = {**pivotal, "latency_critical": False}
    answers = dict(no_latency)
    while (question := next_question(KNOWLEDGE, answers, TODAY)) is not None:
        assert question.id not in ("latency_budget_ms", "latency_now_ms")
        answers[question.id] = NOT_SURE


def test_possible_verdicts_while_one_figure_is_open(answers_of):
    """Only a measured latency within the budget can take the latency reason away."""
    budget_only = answers_of(**PIVOTAL, latency_budget_ms="300")
    assert "prompt_engineering" in possible_verdicts(KNOWLEDGE, budget_only, TODAY)
    for measured in (900, NOT_SURE):
        settled = {**budget_only, "latency_now_ms": measured}
        assert "prompt_engineering" not in possible_verdicts(KNOWLEDGE, settled, TODAY)


@pytest.mark.parametrize(("typed", "ms"), [("300", 300), ("300 ms", 300), ("300ms", 300),
                                           ("1.2 s", 1200), ("1.2s", 1200),
                                           ("0.3 seconds", 300), ("1,500 ms", 1500),
                                           ("2k", 2000)])
def test_milliseconds_and_seconds_are_both_read(typed, ms):
    assert parse_value(KNOWLEDGE.question("latency_budget_ms"), typed) == ms


@pytest.mark.parametrize(("typed", "why"), [("fast", "is not a number"), ("0 ms", "too small"),
                                            ("11 minutes", "is not a number"),
                                            ("0.0005 s", "not a whole number")])
def test_a_bad_duration_says_what_is_accepted(typed, why):
    with pytest.raises(AnswerError) as caught:
        parse_value(KNOWLEDGE.question("latency_now_ms"), typed)
    assert why in caught.value.reason
    assert "e.g. 300, 300 ms, 1.2 s" in caught.value.reason


@pytest.mark.parametrize(("text", "expected"), [
    ("p95 is 1.2s today, budget 300ms", {"latency_budget_ms": 300, "latency_now_ms": 1200}),
    ("we need to be under 300 ms but it takes 1.1 s",
     {"latency_budget_ms": 300, "latency_now_ms": 1100}),
    ("the SLA is 2 s and we're at 3.5 s", {"latency_budget_ms": 2000, "latency_now_ms": 3500}),
    ("ship by friday, 3s budget", {"latency_budget_ms": 3000}),
    ("latency 800ms", {}),  # whose figure? not said: left for the flow
])
def test_free_text_reads_whose_latency_a_figure_is(text, expected):
    found = parse_freetext(text, KNOWLEDGE).answers
    assert {k: v for k, v in found.items() if k.startswith("latency_")} == expected


def test_the_free_text_phrase_shows_the_unit():
    found = parse_freetext("it currently takes 1,500 ms per call", KNOWLEDGE)
    assert found.understood == ['latency today: 1,500 ms ("1,500 ms")']


def test_comparing_a_number_with_a_choice_stops_start_up(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    rules = target / "rules.yaml"
    rules.write_text(rules.read_text().replace(
        "{q: latency_now_ms, gt_answer: latency_budget_ms}", "{q: latency_now_ms, gt_answer: gap}",
        1))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(target)
    assert "rules.yaml: latency_over_budget: `gap` is choice: gt_answer compares two numbers" \
        in [str(p) for p in caught.value.problems]


def test_unknown_until_answered_is_only_for_numbers(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    questions = target / "questions.yaml"
    text = questions.read_text()
    start = text.index("  - id: format_resisted")
    end = text.index("  - id: labelled_examples")
    questions.write_text(text[:start] + text[start:end].replace("assume: false",
                                                                "assume: null") + text[end:])
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(target)
    assert any(str(p).startswith("questions.yaml: format_resisted:") and "only for numbers"
               in str(p) for p in caught.value.problems)
