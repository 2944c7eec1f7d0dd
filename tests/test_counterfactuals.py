"""Every "what would change the verdict" line is true: applying it gives that verdict."""

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import decide, verdict_only
from tests.conftest import TODAY
from tests.test_flow import KNOWLEDGE, complete_answers


@settings(max_examples=60, deadline=None)
@given(complete_answers(), st.sampled_from([{}, {"hosting_usd_per_month": 0.0},
                                            {"input_price_per_mtok": 3.0}]))
def test_each_counterfactual_produces_the_verdict_it_names(answers, parameters):
    answers = {**answers, **parameters}
    decision = decide(KNOWLEDGE, answers, TODAY)
    for change in decision.counterfactuals:
        assert change.verdict != decision.verdict
        changed = {**answers, **dict(change.changes or [(change.question, change.value)])}
        assert verdict_only(KNOWLEDGE, changed, TODAY) == change.verdict, change.text


def test_money_thresholds_are_rounded_to_the_side_that_still_changes_the_verdict(answers_of):
    answers = answers_of(model="open:llama-3.1-8b", prompt_tokens="3k", monthly_calls="400k",
                         latency_critical="yes", has_eval_set="yes",
                         prompt_engineering_tried="yes", spec_stable="yes",
                         labelled_examples="500")
    decision = decide(KNOWLEDGE, answers, TODAY)
    hosting = next(c for c in decision.counterfactuals if c.question == "hosting_usd_per_month")
    assert hosting.value == int(hosting.value)  # whole dollars
    assert "or less" in hosting.text
    one_more = {**answers, "hosting_usd_per_month": hosting.value + 1}
    assert verdict_only(KNOWLEDGE, one_more, TODAY) == decision.verdict


def test_an_early_stop_still_says_what_would_change_it_in_plain_words(answers_of):
    """Claude Haiku cannot be tuned: the flow stops after one question, and no single
    other answer reaches a fine-tune. What would is said as the fewest answers together."""
    answers = answers_of(model="anthropic:claude-haiku-4-5")
    decision = decide(KNOWLEDGE, answers, TODAY)
    assert decision.verdict == "prompt_engineering"
    assert decision.counterfactuals
    together = [c for c in decision.counterfactuals if len(c.changes) > 1]
    assert together, [c.text for c in decision.counterfactuals]
    for change in together:
        assert change.text.startswith("If you moved to ") or "could" in change.text
        assert " were " not in change.text.split(",")[0] or "problem were" in change.text
        assert verdict_only(KNOWLEDGE, {**answers, **dict(change.changes)}, TODAY) == (
            change.verdict)
        assert "_" not in change.text  # no ids, no mechanical "x were yes"


def test_thresholds_read_as_people_say_them(answers_of):
    answers = answers_of(model="open:llama-3.1-8b", gap="behaviour", format_resisted="yes",
                         labelled_examples="100", has_eval_set="yes",
                         prompt_engineering_tried="yes", spec_stable="yes",
                         deadline="this_quarter")
    decision = decide(KNOWLEDGE, answers, TODAY)
    assert decision.verdict == "prompt_then_fine_tune"
    texts = [c.text for c in decision.counterfactuals]
    assert "With 300 or more clean labelled examples, the verdict would be Fine-tune." in texts


def test_a_threshold_at_none_is_not_said_as_none_or_fewer():
    from bot.engine.counterfactuals import quantity

    examples = KNOWLEDGE.question("labelled_examples")
    assert quantity(examples, 0, upward=False) == "0 clean labelled examples"
    assert quantity(examples, 300, upward=False) == "300 or fewer clean labelled examples"
    assert quantity(examples, 300, upward=True) == "300 or more clean labelled examples"
