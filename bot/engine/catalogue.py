"""What the model catalogue says of one model on one date (pure; the date is an input).

- `model_row`: the team's model (None when not given), `priced_as`: the row the cost math
  prices prompting on (the team's model, else the reference for what they said of access).
- `can_start_jobs`, `serving_months`: a model's tuning window as of a day.
- `derived_access`: what "can the model you use be fine-tuned" is for a model on a day.
- `status_text`, `dates_text`, `model_window`, `provider_status`: the same facts in
  words, with dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE, AnswerError, is_given
from bot.engine.dates import months_between, parse_date

if TYPE_CHECKING:
    from bot.knowledge import DatedFact, Knowledge, ModelRow


def model_row(knowledge: Knowledge, answers: Mapping[str, Any]) -> ModelRow | None:
    """The model the team named (None when not named, not sure, or no longer known)."""
    if not is_given(answers, "model"):
        return None
    model_id = str(answers["model"])
    return knowledge.model(model_id) if knowledge.has_model(model_id) else None


def reference_key(answers: Mapping[str, Any]) -> str:
    access = answers.get("model_access", NOT_SURE)
    return "unanswered" if access == NOT_SURE else str(access)


def priced_as(knowledge: Knowledge, answers: Mapping[str, Any]) -> ModelRow:
    """The row prompting is priced on: the team's model, else the reference one."""
    row = model_row(knowledge, answers)
    if row is not None:
        return row
    reference = knowledge.catalogue.reference
    return knowledge.model(reference.get(reference_key(answers), reference["unanswered"]))


def is_retired(row: ModelRow, day: date) -> bool:
    return row.retired_on is not None and day >= parse_date(row.retired_on)


def can_start_jobs(row: ModelRow, day: date) -> bool:
    """Whether a new fine-tuning job can be started on `day`."""
    tuning = row.tuning
    if tuning is None or is_retired(row, day):
        return False
    if tuning.jobs_from is not None and day < parse_date(tuning.jobs_from):
        return False
    return tuning.jobs_until is None or day < parse_date(tuning.jobs_until)


def serving_end(row: ModelRow) -> date | None:
    """The first day a tuned model of this row stops serving (None: no end known)."""
    ends = []
    if row.tuning is not None and row.tuning.served_until is not None:
        ends.append(parse_date(row.tuning.served_until))
    if row.retired_on is not None:
        ends.append(parse_date(row.retired_on))
    return min(ends) if ends else None


def serving_months(row: ModelRow, day: date) -> float | None:
    """Months a fine-tune started on `day` could serve (None: no end known)."""
    end = serving_end(row)
    return None if end is None else max(0.0, months_between(day, end))


def derived_access(row: ModelRow, day: date) -> str:
    """The model_access answer a model implies on a day."""
    if row.weights == "open":
        return "open_weights"
    return "closed_with_fine_tuning" if can_start_jobs(row, day) else "closed_no_fine_tuning"


def stamp(fact: DatedFact) -> str:
    """`as of 2026-12-02` (`; third-party` for a secondary source)."""
    third = "; third-party" if fact.third_party else ""
    return f"as of {fact.checked_on}{third}"


def provider_name(knowledge: Knowledge, row: ModelRow) -> str:
    """The provider's short name (`Vertex AI`, `your own GPUs`), for labels."""
    try:
        return knowledge.provider(row.provider).short_name
    except KeyError:
        return row.provider


def full_label(knowledge: Knowledge, row: ModelRow) -> str:
    """`GPT-4.1 mini on OpenAI`."""
    return f"{row.label} on {provider_name(knowledge, row)}"


def dates_text(knowledge: Knowledge, row: ModelRow, day: date | None = None) -> str:
    """The model's tuning window in words, with its as-of date. A note written before
    its dates says "stops"; once `day` has reached one of them, the dates are said from
    the table instead, in the past tense where they have passed."""
    tuning = row.tuning
    if tuning is None:
        fact = row.no_tuning
        note = fact.note if fact is not None and fact.note else "it cannot be fine-tuned"
        return f"{full_label(knowledge, row)}: {note} ({stamp(fact)})" if fact else note
    if day is not None and _a_date_has_passed(row, day):
        return f"{full_label(knowledge, row)}: {', '.join(_window_parts(row, day))} " \
               f"({stamp(tuning)})"
    if tuning.note:
        return f"{_sentence_start(tuning.note)} ({stamp(tuning)})"
    parts = []
    if tuning.jobs_until:
        parts.append(f"new fine-tuning jobs stop on {tuning.jobs_until}")
    if tuning.served_until:
        parts.append(f"tuned models stop serving on {tuning.served_until}")
    said = " and ".join(parts) or "no end date is known"
    return f"{full_label(knowledge, row)}: {said} ({stamp(tuning)})"


def status_text(knowledge: Knowledge, row: ModelRow, day: date) -> str:
    """Why the model cannot be fine-tuned on `day`, in a sentence with its date."""
    if is_retired(row, day) and row.retired is not None:
        return (f"{full_label(knowledge, row)} was retired on {row.retired_on} "
                f"({stamp(row.retired)}).")
    tuning = row.tuning
    if tuning is None:
        return dates_text(knowledge, row).rstrip(".") + "."
    if tuning.jobs_from is not None and day < parse_date(tuning.jobs_from):
        return (f"{full_label(knowledge, row)} accepts fine-tuning jobs from {tuning.jobs_from} "
                f"({stamp(tuning)}).")
    return dates_text(knowledge, row, day).rstrip(".") + "."


