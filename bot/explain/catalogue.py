"""The model catalogue as of a date: rows for `python -m bot knowledge models`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine import catalogue
from bot.engine.humanize import months

if TYPE_CHECKING:
    from bot.knowledge import DatedFact, Knowledge


def _fact(fact: DatedFact | None) -> dict[str, Any] | None:
    if fact is None:
        return None
    return {"source": fact.source, "as_of": fact.checked_on, "third_party": fact.third_party,
            "note": fact.note}


def catalogue_rows(knowledge: Knowledge, today: date) -> list[dict[str, Any]]:
    """One JSON-ready row per model: whether it can be fine-tuned on `today`, its dated
    windows with their sources, and its prices."""
    rows = []
    for row in knowledge.catalogue.models:
        tuning = row.tuning
        windows = {
            "jobs_from": tuning.jobs_from if tuning else None,
            "jobs_until": tuning.jobs_until if tuning else None,
            "served_until": tuning.served_until if tuning else None,
            "retired_on": row.retired_on,
            **(_fact(tuning or row.no_tuning) or {}),
        }
        tuned = None
        if tuning is not None:
            prices = row.prices if tuning.at_base_price or tuning.prices is None else tuning.prices
            tuned = {"input": prices.input, "cached_input": prices.cached_input,
                     "output": prices.output, "at_base_price": tuning.at_base_price,
                     **(_fact(prices) or {})}
        rows.append({
            "id": row.id,
            "provider": row.provider,
            "provider_name": catalogue.provider_name(knowledge, row),
            "label": row.label,
            "base": row.base,
            "weights": row.weights,
            "fine_tunable": catalogue.can_start_jobs(row, today),
            "model_access": catalogue.derived_access(row, today),
            "methods": list(tuning.methods) if tuning else [],
            "serving_months": catalogue.serving_months(row, today) if tuning else None,
            "retired": catalogue.is_retired(row, today),
            "windows": windows,
            "prices": {"input": row.prices.input, "cached_input": row.prices.cached_input,
                       "output": row.prices.output, "min_cached_tokens":
                       row.prices.min_cached_tokens, **(_fact(row.prices) or {})},
            "tuned_prices": tuned,
            "training": _training(tuning),
            "hosting": None if tuning is None else {
                "kind": tuning.hosting.kind, "usd_per_hour": tuning.hosting.usd_per_hour,
                "gpu": tuning.hosting.gpu, **(_fact(tuning.hosting) or {})},
            "serverless_lora": bool(tuning and tuning.serverless_lora),
        })
    return rows


def _training(tuning: Any) -> dict[str, Any] | None:
    if tuning is None or tuning.training is None:
        return None
    training = tuning.training
    return {"usd_per_mtok": training.usd_per_mtok, "usd_per_hour": training.usd_per_hour,
            "epochs": training.epochs, **(_fact(training) or {})}


def render_catalogue(knowledge: Knowledge, rows: list[dict[str, Any]], today: date) -> str:
    """The catalogue as text: one line per model, grouped by provider."""
    lines = [f"Model catalogue as of {today.isoformat()} (knowledge {knowledge.version})", ""]
    provider = None
    for row in rows:
        if row["provider_name"] != provider:
            provider = row["provider_name"]
            lines.append(provider)
        w = row["windows"]
        if row["retired"]:
            state = f"retired on {w['retired_on']}"
        elif row["fine_tunable"]:
            end = (f", tuned models served until {w['served_until']}"
                   f" ({months(row['serving_months'])} from today)" if w["served_until"] else "")
            jobs = f", new jobs until {w['jobs_until']}" if w["jobs_until"] else ""
            state = f"fine-tunable ({'/'.join(row['methods'])}{jobs}{end})"
        elif row["methods"]:
            state = "fine-tuning closed on this date"
        else:
            state = "cannot be fine-tuned"
        third = ", third-party" if w.get("third_party") else ""
        price = row["prices"]
        cost = (f"${price['input']:g} in / ${price['output']:g} out per 1M"
                if price["input"] is not None and price["output"] is not None else "no price")
        lines.append(f"  {row['id']:<30} {state}; {cost} "
                     f"[{w.get('source')}, as of {w.get('as_of')}{third}]")
    return "\n".join(lines) + "\n"
