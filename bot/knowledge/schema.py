"""The schema of the knowledge files (pydantic): what each YAML entry may say.

Every dated fact carries `as_of` and `source` (and `third_party` when the source is a
secondary one); see `bot.knowledge.checks` for what is checked across files.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.engine.verdicts import Verdict

# Metrics the engine computes that rule conditions may test.
METRICS = (
    "break_even_months", "monthly_prompt_cost_usd", "monthly_saving_usd",
    "serving_shortfall_months",
)


Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
MonthOrDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}(-\d{2})?$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- sources, criteria, providers --------------------------------------------------


class Source(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    title: str
    publisher: str
    url: str | None = None
    as_of: MonthOrDate
    kind: Literal["article", "docs", "paper", "pricing", "project"]
    third_party: bool = False
    supports: str


class Criterion(Strict):
    id: str
    criterion: str
    prompt_engineering: str
    fine_tuning: str
    source: str


class DatedFact(Strict):
    """A fact that holds as of a date: where it comes from, and whether the source is a
    secondary one (`third_party`, shown as such). `rechecked` is a newer date on which
    someone checked that it still holds (see the freshness check)."""

    as_of: MonthOrDate
    source: str
    third_party: bool = False
    rechecked: Date | None = None
    note: str | None = None

    @property
    def checked_on(self) -> str:
        return self.rechecked or self.as_of


class ProviderRow(DatedFact):
    """Who offers fine-tuning, in words: shown as the caution for the team's provider."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    short: str | None = Field(default=None, max_length=24)  # in model labels; else name
    #: The team runs these models on its own machines (the route for on-prem needs).
    self_hosted: bool = False
    status: Literal["available", "winding_down", "unavailable", "ended", "deprecated"]
    detail: str
    key_dates: dict[str, str] = Field(default_factory=dict)

    @property
    def short_name(self) -> str:
        return self.short or self.name


class Gpu(DatedFact):
    """A rented GPU's hourly price, for self-hosted open-weights models."""

    id: str
    name: str
    usd_per_hour: float = Field(gt=0)


class Fee(DatedFact):
    id: str
    what: str
    usd_per_month: float = Field(ge=0)
    usd_per_hour: float | None = Field(default=None, ge=0)


class TrainingPrice(DatedFact):
    id: str
    what: str
    usd_per_mtok_trained: float | None = Field(default=None, ge=0)
    usd_total: float | None = Field(default=None, ge=0)


class Providers(Strict):
    as_of: MonthOrDate
    providers: list[ProviderRow]
    gpus: list[Gpu] = Field(default_factory=list)
    fees: list[Fee] = Field(default_factory=list)
    training: list[TrainingPrice] = Field(default_factory=list)


# --- the model catalogue -------------------------------------------------------------


class TokenPrices(DatedFact):
    """USD per 1M tokens. Cached reads are `cached_input`; writes cost `cache_write` times
    the input price; prompts shorter than `min_cached_tokens` are not cached."""

    input: float | None = Field(default=None, ge=0)
    cached_input: float | None = Field(default=None, ge=0)
    output: float | None = Field(default=None, ge=0)
    cache_write: float = Field(default=1.0, ge=0)
    min_cached_tokens: int = Field(default=0, ge=0)

    @property
    def known(self) -> bool:
        return self.input is not None and self.output is not None


class Training(DatedFact):
    """One training run's price: per 1M training tokens (times epochs), or per hour."""

    usd_per_mtok: float | None = Field(default=None, ge=0)
    usd_per_hour: float | None = Field(default=None, ge=0)
    hours: float | None = Field(default=None, gt=0)
    epochs: int = Field(default=3, gt=0)


class Hosting(DatedFact):
    """What serving the tuned model costs besides tokens."""

    kind: Literal["none", "hourly_fee", "provisioned_throughput", "gpu"]
    usd_per_hour: float | None = Field(default=None, ge=0)
    gpu: str | None = None  # a `gpus` row of providers.yaml, for kind gpu
    tokens_per_gpu_second: float | None = Field(default=None, gt=0)


class Tuning(DatedFact):
    """How the model can be fine-tuned, and until when.

    Dates are the first day something is no longer possible: `jobs_until` (new training
    jobs), `served_until` (tuned models stop serving). `jobs_from` is the first day jobs
    are accepted (a preview). A tuned model at the base model's per-token price says so
    with `at_base_price`."""

    methods: list[Literal["sft", "lora", "qlora", "dpo", "rft"]] = Field(min_length=1)
    jobs_from: Date | None = None
    jobs_until: Date | None = None
    served_until: Date | None = None
    prices: TokenPrices | None = None
    at_base_price: bool = False
    training: Training | None = None
    hosting: Hosting
    serverless_lora: bool = False

    @model_validator(mode="after")
    def _prices(self) -> Tuning:
        if self.prices is None and not self.at_base_price:
            raise ValueError("give the tuned model's `prices`, or `at_base_price: true`")
        if self.jobs_from and self.jobs_until and self.jobs_from >= self.jobs_until:
            raise ValueError("jobs_from must be before jobs_until")
        if self.jobs_until and self.served_until and self.served_until < self.jobs_until:
            raise ValueError("served_until cannot be before jobs_until")
        return self


