"""The guided flow: which question next, and whether the consultation can stop.

Pure functions of (knowledge, answers); `bot.engine.consultation.Consultation` is what
the surfaces drive, and it asks these.

The consultation stops as soon as no further answers, to any of the remaining
questions in any combination, could change the verdict, and never earlier.
This is decided exactly, not estimated: the verdict rules are grouped into
independent factors (rules that share a question belong together), each
factor's possible contributions are enumerated over its questions' candidate
values (plus "left unanswered"), and the contributions are combined.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING, Any

from bot.engine.candidates import candidate_values
from bot.engine.costs import compute_costs
from bot.engine.rules import (
    Tally,
    condition_questions,
    context_for,
    tally,
    verdict_for,
    verdict_rules,
)

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question, Rule

_UNANSWERED = object()


@dataclass(frozen=True, eq=False)  # hashed by identity: a cache key
class Factor:
    questions: frozenset[str]
    rules: tuple[Rule, ...]
    uses_costs: bool


@lru_cache(maxsize=16)
def factors(knowledge: Knowledge) -> tuple[Factor, ...]:
    """Verdict rules grouped so that no two groups share a question."""
    groups: list[tuple[set[str], list[Rule]]] = []
    for rule in verdict_rules(knowledge):
        asked = condition_questions(knowledge, rule.when)
        joined = [g for g in groups if g[0] & asked]
        merged_questions, merged_rules = set(asked), [rule]
        for group in joined:
            merged_questions |= group[0]
            merged_rules = group[1] + merged_rules
            groups.remove(group)
        groups.append((merged_questions, merged_rules))
    order = {rule.id: i for i, rule in enumerate(knowledge.rules)}
    return tuple(
        Factor(
            frozenset(questions),
            tuple(sorted(rules, key=lambda r: order[r.id])),
            any(leaf.metric is not None for r in rules for leaf in r.when.leaves()),
        )
        for questions, rules in groups
    )


def _open_questions(knowledge: Knowledge, factor: Factor, answers: Mapping[str, Any]) -> list[str]:
    """The factor's questions the flow may still ask (not answered, not "not sure")."""
    return [
        q.id for q in knowledge.questions
        if q.id in factor.questions and q.ask and q.id not in answers
    ]


def _contributions(
    knowledge: Knowledge, factor: Factor, answers: Mapping[str, Any]
) -> frozenset[Tally]:
    """Every tally this factor can reach as its open questions get answered (or not)."""
    open_ids = _open_questions(knowledge, factor, answers)
    key = (factor, tuple(sorted((q, repr(answers[q])) for q in factor.questions if q in answers)))
    cache = _contribution_cache(knowledge)
    if key in cache:
        return cache[key]
    choices = [(*candidate_values(knowledge, knowledge.question(q)), _UNANSWERED) for q in open_ids]
    reached: set[Tally] = set()
    for combo in product(*choices):
        trial = dict(answers)
        for qid, value in zip(open_ids, combo, strict=True):
            if value is not _UNANSWERED:
                trial[qid] = value
        costs = compute_costs(knowledge, trial) if factor.uses_costs else None
        result, _ = tally(factor.rules, context_for(knowledge, trial, costs))
        reached.add(result)
    found = frozenset(reached)
    if len(cache) > 50_000:
        cache.clear()
    cache[key] = found
    return found


@lru_cache(maxsize=16)
def _contribution_cache(knowledge: Knowledge) -> dict:
    return {}


def _combine(parts: Iterable[frozenset[Tally]]) -> set[Tally]:
    states = {Tally()}
    for part in parts:
        states = {state.plus(extra) for state in states for extra in part}
    return states


def possible_verdicts(knowledge: Knowledge, answers: Mapping[str, Any]) -> set[str]:
    """Every verdict some further answers (to asked questions) could lead to."""
    threshold = knowledge.policy.fine_tune_threshold
    states = _combine(_contributions(knowledge, f, answers) for f in factors(knowledge))
    return {verdict_for(state, threshold) for state in states}


def is_settled(knowledge: Knowledge, answers: Mapping[str, Any]) -> bool:
    return len(possible_verdicts(knowledge, answers)) == 1


def _live_factors(knowledge: Knowledge, answers: Mapping[str, Any]) -> list[int]:
    """Indexes of the factors whose open questions can still change the verdict: those
    whose reachable contributions, combined with what the others can reach, do not all
    give one verdict."""
    threshold = knowledge.policy.fine_tune_threshold
    all_factors = factors(knowledge)
    parts = [_contributions(knowledge, f, answers) for f in all_factors]
    live = []
    for index, part in enumerate(parts):
        if len(part) < 2:
            continue
        rest = _combine(parts[:index] + parts[index + 1:])
        if any(len({verdict_for(r.plus(m), threshold) for m in part}) > 1 for r in rest):
            live.append(index)
    return live


def questions_that_matter(knowledge: Knowledge, answers: Mapping[str, Any]) -> list[str]:
    """Open questions the flow may still ask: those of a live factor, in question order.

    Its length bounds how many more questions a consultation can take; answers only
    shrink it (a factor that cannot change the verdict never can again)."""
    all_factors = factors(knowledge)
    ids: set[str] = set()
    for index in _live_factors(knowledge, answers):
        ids.update(_open_questions(knowledge, all_factors[index], answers))
    return [q.id for q in knowledge.questions if q.id in ids]


def next_question(knowledge: Knowledge, answers: Mapping[str, Any]) -> Question | None:
    """The most decisive open question, or None when the verdict cannot change.

    Decisive means: the largest share of its answers settle the verdict on their
    own. Ties go to the knowledge's priority (why one would fine-tune before
    whether one is ready to), then to the order of questions. Over the benchmark
    scenarios this asks no more than breaking ties by how many verdicts each
    answer leaves open, and it reads more naturally.
    """
    threshold = knowledge.policy.fine_tune_threshold
    all_factors = factors(knowledge)
    parts = [_contributions(knowledge, f, answers) for f in all_factors]
    if len({verdict_for(s, threshold) for s in _combine(parts)}) <= 1:
        return None
    best: tuple[Any, ...] | None = None
    chosen: Question | None = None
    live = set(_live_factors(knowledge, answers))
    for position, question in enumerate(knowledge.questions):
        if not question.ask or question.id in answers:
            continue
        index = next((i for i, f in enumerate(all_factors) if question.id in f.questions), None)
        if index is None or index not in live:
            continue  # no verdict rule reads it, or nothing it could say would matter
        rest = _combine(parts[:index] + parts[index + 1:])
        values = candidate_values(knowledge, question)
        settling = 0
        for value in values:
            mine = _contributions(knowledge, all_factors[index], {**answers, question.id: value})
            settling += len({verdict_for(s.plus(m), threshold) for s in rest for m in mine}) == 1
        settles = settling / len(values)
        rank = (-settles, question.priority, position)
        if best is None or rank < best:
            best, chosen = rank, question
    return chosen
