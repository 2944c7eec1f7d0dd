"""The hand-written scenarios (also used by the benchmarks) give the verdict an
ML engineer who read the seed would expect."""

import pytest
import yaml

from bot.engine import decide, parse_answers
from tests.conftest import ROOT, TODAY

EXPECTED = {
    "agent_tool_use": ("prompt_engineering", []),
    "brand_voice_style": ("prompt_then_fine_tune", ["no_eval_set"]),
    "closed_model_at_volume": ("prompt_engineering", []),
    "early_prototype": ("prompt_engineering", []),
    "latency_classifier_distillation": ("fine_tuning", []),
    "open_weights_no_prompt_step": ("prompt_then_fine_tune", ["prompt_step_not_done"]),
    "open_weights_ready": ("fine_tuning", []),
    "openai_cost_only": ("fine_tuning", []),
    "openai_route_closing": ("prompt_engineering", []),
    "rag_for_changing_facts": ("prompt_engineering", []),
    "ship_this_week": ("prompt_engineering", []),
}


def test_every_scenario_file_has_an_expectation():
    files = {p.stem for p in (ROOT / "tests" / "scenarios").glob("*.yaml")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_verdict(knowledge, name):
    raw = yaml.safe_load((ROOT / "tests" / "scenarios" / f"{name}.yaml").read_text())
    answers, errors = parse_answers(knowledge, raw)
    assert errors == []
    decision = decide(knowledge, answers, TODAY)
    verdict, conditions = EXPECTED[name]
    assert decision.verdict == verdict
    assert [c.rule for c in decision.conditions] == conditions
    if name == "openai_cost_only":
        assert {"cost_is_the_only_motive", "check_provider_still_tunes"} <= {
            c.rule for c in decision.cautions}
    if name == "openai_route_closing":
        reason = decision.reasons[0]
        assert reason.rule == "route_closes_too_soon"
        assert "2027-01-06" in reason.text and "2027-01-14" in reason.text
        assert "GPT-4.1 mini on Azure (tuned models served until 2027-10-14" in (
            reason.text)
        assert decision.cost_notes and "the verdict stands" in decision.cost_notes[0].text
    if name == "rag_for_changing_facts":
        assert "use_retrieval_for_knowledge" in {c.rule for c in decision.cautions}