class ModelRow(Strict):
    """One model a team may use, at one provider: `provider:model`."""

    id: str = Field(pattern=r"^[a-z0-9-]+:[a-z0-9.-]+$")
    provider: str
    label: str
    base: str  # the same base model at other providers shares this
    weights: Literal["open", "closed"]
    aliases: list[str] = Field(default_factory=list)
    prices: TokenPrices
    tuning: Tuning | None = None
    no_tuning: DatedFact | None = None  # why it cannot be tuned, dated and sourced
    retired_on: Date | None = None
    retired: DatedFact | None = None

    @model_validator(mode="after")
    def _tuning_said(self) -> ModelRow:
        if (self.tuning is None) == (self.no_tuning is None):
            raise ValueError("needs exactly one of `tuning` and `no_tuning` (dated, sourced)")
        if self.retired_on and self.retired is None:
            raise ValueError("a retired model needs `retired` (its source and as-of date)")
        return self

    @property
    def name(self) -> str:
        return self.id.split(":", 1)[1]


class Catalogue(Strict):
    as_of: MonthOrDate
    #: What the cost math prices as when the team has not named its model, by model access.
    reference: dict[str, str]
    models: list[ModelRow]


# --- questions ---------------------------------------------------------------------


class Option(Strict):
    value: str
    label: str
    group: str | None = None  # shown as a heading in long lists (the model's provider)
    aliases: list[str] = Field(default_factory=list)  # other ways people write it


class Question(Strict):
    """One question of the consultation.

    `assume` is the value the rules use while the question is unanswered; it is
    chosen to be conservative (it never argues for fine-tuning) and is shown to
    the user as an assumption; `assume: null` on a number means "not known until
    answered" (a test on it does not hold meanwhile). `ask: false` marks cost parameters
    that the guided flow never asks but that a user may set (modal, answers file).
    """

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    text: str
    short: str
    help: str
    kind: Literal["choice", "bool", "int", "float", "model"]
    options: list[Option] = Field(default_factory=list)
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    assume: Any = None
    # Take the assumption from the dated tables instead of writing the number twice:
    # "model:<price field>" (the team's model, or the reference one), "route:<what>" (the
    # route where a fine-tune would run: hosting, training, markup), "fee:<id>:<field>",
    # "training:<id>:<field>".
    assume_from: str | None = Field(
        default=None,
        pattern=r"^(model:[a-z_]+|route:[a-z_]+|(fee|training):[a-z0-9.-]+:[a-z_]+)$",
    )
    assume_source: str | None = None
    ask: bool = True
    priority: int = 50
    #: How often each answer comes up among real teams (the project's estimate): the
    #: flow picks the question that leaves the fewest questions expected under it. Keys:
    #: option values (a model question: also provider ids, shared among their models),
    #: yes/no, upper bounds of number ranges ("999": up to 999, "more" above the last),
    #: and not_sure. Unlisted answers share what is left of 1.
    prior: dict[str, float] | None = None
    #: How an answer reads in "what would change the verdict": a clause per value for
    #: choices and yes/no ("the spec still moved"), a noun phrase with `{n}` for numbers
    #: (key "n": "{n} labelled examples" gives "with 300 or more labelled examples").
    says: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.kind == "choice" and not self.options:
            raise ValueError("a choice question needs options")
        if self.kind not in ("choice", "model") and self.options:
            raise ValueError(f"options are only for choice questions, not {self.kind}")
        if self.kind in ("int", "float") and (self.min is None or self.max is None):
            raise ValueError("a number question needs min and max (plausible bounds)")
        if self.kind == "model":
            if self.assume is not None or self.assume_from is not None:
                raise ValueError("the model question assumes nothing (the reference models "
                                 "of models.yaml price an unnamed model)")
        elif ("assume" in self.model_fields_set) == (self.assume_from is not None):
            raise ValueError("needs exactly one of `assume` and `assume_from`")
        elif self.assume is None and self.assume_from is None and self.kind not in (
                "int", "float"):
            raise ValueError("`assume: null` (unknown until answered) is only for numbers")
        if self.kind in ("int", "float") and self.says and (
                set(self.says) != {"n"} or "{n}" not in self.says["n"]):
            raise ValueError("a number question says `n: \"... {n} ...\"`")
        if self.kind == "bool" and set(self.says) - {"yes", "no"}:
            raise ValueError("a yes/no question says `yes:` and `no:`")
        if self.prior is not None:
            if any(w <= 0 for w in self.prior.values()) or sum(self.prior.values()) > 1 + 1e-9:
                raise ValueError("prior weights must be positive and add up to at most 1")
            if self.kind in ("int", "float"):
                bad = [k for k in self.prior if k not in ("more", "not_sure")
                       and not _is_number(k)]
                if bad:
                    raise ValueError(f"prior keys of a number question are upper bounds, "
                                     f"'more' or 'not_sure', not {bad[0]!r}")
            if self.kind == "bool" and set(self.prior) - {"yes", "no", "not_sure"}:
                raise ValueError("prior keys of a yes/no question are yes, no and not_sure")
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


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- rules -------------------------------------------------------------------------

