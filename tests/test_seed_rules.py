"""Every statement of the seed article (and facts.md) that became a rule, as the
scenario a user would bring to the bot."""

import pytest

from bot.engine import decide
from tests.conftest import TODAY

READY = dict(
    model_access="open_weights", has_eval_set="yes", prompt_engineering_tried="yes",
    spec_stable="yes", labelled_examples="500", deadline="this_quarter",
)


def rules(items):
    return [item.rule for item in items]


@pytest.fixture
def decide_for(knowledge, answers_of):
    return lambda **raw: decide(knowledge, answers_of(**raw), TODAY)


# --- the examples the issue fixes --------------------------------------------------


def test_ship_this_week_with_twenty_examples_is_prompting(decide_for):
    d = decide_for(deadline="this_week", labelled_examples="20")
    assert d.verdict == "prompt_engineering"
    assert {"ship_this_week", "too_few_examples", "start_with_prompting"} <= set(rules(d.reasons))


def test_closed_model_without_fine_tuning_at_huge_volume_is_prompting(decide_for):
    d = decide_for(
        model_access="closed_no_fine_tuning", prompt_tokens="8k", monthly_calls="50M",
        labelled_examples="20k",
    )
    assert d.verdict == "prompt_engineering"
    assert rules(d.reasons)[0] == "model_cannot_be_fine_tuned"


OPEN_WEIGHTS_READY = dict(
    model_access="open_weights", prompt_tokens="6k", monthly_calls="20M",
    labelled_examples="8,000", has_eval_set="yes", prompt_engineering_tried="yes",
    format_resisted="yes", spec_stable="yes",
)


def test_open_weights_with_everything_ready_is_fine_tuning(decide_for):
    d = decide_for(**OPEN_WEIGHTS_READY)
    assert d.verdict == "fine_tuning"
    assert {"long_prompt_at_volume", "fine_tuning_pays_back", "format_the_model_resists",
            "thousands_of_examples"} <= set(rules(d.reasons))
    assert d.conditions == ()


