"""What answer would change the verdict, holding every other answer fixed.

For choices and yes/no questions every other value is tried. For numbers the
verdict is evaluated at the candidate points (bounds and thresholds) and each
change found between two points is narrowed by bisection to the exact value,
so "at 2.1M calls a month fine-tuning pays back" is computed, not guessed.

When no single answer reaches a verdict (after an early stop, most answers are still
assumed), the fewest answers that together do are found greedily: each step takes the
change that moves the rules' tally furthest toward that verdict, unanswered questions
first. The words come from each question's `says` in the knowledge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine import humanize
from bot.engine.answers import is_given
from bot.engine.candidates import candidate_values, step_below
from bot.engine.catalogue import check_answers, completed
from bot.engine.costs import compute_costs, effective
from bot.engine.decision import Counterfactual
from bot.engine.rules import Tally, context_for, tally, verdict_only, verdict_rules
from bot.engine.verdicts import VERDICT_LABELS

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question


def counterfactuals(
    knowledge: Knowledge, answers: Mapping[str, Any], verdict: str, today: date
) -> list[Counterfactual]:
    found: list[Counterfactual] = []
    used = compute_costs(knowledge, answers, today)
    for question in knowledge.questions:
        if question.kind in ("choice", "bool", "model"):
            found.extend(_discrete(knowledge, answers, verdict, question, today))
        else:
            current = effective(knowledge, answers, question.id)
            if current is None and used.input(question.id) is not None:
                current = used.input(question.id).value  # type: ignore[union-attr]
            if current is None:
                continue  # a route-dependent default with no route to cost
            found.extend(_numeric(knowledge, answers, verdict, question, today, current))
    reached = {c.verdict for c in found} | {verdict}
    for target in ("fine_tuning", "prompt_then_fine_tune", "prompt_engineering"):
        if target not in reached:
            combined = _combined(knowledge, answers, target, today)
            if combined is not None:
                found.append(combined)
    return found


def _with(answers: Mapping[str, Any], question_id: str, value: Any) -> dict[str, Any]:
    return {**answers, question_id: value}


def _discrete(knowledge, answers, verdict, question: Question, today: date
              ) -> list[Counterfactual]:
    current = effective(knowledge, answers, question.id) if question.id in answers else None
    seen: set[str] = set()
    found = []
    values = list(candidate_values(knowledge, question))
    if question.kind == "model":  # the same base model elsewhere first, then the rest
        values.sort(key=lambda v: not _same_base(knowledge, answers, v))
    for value in values:
        if value == current:
            continue
        if check_answers(knowledge, _with(answers, question.id, value), today):
            continue
        other = verdict_only(knowledge, _with(answers, question.id, value), today)
        if other == verdict or other in seen:
            continue
        seen.add(other)
        if question.kind == "model":
            text = f"On {question.label_of(value)}, the verdict would be {VERDICT_LABELS[other]}."
        else:
            text = f"If {clause(question, value)}, the verdict would be {VERDICT_LABELS[other]}."
        found.append(Counterfactual(question.id, value, other, text))
    return found


def clause(question: Question, value: Any) -> str:
    """An answer as a clause: "the spec still moved", "you used an open-weights model"."""
    if question.kind == "model":
        return f"you moved to {question.label_of(value)}"
    key = ("yes" if value else "no") if question.kind == "bool" else str(value)
    said = question.says.get(key)
    if said:
        return said
    shown = humanize.plain_value(value) if question.kind == "bool" else question.label_of(value)
    return f"{question.short} were {shown.lower() if question.kind == 'choice' else shown}"


def quantity(question: Question, value: float, upward: bool) -> str:
    """A number as a phrase: "300 or more clean labelled examples"."""
    fewer = "or fewer" if question.kind == "int" else "or less"
    if not upward and value <= 0:  # nothing is below none: "with 0 ...", not "0 or fewer"
        amount = _shown(question, value)
    else:
        amount = f"{_shown(question, value)} {'or more' if upward else fewer}"
    template = question.says.get("n")
    return template.replace("{n}", amount) if template else f"{question.short} at {amount}"


def _combined(knowledge: Knowledge, answers: Mapping[str, Any], target: str, today: date,
              most: int = 4) -> Counterfactual | None:
    """The fewest answers (at most `most`) that together reach `target`, greedily."""
    threshold = knowledge.policy.fine_tune_threshold
    trial = dict(answers)
    changes: list[tuple[str, Any]] = []
    options = [(q, v) for q in knowledge.questions if q.ask
               for v in candidate_values(knowledge, q)]
    for _ in range(most):
        best: tuple[Any, ...] | None = None
        chosen: tuple[Question, Any] | None = None
        for question, value in options:
            if question.id in dict(changes) or trial.get(question.id) == value:
                continue
            moved = _with(trial, question.id, value)
            if check_answers(knowledge, moved, today):
                continue  # answers that contradict each other are nobody's way out
            rank = (_progress(_tally_of(knowledge, moved, today), target, threshold),
                    not is_given(answers, question.id), -question.priority)
            if best is None or rank > best:
                best, chosen = rank, (question, value)
        if chosen is None:
            return None
        question, value = chosen
        trial = _with(trial, question.id, value)
        changes.append((question.id, value))
        if verdict_only(knowledge, trial, today) == target:
            return Counterfactual(changes[0][0], changes[0][1], target,
                                  _together(knowledge, answers, changes, target),
                                  tuple(changes))
    return None


def _tally_of(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> Tally:
    full = completed(knowledge, answers, today)
    costs = compute_costs(knowledge, full, today, detail=False)
    return tally(verdict_rules(knowledge), context_for(knowledge, full, today, costs))[0]


def _progress(result: Tally, target: str, threshold: int) -> tuple[int, ...]:
    """How close a tally is to `target` (larger is closer)."""
    if target == "prompt_engineering":
        return (int(result.capped or result.score < threshold), -result.score)
    case = min(result.score, threshold)
    blocked = result.blocked if target == "prompt_then_fine_tune" else not result.blocked
    return (int(not result.capped), case, int(blocked))


def _together(knowledge: Knowledge, answers: Mapping[str, Any],
              changes: list[tuple[str, Any]], target: str) -> str:
    clauses, amounts = [], []
    for qid, value in changes:
        question = knowledge.question(qid)
        if question.kind in ("int", "float"):
            current = answers.get(qid, question.assume)
            upward = not isinstance(current, int | float) or value > current
            amounts.append(quantity(question, value, upward))
        else:
            clauses.append(clause(question, value))
    said = ""
    if clauses:
        said = "If " + (", ".join(clauses[:-1]) + " and " + clauses[-1] if len(clauses) > 1
                        else clauses[0])
    if amounts:
        joined = " and ".join(amounts)
        said = f"{said}, with {joined}" if said else f"With {joined}"
    return f"{said}, the verdict would be {VERDICT_LABELS[target]}."


def _numeric(knowledge, answers, verdict, question: Question, today: date, current: Any
             ) -> list[Counterfactual]:
    qid = question.id
    points = sorted(set(candidate_values(knowledge, question)) | {current})
    verdicts = {p: verdict_only(knowledge, _with(answers, qid, p), today) for p in points}
    # Exact change points between neighbouring candidates that disagree.
    for low, high in zip(points, points[1:], strict=False):
        if verdicts[low] != verdicts[high]:
            edge = _bisect(knowledge, answers, question, low, high, verdicts[low], today)
            verdicts[edge] = verdict_only(knowledge, _with(answers, qid, edge), today)
            below = step_below(question, edge)
            if below >= low:
                verdicts[below] = verdicts[low]
    nearest: dict[str, float] = {}
    for point, other in verdicts.items():
        if other == verdict:
            continue
        if other not in nearest or abs(point - current) < abs(nearest[other] - current):
            nearest[other] = point
    found = []
    for other in ("prompt_engineering", "prompt_then_fine_tune", "fine_tuning"):
        if other not in nearest:
            continue
        exact = nearest[other]
        upward = exact > current
        value = _readable(question, exact, upward)
        if verdict_only(knowledge, _with(answers, qid, value), today) != other:
            value = int(exact) if question.kind == "int" else exact
        if question.kind == "float" and not upward and value <= (question.min or 0):
            continue  # "at $0 or less" is no advice
        text = (f"With {quantity(question, value, upward)}, "
                f"the verdict would be {VERDICT_LABELS[other]}")
        if qid in knowledge.policy.cost_inputs and other != "prompt_engineering":
            costs = compute_costs(knowledge, _with(answers, qid, value), today, detail=False)
            if costs.break_even_months is not None:
                payback = humanize.months(costs.break_even_months)
                text += f" (fine-tuning would pay back in {payback})"
        found.append(Counterfactual(qid, value, other, text + "."))
    return found


def _readable(question: Question, value: float, upward: bool) -> float:
    """Round to what a person would type (cents, whole dollars, whole percent),
    toward the side where the verdict still changes."""
    if question.kind == "int":
        return int(value)
    if question.unit == "share":
        step = 0.01
    elif value >= 100:
        step = 1.0
    else:
        step = 0.01
    scaled = value / step
    rounded = math.ceil(scaled - 1e-9) if upward else math.floor(scaled + 1e-9)
    return round(rounded * step, 4)


def _bisect(knowledge, answers, question: Question, low: float, high: float, low_verdict: str,
            today: date):
    """The smallest value in (low, high] whose verdict differs from low's."""
    for _ in range(200):
        if question.kind == "int":
            if high - low <= 1:
                return high
            middle = (low + high) // 2
        else:
            if high - low <= max(1e-6, abs(high) * 1e-6):
                return high
            middle = (low + high) / 2
        if verdict_only(knowledge, _with(answers, question.id, middle), today) == low_verdict:
            low = middle
        else:
            high = middle
    return high


def _shown(question: Question, value: float) -> str:
    if question.unit == "share":
        return f"{value * 100:.0f}%"
    if question.unit and question.unit.startswith("USD"):
        return humanize.usd(value)
    if question.unit == "ms":
        return f"{humanize.grouped(value)} ms"
    if value >= 10_000:
        return f"{humanize.grouped(value)} ({humanize.compact(value)})"
    return humanize.grouped(value)


def _same_base(knowledge: Knowledge, answers: Mapping[str, Any], model_id: str) -> bool:
    current = answers.get("model")
    if not (isinstance(current, str) and knowledge.has_model(current)):
        return False
    return knowledge.model(model_id).base == knowledge.model(current).base
