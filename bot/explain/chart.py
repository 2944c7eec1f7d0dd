"""Break-even chart: cumulative cost of prompting vs fine-tuning, month by month.

matplotlib is imported here only, so that nothing else pays for it.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

from bot.engine import humanize
from bot.engine.costs import Costs
from bot.engine.decision import Decision


def chart_months(costs: Costs) -> int:
    break_even = costs.break_even_months
    if break_even is None:
        return 12
    return max(6, min(60, math.ceil(break_even * 2)))


def break_even_note(costs: Costs, months: int) -> str:
    """The chart's break-even label, rounded as the card and the DM say it."""
    break_even = costs.break_even_months
    if break_even is None:
        return "fine-tuning never pays back at this volume"
    if break_even <= months:
        return f"break-even: {humanize.months(break_even)}"
    return f"break-even after {humanize.months(break_even)} (off the chart)"


def chart_alt_text(decision: Decision) -> str:
    """What the chart shows, in words (its alt text): the two monthly costs, the training
    run, and when (or whether) fine-tuning pays back."""
    costs = decision.costs
    parts = [f"Cumulative cost by month: prompting {humanize.usd(costs.monthly_cost_prompting_usd)}"
             " a month"]
    if costs.route is not None:
        parts.append(f"fine-tuned on {costs.route.label} "
                     f"{humanize.usd(costs.monthly_cost_fine_tuned_usd)} a month after a "
                     f"{humanize.usd(costs.training_cost_usd)} training run")
    break_even = costs.break_even_months
    ending = ("fine-tuning never pays back at this volume" if break_even is None
              else f"fine-tuning pays back in {humanize.months(break_even)}")
    return "; ".join(parts) + f". {ending[0].upper()}{ending[1:]}. Verdict: " \
        f"{decision.verdict_label}."


def render_chart_png(decision: Decision) -> bytes:
    """The chart as PNG bytes. Raises ValueError when no volume was given."""
    costs = decision.costs
    if not decision.has_volume:
        raise ValueError("no chart without prompt_tokens and monthly_calls")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    months = chart_months(costs)
    steps = [m / 4 for m in range(months * 4 + 1)]
    prompt = costs.monthly_cost_prompting_usd or 0.0
    tuned = costs.monthly_cost_fine_tuned_usd or 0.0
    training = costs.training_cost_usd or 0.0
    figure, axes = plt.subplots(figsize=(7, 4), dpi=110)
    axes.plot(steps, [prompt * m for m in steps], label="Prompt engineering", color="#1f77b4")
    axes.plot(
        steps, [training + tuned * m for m in steps],
        label=f"Fine-tuning on {costs.route.label} (incl. training)" if costs.route
        else "Fine-tuning (incl. training)",
        color="#d62728",
    )
    break_even = costs.break_even_months
    note = break_even_note(costs, months)
    if break_even is not None and break_even <= months:
        axes.axvline(break_even, color="#555555", linestyle="--", linewidth=1)
        # above the lines' meeting point, so it never sits on the x axis
        axes.annotate(note, xy=(break_even, prompt * break_even), xytext=(8, 12),
                      textcoords="offset points")
    else:
        axes.text(0.98, 0.04, note, transform=axes.transAxes, ha="right", color="#555555")
    axes.set_xlabel("months")
    axes.set_ylabel("cumulative cost (USD)")
    axes.set_title(f"Verdict: {decision.verdict_label}")
    axes.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("${x:,.0f}"))
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def write_chart(decision: Decision, path: Path) -> None:
    path.write_bytes(render_chart_png(decision))
