"""Knowledge files: schema, loading and cross-file validation.

The knowledge under `knowledge/` is data a team edits without touching code.
Every problem is reported as (file, entry, reason) so that a bad edit stops
start-up with a message that says exactly where to look.
"""

from __future__ import annotations

import hashlib
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.engine.answers import AnswerError, parse_value
from bot.engine.costs import COST_FIELDS
from bot.engine.verdicts import Verdict

KNOWLEDGE_FILES = ("manifest", "sources", "criteria", "questions", "rules", "providers")

# Metrics the cost model computes that rule conditions may test.
METRICS = ("break_even_months", "monthly_prompt_cost_usd", "monthly_saving_usd")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- sources, criteria, providers --------------------------------------------------


class Source(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str
    publisher: str
    url: str | None = None
    as_of: str = Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")
    kind: Literal["article", "docs", "paper", "pricing", "project"]
    supports: str


class Criterion(Strict):
    id: str
    criterion: str
    prompt_engineering: str
    fine_tuning: str
    source: str


class Availability(Strict):
    id: str
    provider: str
    models: str
    status: Literal["available", "winding_down", "unavailable", "ended", "deprecated"]
    detail: str
    key_dates: dict[str, str] = Field(default_factory=dict)
    as_of: str
    source: str


class PriceRow(Strict):
    model: str
    label: str
    provider: str
    input: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float = Field(ge=0)
    fine_tuned: bool
    base_model: str | None = None
    as_of: str
    source: str


class Caching(Strict):
    cache_read_factor: float = Field(ge=0, le=1)
    cache_write_factor: float = Field(ge=0)
    as_of: str
    source: str


class Fee(Strict):
    id: str
    what: str
    usd_per_month: float = Field(ge=0)
    usd_per_hour: float | None = Field(default=None, ge=0)
    as_of: str
    source: str


class TrainingPrice(Strict):
    id: str
    what: str
    usd_per_mtok_trained: float | None = Field(default=None, ge=0)
    usd_total: float | None = Field(default=None, ge=0)
    as_of: str
    source: str


class Providers(Strict):
    as_of: str
    availability: list[Availability]
    prices: list[PriceRow]
    caching: Caching
    fees: list[Fee] = Field(default_factory=list)
    training: list[TrainingPrice] = Field(default_factory=list)


# --- questions ---------------------------------------------------------------------


class Option(Strict):
    value: str
    label: str


class Question(Strict):
    """One question of the consultation.

    `assume` is the value the rules use while the question is unanswered; it is
    chosen to be conservative (it never argues for fine-tuning) and is shown to
    the user as an assumption. `ask: false` marks cost parameters that the
    guided flow never asks but that a user may set (modal, answers file).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str
    short: str
    help: str
    kind: Literal["choice", "bool", "int", "float"]
    options: list[Option] = Field(default_factory=list)
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    assume: Any = None
    # Take the assumption from providers.yaml instead of writing the number twice:
    # "price_row:<field>" (the row named by the price_model answer),
    # "fee:<id>:<field>" or "training:<id>:<field>".
    assume_from: str | None = Field(
        default=None, pattern=r"^(price_row:[a-z_]+|(fee|training):[a-z0-9.-]+:[a-z_]+)$"
    )
    assume_source: str | None = None
    ask: bool = True
    priority: int = 50

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.kind == "choice" and not self.options:
            raise ValueError("a choice question needs options")
        if self.kind != "choice" and self.options:
            raise ValueError(f"options are only for choice questions, not {self.kind}")
        if self.kind in ("int", "float") and (self.min is None or self.max is None):
            raise ValueError("a number question needs min and max (plausible bounds)")
        if (self.assume is None) == (self.assume_from is None):
            raise ValueError("needs exactly one of `assume` and `assume_from`")
        if self.kind == "float" and isinstance(self.assume, int) and not isinstance(
            self.assume, bool
        ):
            object.__setattr__(self, "assume", float(self.assume))  # same type as answers
        return self

    def option_values(self) -> list[str]:
        return [option.value for option in self.options]

    def label_of(self, value: Any) -> str:
        for option in self.options:
            if option.value == value:
                return option.label
        return str(value)


# --- rules -------------------------------------------------------------------------

_LEAF_OPERATORS = ("is", "in", "gte", "gt", "lte", "lt", "answered")


class Condition(Strict):
    """A small condition language: all/any/not, a test on an answer (`q`), on a
    cost metric (`metric`), or, for cautions and advice only, on the outcome."""

    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")
    q: str | None = None
    metric: str | None = None
    is_: Any = Field(default=None, alias="is")
    in_: list[Any] | None = Field(default=None, alias="in")
    gte: float | None = None
    gt: float | None = None
    lte: float | None = None
    lt: float | None = None
    answered: bool | None = None
    fired_any: list[str] | None = None
    fired_none: list[str] | None = None
    verdict_in: list[Verdict] | None = None
    case_for_fine_tuning: bool | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            name
            for name in (
                "all", "any", "not_", "q", "metric", "fired_any", "fired_none",
                "verdict_in", "case_for_fine_tuning",
            )
            if getattr(self, name) is not None
        ]
        if len(forms) != 1:
            raise ValueError(
                "a condition has exactly one of all, any, not, q, metric, fired_any, "
                f"fired_none, verdict_in, case_for_fine_tuning (found: {forms or 'none'})"
            )
        operators = [op for op in _LEAF_OPERATORS if self.operator_value(op) is not None]
        if forms[0] in ("q", "metric"):
            if len(operators) != 1:
                raise ValueError(
                    f"a `{forms[0]}` test needs exactly one of is, in, gte, gt, lte, lt, answered"
                )
            if forms[0] == "metric" and operators[0] in ("is", "in", "answered"):
                raise ValueError("a metric test compares numbers: use gte, gt, lte or lt")
        elif operators:
            raise ValueError(f"{operators} only go with `q` or `metric`")
        return self

    def operator_value(self, op: str) -> Any:
        return {
            "is": self.is_, "in": self.in_, "gte": self.gte, "gt": self.gt,
            "lte": self.lte, "lt": self.lt, "answered": self.answered,
        }[op]

    @property
    def operator(self) -> str:
        return next(op for op in _LEAF_OPERATORS if self.operator_value(op) is not None)

    def children(self) -> list[Condition]:
        if self.all is not None:
            return list(self.all)
        if self.any is not None:
            return list(self.any)
        if self.not_ is not None:
            return [self.not_]
        return []

    def leaves(self) -> Iterable[Condition]:
        kids = self.children()
        if not kids and self.all is None and self.any is None:
            yield self
        for kid in kids:
            yield from kid.leaves()

    def uses_outcome(self) -> bool:
        return any(
            leaf.fired_any is not None
            or leaf.fired_none is not None
            or leaf.verdict_in is not None
            or leaf.case_for_fine_tuning is not None
            for leaf in self.leaves()
        )


Condition.model_rebuild()

Effect = Literal[
    "constraint",  # fine-tuning is off the table: the verdict is prompt engineering
    "toward_fine_tuning",  # adds `weight` to the case for fine-tuning
    "toward_prompt_engineering",  # subtracts `weight` from it
    "blocker",  # must be cleared before fine-tuning: makes it "prompt now, fine-tune later"
    "caution",  # shown, never changes the verdict
    "advice",  # how to carry out the verdict
    "explain",  # a reason shown when its condition holds
]


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: Condition
    effect: Effect
    weight: int = 0
    text: str
    until: str | None = None
    sources: list[str] = Field(min_length=1)
    criteria: list[str] = Field(default_factory=list)  # rows of criteria.yaml it draws on

    @model_validator(mode="after")
    def _effect_fields(self) -> Rule:
        if self.effect.startswith("toward_") and self.weight <= 0:
            raise ValueError(f"a {self.effect} rule needs a positive weight")
        if not self.effect.startswith("toward_") and self.weight:
            raise ValueError(f"weight only goes with toward_* rules, not {self.effect}")
        if self.effect == "blocker" and not self.until:
            raise ValueError("a blocker needs `until`: the condition to meet before fine-tuning")
        if self.effect != "blocker" and self.until:
            raise ValueError("`until` only goes with blockers")
        if self.affects_verdict and self.when.uses_outcome():
            raise ValueError(
                "a rule that decides cannot test the outcome "
                "(fired_any, fired_none, verdict_in, case_for_fine_tuning)"
            )
        return self

    @property
    def affects_verdict(self) -> bool:
        return self.effect in (
            "constraint", "toward_fine_tuning", "toward_prompt_engineering", "blocker",
        )


class Policy(Strict):
    fine_tune_threshold: int = Field(gt=0)
    payback_horizon_months: float = Field(gt=0)
    cost_inputs: list[str]


class Manifest(Strict):
    version: str
    as_of: str
    title: str


# --- the whole -------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    value: float
    source: str
    note: str


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.reason}"


class KnowledgeError(Exception):
    """Raised with every problem found; str() gives one line per problem."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, eq=False)  # hashed by identity: caches key on it
class Knowledge:
    manifest: Manifest
    sources: tuple[Source, ...]
    criteria: tuple[Criterion, ...]
    questions: tuple[Question, ...]
    policy: Policy
    rules: tuple[Rule, ...]
    providers: Providers
    version: str
    directory: Path

    def __post_init__(self) -> None:
        # Look-up tables, built once; frozen dataclass, hence object.__setattr__.
        object.__setattr__(self, "_questions", {q.id: q for q in self.questions})
        object.__setattr__(self, "_sources", {s.id: s for s in self.sources})
        object.__setattr__(self, "_rules", {r.id: r for r in self.rules})
        object.__setattr__(self, "_prices", {p.model: p for p in self.providers.prices})

    def question(self, question_id: str) -> Question:
        return self._questions[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._questions

    def source(self, source_id: str) -> Source:
        return self._sources[source_id]

    def rule(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def price_row(self, model: str) -> PriceRow:
        return self._prices[model]

    def reference(self, question: Question, price_model: str) -> Reference:
        """The providers.yaml value an `assume_from` question takes while unanswered."""
        table, *rest = (question.assume_from or "").split(":")
        if table == "price_row":
            row: Any = self.price_row(price_model)
            note = f"price of {row.label}, as of {row.as_of}"
        else:
            rows = self.providers.fees if table == "fee" else self.providers.training
            row = next(r for r in rows if r.id == rest[0])
            note = f"{table} `{row.id}`, as of {row.as_of}"
        return Reference(float(getattr(row, rest[-1])), row.source, note)

    @property
    def asked_questions(self) -> list[Question]:
        return [q for q in self.questions if q.ask]


def default_knowledge_dir() -> Path:
    """`KNOWLEDGE_DIR`, else the copy shipped inside the package, else the repo's."""
    configured = os.environ.get("KNOWLEDGE_DIR")
    if configured:
        return Path(configured)
    shipped = Path(__file__).parent / "_knowledge"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent / "knowledge"


def load_knowledge(directory: Path | str | None = None) -> Knowledge:
    """Load and validate every knowledge file; raise KnowledgeError listing all problems."""
    path = Path(directory) if directory is not None else default_knowledge_dir()
    return _load_cached(path.resolve())


@lru_cache(maxsize=8)
def _load_cached(directory: Path) -> Knowledge:
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name in KNOWLEDGE_FILES:
        file = directory / f"{name}.yaml"
        try:
            text = file.read_bytes()
        except OSError as exc:
            problems.append(Problem(file.name, "(file)", f"cannot be read: {exc.strerror}"))
            continue
        digest.update(name.encode() + b"\0" + text)
        try:
            raw[name] = yaml.load(text, Loader=_yaml_loader())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "(file)"
            problems.append(Problem(file.name, where, f"is not valid YAML: {exc}"))
    if problems:
        raise KnowledgeError(problems)

    manifest = _model(Manifest, raw["manifest"], "manifest.yaml", "(file)", problems)
    sources = _list(Source, raw["sources"], "sources", "sources.yaml", problems)
    criteria = _list(Criterion, raw["criteria"], "criteria", "criteria.yaml", problems)
    questions = _list(Question, raw["questions"], "questions", "questions.yaml", problems)
    rules_file = _rules(raw["rules"], problems)
    providers = _model(Providers, raw["providers"], "providers.yaml", "(file)", problems)
    if problems or manifest is None or rules_file is None or providers is None:
        raise KnowledgeError(problems)

    knowledge = Knowledge(
        manifest=manifest,
        sources=tuple(sources),
        criteria=tuple(criteria),
        questions=tuple(questions),
        policy=rules_file[0],
        rules=tuple(rules_file[1]),
        providers=providers,
        version=f"{manifest.version}+{digest.hexdigest()[:8]}",
        directory=directory,
    )
    problems.extend(cross_check(knowledge))
    if problems:
        raise KnowledgeError(problems)
    return knowledge


def _yaml_loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _model(cls: type[Strict], data: Any, file: str, entry: str, problems: list[Problem]):
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or "(top)"
            problems.append(Problem(file, entry, f"{location}: {error['msg']}"))
        return None


def _list(cls: type[Strict], data: Any, key: str, file: str, problems: list[Problem]) -> list:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(file, "(file)", f"must be a mapping with a `{key}` list"))
        return []
    items = []
    for position, item in enumerate(data[key]):
        entry = _entry_name(item, position)
        model = _model(cls, item, file, entry, problems)
        if model is not None:
            items.append(model)
    seen: set[str] = set()
    for item in items:
        ident = getattr(item, "id", None)
        if ident in seen:
            problems.append(Problem(file, str(ident), "id is used twice"))
        seen.add(ident)
    return items


def _entry_name(item: Any, position: int) -> str:
    if isinstance(item, dict) and "id" in item:
        return str(item["id"])
    return f"entry {position + 1}"


def _rules(data: Any, problems: list[Problem]) -> tuple[Policy, list[Rule]] | None:
    if not isinstance(data, dict):
        problems.append(Problem("rules.yaml", "(file)", "must be a mapping with policy and rules"))
        return None
    policy = _model(Policy, data.get("policy"), "rules.yaml", "policy", problems)
    rules = _list(Rule, data, "rules", "rules.yaml", problems)
    return (policy, rules) if policy is not None else None


# --- cross-file checks ----------------------------------------------------------


def cross_check(k: Knowledge) -> list[Problem]:
    """Checks that span files: cited ids exist, conditions name real questions
    and values, placeholders are known, assumptions are valid answers."""
    problems: list[Problem] = []
    source_ids = {s.id for s in k.sources}
    question_ids = {q.id for q in k.questions}
    rule_ids = {r.id for r in k.rules}
    price_models = {p.model for p in k.providers.prices}

    def need_source(file: str, entry: str, source_id: str | None) -> None:
        if source_id is not None and source_id not in source_ids:
            problems.append(Problem(file, entry, f"cites unknown source `{source_id}`"))

    for criterion in k.criteria:
        need_source("criteria.yaml", criterion.id, criterion.source)
    for row in k.providers.availability:
        need_source("providers.yaml", f"availability {row.id}", row.source)
    for price in k.providers.prices:
        need_source("providers.yaml", f"price {price.model}", price.source)
    need_source("providers.yaml", "caching", k.providers.caching.source)
    for fee in k.providers.fees:
        need_source("providers.yaml", f"fee {fee.id}", fee.source)
    for training in k.providers.training:
        need_source("providers.yaml", f"training {training.id}", training.source)

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

    if k.has_question("price_model"):
        for value in k.question("price_model").option_values():
            if value not in price_models:
                problems.append(
                    Problem(
                        "questions.yaml", "price_model",
                        f"option `{value}` is not a price row in providers.yaml "
                        f"(known: {', '.join(sorted(price_models))})",
                    )
                )
    for qid in k.policy.cost_inputs:
        if qid not in question_ids:
            problems.append(Problem("rules.yaml", "policy", f"cost_inputs names unknown `{qid}`"))

    placeholders = placeholder_names(k)
    criterion_ids = {c.id for c in k.criteria}
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


def _check_assume_from(k: Knowledge, q: Question) -> list[Problem]:
    table, *rest = (q.assume_from or "").split(":")
    if table == "price_row":
        rows: list[Any] = list(k.providers.prices)
        if rows and not isinstance(getattr(rows[0], rest[0], None), int | float):
            return [Problem("questions.yaml", q.id, f"assume_from: price rows have no number "
                            f"`{rest[0]}`")]
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


def _check_leaf(k: Knowledge, rule_id: str, leaf: Condition, rule_ids: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    if leaf.q is not None:
        if not k.has_question(leaf.q):
            return [Problem("rules.yaml", rule_id, f"condition names unknown question `{leaf.q}`")]
        question = k.question(leaf.q)
        op = leaf.operator
        if op == "answered":
            return problems
        if op in ("is", "in"):
            values = leaf.in_ if op == "in" else [leaf.is_]
            allowed: list[Any]
            if question.kind == "choice":
                allowed = question.option_values()
            elif question.kind == "bool":
                allowed = [True, False]
            else:
                allowed = []
            for value in values:
                if value not in allowed:
                    problems.append(
                        Problem(
                            "rules.yaml", rule_id,
                            f"`{leaf.q}` cannot be {value!r} "
                            f"(accepted: {', '.join(map(str, allowed)) or 'numbers, with gte/lt'})",
                        )
                    )
        elif question.kind not in ("int", "float"):
            problems.append(
                Problem("rules.yaml", rule_id, f"`{leaf.q}` is {question.kind}: use is/in")
            )
    if leaf.metric is not None and leaf.metric not in METRICS:
        problems.append(
            Problem(
                "rules.yaml", rule_id,
                f"unknown metric `{leaf.metric}` (known: {', '.join(METRICS)})",
            )
        )
    for ref in (leaf.fired_any or []) + (leaf.fired_none or []):
        if ref not in rule_ids:
            problems.append(Problem("rules.yaml", rule_id, f"refers to unknown rule `{ref}`"))
    return problems


def _template_fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def placeholder_names(k: Knowledge) -> set[str]:
    """Names a rule's text may use: every question id, every cost figure, policy values."""
    return (
        {q.id for q in k.questions}
        | set(COST_FIELDS)
        | {"payback_horizon_months", "fine_tune_threshold", "knowledge_as_of",
           "provider_status"}
    )
