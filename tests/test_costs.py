"""The cost math per route: the seed's FAQ figures stay exact; prompting is costed on the
team's model, the fine-tune where it would run; every component is counted."""

import pytest

from bot.engine import decide, verdict_only
from bot.engine.costs import compute_costs
from tests.conftest import TODAY

NO_EXTRAS = {"output_tokens": "0", "variable_input_tokens": "0", "eval_cost_usd_per_month": "0"}


def costs_of(knowledge, answers_of, today=TODAY, **raw):
    return compute_costs(knowledge, answers_of(**raw), today)


def test_the_seed_faq_figures_come_out_exactly(knowledge, answers_of):
    at_one = costs_of(knowledge, answers_of, prompt_tokens="4,000", monthly_calls="10M",
                      input_price_per_mtok="$1")
    assert at_one.monthly_input_tokens == 40_000_000_000
    assert at_one.monthly_prompt_cost_usd == 40_000
    at_ten = costs_of(knowledge, answers_of, prompt_tokens="4k", monthly_calls="10 million",
                      input_price_per_mtok="$10")
    assert at_ten.monthly_prompt_cost_usd == 400_000


@pytest.mark.parametrize(
    ("model", "cached_share", "expected"),
    [
        ("openai:gpt-4o-mini", 0, 6_000),
        ("anthropic:claude-haiku-4-5", 0, 40_000),
        ("anthropic:claude-sonnet-4-5", 0, 120_000),
        ("anthropic:claude-sonnet-4-5", 1, 12_000),  # every read hits the cache
        ("openai:gpt-4.1-mini", 1, 4_000),  # GPT-4.1 reads at 0.25x: 40B x $0.10
    ],
)
def test_prompting_is_priced_on_the_teams_model_with_its_cache(
    knowledge, answers_of, model, cached_share, expected
):
    costs = costs_of(knowledge, answers_of, model=model, prompt_tokens="4k",
                     monthly_calls="10M", cacheable_share=str(cached_share), **NO_EXTRAS)
    assert costs.monthly_cost_prompting_usd == pytest.approx(expected)
    assert costs.priced_on == model


def test_a_prompt_below_the_minimum_cacheable_length_is_not_cached(knowledge, answers_of):
    # Haiku 4.5 caches prompts of 4,096 tokens or more
    short = costs_of(knowledge, answers_of, model="anthropic:claude-haiku-4-5",
                     prompt_tokens="4000", monthly_calls="10M", cacheable_share="1", **NO_EXTRAS)
    long = costs_of(knowledge, answers_of, model="anthropic:claude-haiku-4-5",
                    prompt_tokens="4096", monthly_calls="10M", cacheable_share="1", **NO_EXTRAS)
    assert short.monthly_cost_prompting_usd == pytest.approx(40_000)
    assert long.monthly_cost_prompting_usd == pytest.approx(4096 * 10 * 0.10)


def test_output_and_per_call_input_are_counted_on_both_routes(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="azure:gpt-4.1-mini", prompt_tokens="4k",
                     monthly_calls="10M", output_tokens="300", variable_input_tokens="500",
                     eval_cost_usd_per_month="0")
    assert costs.prompting == pytest.approx({
        "static_prompt": 4000 * 10 * 0.40, "variable_input": 500 * 10 * 0.40,
        "output": 300 * 10 * 1.60})
    route = costs.route
    assert route.model == "azure:gpt-4.1-mini"
    assert route.parts["tuned_prompt"] == pytest.approx(1000 * 10 * 0.80)  # a quarter, tuned
    assert route.parts["variable_input"] == pytest.approx(500 * 10 * 0.80)  # not shortened
    assert route.parts["output"] == pytest.approx(300 * 10 * 3.20)
    assert route.parts["hosting"] == pytest.approx(1.70 * 730)  # Azure's hourly fee
    assert costs.monthly_cost_fine_tuned_usd == pytest.approx(sum(route.parts.values()))


def test_training_is_examples_times_tokens_times_epochs_times_price(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="openai:gpt-4.1-mini", prompt_tokens="4k",
                     monthly_calls="10M", labelled_examples="8000", output_tokens="300",
                     variable_input_tokens="500", today=TODAY.replace(year=2026, month=3))
    route = costs.route
    assert route.model == "openai:gpt-4.1-mini"  # on 2026-03-02 OpenAI still serves long enough
    assert route.training == {"examples": 8000, "examples_given": True,
                              "tokens_per_example": 1000 + 500 + 300, "epochs": 3,
                              "usd_per_mtok": 5.0, "source": "openai-pricing",
                              "as_of": "2026-12-02"}
    assert route.training_usd == pytest.approx(8000 * 1800 * 3 * 5 / 1e6)
    given = costs_of(knowledge, answers_of, model="openai:gpt-4.1-mini", prompt_tokens="4k",
                     monthly_calls="10M", training_cost_usd="900", today=TODAY.replace(month=3))
    assert given.training_cost_usd == 900