def model_window(knowledge: Knowledge, row: ModelRow, day: date) -> str:
    """What `day` means for fine-tuning the model, in one dated sentence: `GPT-4o on
    OpenAI: new fine-tuning jobs stop on 2027-01-06, tuned models stop serving on
    2027-01-14 (as of 2026-12-02; third-party).` (past tense from those days on)"""
    tuning = row.tuning
    if is_retired(row, day) or tuning is None:
        return status_text(knowledge, row, day)
    return f"{full_label(knowledge, row)}: {', '.join(_window_parts(row, day))} " \
           f"({stamp(tuning)})."


def _a_date_has_passed(row: ModelRow, day: date) -> bool:
    tuning = row.tuning
    if tuning is None:
        return False
    stop = parse_date(tuning.jobs_until) if tuning.jobs_until else None
    end = serving_end(row)
    return any(edge is not None and day >= edge for edge in (stop, end))


def _window_parts(row: ModelRow, day: date) -> list[str]:
    """The tuning window's dates as of `day`: "new fine-tuning jobs stopped on ..."."""
    tuning = row.tuning
    assert tuning is not None
    parts = []
    if tuning.jobs_from is not None and day < parse_date(tuning.jobs_from):
        parts.append(f"fine-tuning jobs accepted from {tuning.jobs_from}")
    if tuning.jobs_until is not None:
        stop = parse_date(tuning.jobs_until)
        parts.append(f"new fine-tuning jobs {'stopped' if day >= stop else 'stop'} on "
                     f"{tuning.jobs_until}")
    end = serving_end(row)
    if end is not None:
        parts.append(f"tuned models {'stopped' if day >= end else 'stop'} serving on "
                     f"{end.isoformat()}")
    if not parts:
        parts.append("can be fine-tuned, no end date known")
    return parts


def provider_status(knowledge: Knowledge, row: ModelRow) -> str:
    """The team's provider's fine-tuning status in words, with its date."""
    try:
        provider = knowledge.provider(row.provider)
    except KeyError:
        return ""
    return f"{provider.name}: {provider.detail} ({stamp(provider)})."


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def self_hosted(knowledge: Knowledge, row: ModelRow) -> bool:
    """Whether the team runs this model on its own machines."""
    try:
        return knowledge.provider(row.provider).self_hosted
    except KeyError:
        return False


def _on_prem(answers: Mapping[str, Any]) -> bool:
    return answers.get("deployment") == "on_prem"


def completed(knowledge: Knowledge, answers: Mapping[str, Any], day: date) -> dict[str, Any]:
    """The answers plus what the others imply on `day`, unless the person answered it
    themselves: a named model gives its model access; on-prem gives open weights (the
    only models a team runs on its own machines)."""
    if is_given(answers, "model_access"):
        return dict(answers)
    row = model_row(knowledge, answers)
    if row is not None:
        return {**answers, "model_access": derived_access(row, day)}
    if _on_prem(answers):
        return {**answers, "model_access": "open_weights"}
    return dict(answers)


def contradiction(knowledge: Knowledge, answers: Mapping[str, Any], day: date) -> str | None:
    """Why the model access answered contradicts the model named (None if it does not)."""
    row = model_row(knowledge, answers)
    if row is None or not is_given(answers, "model_access"):
        return None
    implied = derived_access(row, day)
    said = str(answers["model_access"])
    if said == implied:
        return None
    question = knowledge.question("model_access")
    why = status_text(knowledge, row, day) if implied == "closed_no_fine_tuning" else (
        f"the catalogue has {full_label(knowledge, row)} as "
        f"\u201c{question.label_of(implied)}\u201d ({stamp(row.tuning or row.prices)}).")
    return (f"{said!r} contradicts model {row.id!r} on {day.isoformat()}: {why} "
            "Give only the model, or make them agree.")


def on_prem_contradiction(knowledge: Knowledge, answers: Mapping[str, Any]) -> str | None:
    """Why running on-prem contradicts the model or model access given (None if not)."""
    if not _on_prem(answers):
        return None
    row = model_row(knowledge, answers)
    if row is not None and not self_hosted(knowledge, row):
        return (f"'on_prem' contradicts model {row.id!r}: {full_label(knowledge, row)} runs "
                "in its provider's cloud. Name the open-weights model you would host "
                "(e.g. open:llama-3.1-8b), or choose where it may run.")
    access = answers.get("model_access")
    if row is None and is_given(answers, "model_access") and access != "open_weights":
        return (f"'on_prem' contradicts model access {access!r}: a closed API runs in its "
                "provider's cloud, and on your own machines only open weights run.")
    return None


def check_answers(knowledge: Knowledge, answers: Mapping[str, Any], day: date
                  ) -> list[AnswerError]:
    """Answers that disagree with each other on `day` (a model_access the model named
    contradicts; on-prem with a cloud model): each an error naming both."""
    found = []
    problem = contradiction(knowledge, answers, day)
    if problem is not None:
        found.append(AnswerError("model_access", str(answers.get("model_access")), problem))
    problem = on_prem_contradiction(knowledge, answers)
    if problem is not None:
        found.append(AnswerError("deployment", str(answers.get("deployment")), problem))
    return found
