"""The search's cost path (detail=False: the cheapest other route priced with numbers
only) picks the same route, at the same figures, as the full path `decide` shows."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from bot.engine.costs import compute_costs
from bot.knowledge import load_knowledge
from tests.conftest import TODAY

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.yaml"))
MODELS = (None, "openai:gpt-4.1-mini", "open:llama-3.1-8b", "anthropic:claude-haiku-4.5")
VOLUMES = ((None, None), (6000, 20_000_000), (200, 1_000), (50_000, 500_000_000))


def _workloads(base: dict) -> list[dict]:
    found = []
    for model, (prompt, calls) in itertools.product(MODELS, VOLUMES):
        answers = {k: v for k, v in base.items() if k not in ("expected_verdict",)}
        if model is not None:
            answers["model"] = model
        if prompt is not None:
            answers.update(prompt_tokens=prompt, monthly_calls=calls)
        found.append(answers)
    return found


@pytest.mark.parametrize("path", SCENARIOS[:8], ids=lambda p: p.stem)
def test_search_path_prices_the_same_route_as_decide(path: Path) -> None:
    knowledge = load_knowledge()
    data = yaml.safe_load(path.read_text()) or {}
    base = data.get("answers", data) if isinstance(data, dict) else {}
    for answers in _workloads(dict(base)):
        try:
            full = compute_costs(knowledge, answers, TODAY)
        except (KeyError, ValueError):
            continue  # a model id this catalogue does not have
        lean = compute_costs(knowledge, answers, TODAY, detail=False)
        assert (lean.route.model if lean.route else None) == \
            (full.route.model if full.route else None), answers
        for metric in ("break_even_months", "monthly_saving_usd", "monthly_cost_fine_tuned_usd",
                       "serving_shortfall_months"):
            assert lean.metric(metric) == full.metric(metric), (metric, answers)
