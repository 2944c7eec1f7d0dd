"""The cost model: what each route costs a month, and when a fine-tune pays back.

Prompting is costed on the team's model (or, unnamed, on the reference model for what
they said of model access): the static prompt (the cached share at the cached price when
the model caches prompts that long), each call's own input (user text, retrieved
passages) and the output.

The fine-tune is costed where it would run: on the team's model when it can be tuned on
the date for long enough (build time plus payback, at least the policy's minimum),
otherwise on the cheapest route that remains. A route's month is the shorter tuned prompt,
the same per-call input and output at the tuned prices, hosting (an hourly fee, GPU time
for self-hosted open weights sized from the workload, or Provisioned Throughput, which
the knowledge cannot price) and evaluation. Training is examples x tokens per example x
epochs x the route's price per 1M training tokens.

`monthly_input_tokens` and `monthly_prompt_cost_usd` stay the seed's FAQ math: the static
prompt's input tokens only, uncached. Volume figures are None unless both prompt_tokens
and monthly_calls were answered: the bot never invents a workload.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.engine import catalogue
from bot.engine.answers import is_given

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, ModelRow

MTOK = 1_000_000
SECONDS_PER_HOUR = 3600

COST_FIELDS = (
    "monthly_input_tokens",
    "input_price_per_mtok",
    "cached_input_price_per_mtok",
    "output_price_per_mtok",
    "monthly_prompt_cost_usd",
    "monthly_cost_prompting_usd",
    "tuned_prompt_tokens",
    "monthly_cost_fine_tuned_usd",
    "monthly_saving_usd",
    "training_cost_usd",
    "break_even_months",
)


@dataclass(frozen=True)
class Input:
    """A value the cost math used: given by the person, or assumed (with its source)."""

    question: str
    value: Any
    given: bool
    source: str = ""
    note: str = ""


@dataclass(frozen=True)
class RouteCost:
    """What fine-tuning costs on one route (one catalogue row)."""

    model: str
    label: str
    monthly_usd: float | None
    parts: Mapping[str, float]
    training_usd: float
    training: Mapping[str, Any]
    saving_usd: float | None
    break_even_months: float | None
    serving_until: str | None
    serving_months: float | None
    complete: bool = True
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "label": self.label,
            "monthly_cost_usd": _money(self.monthly_usd),
            "parts": {k: round(v, 2) for k, v in self.parts.items()},
            "training_cost_usd": round(self.training_usd, 2),
            "training": dict(self.training),
            "monthly_saving_usd": _money(self.saving_usd),
            "break_even_months": None if self.break_even_months is None
            else round(self.break_even_months, 4),
            "serving_until": self.serving_until,
            "serving_months": None if self.serving_months is None
            else round(self.serving_months, 2),
            "complete": self.complete,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RouteCost:
        return cls(
            model=str(data.get("model", "")), label=str(data.get("label", "")),
            monthly_usd=data.get("monthly_cost_usd"), parts=dict(data.get("parts") or {}),
            training_usd=float(data.get("training_cost_usd") or 0.0),
            training=dict(data.get("training") or {}),
            saving_usd=data.get("monthly_saving_usd"),
            break_even_months=data.get("break_even_months"),
            serving_until=data.get("serving_until"), serving_months=data.get("serving_months"),
            complete=bool(data.get("complete", True)), note=data.get("note"),
        )


@dataclass(frozen=True)
class Costs:
    monthly_input_tokens: int | None
    input_price_per_mtok: float | None
    cached_input_price_per_mtok: float | None
    output_price_per_mtok: float | None
    monthly_prompt_cost_usd: float | None
    monthly_cost_prompting_usd: float | None
    tuned_prompt_tokens: int | None
    monthly_cost_fine_tuned_usd: float | None
    monthly_saving_usd: float | None
    training_cost_usd: float | None
    break_even_months: float | None
    priced_on: str = ""
    prompting: Mapping[str, float] = field(default_factory=dict)
    route: RouteCost | None = None
    routes: tuple[RouteCost, ...] = ()
    own_route: RouteCost | None = None  # the team's model's own route, open or not
    own_route_open: bool = False
    serving_months: float | None = None
    required_serving_months: float | None = None
    serving_shortfall_months: float | None = None
    inputs: tuple[Input, ...] = ()
    # Prompting the route's own model, untuned, on the same workload: where the fine-tune
    # runs on another model, this is how much of the saving the move alone makes.
    prompting_on_route_usd: float | None = None

    @property
    def break_even_status(self) -> str:
        """`pays_back`, `never` (it costs more every month), or `unknown` (no volume given)."""
        if self.monthly_input_tokens is None:
            return "unknown"
        return "never" if self.break_even_months is None else "pays_back"

    def metric(self, name: str) -> float | None:
        return getattr(self, name)

    def input(self, question_id: str) -> Input | None:
        return next((i for i in self.inputs if i.question == question_id), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money to the cent, months to 4 places, prices exactly as used."""
        data: dict[str, Any] = {name: getattr(self, name) for name in COST_FIELDS}
        for key, value in data.items():
            if value is not None and key.endswith("_usd"):
                data[key] = round(value, 2)
        if self.break_even_months is not None:
            data["break_even_months"] = round(self.break_even_months, 4)
        data["break_even_status"] = self.break_even_status
        data["priced_on"] = self.priced_on
        data["prompting"] = {k: round(v, 2) for k, v in self.prompting.items()}
        data["route"] = self.route.to_dict() if self.route is not None else None
        data["routes"] = [r.to_dict() for r in self.routes]
        data["own_route_open"] = self.own_route_open
        data["prompting_on_route_usd"] = _money(self.prompting_on_route_usd)
        data["serving"] = {
            "months": _months(self.serving_months),
            "required_months": _months(self.required_serving_months),
            "shortfall_months": _months(self.serving_shortfall_months),
        }
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Costs:
        """The inverse of `to_dict` (a stored decision); missing figures are None."""
        values = {name: data.get(name) for name in COST_FIELDS}
        serving = data.get("serving") if isinstance(data.get("serving"), Mapping) else {}
        route = data.get("route")
        return cls(
            **values,
            priced_on=str(data.get("priced_on") or ""),
            prompting=dict(data.get("prompting") or {}),
            route=RouteCost.from_dict(route) if isinstance(route, Mapping) else None,
            routes=tuple(RouteCost.from_dict(r) for r in data.get("routes") or ()
                         if isinstance(r, Mapping)),
            own_route_open=bool(data.get("own_route_open", False)),
            serving_months=serving.get("months"),
            required_serving_months=serving.get("required_months"),
            serving_shortfall_months=serving.get("shortfall_months"),
            prompting_on_route_usd=data.get("prompting_on_route_usd"),
        )


