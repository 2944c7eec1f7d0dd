"""The cost math, checked against the seed's FAQ figures and facts.md's checks."""

import pytest

from bot.engine import decide
from bot.engine.costs import compute_costs


def test_the_seed_faq_figures_come_out_exactly(knowledge, answers_of):
    at_one = compute_costs(knowledge, answers_of(prompt_tokens="4,000", monthly_calls="10M"))
    assert at_one.monthly_input_tokens == 40_000_000_000
    assert at_one.monthly_prompt_cost_usd == 40_000
    at_ten = compute_costs(
        knowledge,
        answers_of(prompt_tokens="4k", monthly_calls="10 million", input_price_per_mtok="$10"),
    )
    assert at_ten.monthly_prompt_cost_usd == 400_000


@pytest.mark.parametrize(
    ("price_model", "cached_share", "expected"),
    [
        ("gpt-4o-mini", 0, 6_000),
        ("claude-haiku-4-5", 0, 40_000),
        ("claude-sonnet-4-5", 0, 120_000),
        ("claude-sonnet-4-5", 1, 12_000),  # every read hits the cache
    ],
)
def test_price_rows_and_caching_match_the_facts(
    knowledge, answers_of, price_model, cached_share, expected
):
    costs = compute_costs(
        knowledge,
        answers_of(prompt_tokens="4k", monthly_calls="10M", price_model=price_model,
                   cacheable_share=str(cached_share)),
    )
    assert costs.monthly_prompt_cost_cached_usd == pytest.approx(expected)


def test_a_half_cached_prompt_costs_the_blend(knowledge, answers_of):
    costs = compute_costs(
        knowledge, answers_of(prompt_tokens="4k", monthly_calls="10M", cacheable_share="50%")
    )
    # Haiku: half at 1.00, half at 0.10 per 1M tokens.
    assert costs.monthly_prompt_cost_cached_usd == pytest.approx(20_000 + 2_000)


def test_fine_tuned_cost_and_break_even(knowledge, answers_of):
    costs = compute_costs(
        knowledge,
        answers_of(
            prompt_tokens="4k", monthly_calls="10M", tuned_prompt_share="0.25",
            fine_tuned_price_multiplier="2", hosting_usd_per_month="1224",
            eval_cost_usd_per_month="100", training_cost_usd="900",
        ),
    )
    assert costs.tuned_prompt_tokens == 1000
    # 1,000 tokens x 10M calls = 10B tokens at 2 x $1 = $20,000, plus hosting and evals.
    assert costs.monthly_fine_tuned_cost_usd == pytest.approx(20_000 + 1_224 + 100)
    assert costs.monthly_saving_usd == pytest.approx(40_000 - 21_324)
    assert costs.break_even_months == pytest.approx(900 / 18_676)


def test_a_fine_tune_that_never_pays_back_has_no_break_even(knowledge, answers_of):
    costs = compute_costs(
        knowledge, answers_of(prompt_tokens="2k", monthly_calls="10k", hosting_usd_per_month="1224")
    )
    assert costs.monthly_saving_usd < 0
    assert costs.break_even_months is None
    d = decide(knowledge, answers_of(prompt_tokens="2k", monthly_calls="10k")).to_dict()
    assert d["costs"]["break_even_months"] is None


def test_no_volume_means_no_invented_costs(knowledge, answers_of):
    d = decide(knowledge, answers_of(prompt_tokens="6k")).to_dict()
    assert d["costs"]["monthly_input_tokens"] is None
    assert d["costs"]["monthly_prompt_cost_usd"] is None


def test_every_assumption_is_shown_with_its_value_and_source(knowledge, answers_of):
    d = decide(knowledge, answers_of(prompt_tokens="6k", monthly_calls="20M",
                                     hosting_usd_per_month="0")).to_dict()
    shown = {a["question"]: a for a in d["assumptions"]}
    source_ids = {s.id for s in knowledge.sources}
    assert "hosting_usd_per_month" not in shown  # the user gave it
    for qid in ("input_price_per_mtok", "cacheable_share", "tuned_prompt_share",
                "fine_tuned_price_multiplier", "training_cost_usd", "eval_cost_usd_per_month"):
        assert qid in shown
        assert shown[qid]["source"] in source_ids
    assert shown["input_price_per_mtok"]["value"] == 1.0
    assert "Claude Haiku 4.5" in shown["input_price_per_mtok"]["text"]
    assert d["costs"]["payback_horizon_months"] == 6
    # The flow questions the shown rules read but the user left open are listed too.
    assert shown["has_eval_set"]["text"] == "evaluation set: not answered, taken as no"


def test_no_volume_means_no_cost_assumptions(knowledge, answers_of):
    d = decide(knowledge, answers_of(deadline="this_week")).to_dict()
    assert not any(a["question"] == "training_cost_usd" for a in d["assumptions"])
    assert d["costs"]["break_even_status"] == "unknown"


def test_json_keeps_prices_exact_and_money_to_the_cent(knowledge, answers_of):
    d = decide(knowledge, answers_of(prompt_tokens="4k", monthly_calls="30M",
                                     input_price_per_mtok="0.075")).to_dict()
    assert d["costs"]["input_price_per_mtok"] == 0.075
    assert d["costs"]["monthly_prompt_cost_usd"] == 9000.0
    assert d["costs"]["break_even_months"] == round(500 / (9000 - 4500 - 1224 - 100), 4)
    assert d["costs"]["break_even_status"] == "pays_back"


def test_the_call_volume_where_fine_tuning_starts_to_pay_is_exact(knowledge, answers_of):
    base = dict(model_access="open_weights", has_eval_set="yes", prompt_engineering_tried="yes",
                spec_stable="yes", labelled_examples="500", prompt_tokens="3k",
                monthly_calls="100k", latency_critical="yes")
    d = decide(knowledge, answers_of(**base))
    assert d.verdict == "prompt_engineering"
    change = next(c for c in d.counterfactuals if c.question == "monthly_calls")
    assert change.verdict == "fine_tuning"
    assert "pay back" in change.text
    # Exact: one call fewer and the verdict stays.
    from bot.engine import verdict_only

    at = answers_of(**{**base, "monthly_calls": str(change.value)})
    below = answers_of(**{**base, "monthly_calls": str(change.value - 1)})
    assert verdict_only(knowledge, at) == "fine_tuning"
    assert verdict_only(knowledge, below) == "prompt_engineering"
    assert compute_costs(knowledge, at).break_even_months <= 6
