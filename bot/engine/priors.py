"""How likely each answer to a question is, from the knowledge's `prior:` (pure).

The flow weighs the questions it could ask next by the answers they are likely to get
(see flow.py). A number question's prior gives the share of teams per range (upper
bounds); within a range answers spread evenly on a log scale, so a candidate value that
stands for the numbers from the candidate before it up to itself gets that range's
share. Answers the prior does not list share what is left of 1 evenly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE
from bot.engine.candidates import candidate_values

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question


def answer_weights(knowledge: Knowledge, question: Question) -> tuple[tuple[Any, float], ...]:
    """(candidate answer, probability) for every candidate value of `question` and, when
    the prior gives it a share, "not sure"; the probabilities add up to 1."""
    return _weights(knowledge, question.id)


@lru_cache(maxsize=512)
def _weights(knowledge: Knowledge, question_id: str) -> tuple[tuple[Any, float], ...]:
    question = knowledge.question(question_id)
    values = list(candidate_values(knowledge, question))
    prior = dict(question.prior or {})
    not_sure = prior.pop("not_sure", 0.0)
    if question.kind in ("int", "float"):
        shares = _number_shares(question, values, prior)
    elif question.kind == "model":
        shares = _model_shares(knowledge, values, prior)
    else:
        keys = ["yes" if v else "no" for v in values] if question.kind == "bool" else values
        shares = _listed_shares(keys, prior)
    total_share = sum(shares) or 1.0
    found = [(value, share / total_share * (1.0 - not_sure))
             for value, share in zip(values, shares, strict=True)]
    if not_sure:
        found.append((NOT_SURE, not_sure))
    total = sum(w for _, w in found) or 1.0
    return tuple((value, weight / total) for value, weight in found)


def _listed_shares(keys: Sequence[Any], prior: Mapping[str, float]) -> list[float]:
    if not prior:
        return [1.0 / len(keys)] * len(keys)
    listed = sum(prior.get(str(k), 0.0) for k in keys)
    unlisted = [k for k in keys if str(k) not in prior]
    rest = max(0.0, 1.0 - listed) / len(unlisted) if unlisted else 0.0
    return [prior.get(str(k), rest) for k in keys]


def _model_shares(knowledge: Knowledge, values: Sequence[str],
                  prior: Mapping[str, float]) -> list[float]:
    """A provider's share is split evenly among its models; a model's own entry wins."""
    per_provider: dict[str, int] = {}
    for value in values:
        provider = knowledge.model(value).provider
        per_provider[provider] = per_provider.get(provider, 0) + 1
    direct = {}
    for value in values:
        provider = knowledge.model(value).provider
        if value in prior:
            direct[value] = prior[value]
        elif provider in prior:
            direct[value] = prior[provider] / per_provider[provider]
    return _listed_shares(values, {**direct})


def _number_shares(question: Question, values: Sequence[float],
                   prior: Mapping[str, float]) -> list[float]:
    low = float(question.min or 0.0)
    high = float(question.max or low)
    if not prior:
        bounds = [(high, 1.0)]
    else:
        bounds = sorted((float(k), w) for k, w in prior.items() if k != "more")
        more = prior.get("more", max(0.0, 1.0 - sum(w for _, w in bounds)))
        if more and (not bounds or bounds[-1][0] < high):
            bounds.append((high, more))

    def cdf(x: float) -> float:
        total, below = 0.0, low
        for upper, weight in bounds:
            if x >= upper:
                total += weight
            elif x > below:
                span = math.log1p(upper - low) - math.log1p(below - low)
                part = math.log1p(x - low) - math.log1p(below - low)
                total += weight * (part / span if span > 0 else 1.0)
                break
            else:
                break
            below = upper
        return total

    shares, before = [], None
    for value in values:
        start = cdf(before) if before is not None else 0.0
        shares.append(max(0.0, cdf(float(value)) - start))
        before = float(value)
    shares[-1] += max(0.0, sum(w for _, w in bounds) - sum(shares))
    total = sum(shares) or 1.0
    return [s / total for s in shares]