def test_unknown_examples_use_the_stated_number(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="together:llama-3.1-8b", prompt_tokens="2k",
                     monthly_calls="1M")
    assert costs.route.training["examples"] == knowledge.policy.costing.training_examples_if_unknown
    assert costs.route.training["examples_given"] is False


def test_open_weights_pay_gpu_time_not_azures_fee(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="open:llama-3.1-8b", prompt_tokens="6k",
                     monthly_calls="20M", **NO_EXTRAS)
    route = costs.route
    assert route.model == "open:llama-3.1-8b"
    assert route.parts["tuned_prompt"] == 0  # served on your own GPUs
    # 20M calls x 1,500 tuned tokens = 30B tokens; one A100 at 5,000 tokens/s, half busy,
    # serves 6.57B a month: 5 GPUs at $2.00 an hour
    assert route.note == "5 x A100 80GB (rented, on demand)"
    assert route.parts["hosting"] == pytest.approx(5 * 2.00 * 730)
    assert route.parts["hosting"] != pytest.approx(1.70 * 730)


def test_serverless_lora_costs_the_base_price_and_no_hosting(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="together:llama-3.1-8b", prompt_tokens="4k",
                     monthly_calls="10M", **NO_EXTRAS)
    assert costs.route.parts == pytest.approx({"tuned_prompt": 1000 * 10 * 0.20,
                                               "variable_input": 0, "output": 0,
                                               "hosting": 0, "evals": 0})


def test_provisioned_throughput_is_said_to_be_unpriced(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="bedrock:llama-3.1-8b", prompt_tokens="4k",
                     monthly_calls="10M")
    assert costs.route.complete is False
    assert "Provisioned Throughput" in costs.route.note


def test_the_markup_and_hosting_can_be_given(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="vertex:gemini-3.5-flash", prompt_tokens="4k",
                     monthly_calls="10M", fine_tuned_price_multiplier="2",
                     hosting_usd_per_month="1224", **NO_EXTRAS)
    assert costs.route.parts["tuned_prompt"] == pytest.approx(1000 * 10 * 1.50 * 2)
    assert costs.route.parts["hosting"] == 1224


def test_a_closed_route_is_costed_on_the_cheapest_one_that_remains(knowledge, answers_of):
    # On 2026-12-02 OpenAI's tuned models serve for six weeks: no route
    costs = costs_of(knowledge, answers_of, model="openai:gpt-4.1-mini", prompt_tokens="6k",
                     monthly_calls="20M")
    assert costs.own_route_open is False
    assert costs.route is not None and costs.route.model != "openai:gpt-4.1-mini"
    shown = [r.model for r in costs.routes]
    assert "azure:gpt-4.1-mini" in shown  # the same base model elsewhere is always named
    assert costs.route.model in shown
    assert costs.route.monthly_usd == min(r.monthly_usd for r in costs.routes if r.complete)
    assert costs.serving_shortfall_months > 0


def test_a_fine_tune_that_never_pays_back_has_no_break_even(knowledge, answers_of):
    costs = costs_of(knowledge, answers_of, model="azure:gpt-4o-mini", prompt_tokens="2k",
                     monthly_calls="10k")
    assert costs.monthly_saving_usd < 0
    assert costs.break_even_months is None and costs.break_even_status == "never"


def test_no_volume_means_no_invented_costs(knowledge, answers_of):
    d = decide(knowledge, answers_of(prompt_tokens="6k"), TODAY).to_dict()
    assert d["costs"]["monthly_input_tokens"] is None
    assert d["costs"]["monthly_prompt_cost_usd"] is None
    assert d["costs"]["monthly_cost_prompting_usd"] is None
    assert d["costs"]["break_even_status"] == "unknown"
    assert not any(a["question"] == "training_cost_usd" for a in d["assumptions"])


def test_every_assumption_is_shown_with_its_value_date_and_source(knowledge, answers_of):
    d = decide(knowledge, answers_of(model="azure:gpt-4.1-mini", prompt_tokens="6k",
                                     monthly_calls="20M", hosting_usd_per_month="0"),
               TODAY).to_dict()
    shown = {a["question"]: a for a in d["assumptions"]}
    source_ids = {s.id for s in knowledge.sources}
    assert "hosting_usd_per_month" not in shown  # the user gave it
    for qid in ("input_price_per_mtok", "output_price_per_mtok", "output_tokens",
                "variable_input_tokens", "cacheable_share", "tuned_prompt_share",
                "fine_tuned_price_multiplier", "training_cost_usd", "tokens_per_example",
                "epochs", "eval_cost_usd_per_month", "model_access"):
        assert qid in shown, qid
        assert shown[qid]["source"] in source_ids
    assert shown["input_price_per_mtok"]["value"] == 0.40
    assert "GPT-4.1 mini on Azure, as of 2026-12-02; third-party" in (
        shown["input_price_per_mtok"]["text"])
    assert "from the catalogue for GPT-4.1 mini on Azure on 2026-12-02" in (
        shown["model_access"]["text"])
    assert shown["has_eval_set"]["text"] == "evaluation set: not answered, taken as no"


