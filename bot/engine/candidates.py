"""The values worth trying for a question.

Rule conditions only compare numbers with thresholds or with another answer. So a test
on one answer can only change at a threshold, at a bound, or where two answers cross:
trying the bounds, each threshold and its neighbours covers every outcome such a test can
lead to (the exact value where two answers cross is found by the counterfactuals'
bisection). Cost metrics are not monotone in the workload numbers: the flow also searches
the intervals between these values (`bot.engine.flow`).
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.engine.rules import verdict_rules

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question


def thresholds(knowledge: Knowledge, question_id: str) -> list[float]:
    return _thresholds(knowledge)[question_id]


@lru_cache(maxsize=16)
def _thresholds(knowledge: Knowledge) -> dict[str, list[float]]:
    found: dict[str, set[float]] = {q.id: set() for q in knowledge.questions}
    for rule in verdict_rules(knowledge):
        for leaf in rule.when.leaves():
            if leaf.q is not None and leaf.operator in ("gte", "gt", "lte", "lt"):
                found[leaf.q].add(float(leaf.operator_value(leaf.operator)))
    return {qid: sorted(values) for qid, values in found.items()}


def step_below(question: Question, value: float) -> float:
    return value - 1 if question.kind == "int" else math.nextafter(value, -math.inf)


def step_above(question: Question, value: float) -> float:
    return value + 1 if question.kind == "int" else math.nextafter(value, math.inf)


def candidate_values(knowledge: Knowledge, question: Question) -> tuple[Any, ...]:
    return _candidates(knowledge, question.id)


@lru_cache(maxsize=256)
def _candidates(knowledge: Knowledge, question_id: str) -> tuple[Any, ...]:
    question = knowledge.question(question_id)
    if question.kind in ("choice", "model"):
        return tuple(question.option_values())
    if question.kind == "bool":
        return (True, False)
    low = float(question.min or 0.0)
    if question.min_exclusive:
        low = step_above(question, low)
    high = float(question.max or low)
    points = {low, high}
    for t in thresholds(knowledge, question_id):
        points.update({step_below(question, t), t, step_above(question, t)})
    cast = int if question.kind == "int" else float
    return tuple(cast(p) for p in sorted(points) if low <= p <= high)
