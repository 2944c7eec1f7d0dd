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
    with_behaviour = decide_for(**{**READY, "latency_critical": "yes", "gap": "behaviour"})
    assert with_behaviour.verdict == "fine_tuning"
    assert {"latency_critical_repeated_task", "behaviour_gap"} <= set(
        rules(with_behaviour.reasons))


def test_the_tables_tendencies_are_shown_and_the_seeds_triggers_decide(decide_for):
    """The seed's table says what each lever suits (prompting: reasoning, tool use; a
    fine-tune: style, format); its verdict names the triggers. The tendencies are shown as
    cautions; they do not outvote a trigger."""
    reasoning = decide_for(**{**READY, "task_type": "reasoning", "format_resisted": "yes",
                              "general_capability_needed": "yes"})
    assert reasoning.verdict == "fine_tuning"  # the model resists the format: a trigger
    assert {"prompting_suits_reasoning", "regression_risk"} <= set(rules(reasoning.cautions))
    styled = decide_for(**{**READY, "task_type": "style"})
    assert styled.verdict == "prompt_engineering"  # a tendency alone is no trigger
    assert "task_suits_fine_tuning" in rules(styled.cautions)


# --- the FAQ ------------------------------------------------------------------------


def test_a_fine_tune_comes_with_a_tight_prompt_and_lora_on_the_instruct_model(decide_for):
    d = decide_for(**OPEN_WEIGHTS_READY)
    assert {"pair_with_tight_prompt", "tune_instruct_with_lora",
            "beat_the_prompt_baseline"} <= set(rules(d.advice))
    lora = next(a for a in d.advice if a.rule == "tune_instruct_with_lora")
    assert "instruct" in lora.text and "LoRA" in lora.text
    week = decide_for(deadline="this_week")
    assert week.verdict == "prompt_engineering"
    assert rules(week.advice) == ["prompt_step_by_step"]  # how to prompt, not how to tune


def test_every_verdict_says_how_to_carry_it_out_with_sources(decide_for):
    cases = {
        "prompt_engineering": decide_for(**{**READY, "gap": "behaviour",
                                            "deadline": "this_week"}),
        "prompt_then_fine_tune": decide_for(**{**OPEN_WEIGHTS_READY, "has_eval_set": "no"}),
        "fine_tuning": decide_for(**OPEN_WEIGHTS_READY),
    }
    for verdict, decision in cases.items():
        assert decision.verdict == verdict
        assert decision.advice, verdict
        assert all(item.sources for item in decision.advice)
    format_howto = next(a for a in cases["prompt_engineering"].advice
                        if a.rule == "prompt_a_format")
    assert "JSON schema" in format_howto.text and "few-shot" in format_howto.text
    assert "held-out" in format_howto.text and "openai-structured-outputs" in (
        format_howto.sources)


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
    d = decide_for(**{**READY, "format_resisted": "yes", "gap": "knowledge"})
    assert d.verdict == "prompt_engineering"
    assert rules(d.reasons)[0] == "knowledge_gap_needs_retrieval"
    assert rules(d.counterpoints) == ["format_the_model_resists"]


def test_a_behaviour_gap_counts_toward_fine_tuning(decide_for):
    d = decide_for(**{**READY, "gap": "behaviour", "latency_critical": "yes"})
    assert d.verdict == "fine_tuning"
    assert "behaviour_gap" in rules(d.reasons)
    assert decide_for(**{**READY, "gap": "behaviour"}).verdict == "prompt_engineering"


# --- situations real teams bring (facts.md, case studies) --------------------------------


def test_the_examples_threshold_is_hundreds_and_cited(knowledge, decide_for):
    threshold = knowledge.policy.thresholds["min_examples"]
    assert threshold.value == 300 and "seed" in threshold.sources
    few = decide_for(**{**OPEN_WEIGHTS_READY, "labelled_examples": "299"})
    enough = decide_for(**{**OPEN_WEIGHTS_READY, "labelled_examples": "300"})
    assert few.verdict == "prompt_then_fine_tune" and enough.verdict == "fine_tuning"
    (condition,) = few.conditions
    assert condition.rule == "too_few_examples" and "at least 300" in condition.text
    assert "seed" in condition.sources


