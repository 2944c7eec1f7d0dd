"""Checks that span the knowledge files, run on every load.

- Every cited source exists; rules name real questions, values, criteria and
  placeholders; assumptions are valid answers; `assume_from` references resolve.
- The model catalogue: providers, GPUs and reference models exist; a reference model is
  not retired; no alias points at two models.
- Freshness: a dated fact (prices, windows, fees, provider status) older than the policy's
  `max_fact_age_months` before the knowledge's own date (`manifest.as_of`) is a problem,
  unless it carries a newer `rechecked` date.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

from bot.engine.answers import AnswerError, parse_value
from bot.engine.costs import COST_FIELDS
from bot.engine.dates import months_before, parse_date
from bot.knowledge.problems import Problem
from bot.knowledge.schema import METRICS, Condition, DatedFact, Question, TokenPrices

if TYPE_CHECKING:
    from bot.knowledge.loader import Knowledge

#: What a question's `assume_from: "route:<what>"` may name (see bot.engine.costs).
ROUTE_FIELDS = ("hosting", "training", "markup", "example_tokens", "epochs")
#: Placeholders rule texts may use besides question ids and cost fields.
EXTRA_PLACEHOLDERS = frozenset({
    "payback_horizon_months", "fine_tune_threshold", "knowledge_as_of", "provider_status",
    "today", "model_label", "model_status", "route_label", "route_dates",
    "serving_months", "required_serving_months", "min_serving_months", "remaining_routes",
    "deciding_reason",
})


def cross_check(k: Knowledge) -> list[Problem]:
    problems: list[Problem] = []
    source_ids = {s.id for s in k.sources}

    def need_source(file: str, entry: str, source_id: str | None) -> None:
        if source_id is not None and source_id not in source_ids:
            problems.append(Problem(file, entry, f"cites unknown source `{source_id}`"))

    for criterion in k.criteria:
        need_source("criteria.yaml", criterion.id, criterion.source)
    for file, entry, fact in dated_facts(k):
        need_source(file, entry, fact.source)
    for source_id in k.policy.serving_window.sources + k.policy.costing.sources:
        need_source("rules.yaml", "policy", source_id)
    for name, threshold in k.policy.thresholds.items():
        for source_id in threshold.sources:
            need_source("rules.yaml", f"threshold {name}", source_id)
    problems.extend(_check_questions(k, need_source))
    problems.extend(_check_rules(k, need_source))
    problems.extend(_check_catalogue(k))
    problems.extend(check_freshness(k))
    return problems


def dated_facts(k: Knowledge) -> list[tuple[str, str, DatedFact]]:
    """(file, entry, fact) for every dated fact of the knowledge."""
    found: list[tuple[str, str, DatedFact]] = []
    for row in k.providers.providers:
        found.append(("providers.yaml", f"provider {row.id}", row))
    for gpu in k.providers.gpus:
        found.append(("providers.yaml", f"gpu {gpu.id}", gpu))
    for fee in k.providers.fees:
        found.append(("providers.yaml", f"fee {fee.id}", fee))
    for training in k.providers.training:
        found.append(("providers.yaml", f"training {training.id}", training))
    for model in k.catalogue.models:
        entry = f"model {model.id}"
        found.append(("models.yaml", f"{entry} prices", model.prices))
        for name, fact in (("no_tuning", model.no_tuning), ("retired", model.retired)):
            if fact is not None:
                found.append(("models.yaml", f"{entry} {name}", fact))
        tuning = model.tuning
        if tuning is not None:
            found.append(("models.yaml", f"{entry} tuning", tuning))
            found.append(("models.yaml", f"{entry} tuning.hosting", tuning.hosting))
            for name, fact in (("prices", tuning.prices), ("training", tuning.training)):
                if fact is not None:
                    found.append(("models.yaml", f"{entry} tuning.{name}", fact))
    return found


def check_freshness(k: Knowledge) -> list[Problem]:
    oldest = months_before(parse_date(k.manifest.as_of), k.policy.max_fact_age_months)
    problems = []
    for file, entry, fact in dated_facts(k):
        if parse_date(fact.checked_on) < oldest:
            problems.append(Problem(
                file, entry,
                f"as of {fact.checked_on}, more than {k.policy.max_fact_age_months} months "
                f"before the knowledge's date ({k.manifest.as_of}): re-check it against its "
                f"source `{fact.source}` and set `as_of` (or `rechecked`) to the day you did",
            ))
    return problems


def _check_questions(k: Knowledge, need_source: Any) -> list[Problem]:
    problems: list[Problem] = []
    question_ids = {q.id for q in k.questions}
    for q in k.questions:
        need_source("questions.yaml", q.id, q.assume_source)
        if q.assume_from is not None:
            problems.extend(_check_assume_from(k, q))
        if q.assume is not None:
            try:
                parse_value(q, q.assume)
            except AnswerError as exc:
                problems.append(Problem("questions.yaml", q.id, f"assume: {exc.reason}"))
        numeric = q.kind in ("int", "float") and q.min is not None and q.max is not None
        if numeric and q.min >= q.max:
            problems.append(Problem("questions.yaml", q.id, "min must be below max"))
        if q.kind == "choice":
            for key in sorted(set(q.says) - set(q.option_values())):
                problems.append(Problem("questions.yaml", q.id,
                                        f"says: `{key}` is not one of the options"))
        if q.prior and q.kind in ("choice", "model"):
            known = set(q.option_values()) | {"not_sure"}
            if q.kind == "model":
                known |= {row.provider for row in k.catalogue.models}
            for key in sorted(set(q.prior) - known):
                problems.append(Problem("questions.yaml", q.id,
                                        f"prior: `{key}` is not an answer to this question"))
    for qid in k.policy.cost_inputs:
        if qid not in question_ids:
            problems.append(Problem("rules.yaml", "policy", f"cost_inputs names unknown `{qid}`"))
    return problems


def _check_assume_from(k: Knowledge, q: Question) -> list[Problem]:
    table, *rest = (q.assume_from or "").split(":")
    if table == "model":
        if rest[0] not in TokenPrices.model_fields:
            return [Problem("questions.yaml", q.id,
                            f"assume_from: model prices have no field `{rest[0]}`")]
        return []
    if table == "route":
        if rest[0] not in ROUTE_FIELDS:
            return [Problem("questions.yaml", q.id,
                            f"assume_from: `route:{rest[0]}` is not one of "
                            f"{', '.join(ROUTE_FIELDS)}")]
        return []
    rows = list(k.providers.fees if table == "fee" else k.providers.training)
    row = next((r for r in rows if r.id == rest[0]), None)
    if row is None:
        known = ", ".join(r.id for r in rows)
        return [Problem("questions.yaml", q.id,
                        f"assume_from: no {table} row `{rest[0]}` in providers.yaml "
                        f"(known: {known})")]
    if not isinstance(getattr(row, rest[1], None), int | float):
        return [Problem("questions.yaml", q.id,
                        f"assume_from: {table} row `{rest[0]}` has no number `{rest[1]}`")]
    return []


def _check_rules(k: Knowledge, need_source: Any) -> list[Problem]:
    problems: list[Problem] = []
    rule_ids = {r.id for r in k.rules}
    criterion_ids = {c.id for c in k.criteria}
    placeholders = placeholder_names(k)
    for rule in k.rules:
        for source_id in rule.sources:
            need_source("rules.yaml", rule.id, source_id)
        for criterion_id in rule.criteria:
            if criterion_id not in criterion_ids:
                problems.append(
                    Problem("rules.yaml", rule.id, f"names unknown criterion `{criterion_id}`")
                )
        for leaf in rule.when.leaves():
            problems.extend(_check_leaf(k, rule.id, leaf, rule_ids))
        for field_name in ("text", "until"):
            template = getattr(rule, field_name)
            if not template:
                continue
            for name in _template_fields(template):
                if name not in placeholders:
                    problems.append(
                        Problem(
                            "rules.yaml", rule.id,
                            f"{field_name} uses unknown placeholder {{{name}}} "
                            f"(known: {', '.join(sorted(placeholders))})",
                        )
                    )
    return problems


def _check_leaf(k: Knowledge, rule_id: str, leaf: Condition, rule_ids: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if leaf.q is not None:
        if not k.has_question(leaf.q):
            return [Problem("rules.yaml", rule_id, f"condition names unknown question `{leaf.q}`")]
        question = k.question(leaf.q)
        op = leaf.operator
        if op == "answered":
            return problems
        if leaf.other is not None:
            for qid in (leaf.q, leaf.other):
                if not k.has_question(qid):
                    problems.append(Problem("rules.yaml", rule_id,
                                            f"condition names unknown question `{qid}`"))
                elif k.question(qid).kind not in ("int", "float"):
                    problems.append(Problem(
                        "rules.yaml", rule_id,
                        f"`{qid}` is {k.question(qid).kind}: {op} compares two numbers"))
            return problems
        if op in ("is", "in"):
            values = leaf.in_ if op == "in" else [leaf.is_]
            allowed: list[Any]
            if question.kind in ("choice", "model"):
                allowed = question.option_values()
            elif question.kind == "bool":
                allowed = [True, False]
            else:
                allowed = []
            for value in values:
                if value not in allowed:
                    shown = ", ".join(map(str, allowed)) or "numbers, with gte/lt"
                    problems.append(Problem(
                        "rules.yaml", rule_id,
                        f"`{leaf.q}` cannot be {value!r} (accepted: {shown})",
                    ))
        elif question.kind not in ("int", "float"):
            problems.append(
                Problem("rules.yaml", rule_id, f"`{leaf.q}` is {question.kind}: use is/in")
            )
    if leaf.metric is not None and leaf.metric not in METRICS:
        problems.append(Problem(
            "rules.yaml", rule_id, f"unknown metric `{leaf.metric}` (known: {', '.join(METRICS)})"
        ))
    for ref in (leaf.fired_any or []) + (leaf.fired_none or []):
        if ref not in rule_ids:
            problems.append(Problem("rules.yaml", rule_id, f"refers to unknown rule `{ref}`"))
    return problems


def _check_catalogue(k: Knowledge) -> list[Problem]:
    problems: list[Problem] = []
    provider_ids = {p.id for p in k.providers.providers}
    gpu_ids = {g.id for g in k.providers.gpus}
    aliases: dict[str, str] = {}
    for model in k.catalogue.models:
        entry = f"model {model.id}"
        if model.provider not in provider_ids:
            problems.append(Problem("models.yaml", entry,
                                    f"provider `{model.provider}` is not in providers.yaml"))
        if not model.id.startswith(f"{model.provider}:"):
            problems.append(Problem("models.yaml", entry,
                                    f"the id must start with its provider `{model.provider}:`"))
        tuning = model.tuning
        if tuning is not None and tuning.hosting.kind == "gpu" and (
                tuning.hosting.gpu not in gpu_ids or not tuning.hosting.tokens_per_gpu_second):
            problems.append(Problem(
                "models.yaml", entry,
                "gpu hosting needs `gpu` (a gpus row of providers.yaml) and "
                "`tokens_per_gpu_second`",
            ))
        if tuning is not None and tuning.hosting.kind == "hourly_fee" and (
                tuning.hosting.usd_per_hour is None):
            problems.append(Problem("models.yaml", entry, "an hourly fee needs `usd_per_hour`"))
        for alias in model.aliases:
            key = _normal(alias)
            other = aliases.get(key)
            if other is not None and other != model.id:
                problems.append(Problem("models.yaml", entry,
                                        f"alias {alias!r} also names {other}"))
            aliases.setdefault(key, model.id)
    access = k.question("model_access") if k.has_question("model_access") else None
    wanted = set(access.option_values()) | {"unanswered"} if access else {"unanswered"}
    for key, model_id in k.catalogue.reference.items():
        if key not in wanted:
            problems.append(Problem("models.yaml", "reference",
                                    f"`{key}` is not a model_access value (or unanswered)"))
        if not k.has_model(model_id):
            problems.append(Problem("models.yaml", "reference", f"unknown model `{model_id}`"))
            continue
        row = k.model(model_id)
        if row.retired_on and parse_date(row.retired_on) <= parse_date(k.manifest.as_of):
            problems.append(Problem(
                "models.yaml", "reference",
                f"`{key}` points at {model_id}, retired on {row.retired_on}: pick a current model",
            ))
    for key in wanted - set(k.catalogue.reference):
        problems.append(Problem("models.yaml", "reference", f"no reference model for `{key}`"))
    return problems


def _normal(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == ".")


def _template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def placeholder_names(k: Knowledge) -> set[str]:
    """Names a rule's text may use: every question id, every cost figure, policy values."""
    return ({q.id for q in k.questions} | set(COST_FIELDS) | EXTRA_PLACEHOLDERS
            | set(k.policy.thresholds))