def test_the_same_without_the_prompt_step_is_prompt_then_fine_tune(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "prompt_engineering_tried": "no"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["prompt_step_not_done"]
    assert "tried and measured" in d.conditions[0].text


# --- "Choose prompt engineering if ..." ---------------------------------------------


def test_spec_still_moving_postpones_a_justified_fine_tune(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "spec_stable": "no"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["spec_still_moving"]
    assert "settled" in d.conditions[0].text


def test_no_large_dataset_postpones_a_fine_tune(decide_for):
    d = decide_for(**{**READY, "format_resisted": "yes", "labelled_examples": "30"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["too_few_examples"]


def test_shipping_this_week_postpones_even_a_strong_case(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "deadline": "this_week"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["ship_this_week"]


def test_closed_api_without_fine_tuning_never_gets_fine_tuning(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "model_access": "closed_no_fine_tuning",
                      "smaller_model_wanted": "yes", "latency_critical": "yes"})
    assert d.verdict == "prompt_engineering"
    assert rules(d.reasons)[:2] == ["model_cannot_be_fine_tuned", "case_ruled_out"]
    assert any(c.question == "model_access" and c.verdict == "fine_tuning"
               for c in d.counterfactuals)


# --- "Choose fine-tuning if ..." and the verdict's three conditions -------------------


@pytest.mark.parametrize(
    ("answer", "rule"),
    [
        ({"format_resisted": "yes"}, "format_the_model_resists"),
        ({"labelled_examples": "3,000"}, "thousands_of_examples"),
        ({"smaller_model_wanted": "yes"}, "smaller_model_on_narrow_task"),
        ({"prompt_tokens": "5k", "monthly_calls": "3M"}, "long_prompt_at_volume"),
    ],
)
def test_each_seed_reason_to_fine_tune_is_enough_on_its_own(decide_for, answer, rule):
    d = decide_for(**{**READY, **answer})
    assert d.verdict == "fine_tuning", d.to_dict()["reasons"]
    assert rule in rules(d.reasons)
    assert "seed" in next(i for i in d.reasons if i.rule == rule).sources


def test_a_long_prompt_at_low_volume_is_not_a_reason(decide_for):
    d = decide_for(**{**READY, "prompt_tokens": "5k", "monthly_calls": "20k"})
    assert d.verdict == "prompt_engineering"
    assert "long_prompt_at_volume" not in rules(d.reasons)


def test_latency_alone_is_not_enough_but_counts(decide_for):
    alone = decide_for(**{**READY, "latency_critical": "yes"})
    assert alone.verdict == "prompt_engineering"
    with_style = decide_for(**{**READY, "latency_critical": "yes", "task_type": "style"})
    assert with_style.verdict == "fine_tuning"
    assert {"latency_critical_repeated_task", "task_suits_fine_tuning"} <= set(
        rules(with_style.reasons)
    )


def test_reasoning_tasks_lean_to_prompting(decide_for):
    d = decide_for(**{**READY, "latency_critical": "yes", "task_type": "reasoning",
                      "format_resisted": "yes"})
    assert d.score == 2  # 2 (format) + 1 (latency) - 1 (reasoning)
    weaker = decide_for(**{**READY, "smaller_model_wanted": "no", "latency_critical": "yes",
                           "task_type": "reasoning", "general_capability_needed": "yes",
                           "format_resisted": "yes"})
    assert weaker.verdict == "prompt_engineering"
    assert {"task_suits_prompting", "broad_skills_at_risk"} <= set(rules(weaker.reasons))


# --- the FAQ ------------------------------------------------------------------------


def test_a_fine_tune_comes_with_a_tight_prompt_and_lora_on_the_instruct_model(decide_for):
    d = decide_for(**OPEN_WEIGHTS_READY)
    assert rules(d.advice) == ["pair_with_tight_prompt", "tune_instruct_with_lora"]
    assert "instruct" in d.advice[1].text and "LoRA" in d.advice[1].text
    assert decide_for(deadline="this_week").verdict == "prompt_engineering"
    assert decide_for(deadline="this_week").advice == ()


# --- beyond the seed (facts.md) -----------------------------------------------------------


def test_no_eval_set_means_evals_first(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "has_eval_set": "no"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["no_eval_set"]
    assert "openai-fine-tuning-guide" in d.conditions[0].sources


def test_a_knowledge_gap_is_a_retrieval_problem(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "gap": "knowledge"})
    assert d.verdict == "prompt_engineering"
    assert "knowledge_gap_needs_retrieval" in rules(d.reasons)
    caution = next(c for c in d.cautions if c.rule == "use_retrieval_for_knowledge")
    assert "retrieval" in caution.text.lower() and "ovadia-2023" in caution.sources


def test_no_cost_warning_without_a_case(decide_for):
    d = decide_for(**{**READY, "prompt_tokens": "6k", "monthly_calls": "20M",
                      "model": "azure:gpt-4o-mini", "cacheable_share": "50%",
                      "labelled_examples": "500", "hosting_usd_per_month": "100000"})
    assert d.verdict == "prompt_engineering"
    assert "cost_is_the_only_motive" not in rules(d.cautions)


def test_cost_as_the_only_motive_is_a_warning_sign(decide_for):
    d = decide_for(**{**READY, "prompt_tokens": "6k", "monthly_calls": "20M"})
    assert d.verdict == "fine_tuning"
    assert "cost_is_the_only_motive" in rules(d.cautions)
    with_format = decide_for(**{**READY, "prompt_tokens": "6k", "monthly_calls": "20M",
                                "format_resisted": "yes"})
    assert "cost_is_the_only_motive" not in rules(with_format.cautions)


def test_the_provider_caution_is_the_teams_own_and_dated(decide_for):
    d = decide_for(**{**OPEN_WEIGHTS_READY, "model_access": "closed_with_fine_tuning",
                      "model": "azure:gpt-4.1-mini"})
    caution = next(c for c in d.cautions if c.rule == "check_provider_still_tunes")
    assert caution.text.count("Azure OpenAI:") == 1 and "2027-10-14" in caution.text
    assert "(as of 2026-12-02)" in caution.text
    assert "Google" not in caution.text and "Cohere" not in caution.text  # not all eight
    assert "azure-model-retirements" in caution.sources
    no_case = decide_for(model_access="closed_with_fine_tuning", deadline="this_week")
    assert "check_provider_still_tunes" not in rules(no_case.cautions)


def test_nothing_known_means_start_with_prompting(decide_for):
    d = decide_for()
    assert d.verdict == "prompt_engineering"
    assert rules(d.reasons) == ["start_with_prompting"]
    assert "seed" in d.reasons[0].sources


def test_an_unanswered_model_access_holds_fine_tuning_back_until_confirmed(decide_for):
    d = decide_for(**{k: v for k, v in OPEN_WEIGHTS_READY.items() if k != "model_access"})
    assert d.verdict == "prompt_then_fine_tune"
    assert rules(d.conditions) == ["model_access_unconfirmed"]
    assert "confirmed the model can be fine-tuned" in d.conditions[0].text
    assert "check_provider_still_tunes" in rules(d.cautions)


def test_reasons_that_point_the_other_way_are_shown_not_dropped(decide_for):
    d = decide_for(**{**READY, "format_resisted": "yes", "task_type": "reasoning"})
    assert d.verdict == "prompt_engineering"
    assert "task_suits_prompting" in rules(d.reasons)
    assert rules(d.counterpoints) == ["format_the_model_resists"]
    assert "does not add up to a case" in d.reasons[0].text
    tuned = decide_for(**{**OPEN_WEIGHTS_READY, "general_capability_needed": "yes"})
    assert tuned.verdict == "fine_tuning"
    assert rules(tuned.counterpoints) == ["broad_skills_at_risk"]


def test_a_behaviour_gap_counts_toward_fine_tuning(decide_for):
    d = decide_for(**{**READY, "gap": "behaviour", "task_type": "format"})
    assert d.verdict == "fine_tuning"
    assert {"behaviour_gap", "task_suits_fine_tuning"} <= set(rules(d.reasons))


def test_the_comparison_rows_behind_the_reasons_are_part_of_the_output(decide_for):
    d = decide_for(**OPEN_WEIGHTS_READY).to_dict()
    rows = {row["id"]: row for row in d["tradeoffs"]}
    assert {"per_call_cost", "data_needed", "suited_for"} <= set(rows)
    assert rows["data_needed"]["source"] == "seed"


def test_every_cited_source_exists(knowledge, decide_for):
    ids = {s.id for s in knowledge.sources}
    d = decide_for(**{**OPEN_WEIGHTS_READY, "model_access": "closed_with_fine_tuning",
                      "general_capability_needed": "yes", "gap": "cost_latency"})
    for item in d.reasons + d.conditions + d.cautions + d.advice:
        assert item.sources and set(item.sources) <= ids