def test_distilling_reasoning_waits_for_an_eval(decide_for):
    d = decide_for(**{**READY, "smaller_model_wanted": "yes", "task_type": "reasoning"})
    assert d.verdict == "prompt_then_fine_tune"
    (condition,) = d.conditions
    assert condition.rule == "distilling_reasoning" and "frontier model's score" in (
        condition.text)
    assert "anyscale-llama2-fine-tuning" in condition.sources
    narrow = decide_for(**{**READY, "smaller_model_wanted": "yes", "task_type": "format"})
    assert narrow.verdict == "fine_tuning"


def test_on_prem_leads_to_open_weights(decide_for, knowledge, answers_of):
    d = decide_for(**{k: v for k, v in OPEN_WEIGHTS_READY.items() if k != "model_access"},
                   deployment="on_prem")
    assert d.verdict == "fine_tuning"  # only open weights run on-prem, and they can be tuned
    assert d.costs.route.model.startswith("open:")
    assert "on_prem_means_open_weights" in rules(d.cautions)
    from bot.engine.catalogue import check_answers

    clash = check_answers(knowledge, answers_of(model="azure:gpt-4.1-mini",
                                                deployment="on_prem"), TODAY)
    assert [c.question for c in clash] == ["deployment"]
    assert "azure:gpt-4.1-mini" in clash[0].reason and "open-weights" in clash[0].reason


def test_retrieval_in_place_leaves_behaviour_and_keeps_knowledge_a_retrieval_matter(
        decide_for):
    behaviour = decide_for(**{**READY, "gap": "behaviour", "retrieval_in_place": "yes"})
    assert behaviour.verdict == "fine_tuning"
    assert "behaviour_left_after_retrieval" in rules(behaviour.reasons)
    knowledge_gap = decide_for(**{**READY, "gap": "knowledge", "retrieval_in_place": "yes"})
    assert knowledge_gap.verdict == "prompt_engineering"
    assert "improve_retrieval_first" in rules(knowledge_gap.cautions)
    assert "use_retrieval_for_knowledge" not in rules(knowledge_gap.cautions)


def test_an_accuracy_gap_on_a_narrow_task_counts(decide_for):
    d = decide_for(**{**READY, "gap": "accuracy", "latency_critical": "yes"})
    assert d.verdict == "fine_tuning" and "accuracy_gap_on_narrow_task" in rules(d.reasons)
    assert "bornschein-2025" in next(r for r in d.reasons
                                     if r.rule == "accuracy_gap_on_narrow_task").sources


def test_many_tasks_share_one_base_model_in_the_costs(decide_for):
    one = decide_for(**OPEN_WEIGHTS_READY)
    five = decide_for(**OPEN_WEIGHTS_READY, tasks_on_base="5")
    assert five.costs.route.parts["hosting"] < one.costs.route.parts["hosting"]
    assert "adapters_on_one_base" in rules(five.advice)
    assert "adapters_on_one_base" not in rules(one.advice)


def test_languages_and_generated_examples_get_their_cautions(decide_for):
    d = decide_for(**OPEN_WEIGHTS_READY, multilingual="yes", examples_source="teacher_model")
    assert {"evaluate_each_language", "check_generated_examples"} <= set(rules(d.cautions))


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


@pytest.mark.parametrize("model, method_advice", [
    ("open:llama-3.1-8b", "tune_instruct_with_lora"),
    ("azure:gpt-4.1-mini", "tune_through_the_provider"),
])
def test_how_to_tune_fits_the_model_lora_only_where_you_hold_the_weights(
        decide_for, model, method_advice):
    d = decide_for(model=model, gap="behaviour", format_resisted="yes",
                   labelled_examples="5k", has_eval_set="yes", prompt_engineering_tried="yes",
                   spec_stable="yes", tasks_on_base="4")
    assert d.verdict == "fine_tuning"
    advice = rules(d.advice)
    assert method_advice in advice
    other = {"tune_instruct_with_lora", "tune_through_the_provider"} - {method_advice}
    assert not other & set(advice)
    assert ("adapters_on_one_base" in advice) == model.startswith("open:")
    if not model.startswith("open:"):
        assert not any("LoRA" in item.text for item in d.advice)
