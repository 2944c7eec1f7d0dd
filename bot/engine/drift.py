"""Decision drift: does a stored verdict still hold on a later date, with newer knowledge?

Pure: `recheck(knowledge, stored, today, heads_up_days)` re-decides one stored decision
(its answers, its verdict) and says what its owner should be told, if anything:

- `verdict_changed`: today's verdict differs; `why` is the first reason of today's
  decision in one sentence, with its date ("OpenAI stops new fine-tuning jobs on
  2027-01-06 ... (as of 2026-12-02; third-party).");
- `heads_up`: the verdict still holds, it involves fine-tuning, and the route it was
  priced on closes (new jobs stop, or tuned models stop serving) within `heads_up_days`.

Each drift has a `key` naming exactly what changed, so the owner is told once per
change however often recheck runs: the same change gives the same key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal

from bot.engine import catalogue
from bot.engine.answers import parse_answers
from bot.engine.decide import decide
from bot.engine.rules import verdict_only

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

DEFAULT_HEADS_UP_DAYS = 30
FINE_TUNING_VERDICTS = frozenset({"fine_tuning", "prompt_then_fine_tune"})
_FIRST_SENTENCE = re.compile(r"^(.+?[.!?])(?:\s+(?=[A-Z])|$)", re.S)


@dataclass(frozen=True)
class Stored:
    """What recheck knows of one decided consultation."""

    verdict: str
    answers: Mapping[str, Any]
    route_model: str | None = None


@dataclass(frozen=True)
class Drift:
    kind: Literal["verdict_changed", "heads_up"]
    key: str
    old_verdict: str
    new_verdict: str
    why: str
    closes_on: date | None = None


class Unreadable(ValueError):
    """The stored answers no longer parse with this knowledge (a question or value gone)."""


def stored_answers(knowledge: Knowledge, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The stored answers, checked against today's knowledge (raises Unreadable)."""
    parsed, errors = parse_answers(knowledge, dict(answers))
    if errors:
        raise Unreadable("; ".join(str(e) for e in errors))
    return parsed


def recheck(knowledge: Knowledge, stored: Stored, today: date,
            heads_up_days: int = DEFAULT_HEADS_UP_DAYS) -> Drift | None:
    answers = stored_answers(knowledge, stored.answers)
    verdict = verdict_only(knowledge, answers, today)
    if verdict != stored.verdict:
        return Drift("verdict_changed", f"verdict:{stored.verdict}->{verdict}", stored.verdict,
                     verdict, change_reason(knowledge, answers, today))
    if verdict in FINE_TUNING_VERDICTS:
        return heads_up(knowledge, stored, answers, today, heads_up_days)
    return None


def change_reason(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> str:
    """Today's decision's first reason, in one sentence."""
    decision = decide(knowledge, answers, today, with_counterfactuals=False)
    text = decision.reasons[0].text if decision.reasons else decision.summary
    return first_sentence(text)


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    found = _FIRST_SENTENCE.match(text)
    return found.group(1) if found else text


def heads_up(knowledge: Knowledge, stored: Stored, answers: Mapping[str, Any], today: date,
             days: int) -> Drift | None:
    """The first closing of the route within `days` of `today`, if any."""
    model_id = stored.route_model or answers.get("model")
    if not isinstance(model_id, str):
        return None
    try:
        row = knowledge.model(model_id)
    except KeyError:
        return None
    horizon = today + timedelta(days=days)
    closings: list[tuple[date, str, str]] = []
    if row.tuning is not None and row.tuning.jobs_until and catalogue.can_start_jobs(row, today):
        closings.append((catalogue.parse_date(row.tuning.jobs_until), "jobs",
                         "new fine-tuning jobs stop"))
    end = catalogue.serving_end(row)
    if end is not None:
        closings.append((end, "serving", "tuned models stop serving"))
    soon = sorted(c for c in closings if today < c[0] <= horizon)
    if not soon:
        return None
    day, what, words = soon[0]
    fact = row.tuning or row.retired
    dated = f" ({catalogue.stamp(fact)})" if fact is not None else ""
    why = (f"{catalogue.full_label(knowledge, row)}: {words} on {day.isoformat()}, in "
           f"{(day - today).days} days{dated}.")
    return Drift("heads_up", f"heads_up:{row.id}:{what}:{day.isoformat()}", stored.verdict,
                 stored.verdict, why, day)
