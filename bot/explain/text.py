"""Plain-text rendering of a decision (the console, `decide --format text`, the LLM fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.engine import humanize
from bot.engine.decision import Decision, Item


def cost_value(key: str, value: Any) -> str:
    if key == "monthly_input_tokens":
        return "n/a" if value is None else f"{humanize.grouped(value)} ({humanize.compact(value)})"
    if key == "break_even_months":
        return humanize.months(value)
    return humanize.usd(value)


def _parts(parts: dict[str, float], names: dict[str, str]) -> str:
    shown = [f"{names[k]} {humanize.usd(v)}" for k, v in parts.items() if k in names and v]
    return f" ({', '.join(shown)})" if shown else ""


PROMPTING_PARTS = {"static_prompt": "static prompt", "variable_input": "per-call input",
                   "output": "output"}
TUNED_PARTS = {"tuned_prompt": "shorter prompt", "variable_input": "per-call input",
               "output": "output", "hosting": "hosting", "evals": "evals"}


def cost_rows(decision: Decision) -> list[tuple[str, str]]:
    """Label/value rows of the cost table; empty when no volume was given."""
    costs = decision.costs
    if not decision.has_volume:
        return []
    static, uncached = costs.prompting.get("static_prompt"), costs.monthly_prompt_cost_usd
    cached = static is not None and uncached is not None and static < uncached - 0.005
    names = {**PROMPTING_PARTS, "static_prompt": "static prompt with caching"} if cached \
        else PROMPTING_PARTS
    rows = [
        ("Static prompt tokens a month", cost_value("monthly_input_tokens",
                                                    costs.monthly_input_tokens)),
        ("Static prompt cost a month (uncached)", humanize.usd(uncached)),
        ("Prompting, all in, a month", humanize.usd(costs.monthly_cost_prompting_usd)
         + _parts(dict(costs.prompting), names)),
    ]
    route = costs.route
    if route is not None:
        unpriced = "" if route.complete else " + hosting not priced"
        rows.append((f"Fine-tuned on {route.label}, a month",
                     humanize.usd(route.monthly_usd) + _parts(dict(route.parts), TUNED_PARTS)
                     + unpriced))
        rows.append(("Saving a month", humanize.usd(route.saving_usd)))
        moved = costs.prompting_on_route_usd
        if moved is not None and costs.monthly_cost_prompting_usd is not None and abs(
                costs.monthly_cost_prompting_usd - moved) >= 1:
            # The saving mixes the move to another model with the fine-tune: say which.
            rows.append((f"Prompting {route.label} instead, a month",
                         f"{humanize.usd(moved)} (the move alone saves "
                         f"{humanize.usd(costs.monthly_cost_prompting_usd - moved)})"))
        rows.append(("Training run (one-off)", humanize.usd(route.training_usd)
                     + training_detail(route.training)))
        rows.append(("Break-even", humanize.months(route.break_even_months)))
    else:
        rows.append(("Fine-tuning", "no route remains on this date"))
    return rows


def training_detail(training: dict[str, Any] | Any) -> str:
    """`(8,000 examples x 1,800 tokens x 3 epochs x $5 per 1M)`, when it was computed."""
    training = dict(training or {})
    if "usd_per_mtok" not in training:
        return ""
    examples = humanize.grouped(training.get("examples", 0))
    assumed = "" if training.get("examples_given") else " assumed"
    tokens = humanize.grouped(training.get("tokens_per_example", 0))
    return (f" ({examples}{assumed} examples x {tokens} tokens x {training.get('epochs', 0)} "
            "epochs x "
            f"{humanize.usd(training['usd_per_mtok'])} per 1M)")


def _items(title: str, items: Sequence[Item]) -> list[str]:
    if not items:
        return []
    lines = [title]
    for item in items:
        lines.append(f"  - {item.text} [{', '.join(item.sources)}]")
    return lines + [""]


def explanation_text(decision: Decision) -> str:
    """The deterministic explanation: what the LLM may rephrase, and its fallback."""
    parts = [f"{decision.verdict_label}."]
    parts += [item.text for item in decision.reasons]
    if decision.conditions:
        parts.append("Fine-tune once " + "; ".join(item.text for item in decision.conditions)
                     + ".")
    return " ".join(parts)


def render_text(decision: Decision, explanation: str | None = None) -> str:
    """The whole decision as text. `explanation` replaces the reasons' prose when given."""
    lines = [f"Verdict: {decision.verdict_label} ({decision.verdict})", ""]
    if explanation:
        lines += [explanation.strip(), ""]
    lines += _items("Why:", decision.reasons)
    lines += _items("Fine-tune once:", decision.conditions)
    lines += _items("Speaks the other way:", decision.counterpoints)
    lines += _items("Cautions:", decision.cautions)
    lines += _items("How:", decision.advice)
    rows = cost_rows(decision)
    if rows:
        width = max(len(label) for label, _ in rows)
        lines.append("Costs (USD):")
        lines += [f"  {label.ljust(width)}  {value}" for label, value in rows]
        lines.append("")
    if decision.counterfactuals:
        lines.append("What would change the verdict:")
        lines += [f"  - {c.text}" for c in decision.counterfactuals]
        lines.append("")
    if decision.assumptions:
        lines.append("Assumptions:")
        lines += [f"  - {a.text} [{a.source}]" for a in decision.assumptions]
        lines.append("")
    if decision.not_sure:
        lines.append("Not sure: " + ", ".join(decision.not_sure))
    if decision.cost_notes:
        lines += [f"Note: {item.text}" for item in decision.cost_notes] + [""]
    if decision.open_questions:
        lines.append("Not answered: " + ", ".join(decision.open_questions))
    lines.append(f"Decided as of {decision.today}; knowledge {decision.knowledge_version} "
                 f"(as of {decision.knowledge_as_of})")
    return "\n".join(lines) + "\n"
