"""Plain-text rendering of a decision (the console, `decide --format text`, the LLM fallback)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.engine import humanize
from bot.engine.decision import Decision, Item

COST_LINES = (
    ("monthly_input_tokens", "Input tokens a month"),
    ("monthly_prompt_cost_usd", "Prompt cost a month"),
    ("monthly_prompt_cost_cached_usd", "  with prompt caching"),
    ("monthly_fine_tuned_cost_usd", "Fine-tuned cost a month"),
    ("monthly_saving_usd", "Saving a month"),
    ("training_cost_usd", "Training run (one-off)"),
    ("break_even_months", "Break-even"),
)


def cost_value(key: str, value: Any) -> str:
    if key == "monthly_input_tokens":
        return "n/a" if value is None else f"{humanize.grouped(value)} ({humanize.compact(value)})"
    if key == "break_even_months":
        return humanize.months(value)
    return humanize.usd(value)


def cost_rows(decision: Decision) -> list[tuple[str, str]]:
    """Label/value rows of the cost table; empty when no volume was given. The caching row
    is left out when nothing is cached (it would repeat the prompt cost)."""
    costs = decision.costs
    if not decision.has_volume:
        return []
    same = costs.monthly_prompt_cost_cached_usd == costs.monthly_prompt_cost_usd
    return [
        (label, cost_value(key, getattr(costs, key)))
        for key, label in COST_LINES
        if not (same and key == "monthly_prompt_cost_cached_usd")
    ]


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
        lines.append("Costs (USD, input tokens only):")
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
    if decision.open_questions:
        lines.append("Not answered: " + ", ".join(decision.open_questions))
    lines.append(f"Knowledge {decision.knowledge_version} (as of {decision.knowledge_as_of})")
    return "\n".join(lines) + "\n"
