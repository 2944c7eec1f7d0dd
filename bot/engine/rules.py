"""Evaluating rule conditions and turning fired rules into a verdict.

The verdict is a function of three things only: whether a constraint rules
fine-tuning out, the weighted case for fine-tuning, and whether a blocker must
be cleared first. Keeping it that small is what lets the flow prove, rather
than guess, that no remaining answer can change it (see flow.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine.answers import given_ids
from bot.engine.catalogue import completed
from bot.engine.costs import Costs, compute_costs, effective

if TYPE_CHECKING:
    from bot.knowledge import Condition, Knowledge, Rule


@dataclass(frozen=True)
class Context:
    answers: Mapping[str, Any]  # effective values: given answers, else assumptions
    costs: Costs | None
    given: frozenset[str] = field(default_factory=frozenset)  # ids the user answered
    fired: frozenset[str] = field(default_factory=frozenset)
    verdict: str | None = None
    case_for_fine_tuning: bool | None = None


def effective_answers(
    knowledge: Knowledge, answers: Mapping[str, Any], costs: Costs | None = None
) -> dict[str, Any]:
    """Every question's value as the rules read it: the answer, else its assumption (for
    route-dependent cost parameters, the value the cost math used)."""
    found = {q.id: effective(knowledge, answers, q.id) for q in knowledge.questions}
    if costs is not None:
        for used in costs.inputs:
            found[used.question] = used.value
    return found


def context_for(
    knowledge: Knowledge, answers: Mapping[str, Any], today: date, costs: Costs | None
) -> Context:
    """What the verdict rules read: effective values (with what the named model implies
    on `today`), costs, and which ids were answered."""
    full = completed(knowledge, answers, today)
    return Context(effective_answers(knowledge, full, costs), costs, given_ids(full))


def verdict_only(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> str:
    """The verdict without the explanation: what the flow and counterfactuals need."""
    full = completed(knowledge, answers, today)
    costs = compute_costs(knowledge, full, today, detail=False)
    result, _ = tally(verdict_rules(knowledge), context_for(knowledge, full, today, costs))
    return verdict_for(result, knowledge.policy.fine_tune_threshold)


def holds(condition: Condition, ctx: Context) -> bool:
    if condition.all is not None:
        return all(holds(part, ctx) for part in condition.all)
    if condition.any is not None:
        return any(holds(part, ctx) for part in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, ctx)
    if condition.q is not None:
        if condition.answered is not None:
            return (condition.q in ctx.given) == condition.answered
        if condition.other is not None:
            return compare_answers(ctx.answers.get(condition.q),
                                   ctx.answers.get(condition.other), condition)
        return _compare(ctx.answers.get(condition.q), condition)
    if condition.metric is not None:
        value = ctx.costs.metric(condition.metric) if ctx.costs is not None else None
        return value is not None and _compare(value, condition)
    if condition.fired_any is not None:
        return any(rule_id in ctx.fired for rule_id in condition.fired_any)
    if condition.fired_none is not None:
        return not any(rule_id in ctx.fired for rule_id in condition.fired_none)
    if condition.verdict_in is not None:
        return ctx.verdict in condition.verdict_in
    return ctx.case_for_fine_tuning == condition.case_for_fine_tuning


def compare(value: Any, condition: Condition) -> bool:
    """Whether `value` passes the leaf's comparison (a missing number never does)."""
    return _compare(value, condition)


def compare_answers(value: Any, other: Any, condition: Condition) -> bool:
    """A leaf that compares two answers: false unless both are numbers."""
    if not (_number(value) and _number(other)):
        return False
    return _ORDER[condition.operator.removesuffix("_answer")](value, other)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ORDER = {
    "gte": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "lte": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


def _compare(value: Any, condition: Condition) -> bool:
    op = condition.operator
    target = condition.operator_value(op)
    if op == "is":
        return value == target
    if op == "in":
        return value in target
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return {
        "gte": value >= target,
        "gt": value > target,
        "lte": value <= target,
        "lt": value < target,
    }[op]


@dataclass(frozen=True)
class Tally:
    """What a set of verdict rules adds up to."""

    capped: bool = False
    score: int = 0
    blocked: bool = False

    def plus(self, other: Tally) -> Tally:
        if self.capped or other.capped:
            return CAPPED
        return Tally(False, self.score + other.score, self.blocked or other.blocked)


CAPPED = Tally(capped=True)


def tally(rules: Iterable[Rule], ctx: Context) -> tuple[Tally, list[Rule]]:
    capped, score, blocked = False, 0, False
    fired: list[Rule] = []
    for rule in rules:
        if not holds(rule.when, ctx):
            continue
        fired.append(rule)
        if rule.effect == "constraint":
            capped = True
        elif rule.effect == "toward_fine_tuning":
            score += rule.weight
        elif rule.effect == "toward_prompt_engineering":
            score -= rule.weight
        elif rule.effect == "blocker":
            blocked = True
    return (CAPPED if capped else Tally(False, score, blocked)), fired


def verdict_for(result: Tally, threshold: int) -> str:
    if result.capped or result.score < threshold:
        return "prompt_engineering"
    if result.blocked:
        return "prompt_then_fine_tune"
    return "fine_tuning"


def verdict_rules(knowledge: Knowledge) -> list[Rule]:
    return [rule for rule in knowledge.rules if rule.affects_verdict]


def condition_questions(
    knowledge: Knowledge, condition: Condition, values_only: bool = False
) -> set[str]:
    """Question ids a condition depends on (a cost metric depends on every cost input).

    `values_only` leaves out questions tested only for being answered."""
    found: set[str] = set()
    for leaf in condition.leaves():
        if leaf.q is not None:
            if not (values_only and leaf.answered is not None):
                found.add(leaf.q)
            if leaf.other is not None:
                found.add(leaf.other)
        elif leaf.metric is not None:
            found.update(knowledge.policy.cost_inputs)
    return found
