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
        changed = {**answers, change.question: change.value}
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