def _money(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _months(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# ---------------------------------------------------------------- the inputs


def effective(knowledge: Knowledge, answers: Mapping[str, Any], question_id: str) -> Any:
    """The answer if given (not "not sure"), else the question's stated assumption.

    Assumptions taken from the catalogue (`model:<field>`) come from the model prompting
    is priced on; route-dependent ones (`route:...`) are known only to `compute_costs` and
    come back as None here."""
    if is_given(answers, question_id):
        return answers[question_id]
    question = knowledge.question(question_id)
    if question.assume_from is not None:
        table, _, rest = question.assume_from.partition(":")
        if table == "model":
            return getattr(catalogue.priced_as(knowledge, answers).prices, rest)
        if table in ("fee", "training"):
            return knowledge.reference(question).value
        return None
    return question.assume


@dataclass(frozen=True)
class _Workload:
    prompt: int | None
    calls: int | None
    variable: int
    output: int
    cache_share: float
    tuned_share: float
    examples: int
    examples_given: bool

    @property
    def has_volume(self) -> bool:
        return self.prompt is not None and self.calls is not None

    @property
    def tuned_prompt(self) -> int | None:
        return None if self.prompt is None else math.ceil(self.prompt * self.tuned_share)


def _number(knowledge: Knowledge, answers: Mapping[str, Any], qid: str) -> float:
    return float(effective(knowledge, answers, qid))


def _workload(knowledge: Knowledge, answers: Mapping[str, Any]) -> _Workload:
    prompt = int(answers["prompt_tokens"]) if is_given(answers, "prompt_tokens") else None
    calls = int(answers["monthly_calls"]) if is_given(answers, "monthly_calls") else None
    given_examples = (int(answers["labelled_examples"])
                      if is_given(answers, "labelled_examples") else 0)
    default_examples = knowledge.policy.costing.training_examples_if_unknown
    return _Workload(
        prompt=prompt,
        calls=calls,
        variable=int(_number(knowledge, answers, "variable_input_tokens")),
        output=int(_number(knowledge, answers, "output_tokens")),
        cache_share=_number(knowledge, answers, "cacheable_share"),
        tuned_share=_number(knowledge, answers, "tuned_prompt_share"),
        examples=given_examples if given_examples > 0 else default_examples,
        examples_given=given_examples > 0,
    )


def _given(answers: Mapping[str, Any], qid: str) -> float | None:
    return float(answers[qid]) if is_given(answers, qid) else None


# ---------------------------------------------------------------- prompting


def _static_cost(tokens: int, calls: int, share: float, price_in: float,
                 price_cached: float | None, min_cached: int) -> float:
    cached = share if price_cached is not None and tokens >= min_cached else 0.0
    rate = price_in * (1 - cached) + (price_cached or 0.0) * cached
    return tokens * calls / MTOK * rate


@dataclass(frozen=True)
class _Prices:
    input: float
    cached: float | None
    output: float
    min_cached: int


def _prompting_prices(row: ModelRow, answers: Mapping[str, Any]) -> _Prices:
    base = row.prices
    given_in = _given(answers, "input_price_per_mtok")
    given_out = _given(answers, "output_price_per_mtok")
    price_in = given_in if given_in is not None else (base.input or 0.0)
    cached = base.cached_input
    if given_in is not None and cached is not None and base.input:
        cached = given_in * cached / base.input  # the same discount on the price paid
    price_out = given_out if given_out is not None else (base.output or 0.0)
    return _Prices(price_in, cached, price_out, base.min_cached_tokens)


# ---------------------------------------------------------------- a route


def _tuned_prices(knowledge: Knowledge, row: ModelRow, answers: Mapping[str, Any]) -> _Prices:
    tuning = row.tuning
    assert tuning is not None
    base = row.prices
    markup = _given(answers, "fine_tuned_price_multiplier")
    if markup is not None:
        return _Prices((base.input or 0.0) * markup,
                       None if base.cached_input is None else base.cached_input * markup,
                       (base.output or 0.0) * markup, base.min_cached_tokens)
    prices = base if tuning.at_base_price or tuning.prices is None else tuning.prices
    return _Prices(prices.input or 0.0, prices.cached_input, prices.output or 0.0,
                   prices.min_cached_tokens)


def _markup(knowledge: Knowledge, row: ModelRow, answers: Mapping[str, Any]) -> float:
    tuned = _tuned_prices(knowledge, row, answers)
    base_in = row.prices.input or 0.0
    return tuned.input / base_in if base_in else 1.0


#: The answers a route's cost reads besides the workload (the cost parameters).
_ROUTE_READS = ("fine_tuned_price_multiplier", "hosting_usd_per_month", "training_cost_usd",
                "tokens_per_example", "epochs", "tasks_on_base", "eval_cost_usd_per_month")


@dataclass(frozen=True)
class _RouteBasis:
    """What a route's cost is made of apart from the workload: worked out once per row,
    day and cost parameters, since a search prices the same routes for many workloads."""

    prices: _Prices
    end: date | None
    label: str
    serving: float | None
    hosting_given: float | None
    hosting_kind: str
    hosting_usd_per_hour: float
    hosting_note: str | None
    gpu: tuple[str, float, float] | None  # (name, USD an hour, tokens a month per GPU)
    tasks: int
    training_given: float | None
    tokens_per_example: int | None
    epochs: int
    training: Any  # the row's training facts (or None)
    fallback_training: Any  # the providers' total-price fallback
    evals: float


_BASES: weakref.WeakKeyDictionary[Knowledge, dict[tuple[Any, ...], _RouteBasis]] = (
    weakref.WeakKeyDictionary())


def _basis_key(answers: Mapping[str, Any], today: date) -> tuple[Any, ...]:
    return (today, *(answers.get(q) for q in _ROUTE_READS))


def _basis(knowledge: Knowledge, row: ModelRow, answers: Mapping[str, Any], today: date,
           key: tuple[Any, ...] | None = None) -> _RouteBasis:
    cache = _BASES.setdefault(knowledge, {})
    full = (row.id, *(key or _basis_key(answers, today)))
    found = cache.get(full)
    if found is None:
        if len(cache) > 20_000:
            cache.clear()
        found = cache[full] = _new_basis(knowledge, row, answers, today)
    return found


def _new_basis(knowledge: Knowledge, row: ModelRow, answers: Mapping[str, Any],
               today: date) -> _RouteBasis:
    tuning = row.tuning
    assert tuning is not None
    hosting = tuning.hosting
    costing = knowledge.policy.costing
    gpu = None
    if hosting.kind == "gpu":
        card = knowledge.gpu(str(hosting.gpu))
        capacity = (float(hosting.tokens_per_gpu_second or 1) * SECONDS_PER_HOUR
                    * costing.hours_per_month * costing.gpu_utilisation)
        gpu = (card.name, card.usd_per_hour, capacity)
    end, label, serving = _row_facts(knowledge, row.id, today)
    training = tuning.training
    given_tokens = _given(answers, "tokens_per_example")
    return _RouteBasis(
        prices=_tuned_prices(knowledge, row, answers),
        end=end, label=label, serving=serving,
        hosting_given=_given(answers, "hosting_usd_per_month"),
        hosting_kind=hosting.kind,
        hosting_usd_per_hour=hosting.usd_per_hour or 0.0,
        hosting_note=hosting.note,
        gpu=gpu,
        tasks=max(1, int(effective(knowledge, answers, "tasks_on_base") or 1)),
        training_given=_given(answers, "training_cost_usd"),
        tokens_per_example=None if given_tokens is None else int(given_tokens),
        epochs=int(_given(answers, "epochs") or (training.epochs if training else 3)),
        training=training,
        fallback_training=next(t for t in knowledge.providers.training
                               if t.usd_total is not None),
        evals=_number(knowledge, answers, "eval_cost_usd_per_month"),
    )


def _hosting(knowledge: Knowledge, basis: _RouteBasis,
             monthly_tokens: float | None) -> tuple[float, bool, str | None]:
    """(USD a month, priced, note) of serving the tuned model on this route."""
    if basis.hosting_given is not None:
        return basis.hosting_given, True, None
    hours = knowledge.policy.costing.hours_per_month
    if basis.hosting_kind == "hourly_fee":
        return basis.hosting_usd_per_hour * hours, True, None
    if basis.gpu is not None:
        # Several tasks as adapters on one base model share its GPUs: this task pays its
        # share of the GPUs all of them need (each with this task's load).
        name, usd_per_hour, capacity = basis.gpu
        tasks = basis.tasks
        gpus = max(1, math.ceil(tasks * (monthly_tokens or 0.0) / capacity))
        note = f"{gpus} x {name}" + (f", shared by {tasks} tasks" if tasks > 1 else "")
        return gpus / tasks * usd_per_hour * hours, True, note
    if basis.hosting_kind == "provisioned_throughput":
        return 0.0, False, basis.hosting_note
    return 0.0, True, None


def _per_example(basis: _RouteBasis, work: _Workload) -> int:
    if basis.tokens_per_example is not None:
        return basis.tokens_per_example
    prompt = work.tuned_prompt if work.tuned_prompt is not None else 0
    return (prompt + work.variable + work.output) or 1000


def _training_usd(basis: _RouteBasis, work: _Workload) -> float:
    if basis.training_given is not None:
        return basis.training_given
    training = basis.training
    if training is not None and training.usd_per_mtok is not None:
        return (work.examples * _per_example(basis, work) * basis.epochs / MTOK
                * training.usd_per_mtok)
    if training is not None and training.usd_per_hour is not None and training.hours:
        return training.usd_per_hour * training.hours
    return float(basis.fallback_training.usd_total or 0.0)


def _training_detail(basis: _RouteBasis, work: _Workload) -> dict[str, Any]:
    """How the training cost was worked out, for the explanation."""
    if basis.training_given is not None:
        return {"given": True}
    training = basis.training
    detail: dict[str, Any] = {"examples": work.examples, "examples_given": work.examples_given,
                              "tokens_per_example": _per_example(basis, work),
                              "epochs": basis.epochs}
    if training is not None and training.usd_per_mtok is not None:
        detail.update(usd_per_mtok=training.usd_per_mtok, source=training.source,
                      as_of=training.checked_on)
    elif training is not None and training.usd_per_hour is not None and training.hours:
        detail.update(usd_per_hour=training.usd_per_hour, hours=training.hours,
                      source=training.source)
    else:
        fallback = basis.fallback_training
        detail.update(usd_total=fallback.usd_total, source=fallback.source,
                      as_of=fallback.checked_on)
    return detail


def _parts(knowledge: Knowledge, basis: _RouteBasis, work: _Workload
           ) -> tuple[dict[str, float], bool, str | None]:
    """The monthly cost parts of serving the tuned model (the workload has volume)."""
    assert work.prompt is not None and work.calls is not None
    prices = basis.prices
    tuned_prompt = work.tuned_prompt or 0
    parts = {
        "tuned_prompt": _static_cost(tuned_prompt, work.calls, work.cache_share, prices.input,
                                     prices.cached, prices.min_cached),
        "variable_input": work.variable * work.calls / MTOK * prices.input,
        "output": work.output * work.calls / MTOK * prices.output,
    }
    tokens = float(work.calls) * (tuned_prompt + work.variable + work.output)
    hosting, priced, note = _hosting(knowledge, basis, tokens)
    parts["hosting"] = hosting
    parts["evals"] = basis.evals
    return parts, priced, note


def _monthly(knowledge: Knowledge, basis: _RouteBasis, work: _Workload) -> tuple[float, bool]:
    """sum(_parts(...)) and whether it is priced, without building the parts."""
    assert work.prompt is not None and work.calls is not None
    prices = basis.prices
    tuned_prompt = work.tuned_prompt or 0
    calls = work.calls
    hosting, priced, _ = _hosting(knowledge, basis,
                                  float(calls) * (tuned_prompt + work.variable + work.output))
    # the same terms in the same order as sum(_parts(...).values()): the same float
    return (_static_cost(tuned_prompt, calls, work.cache_share, prices.input, prices.cached,
                         prices.min_cached)
            + work.variable * calls / MTOK * prices.input
            + work.output * calls / MTOK * prices.output
            + hosting + basis.evals), priced


def route_cost(knowledge: Knowledge, row: ModelRow, answers: Mapping[str, Any],
               work: _Workload, prompting_usd: float | None, today: date,
               key: tuple[Any, ...] | None = None, *, detail: bool = True) -> RouteCost:
    """Fine-tuning on `row`, for this workload; the saving against prompting (without
    `detail`, no account of how the training cost was worked out)."""
    basis = _basis(knowledge, row, answers, today, key)
    training_usd = _training_usd(basis, work)
    training = _training_detail(basis, work) if detail else {}
    serving_until = basis.end.isoformat() if basis.end else None
    if not work.has_volume:
        _, priced, note = _hosting(knowledge, basis, None)
        return RouteCost(row.id, basis.label, None, {}, training_usd, training, None, None,
                         serving_until, basis.serving, priced, note)
    parts, priced, note = _parts(knowledge, basis, work)
    monthly = sum(parts.values())
    saving = None if prompting_usd is None else prompting_usd - monthly
    break_even = training_usd / saving if saving is not None and saving > 0 else None
    return RouteCost(row.id, basis.label, monthly, parts, training_usd, training, saving,
                     break_even, serving_until, basis.serving, priced, note)


@lru_cache(maxsize=4096)
def _row_facts(knowledge: Knowledge, model_id: str, today: date
               ) -> tuple[date | None, str, float | None]:
    """(first day it stops serving, label, months it could serve from today): the same
    for every workload, so worked out once per row and day."""
    row = knowledge.model(model_id)
    return (catalogue.serving_end(row), catalogue.full_label(knowledge, row),
            catalogue.serving_months(row, today))


@lru_cache(maxsize=256)
def _startable(knowledge: Knowledge, today: date) -> tuple[str, ...]:
    """Ids of the rows a fine-tuning job can start on today."""
    return tuple(row.id for row in knowledge.catalogue.models
                 if catalogue.can_start_jobs(row, today))


@lru_cache(maxsize=256)
def _may_serve_long_enough(knowledge: Knowledge, today: date) -> tuple[str, ...]:
    """The startable rows whose tuned models could serve the minimum window: no other
    route can pass `_window_ok` (the required months are never below the minimum)."""
    least = knowledge.policy.serving_window.min_months
    found = []
    for model_id in _startable(knowledge, today):
        months = catalogue.serving_months(knowledge.model(model_id), today)
        if months is None or months >= least:
            found.append(model_id)
    return tuple(found)


def required_months(knowledge: Knowledge, route: RouteCost) -> float:
    """How long a tuned model must serve: build time plus payback, at least the minimum."""
    window = knowledge.policy.serving_window
    payback = route.break_even_months or 0.0
    return max(window.min_months, window.build_months + payback)


def _window_ok(knowledge: Knowledge, route: RouteCost) -> bool:
    return route.serving_months is None or route.serving_months >= required_months(
        knowledge, route)


def _remaining(knowledge: Knowledge, answers: Mapping[str, Any], work: _Workload,
               prompting_usd: float | None, today: date, exclude: str | None,
               ) -> list[RouteCost]:
    """Every other route a fine-tune could start on today and serve long enough on."""
    found = []
    key = _basis_key(answers, today)
    for model_id in _may_serve_long_enough(knowledge, today):
        row = knowledge.model(model_id)
        if row.id == exclude:
            continue
        cost = route_cost(knowledge, row, answers, work, prompting_usd, today, key)
        if _window_ok(knowledge, cost):
            found.append(cost)
    return found


def _cheapest_remaining(knowledge: Knowledge, answers: Mapping[str, Any], work: _Workload,
                        prompting_usd: float | None, today: date, exclude: str | None,
                        ) -> RouteCost | None:
    """`min(_remaining(...), key=_rank)`, pricing each route with numbers only and
    building the full RouteCost for the winner alone (the search's hot path)."""
    key = _basis_key(answers, today)
    window = knowledge.policy.serving_window
    volume = work.has_volume
    best: tuple[tuple[Any, ...], ModelRow] | None = None
    for model_id in _may_serve_long_enough(knowledge, today):
        if model_id == exclude:
            continue
        row = knowledge.model(model_id)
        basis = _basis(knowledge, row, answers, today, key)
        training_usd = _training_usd(basis, work)
        monthly, break_even, complete = None, None, True
        if volume:
            monthly, complete = _monthly(knowledge, basis, work)
            if prompting_usd is not None and prompting_usd - monthly > 0:
                break_even = training_usd / (prompting_usd - monthly)
        required = max(window.min_months, window.build_months + (break_even or 0.0))
        if basis.serving is not None and basis.serving < required:
            continue
        rank = (not complete, (monthly if monthly is not None else 0.0) + training_usd / 12)
        if best is None or rank < best[0]:
            best = (rank, row)
    if best is None:
        return None
    return route_cost(knowledge, best[1], answers, work, prompting_usd, today, key,
                      detail=False)


def _rank(cost: RouteCost) -> tuple[Any, ...]:
    """Cheapest first; unpriced hosting last; without volume, the catalogue's order."""
    monthly = cost.monthly_usd if cost.monthly_usd is not None else 0.0
    return (not cost.complete, monthly + cost.training_usd / 12)


def shown_routes(knowledge: Knowledge, team: ModelRow | None,
                 remaining: list[RouteCost]) -> tuple[RouteCost, ...]:
    """The routes worth naming: the same base model elsewhere, the cheapest open-weights
    route and the cheapest other closed one (at most three: the same base model first,
    then cheapest first)."""
    picked: list[RouteCost] = []

    def pick(candidates: list[RouteCost]) -> None:
        for cost in sorted(candidates, key=_rank):
            if cost not in picked:
                picked.append(cost)
                return

    rows = {c.model: knowledge.model(c.model) for c in remaining}
    same: list[RouteCost] = []
    if team is not None:
        same = sorted((c for c in remaining if rows[c.model].base == team.base),
                      key=_rank)[:1]
    picked.extend(same)
    pick([c for c in remaining if rows[c.model].weights == "open"])
    pick([c for c in remaining if rows[c.model].weights == "closed"])
    others = sorted((c for c in picked if c not in same), key=_rank)
    return tuple([*same, *others][:3])


def compute_costs(knowledge: Knowledge, answers: Mapping[str, Any], today: date,
                  *, detail: bool = True) -> Costs:
    """Costs from the given answers plus stated assumptions, as of `today`.

    `detail=False` skips what only the explanation shows (the other routes' list), not
    anything a rule reads."""
    team = catalogue.model_row(knowledge, answers)
    priced = catalogue.priced_as(knowledge, answers)
    work = _workload(knowledge, answers)
    prices = _prompting_prices(priced, answers)

    prompting: dict[str, float] = {}
    monthly_tokens = prompt_cost = prompting_usd = None
    if work.has_volume:
        assert work.prompt is not None and work.calls is not None
        monthly_tokens = work.prompt * work.calls
        prompt_cost = monthly_tokens / MTOK * prices.input
        prompting = _prompting_parts(work, prices)
        prompting_usd = sum(prompting.values())

    # The route the fine-tune is costed on: the team's own when open long enough, else
    # the cheapest that remains.
    candidate = team or priced
    own: RouteCost | None = None
    if catalogue.can_start_jobs(candidate, today):
        own = route_cost(knowledge, candidate, answers, work, prompting_usd, today,
                         detail=detail)
    own_open = own is not None and _window_ok(knowledge, own)
    route = own if own_open else None
    remaining: list[RouteCost] = []
    if detail:
        remaining = _remaining(knowledge, answers, work, prompting_usd, today,
                               exclude=candidate.id)
        if route is None and remaining:
            route = min(remaining, key=_rank)
    elif route is None:
        route = _cheapest_remaining(knowledge, answers, work, prompting_usd, today,
                                    exclude=candidate.id)

    on_route = None
    if detail and work.has_volume and route is not None and route.model != priced.id:
        base = knowledge.model(route.model).prices
        if base.input is not None and base.output is not None:
            on_route = sum(_prompting_parts(work, _Prices(
                base.input, base.cached_input, base.output, base.min_cached_tokens)).values())

    serving = required = shortfall = None
    if team is not None and own is not None:
        serving = own.serving_months
        required = required_months(knowledge, own)
        if serving is not None:
            shortfall = required - serving

    return Costs(
        monthly_input_tokens=monthly_tokens,
        input_price_per_mtok=prices.input,
        cached_input_price_per_mtok=prices.cached,
        output_price_per_mtok=prices.output,
        monthly_prompt_cost_usd=prompt_cost,
        monthly_cost_prompting_usd=prompting_usd,
        tuned_prompt_tokens=work.tuned_prompt if work.has_volume else None,
        monthly_cost_fine_tuned_usd=route.monthly_usd if route else None,
        monthly_saving_usd=route.saving_usd if route else None,
        training_cost_usd=route.training_usd if route else None,
        break_even_months=route.break_even_months if route else None,
        priced_on=priced.id,
        prompting=prompting,
        route=route,
        routes=shown_routes(knowledge, team, remaining) if detail else (),
        own_route=own,
        own_route_open=own_open,
        serving_months=serving,
        required_serving_months=required,
        serving_shortfall_months=shortfall,
        inputs=_inputs(knowledge, answers, priced, route, work) if detail else (),
        prompting_on_route_usd=on_route,
    )


def _prompting_parts(work: _Workload, prices: _Prices) -> dict[str, float]:
    """A month of prompting at `prices`: the static prompt, the per-call input, output."""
    assert work.prompt is not None and work.calls is not None
    return {
        "static_prompt": _static_cost(work.prompt, work.calls, work.cache_share,
                                      prices.input, prices.cached, prices.min_cached),
        "variable_input": work.variable * work.calls / MTOK * prices.input,
        "output": work.output * work.calls / MTOK * prices.output,
    }


def _inputs(knowledge: Knowledge, answers: Mapping[str, Any], priced: ModelRow,
            route: RouteCost | None, work: _Workload) -> tuple[Input, ...]:
    """Every cost parameter (`ask: false`) as the math used it, given or assumed."""
    found = []
    route_row = knowledge.model(route.model) if route is not None else None
    for question in knowledge.questions:
        if question.ask:
            continue
        qid = question.id
        if is_given(answers, qid):
            found.append(Input(qid, answers[qid], True))
            continue
        table, _, rest = (question.assume_from or "").partition(":")
        if table == "model":
            fact = priced.prices
            said = f"{catalogue.full_label(knowledge, priced)}, {catalogue.stamp(fact)}"
            if fact.note:  # e.g. a host's rate standing in for your own GPUs
                said += f"; {fact.note}"
            found.append(Input(qid, getattr(fact, rest), False, fact.source, said))
        elif table == "route":
            if route is None or route_row is None:
                continue
            if rest == "markup" and _self_hosted(route_row):
                continue  # GPU time, not a per-token price: no markup to state
            found.append(_route_input(knowledge, qid, rest, route, route_row, answers))
        elif table in ("fee", "training"):
            reference = knowledge.reference(question)
            found.append(Input(qid, reference.value, False, reference.source, reference.note))
        else:
            found.append(Input(qid, question.assume, False,
                               question.assume_source or "project-assumptions"))
    return tuple(found)


def _self_hosted(row: ModelRow) -> bool:
    return row.tuning is not None and row.tuning.hosting.kind == "gpu"


def _route_input(knowledge: Knowledge, qid: str, what: str, route: RouteCost,
                 row: ModelRow, answers: Mapping[str, Any]) -> Input:
    tuning = row.tuning
    assert tuning is not None
    where = catalogue.full_label(knowledge, row)
    if what == "hosting":
        hosting = tuning.hosting
        kind = route.note or hosting.kind.replace("_", " ")
        note = f"{where}: {kind}, {catalogue.stamp(hosting)}"
        if not route.complete:
            note += " (not priced: not counted)"
        return Input(qid, round(route.parts.get("hosting", 0.0), 2), False, hosting.source, note)
    if what == "markup":
        fact = tuning.prices if tuning.prices is not None and not tuning.at_base_price \
            else tuning
        return Input(qid, round(_markup(knowledge, row, answers), 4), False, fact.source,
                     f"{where}, {catalogue.stamp(fact)}")
    training = tuning.training
    source = training.source if training is not None else "seed"
    stamp = catalogue.stamp(training) if training is not None else "the seed's reading"
    if what == "training":
        return Input(qid, round(route.training_usd, 2), False, source, f"{where}, {stamp}")
    if what == "epochs":
        return Input(qid, route.training.get("epochs", 3), False, source, f"{where}, {stamp}")
    return Input(qid, route.training.get("tokens_per_example"), False, "project-assumptions",
                 "the tuned prompt, the call's own input and the output")
