"""The cost model: what the prompt costs a month, what a fine-tune would cost,
and how many months the one-off training takes to pay back.

Only input tokens are compared: output length does not change with the choice
(a fine-tuned model's output can cost more per token; that markup is applied
to the tuned prompt through `fine_tuned_price_multiplier`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from bot.engine.answers import is_given

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

MTOK = 1_000_000

COST_FIELDS = (
    "monthly_input_tokens",
    "input_price_per_mtok",
    "cached_input_price_per_mtok",
    "monthly_prompt_cost_usd",
    "monthly_prompt_cost_cached_usd",
    "tuned_prompt_tokens",
    "monthly_fine_tuned_cost_usd",
    "monthly_saving_usd",
    "training_cost_usd",
    "break_even_months",
)


@dataclass(frozen=True)
class Costs:
    monthly_input_tokens: int | None
    input_price_per_mtok: float
    cached_input_price_per_mtok: float
    monthly_prompt_cost_usd: float | None
    monthly_prompt_cost_cached_usd: float | None
    tuned_prompt_tokens: int | None
    monthly_fine_tuned_cost_usd: float | None
    monthly_saving_usd: float | None
    training_cost_usd: float
    break_even_months: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: money to the cent, months to 4 places, prices exactly as used."""
        data = asdict(self)
        for key, value in data.items():
            if value is not None and key.endswith("_usd"):
                data[key] = round(value, 2)
        if self.break_even_months is not None:
            data["break_even_months"] = round(self.break_even_months, 4)
        data["break_even_status"] = self.break_even_status
        return data

    @property
    def break_even_status(self) -> str:
        """`pays_back`, `never` (it costs more every month), or `unknown` (no volume given)."""
        if self.monthly_input_tokens is None:
            return "unknown"
        return "never" if self.break_even_months is None else "pays_back"

    def metric(self, name: str) -> float | None:
        return getattr(self, name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Costs:
        """The inverse of `to_dict` (a stored decision); missing figures are None."""
        values = {name: data.get(name) for name in COST_FIELDS}
        values["input_price_per_mtok"] = float(values["input_price_per_mtok"] or 0.0)
        values["cached_input_price_per_mtok"] = float(values["cached_input_price_per_mtok"] or 0.0)
        values["training_cost_usd"] = float(values["training_cost_usd"] or 0.0)
        return cls(**values)


def effective(knowledge: Knowledge, answers: Mapping[str, Any], question_id: str) -> Any:
    """The answer if given (not "not sure"), else the question's stated assumption."""
    if is_given(answers, question_id):
        return answers[question_id]
    question = knowledge.question(question_id)
    if question.assume_from is not None:
        return knowledge.reference(question, _price_model(knowledge, answers)).value
    return question.assume


def _price_model(knowledge: Knowledge, answers: Mapping[str, Any]) -> str:
    return str(effective(knowledge, answers, "price_model"))


def price_row_for(knowledge: Knowledge, answers: Mapping[str, Any]):
    return knowledge.price_row(_price_model(knowledge, answers))


def compute_costs(knowledge: Knowledge, answers: Mapping[str, Any]) -> Costs:
    """Costs from the given answers plus stated assumptions for cost parameters.

    Volume figures are None unless both prompt_tokens and monthly_calls were
    answered: the bot never invents a workload.
    """
    row = price_row_for(knowledge, answers)
    price = float(effective(knowledge, answers, "input_price_per_mtok"))
    if not is_given(answers, "input_price_per_mtok") and row.cached_input is not None:
        cached_price = row.cached_input
    else:
        cached_price = price * knowledge.providers.caching.cache_read_factor
    training = float(effective(knowledge, answers, "training_cost_usd"))

    prompt_tokens = answers["prompt_tokens"] if is_given(answers, "prompt_tokens") else None
    calls = answers["monthly_calls"] if is_given(answers, "monthly_calls") else None
    if prompt_tokens is None or calls is None:
        return Costs(None, price, cached_price, None, None, None, None, None, training, None)

    share_cached = float(effective(knowledge, answers, "cacheable_share"))
    tuned_share = float(effective(knowledge, answers, "tuned_prompt_share"))
    multiplier = float(effective(knowledge, answers, "fine_tuned_price_multiplier"))
    hosting = float(effective(knowledge, answers, "hosting_usd_per_month"))
    evals = float(effective(knowledge, answers, "eval_cost_usd_per_month"))

    monthly_tokens = int(prompt_tokens) * int(calls)
    full_cost = monthly_tokens / MTOK * price
    cached_cost = monthly_tokens / MTOK * (price * (1 - share_cached) + cached_price * share_cached)
    tuned_tokens = math.ceil(int(prompt_tokens) * tuned_share)
    tuned_cost = tuned_tokens * int(calls) / MTOK * price * multiplier + hosting + evals
    saving = cached_cost - tuned_cost
    break_even = training / saving if saving > 0 else None
    return Costs(
        monthly_input_tokens=monthly_tokens,
        input_price_per_mtok=price,
        cached_input_price_per_mtok=cached_price,
        monthly_prompt_cost_usd=full_cost,
        monthly_prompt_cost_cached_usd=cached_cost,
        tuned_prompt_tokens=tuned_tokens,
        monthly_fine_tuned_cost_usd=tuned_cost,
        monthly_saving_usd=saving,
        training_cost_usd=training,
        break_even_months=break_even,
    )