def test_a_saving_on_another_model_says_how_much_the_move_alone_makes(knowledge, answers_of):
    """GPT-4.1 mini on OpenAI can no longer be tuned long enough, so the fine-tune is
    costed on Nova Micro: the table also prices prompting Nova Micro, untuned."""
    from bot.explain.text import cost_rows

    answers = answers_of(model="openai:gpt-4.1-mini", prompt_tokens="3k", monthly_calls="1M",
                         labelled_examples="5k")
    d = decide(knowledge, answers, TODAY)
    assert d.costs.route.model == "bedrock:nova-micro"
    # 3k + 500 tokens in at $0.035, 300 out at $0.14, a million calls
    assert d.costs.prompting_on_route_usd == pytest.approx(105 + 17.5 + 42)
    rows = dict(cost_rows(d))
    moved = rows["Prompting Amazon Nova Micro on Bedrock instead, a month"]
    assert moved == "$165 (the move alone saves $1,716)"
    assert d.to_dict()["costs"]["prompting_on_route_usd"] == 164.5
    # on its own route no such row: prompting and the fine-tune are on the same model
    own = decide(knowledge, answers_of(model="open:llama-3.1-8b", prompt_tokens="3k",
                                       monthly_calls="1M"), TODAY)
    assert own.costs.prompting_on_route_usd is None
    assert not any(label.endswith("instead, a month") for label, _ in cost_rows(own))


def test_a_stand_in_price_says_it_is_one(knowledge, answers_of):
    """Your own GPUs have no per-token price: the host's rate that stands in says so."""
    d = decide(knowledge, answers_of(model="open:llama-3.1-8b", prompt_tokens="3k",
                                     monthly_calls="1M"), TODAY)
    price = next(a for a in d.assumptions if a.question == "input_price_per_mtok")
    assert "as a stand-in" in price.text and price.source == "together-prices-report"


def test_an_unnamed_model_is_priced_on_the_reference_for_its_access(knowledge, answers_of):
    open_costs = costs_of(knowledge, answers_of, model_access="open_weights",
                          prompt_tokens="6k", monthly_calls="20M")
    assert open_costs.priced_on == knowledge.catalogue.reference["open_weights"]
    assert open_costs.route.parts["hosting"] != pytest.approx(1.70 * 730)  # not Azure's fee
    d = decide(knowledge, answers_of(prompt_tokens="6k", monthly_calls="20M"), TODAY).to_dict()
    model = next(a for a in d["assumptions"] if a["question"] == "model")
    assert "not named, priced as Claude Haiku 4.5 on Anthropic" in model["text"]


def test_json_keeps_prices_exact_and_money_to_the_cent(knowledge, answers_of):
    d = decide(knowledge, answers_of(model="azure:gpt-4o-mini", prompt_tokens="4k",
                                     monthly_calls="30M", input_price_per_mtok="0.075"),
               TODAY).to_dict()
    costs = d["costs"]
    assert costs["input_price_per_mtok"] == 0.075
    assert costs["monthly_prompt_cost_usd"] == 9000.0
    assert costs["output_price_per_mtok"] == 0.60
    assert costs["route"]["model"] == "azure:gpt-4o-mini"
    assert all(round(v, 2) == v for v in costs["route"]["parts"].values())
    assert costs["monthly_cost_fine_tuned_usd"] == costs["route"]["monthly_cost_usd"]


def test_the_call_volume_where_fine_tuning_starts_to_pay_is_exact(knowledge, answers_of):
    base = dict(model="vertex:gemini-3.5-flash", has_eval_set="yes", prompt_engineering_tried="yes",
                spec_stable="yes", labelled_examples="500", prompt_tokens="3k",
                monthly_calls="10k", latency_critical="yes")
    d = decide(knowledge, answers_of(**base), TODAY)
    assert d.verdict == "prompt_engineering"
    change = next(c for c in d.counterfactuals if c.question == "monthly_calls")
    assert change.verdict == "fine_tuning"
    assert "pay back" in change.text
    # Exact: one call fewer and the verdict stays.
    at = answers_of(**{**base, "monthly_calls": str(change.value)})
    below = answers_of(**{**base, "monthly_calls": str(change.value - 1)})
    assert verdict_only(knowledge, at, TODAY) == "fine_tuning"
    assert verdict_only(knowledge, below, TODAY) == "prompt_engineering"
    assert compute_costs(knowledge, at, TODAY).break_even_months <= 6
