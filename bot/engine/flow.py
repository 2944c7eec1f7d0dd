"""The guided flow: which question next, and whether the consultation can stop.

Pure functions of (knowledge, answers, date); `bot.engine.consultation.Consultation` is
what the surfaces drive, and it asks these.

**Stopping is exact.** `possible_verdicts` is every verdict some answers to the open
questions (each over its candidate values, or left unanswered / not sure) lead to. It is
found by branch and bound over rule outcomes, not by enumerating every combination:

- *Bound.* Each verdict rule is evaluated three-valued: for an open question, every value
  of its domain is tried leaf by leaf (a comparison of two answers: every pair); a cost
  metric is bounded over a box of the workload numbers from the cost model's corners
  (prompting minus tuned tokens is bilinear in prompt length and calls; hosting and
  training are monotone). The rules' possible outcomes give the verdicts that may still be
  reached (an over-approximation: rules that share a question are treated as independent).
- *Branch.* While that set has more than one verdict, the open question that most
  undecided rules read is fixed to each of its values in turn (the model first, since it
  moves prices and windows), and the sets are joined; a branch stops as soon as it has
  found every verdict its bound allows. When every rule is decided, the set is exact.
  A workload number (prompt length, calls, examples) also branches into the intervals
  between its candidate values, and an interval into halves: a metric such as the serving
  window's shortfall is not monotone in the workload, so a verdict can hold only on a
  narrow band between two candidates. Each decided branch keeps answers that lead to its
  verdict (`verdict_examples`), which is how the tests check a verdict no grid reaches.

**Choosing the next question.** Among the questions that undecided rules read (the only
ones that can still matter), the one with the fewest expected questions left after its
answer: for each answer, weighted by the knowledge's prior of realistic answers (uniform
where none is given), none when that answer settles the verdict, else the number of
questions still mattering. Ties go to the knowledge's priority, then question order.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.engine import catalogue
from bot.engine.answers import NOT_SURE, given_ids, is_given
from bot.engine.candidates import candidate_values
from bot.engine.costs import Costs, RouteCost, compute_costs, effective
from bot.engine.priors import answer_weights
from bot.engine.rules import (
    Context,
    compare,
    compare_answers,
    condition_questions,
    holds,
    verdict_rules,
)

if TYPE_CHECKING:
    from bot.knowledge import Condition, Knowledge, Question, Rule

VERDICTS = ("prompt_engineering", "prompt_then_fine_tune", "fine_tuning")
BOTH = frozenset({True, False})
#: The asked questions the cost model reads (every other cost input is `ask: false`).
_NUMERIC_COST_INPUTS = ("prompt_tokens", "monthly_calls", "labelled_examples")
#: Answers that imply the model access (completed() fills it in from them).
IMPLY_ACCESS = ("model", "deployment")
ACCESS_GROUP = frozenset({"model", "model_access", "deployment"})


# ---------------------------------------------------------------- the state of a node


@dataclass(frozen=True)
class _Node:
    """Answers fixed so far (given ones, plus branch choices; NOT_SURE for "left
    unanswered") and the asked questions still open."""

    fixed: tuple[tuple[str, Any], ...]
    open: frozenset[str]
    #: open numbers narrowed to an interval (lowest, highest), answered somewhere in it
    limits: tuple[tuple[str, int, int], ...] = ()

    @property
    def answers(self) -> dict[str, Any]:
        return dict(self.fixed)

    def limit_of(self, question_id: str) -> tuple[int, int] | None:
        for qid, low, high in self.limits:
            if qid == question_id:
                return low, high
        return None

    def assign(self, knowledge: Knowledge, question_id: str, value: Any, today: date) -> _Node:
        answers = {**self.answers, question_id: value}
        open_ids = set(self.open) - {question_id}
        if question_id in IMPLY_ACCESS and "model_access" in open_ids:
            # a named model (or on-prem) says whether it can be tuned: answered too
            answers = catalogue.completed(knowledge, answers, today)
            if "model_access" in answers:
                open_ids.discard("model_access")
        limits = tuple(limit for limit in self.limits if limit[0] != question_id)
        return _Node(tuple(sorted(answers.items())), frozenset(open_ids), limits)

    def narrow(self, question_id: str, low: int, high: int) -> _Node:
        """The open number `question_id`, answered somewhere in [low, high]."""
        limits = tuple(sorted([*(limit for limit in self.limits if limit[0] != question_id),
                               (question_id, low, high)]))
        return replace(self, limits=limits)

    def consistent(self, knowledge: Knowledge, today: date) -> bool:
        """No two fixed answers contradict each other (such a branch is no one's truth)."""
        return not catalogue.check_answers(knowledge, self.answers, today)


def _start(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> _Node:
    full = catalogue.completed(knowledge, answers, today)
    open_ids = frozenset(q.id for q in knowledge.questions if q.ask and q.id not in full)
    return _Node(tuple(sorted(full.items())), open_ids)


def _domain(knowledge: Knowledge, question_id: str) -> tuple[Any, ...]:
    return (*candidate_values(knowledge, knowledge.question(question_id)), NOT_SURE)


# ---------------------------------------------------------------- the bound


@dataclass(frozen=True)
class _Bound:
    verdicts: frozenset[str]
    readers: Mapping[str, int]  # open question -> how many undecided rules that matter read it


class _Evaluator:
    """Three-valued rule evaluation at one node (see the module docstring)."""

    def __init__(self, knowledge: Knowledge, node: _Node, today: date):
        self.knowledge = knowledge
        self.node = node
        self.today = today
        self.answers = node.answers
        self.limits = {qid: (low, high) for qid, low, high in node.limits}
        self._point: Context | None = None
        self._costed: Context | None = None
        self._metric_bounds: dict[str, list[_MetricSpan] | None] = {}
        self._costs_open: bool | None = None

    # the fixed part, evaluated once; the costs only when a cost metric is read there
    # (the search's costs are computed without detail, so they change no effective answer)
    @property
    def point(self) -> Context:
        if self._point is None:
            answers = self.answers
            self._point = Context({q: effective(self.knowledge, answers, q)
                                   for q in _value_reads(self.knowledge)},
                                  None, given_ids(answers))
        return self._point

    @property
    def costed_point(self) -> Context:
        if self._costed is None:
            costs = _costs(self.knowledge, self.answers, self.today)
            self._costed = replace(self.point, costs=costs)
        return self._costed

    def outcomes(self, condition: Condition) -> frozenset[bool]:
        if condition.all is not None:
            parts = [self.outcomes(c) for c in condition.all]
            found = set()
            if all(True in p for p in parts):
                found.add(True)
            if any(False in p for p in parts):
                found.add(False)
            return frozenset(found)
        if condition.any is not None:
            parts = [self.outcomes(c) for c in condition.any]
            found = set()
            if any(True in p for p in parts):
                found.add(True)
            if all(False in p for p in parts):
                found.add(False)
            return frozenset(found)
        if condition.not_ is not None:
            return frozenset(not v for v in self.outcomes(condition.not_))
        if condition.q is not None:
            other = condition.other
            if other is None:
                if condition.q in self.node.open:
                    return self._open_leaf(condition)
            elif condition.q in self.node.open or other in self.node.open:
                return self._open_pair(condition)
            return frozenset({holds(condition, self.point)})
        if condition.metric is not None:
            if self._cost_inputs_open():
                return self._metric(condition)
            return frozenset({holds(condition, self.costed_point)})
        return frozenset({holds(condition, self.point)})

    def _open_leaf(self, leaf: Condition) -> frozenset[bool]:
        limit = self.limits.get(str(leaf.q))
        if limit is None:
            return _leaf_over_domain(self.knowledge, leaf)
        return _leaf_over_interval(self.knowledge, leaf, *limit)

    def _open_pair(self, leaf: Condition) -> frozenset[bool]:
        """A comparison of two answers, one or both open: each open side over its
        candidates (its bounds, so a monotone comparison meets both outcomes) and not
        sure, the other at its value."""
        sides = []
        for qid in (str(leaf.q), str(leaf.other)):
            if qid in self.limits:
                sides.append(list(self.limits[qid]))
            elif qid in self.node.open:
                sides.append([effective(self.knowledge, {}, qid) if v == NOT_SURE else v
                              for v in _domain(self.knowledge, qid)])
            else:
                sides.append([self.point.answers.get(qid)])
        return frozenset(compare_answers(a, b, leaf) for a in sides[0] for b in sides[1])

    def _cost_inputs_open(self) -> bool:
        if self._costs_open is None:
            self._costs_open = bool(self.node.open & _cost_input_set(self.knowledge))
        return self._costs_open

    def _metric(self, leaf: Condition) -> frozenset[bool]:
        metric = str(leaf.metric)
        if metric not in self._metric_bounds:
            self._metric_bounds[metric] = _metric_spans(self.knowledge, self.node, metric,
                                                        self.today)
        spans = self._metric_bounds[metric]
        if spans is None:
            return BOTH
        found: set[bool] = set()
        for span in spans:
            found |= span.outcomes(leaf)
            if found == BOTH:
                break
        return frozenset(found)

    def bound(self) -> _Bound:
        knowledge = self.knowledge
        policy = knowledge.policy
        cap_possible = block_possible = block_certain = False
        score_min = score_max = 0
        undecided: list[_Tally] = []
        cache = _RULE_CACHES.setdefault(knowledge, {})
        if len(cache) > 200_000:
            cache.clear()
        fixed, open_ids, limits = self.answers, self.node.open, self.limits
        threshold = policy.fine_tune_threshold
        for index, (reads, rules) in enumerate(_rule_groups(knowledge)):
            # A rule's outcomes depend only on what it reads: remembered by that projection
            # of the node (for all the rules that read the same), so the many nodes that
            # agree there share one evaluation, tallied once.
            part = tuple((OPEN, limits.get(q)) if q in open_ids
                         else ((q in fixed), fixed.get(q)) for q in reads)
            key = (self.today, index, part)
            tally = cache.get(key)
            if tally is None:
                tally = cache[key] = _tally(knowledge, rules,
                                            [self.outcomes(r.when) for r in rules], open_ids)
            if tally.cap_certain:
                # fine-tuning is off the table whatever comes: prompt engineering, and no
                # other rule can matter (the groups that can cap cheaply come first)
                return _Bound(frozenset({"prompt_engineering"}), {})
            cap_possible |= tally.cap_possible
            block_possible |= tally.block_possible
            block_certain |= tally.block_certain
            score_min += tally.score_min
            score_max += tally.score_max
            undecided.append(tally)
        verdicts = _verdicts(cap_possible, score_min, score_max, block_possible,
                             block_certain, threshold)
        # An undecided rule can matter only where the bound leaves room for it: a reason
        # while the case is undecided, a blocker while a case is possible and nothing else
        # blocks already, a constraint while fine-tuning is still possible.
        case_open = score_min < threshold <= score_max
        case_possible = score_max >= threshold
        readers: dict[str, int] = {}
        for tally in undecided:
            for counts, matters in ((tally.reasons_read, case_open),
                                    (tally.blockers_read, case_possible and not block_certain),
                                    (tally.constraints_read, case_possible)):
                if matters:
                    for qid, count in counts:
                        readers[qid] = readers.get(qid, 0) + count
        return _Bound(verdicts, readers)


def _verdicts(cap_possible: bool, score_min: int, score_max: int, block_possible: bool,
              block_certain: bool, threshold: int) -> frozenset[str]:
    """The verdicts a tally allows (a certain constraint is handled before)."""
    verdicts = set()
    if cap_possible or score_min < threshold:
        verdicts.add("prompt_engineering")
    if score_max >= threshold:
        if not block_certain:
            verdicts.add("fine_tuning")
        if block_possible:
            verdicts.add("prompt_then_fine_tune")
    return frozenset(verdicts)


@dataclass(frozen=True)
class _Tally:
    """What one group of rules adds to a node's bound."""

    cap_possible: bool
    cap_certain: bool
    block_possible: bool
    block_certain: bool
    score_min: int
    score_max: int
    # the open questions the undecided rules read, with how many read each, per kind:
    # reasons (toward_*), blockers and constraints (the bound picks those that matter)
    reasons_read: tuple[tuple[str, int], ...]
    blockers_read: tuple[tuple[str, int], ...]
    constraints_read: tuple[tuple[str, int], ...]


def _tally(knowledge: Knowledge, rules: tuple[Rule, ...], outcomes: list[frozenset[bool]],
           open_ids: frozenset[str]) -> _Tally:
    cap_possible = cap_certain = block_possible = block_certain = False
    score_min = score_max = 0
    read: dict[str, dict[str, int]] = {"toward": {}, "blocker": {}, "constraint": {}}
    all_reads = _all_reads(knowledge)
    for rule, can in zip(rules, outcomes, strict=True):
        if can == BOTH:
            kind = "toward" if rule.effect.startswith("toward_") else rule.effect
            counts = read[kind]
            for qid in all_reads[rule.id] & open_ids:
                counts[qid] = counts.get(qid, 0) + 1
        fires, certain = True in can, can == frozenset({True})
        if rule.effect == "constraint":
            cap_possible |= fires
            cap_certain |= certain
        elif rule.effect == "toward_fine_tuning":
            score_max += rule.weight if fires else 0
            score_min += rule.weight if certain else 0
        elif rule.effect == "toward_prompt_engineering":
            score_max -= rule.weight if certain else 0
            score_min -= rule.weight if fires else 0
        elif rule.effect == "blocker":
            block_possible |= fires
            block_certain |= certain
    return _Tally(cap_possible, cap_certain, block_possible, block_certain, score_min,
                  score_max, *(tuple(sorted(read[k].items()))
                               for k in ("toward", "blocker", "constraint")))


OPEN = object()  # a question still open in a node's projection
_RULE_CACHES: weakref.WeakKeyDictionary[
    Knowledge, dict[tuple[Any, ...], _Tally]] = weakref.WeakKeyDictionary()


@lru_cache(maxsize=64)
def _rule_groups(knowledge: Knowledge) -> tuple[tuple[tuple[str, ...], tuple[Rule, ...]], ...]:
    """The verdict rules grouped by what their outcomes depend on (see _projection)."""
    groups: dict[tuple[str, ...], list[Rule]] = {}
    projection = _projection(knowledge)
    for rule in verdict_rules(knowledge):
        groups.setdefault(projection[rule.id], []).append(rule)

    def cheap_cap_first(group: tuple[tuple[str, ...], list[Rule]]) -> tuple[bool, bool]:
        """The groups that read a cost metric last; before them, those that can rule
        fine-tuning out."""
        rules = group[1]
        costly = any(leaf.metric is not None for r in rules for leaf in r.when.leaves())
        return (costly, not any(r.effect == "constraint" for r in rules))

    ordered = sorted(groups.items(), key=cheap_cap_first)
    return tuple((reads, tuple(rules)) for reads, rules in ordered)


@lru_cache(maxsize=64)
def _projection(knowledge: Knowledge) -> dict[str, tuple[str, ...]]:
    """Per verdict rule, every question its outcome can depend on: the questions it reads,
    and for a cost metric (or a question whose assumption comes from the costs) every
    cost input."""
    costly = set(knowledge.policy.cost_inputs) | {"model", "model_access"}
    from_costs = {q.id for q in knowledge.questions if q.assume_from is not None}
    found = {}
    for rule in verdict_rules(knowledge):
        reads = set(condition_questions(knowledge, rule.when))
        if any(leaf.metric is not None for leaf in rule.when.leaves()) or reads & from_costs:
            reads |= costly
        if reads & ACCESS_GROUP:
            reads |= ACCESS_GROUP
        found[rule.id] = tuple(sorted(reads))
    return found


_LEAF_CACHES: weakref.WeakKeyDictionary[
    Knowledge, dict[int, tuple[Condition, frozenset[bool]]]] = weakref.WeakKeyDictionary()


def _leaf_over_domain(knowledge: Knowledge, leaf: Condition) -> frozenset[bool]:
    """What a test on one open question can come to over its whole domain. It reads that
    question alone, so it is the same at every node: computed once per knowledge."""
    cache = _LEAF_CACHES.setdefault(knowledge, {})
    entry = cache.get(id(leaf))
    if entry is not None and entry[0] is leaf:  # the entry keeps its leaf alive: no id reuse
        return entry[1]
    qid = str(leaf.q)
    outcomes = set()
    values = _domain(knowledge, qid)
    if leaf.operator in ("gte", "gt", "lte", "lt"):
        # a comparison with one number is monotone: the smallest and the largest candidate
        # meet every outcome the numbers between them can (and "not sure" its assumption)
        numbers = [v for v in values if v != NOT_SURE]
        values = (min(numbers), max(numbers), NOT_SURE) if numbers else values
    for value in values:
        shown = effective(knowledge, {}, qid) if value == NOT_SURE else value
        ctx = Context({qid: shown}, None, given_ids({qid: value}))
        outcomes.add(holds(leaf, ctx))
    found = frozenset(outcomes)
    cache[id(leaf)] = (leaf, found)
    return found


def _leaf_over_interval(knowledge: Knowledge, leaf: Condition, low: int, high: int
                        ) -> frozenset[bool]:
    """What a test on one open number narrowed to [low, high] can come to (it is answered
    there: never "not sure")."""
    qid = str(leaf.q)
    values: set[Any] = {low, high}
    if leaf.operator not in ("gte", "gt", "lte", "lt"):  # not monotone: every candidate
        values |= {v for v in _domain(knowledge, qid) if v != NOT_SURE and low <= v <= high}
    return frozenset(holds(leaf, Context({qid: v}, None, frozenset({qid}))) for v in values)


@lru_cache(maxsize=64)
def _value_reads(knowledge: Knowledge) -> tuple[str, ...]:
    """The questions whose values the verdict rules read (all a node's point needs)."""
    found: set[str] = set()
    for rule in verdict_rules(knowledge):
        found |= condition_questions(knowledge, rule.when, values_only=True)
    return tuple(sorted(found))


@lru_cache(maxsize=64)
def _cost_input_set(knowledge: Knowledge) -> frozenset[str]:
    return frozenset(knowledge.policy.cost_inputs)


@lru_cache(maxsize=64)
def _rule_reads(knowledge: Knowledge) -> dict[str, frozenset[str]]:
    return {r.id: frozenset(condition_questions(knowledge, r.when)) for r in knowledge.rules}


@lru_cache(maxsize=64)
def _all_reads(knowledge: Knowledge) -> dict[str, frozenset[str]]:
    return {r.id: _reads(knowledge, r) for r in knowledge.rules}


def _reads(knowledge: Knowledge, rule: Rule) -> frozenset[str]:
    reads = _rule_reads(knowledge)[rule.id]
    if reads & ACCESS_GROUP:
        reads = reads | ACCESS_GROUP  # a named model, or on-prem, answers model access
    return reads


# ---------------------------------------------------------------- cost metrics


def _cost_key(knowledge: Knowledge, answers: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(answers.get(q) for q in knowledge.policy.cost_inputs)


_COST_CACHES: weakref.WeakKeyDictionary[Knowledge, dict[tuple[Any, ...], Costs]] = (
    weakref.WeakKeyDictionary())


def _costs(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> Costs:
    """compute_costs, remembered: the search meets the same workloads many times."""
    cache = _COST_CACHES.setdefault(knowledge, {})
    key = (today, _cost_key(knowledge, answers))
    found = cache.get(key)
    if found is None:
        if len(cache) > 20_000:
            cache.clear()
        found = cache[key] = compute_costs(knowledge, answers, today, detail=False)
    return found


@dataclass(frozen=True)
class _MetricSpan:
    """What a cost metric can come to over the open cost inputs, for one setting of the
    open choices: its value with no workload (when that can happen), its range over the
    workloads, and whether it may be None; `undecided` when the route itself moves."""

    bare: tuple[float | None, ...] = ()
    low: float | None = None
    high: float | None = None
    unknown: bool = False
    undecided: bool = False

    def outcomes(self, leaf: Condition) -> set[bool]:
        if self.undecided:
            return set(BOTH)
        found = {compare(value, leaf) for value in self.bare}
        if self.unknown:
            found.add(False)
        op, target = str(leaf.operator), float(leaf.operator_value(leaf.operator))
        if self.low is not None and self.high is not None:
            found |= _compare_range(op, target, self.low, self.high)
        return found


_SPAN_CACHES: weakref.WeakKeyDictionary[
    Knowledge, dict[tuple[Any, ...], list[_MetricSpan] | None]] = weakref.WeakKeyDictionary()


def _metric_spans(knowledge: Knowledge, node: _Node, metric: str,
                  today: date) -> list[_MetricSpan] | None:
    """_spans, remembered by the node's cost inputs (all that the costs read)."""
    cache = _SPAN_CACHES.setdefault(knowledge, {})
    answers = node.answers
    key = (today, metric, tuple((OPEN, node.limit_of(q)) if q in node.open
                                else (q in answers, answers.get(q))
                                for q in knowledge.policy.cost_inputs))
    if key not in cache:
        if len(cache) > 20_000:
            cache.clear()
        cache[key] = _spans(knowledge, node, metric, today)
    return cache[key]


def _spans(knowledge: Knowledge, node: _Node, metric: str,
           today: date) -> list[_MetricSpan] | None:
    """The metric's spans over the open cost inputs, one per setting of the open choices
    (where the model must run, ...); None when it cannot be bounded (the model open).

    The numbers are bounded from the cost model's corners (sound, see _metric_range)."""
    answers = node.answers
    open_inputs = node.open & set(knowledge.policy.cost_inputs)
    if "model" in open_inputs or ("model_access" in open_inputs
                                  and not is_given(answers, "model")):
        return None  # prices and windows move with the model: branch on it first
    numeric = [q for q in _NUMERIC_COST_INPUTS if q in open_inputs]
    choices = sorted(open_inputs - set(numeric))
    if any(knowledge.question(q).kind not in ("choice", "bool") for q in choices):
        return None
    settings: list[dict[str, Any]] = [{}]
    for qid in choices:
        settings = [{**c, qid: v} for c in settings for v in _domain(knowledge, qid)]
        if len(settings) > 16:
            return None
    ranges = {}
    for qid in numeric:
        values = candidate_values(knowledge, knowledge.question(qid))
        ranges[qid] = node.limit_of(qid) or (min(values), max(values))
    unlimited = [q for q in numeric if node.limit_of(q) is None]
    return [_span(knowledge, {**answers, **setting}, ranges, unlimited, metric, today)
            for setting in settings]


def _span(knowledge: Knowledge, answers: Mapping[str, Any], ranges: Mapping[str, tuple[int, int]],
          unlimited: list[str], metric: str, today: date) -> _MetricSpan:
    """One setting's span: the numbers over the box `ranges` (each open number's
    interval), plus, for a workload number that may be left unanswered (`unlimited`),
    the metric with no workload."""
    corners: list[dict[str, Any]] = [{}]
    for qid, (low, high) in ranges.items():
        corners = [{**c, qid: v} for c in corners for v in {low, high}]
    bare: tuple[float | None, ...] = ()
    if "prompt_tokens" in unlimited or "monthly_calls" in unlimited:
        # left unanswered: no workload; the metric is what it is without one (at each
        # corner of the other numbers, which may still move it)
        unanswered = {q: NOT_SURE for q in ("prompt_tokens", "monthly_calls") if q in unlimited}
        bare = tuple({_costs(knowledge, {**answers, **c, **unanswered}, today).metric(metric)
                      for c in corners})
    costs = [_costs(knowledge, {**answers, **c}, today) for c in corners]
    own = metric == "serving_shortfall_months"  # read on the team's own route
    routes = {_route_of(c, own).model if _route_of(c, own) else None for c in costs}
    if len(routes) > 1 or (not own and len({c.own_route_open for c in costs}) > 1):
        return _MetricSpan(undecided=True)
    low, high, unknown = _metric_range(knowledge, metric, costs)
    return _MetricSpan(bare, low, high, unknown)


def _compare_range(op: str, target: float, low: float, high: float) -> set[bool]:
    found = set()
    if op in ("gte", "gt"):
        if (high > target) if op == "gt" else (high >= target):
            found.add(True)
        if (low <= target) if op == "gt" else (low < target):
            found.add(False)
    else:
        if (low < target) if op == "lt" else (low <= target):
            found.add(True)
        if (high >= target) if op == "lt" else (high > target):
            found.add(False)
    return found


def _route_of(costs: Costs, own: bool) -> RouteCost | None:
    return costs.own_route if own else costs.route


def _metric_range(knowledge: Knowledge, metric: str, costs: list[Costs]
                  ) -> tuple[float | None, float | None, bool]:
    """(lowest, highest, may be None) of a metric over the corners' box.

    Sound, not sampled: per route, prompting minus the tuned tokens is bilinear in
    prompt length and calls (its extremes are at the corners), hosting only grows with
    the tokens served, and training only grows with examples and prompt length."""
    own = metric == "serving_shortfall_months"
    routes = [_route_of(c, own) for c in costs]
    if any(r is None or r.monthly_usd is None or c.monthly_cost_prompting_usd is None
           for r, c in zip(routes, costs, strict=True)):
        values = [c.metric(metric) for c in costs]
        known = [v for v in values if v is not None]
        return (min(known), max(known), True) if known else (None, None, True)
    spread = [c.monthly_cost_prompting_usd - _token_part(r)  # type: ignore[operator,arg-type]
              for r, c in zip(routes, costs, strict=True)]
    hosting = [r.parts.get("hosting", 0.0) for r in routes]  # type: ignore[union-attr]
    evals = routes[0].parts.get("evals", 0.0)  # type: ignore[union-attr]
    saving_max = max(spread) - min(hosting) - evals
    saving_min = min(spread) - max(hosting) - evals
    training = [r.training_usd for r in routes]  # type: ignore[union-attr]
    if metric == "monthly_saving_usd":
        return saving_min, saving_max, False
    if metric == "monthly_prompt_cost_usd":
        values = [c.monthly_prompt_cost_usd or 0.0 for c in costs]
        return min(values), max(values), False
    inf = float("inf")
    be_low = min(training) / saving_max if saving_max > 0 else inf
    be_high = max(training) / saving_min if saving_min > 0 else inf
    if metric == "break_even_months":
        never = be_high == inf
        return (None if be_low == inf else be_low), (None if be_low == inf else be_high), never
    if metric == "serving_shortfall_months":
        serving = costs[0].serving_months
        if serving is None or costs[0].required_serving_months is None:
            return None, None, True
        # required: build time plus payback (none where it never pays back), at least the
        # minimum (costs.required_months)
        window = knowledge.policy.serving_window
        payback_low = 0.0 if saving_min <= 0 else be_low
        payback_high = be_high if saving_max > 0 else 0.0
        required_low = max(window.min_months, window.build_months + payback_low)
        required_high = max(window.min_months, window.build_months + payback_high)
        return required_low - serving, required_high - serving, False
    values = [c.metric(metric) for c in costs]
    known = [v for v in values if v is not None]
    return (min(known), max(known), len(known) < len(values)) if known else (None, None, True)


def _token_part(route: RouteCost) -> float:
    return sum(v for k, v in route.parts.items() if k not in ("hosting", "evals"))


# ---------------------------------------------------------------- the search


class _Search:
    def __init__(self, knowledge: Knowledge, today: date):
        self.knowledge = knowledge
        self.today = today
        self.bounds: dict[_Node, _Bound] = {}
        self.reached: dict[_Node, frozenset[str]] = {}
        #: per verdict found, answers that lead to it (a certificate the tests check)
        self.examples: dict[str, dict[str, Any]] = {}
        self.narrowed = 0  # intervals made (see NARROWING_BUDGET)

    def bound(self, node: _Node) -> _Bound:
        found = self.bounds.get(node)
        if found is None:
            found = self.bounds[node] = _Evaluator(self.knowledge, node, self.today).bound()
        return found

    def reach(self, node: _Node, wanted: frozenset[str] = frozenset(VERDICTS)
              ) -> frozenset[str]:
        """The verdicts reachable from `node`: every one of `wanted` that is, perhaps more
        (exactly all of them when `wanted` covers the node's bound)."""
        exact = self.reached.get(node)
        if exact is not None:
            return exact
        bound = self.bound(node)
        if len(bound.verdicts) <= 1 or not bound.readers:
            # decided whatever the open questions get: so with them left unanswered (and
            # a narrowed number at its lowest)
            for verdict in bound.verdicts:
                self.examples.setdefault(verdict, {**node.answers,
                                                   **{q: low for q, low, _ in node.limits}})
            self.reached[node] = bound.verdicts
            return bound.verdicts
        targets = bound.verdicts & wanted
        if not targets:
            return frozenset()
        question = self._branch_on(node, bound)
        if question is None:
            # only narrowed numbers are left, and no more intervals may be made: the bound,
            # which may hold more than can be reached (asking on is safe; stopping early
            # would not be)
            self.reached[node] = bound.verdicts
            return bound.verdicts
        children = [child for child in self._children(node, question)
                    if child.consistent(self.knowledge, self.today)]
        found: set[str] = set()
        for child in children:
            need = frozenset(targets - found)
            if not need:
                break
            if need & self.bound(child).verdicts:
                found |= self.reach(child, need)
        result = frozenset(found)
        if targets == bound.verdicts:
            self.reached[node] = result  # every verdict of the bound was looked for
        return result

    def _branch_on(self, node: _Node, bound: _Bound) -> str | None:
        """The open question most undecided rules read; the model first. None when only
        narrowed numbers are left and the search has made all the intervals it may."""
        cost_inputs = _cost_input_set(self.knowledge)
        order = _question_order(self.knowledge)
        can = [q for q in bound.readers if node.limit_of(q) is None
               or self.narrowed < NARROWING_BUDGET]
        if not can:
            return None
        return min(can, key=lambda q: (q != "model", -bound.readers[q], q not in cost_inputs,
                                       node.limit_of(q) is not None, order[q]))

    def _children(self, node: _Node, question: str) -> list[_Node]:
        """The nodes `question` branches into: each value of its domain; for a workload
        number also the intervals between its candidates, and for an interval its halves.

        A cost metric need not be monotone in the workload (a serving window's shortfall
        is zero where fine-tuning never pays back, and large where it barely does), so a
        verdict can lie between two candidates: the intervals are bounded, and split
        while their bound is undecided."""
        knowledge, today = self.knowledge, self.today
        if question not in _NUMERIC_COST_INPUTS:
            return [node.assign(knowledge, question, v, today)
                    for v in _domain(knowledge, question)]
        limit = node.limit_of(question)
        if limit is None:
            points = [v for v in _domain(knowledge, question) if v != NOT_SURE]
            gaps = [(a + 1, b - 1) for a, b in zip(points, points[1:], strict=False)
                    if b - a > 1]
            return ([node.assign(knowledge, question, v, today) for v in points]
                    + [node.assign(knowledge, question, NOT_SURE, today)]
                    + [self._part(node, question, low, high) for low, high in gaps])
        low, high = limit
        middle = max(low, min(high - 1, int(math.sqrt(low * high)) if low > 0
                              else (low + high) // 2))
        return [self._part(node, question, low, middle),
                self._part(node, question, middle + 1, high)]

    def _part(self, node: _Node, question: str, low: int, high: int) -> _Node:
        if low == high:
            return node.assign(self.knowledge, question, low, self.today)
        self.narrowed += 1
        return node.narrow(question, low, high)


#: How many intervals one search may make: past that, a bound still undecided on an
#: interval is kept as it is (safe: it may ask a question more, never one less).
NARROWING_BUDGET = 2_000


@lru_cache(maxsize=64)
def _question_order(knowledge: Knowledge) -> dict[str, int]:
    return {q.id: i for i, q in enumerate(knowledge.questions)}


def _search(knowledge: Knowledge, today: date) -> _Search:
    return _Search(knowledge, today)


def possible_verdicts(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> set[str]:
    """Every verdict some further answers (to asked questions) could lead to."""
    return set(_search(knowledge, today).reach(_start(knowledge, answers, today)))


def verdict_examples(knowledge: Knowledge, answers: Mapping[str, Any], today: date
                     ) -> dict[str, dict[str, Any]]:
    """For each verdict in possible_verdicts, answers (the given ones plus some to the open
    questions; "not sure" where one is left so) that lead to it: its certificate."""
    search = _search(knowledge, today)
    found = search.reach(_start(knowledge, answers, today))
    return {v: example for v, example in search.examples.items() if v in found}


def is_settled(knowledge: Knowledge, answers: Mapping[str, Any], today: date) -> bool:
    return len(possible_verdicts(knowledge, answers, today)) == 1


def holds_whatever_comes(knowledge: Knowledge, answers: Mapping[str, Any], today: date,
                         condition: Condition) -> bool:
    """Whether `condition` holds for every answer the open asked questions could still get
    (a sound bound: True only when no completion can make it fail). A constraint that
    holds this way is why the verdict is settled, even though it reads unanswered values."""
    node = _start(knowledge, answers, today)
    return _Evaluator(knowledge, node, today).outcomes(condition) == frozenset({True})


def questions_that_matter(knowledge: Knowledge, answers: Mapping[str, Any],
                          today: date) -> list[str]:
    """Open questions that an undecided rule still reads, in question order (empty when
    the verdict is settled).

    Its length bounds how many more questions a consultation can take: the flow only
    asks these, and answers only shrink the set."""
    search = _search(knowledge, today)
    node = _start(knowledge, answers, today)
    if len(search.reach(node)) <= 1:
        return []
    readers = search.bound(node).readers
    return [q.id for q in knowledge.questions if q.id in readers]


def next_question(knowledge: Knowledge, answers: Mapping[str, Any],
                  today: date) -> Question | None:
    """The question that leaves the fewest questions expected, or None when no remaining
    answer can change the verdict (see the module docstring)."""
    search = _search(knowledge, today)
    node = _start(knowledge, answers, today)
    if len(search.reach(node)) <= 1:
        return None
    readers = search.bound(node).readers
    best: tuple[Any, ...] | None = None
    chosen: Question | None = None
    for position, question in enumerate(knowledge.questions):
        if question.id not in readers:
            continue
        expected = total = 0.0
        for value, weight in answer_weights(knowledge, question):
            assigned = node.assign(knowledge, question.id, value, today)
            if not assigned.consistent(knowledge, today):
                continue  # an answer that contradicts the others is never taken
            total += weight
            child = search.bound(assigned)
            if len(child.verdicts) > 1:
                expected += weight * len(child.readers)
        expected = expected / total if total else 0.0
        rank = (expected, question.priority, position)
        if best is None or rank < best:
            best, chosen = rank, question
    return chosen