_LEAF_OPERATORS = ("is", "in", "gte", "gt", "lte", "lt", "answered",
                   "gte_answer", "gt_answer", "lte_answer", "lt_answer")
#: Comparisons of one answer with another (`{q: latency_now_ms, gt_answer:
#: latency_budget_ms}`): false while either is unknown.
ANSWER_OPERATORS = {"gte_answer": "gte", "gt_answer": "gt", "lte_answer": "lte",
                    "lt_answer": "lt"}


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
    gte_answer: str | None = None
    gt_answer: str | None = None
    lte_answer: str | None = None
    lt_answer: str | None = None
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
                    f"a `{forms[0]}` test needs exactly one of is, in, gte, gt, lte, lt, "
                    "answered, gte_answer, gt_answer, lte_answer, lt_answer"
                )
            if forms[0] == "metric" and operators[0] not in ("gte", "gt", "lte", "lt"):
                raise ValueError("a metric test compares numbers: use gte, gt, lte or lt")
        elif operators:
            raise ValueError(f"{operators} only go with `q` or `metric`")
        return self

    def operator_value(self, op: str) -> Any:
        return {
            "is": self.is_, "in": self.in_, "gte": self.gte, "gt": self.gt,
            "lte": self.lte, "lt": self.lt, "answered": self.answered,
            "gte_answer": self.gte_answer, "gt_answer": self.gt_answer,
            "lte_answer": self.lte_answer, "lt_answer": self.lt_answer,
        }[op]

    @cached_property
    def other(self) -> str | None:
        """The question a leaf compares its answer with, if it compares two answers."""
        return self.gte_answer or self.gt_answer or self.lte_answer or self.lt_answer

    @cached_property
    def operator(self) -> str:
        """The leaf's comparison (read on every evaluation: worked out once)."""
        if self.is_ is not None:
            return "is"
        if self.in_ is not None:
            return "in"
        if self.gte is not None:
            return "gte"
        if self.gt is not None:
            return "gt"
        if self.lte is not None:
            return "lte"
        if self.lt is not None:
            return "lt"
        if self.answered is not None:
            return "answered"
        for op in ANSWER_OPERATORS:
            if self.operator_value(op) is not None:
                return op
        raise StopIteration("not a leaf test")

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
    "cost_note",  # shown next to the costs: why the verdict stands when they point elsewhere
]


class Rule(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: Condition
    effect: Effect
    weight: int = 0
    text: str
    #: The reason in a few words ("the spec still moves"), for the one line under the
    #: costs that says why the verdict stands; every rule that can decide has one.
    gist: str | None = Field(default=None, max_length=80)
    until: str | None = None
    sources: list[str] = Field(min_length=1)
    criteria: list[str] = Field(default_factory=list)  # rows of criteria.yaml it draws on
    #: Also cite the sources of the dated facts about the team's model (its tuning window,
    #: prices): the rule's text speaks of them.
    cites_model: bool = False

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
        if self.affects_verdict and not self.gist:
            raise ValueError("a rule that decides needs `gist`: its reason in a few words")
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


class ServingWindow(Strict):
    """How long a tuned model must be able to serve: build time plus payback, and never
    less than `min_months`."""

    min_months: float = Field(gt=0)
    build_months: float = Field(ge=0)
    sources: list[str] = Field(min_length=1)


class Costing(Strict):
    """Conventions of the cost math, each an explicit, cited assumption."""

    hours_per_month: float = Field(gt=0)
    gpu_utilisation: float = Field(gt=0, le=1)
    training_examples_if_unknown: int = Field(gt=0)
    sources: list[str] = Field(min_length=1)


class Threshold(Strict):
    """A number the rules compare answers with, named so every rule using it says the
    same and it is cited once (`$name` in a condition, `{name}` in a text)."""

    value: float
    sources: list[str] = Field(min_length=1)
    why: str


class Policy(Strict):
    fine_tune_threshold: int = Field(gt=0)
    payback_horizon_months: float = Field(gt=0)
    serving_window: ServingWindow
    costing: Costing
    max_fact_age_months: int = Field(gt=0)
    cost_inputs: list[str]
    thresholds: dict[str, Threshold] = Field(default_factory=dict)


class Manifest(Strict):
    version: str
    as_of: Date
    title: str
