"""Scenario sets shared by the benchmarks: hand-written answer files and generated ones."""

from __future__ import annotations

import math
import random
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.engine.answers import NOT_SURE, parse_answers
from bot.engine.catalogue import derived_access
from bot.knowledge import Knowledge, Question

ROOT = Path(__file__).resolve().parent.parent
HAND_WRITTEN = ROOT / "tests" / "scenarios"
# Upper ends of the log-uniform draws: realistic workloads, not the flow's bounds.
TYPICAL_MAX = {"prompt_tokens": 30_000, "monthly_calls": 200_000_000, "labelled_examples": 50_000}


def hand_written(knowledge: Knowledge) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(HAND_WRITTEN.glob("*.yaml")):
        answers, errors = parse_answers(knowledge, yaml.safe_load(path.read_text()) or {})
        if errors:
            raise SystemExit(f"{path}: {errors[0]}")
        found.append((path.stem, answers))
    return found


def generated(knowledge: Knowledge, count: int, seed: int = 20261129,
              today: date | None = None) -> list[tuple[str, dict]]:
    """Complete answer sets drawn uniformly: every asked question answered (options,
    yes/no evenly; numbers log-uniform up to typical workloads; a tenth "not sure")."""
    rng = random.Random(seed)
    found = []
    for index in range(count):
        answers: dict[str, Any] = {}
        for question in knowledge.asked_questions:
            if rng.random() < 0.1:
                answers[question.id] = NOT_SURE
            elif question.kind in ("choice", "model"):
                answers[question.id] = rng.choice(question.option_values())
            elif question.kind == "bool":
                answers[question.id] = rng.random() < 0.5
            else:
                high = TYPICAL_MAX.get(question.id, 50_000)
                answers[question.id] = int(10 ** rng.uniform(0, math.log10(high)))
        found.append((f"uniform-{index:03d}", _consistent(knowledge, answers, today)))
    return found


def realistic(knowledge: Knowledge, count: int, seed: int = 20261202,
              today: date | None = None) -> list[tuple[str, dict]]:
    """Complete answer sets drawn from the questions' priors (the knowledge's estimate of
    how often each answer comes up), "not sure" included where the prior has it."""
    rng = random.Random(seed)
    found = []
    for index in range(count):
        answers = {q.id: _draw(knowledge, q, rng) for q in knowledge.asked_questions}
        found.append((f"realistic-{index:03d}", _consistent(knowledge, answers, today)))
    return found


def _consistent(knowledge: Knowledge, answers: dict[str, Any], today: date | None
                ) -> dict[str, Any]:
    """A team that names its model answers model access the way the catalogue does."""
    model = answers.get("model")
    if model not in (None, NOT_SURE) and today is not None:
        answers["model_access"] = derived_access(knowledge.model(model), today)
    return answers


def _draw(knowledge: Knowledge, question: Question, rng: random.Random) -> Any:
    prior = dict(question.prior or {})
    if question.kind in ("int", "float"):
        bounds = sorted((float(k), w) for k, w in prior.items() if k not in ("more", "not_sure"))
        keys: list[Any] = [*bounds, ("more", prior.get("more", 0.0)),
                           ("not_sure", prior.get("not_sure", 0.0))]
        pick = _pick(rng, [weight for _, weight in keys])
        low = float(question.min or 0)
        if keys[pick][0] == "not_sure":
            return NOT_SURE
        if keys[pick][0] == "more":
            start = bounds[-1][0] if bounds else low
            end = min(float(question.max or start), start * 10 + 10)
        else:
            end = keys[pick][0]
            start = bounds[pick - 1][0] if pick > 0 else low
        value = math.expm1(rng.uniform(math.log1p(start), math.log1p(end)))
        value = max(value, low + (1 if question.min_exclusive else 0))
        return int(round(value)) if question.kind == "int" else round(value, 4)
    if question.kind == "bool":
        options: list[Any] = [True, False]
        keys_of = ["yes", "no"]
    elif question.kind == "model":
        options = question.option_values()
        keys_of = options
    else:
        options = question.option_values()
        keys_of = options
    weights = []
    for value, key in zip(options, keys_of, strict=True):
        if key in prior:
            weights.append(prior[key])
        elif question.kind == "model" and knowledge.model(value).provider in prior:
            provider = knowledge.model(value).provider
            share = sum(1 for o in options if knowledge.model(o).provider == provider)
            weights.append(prior[provider] / share)
        else:
            weights.append(None)
    listed = sum(w for w in weights if w is not None)
    unlisted = sum(1 for w in weights if w is None)
    rest = max(0.0, 1.0 - listed - prior.get("not_sure", 0.0)) / unlisted if unlisted else 0
    weights = [w if w is not None else rest for w in weights]
    pick = _pick(rng, [*weights, prior.get("not_sure", 0.0)])
    return NOT_SURE if pick == len(options) else options[pick]


def _pick(rng: random.Random, weights: list[float]) -> int:
    total = sum(weights)
    roll = rng.random() * total
    for index, weight in enumerate(weights):
        roll -= weight
        if roll < 0:
            return index
    return len(weights) - 1


def completed(knowledge: Knowledge, answers: dict[str, Any]) -> dict[str, Any]:
    """A partial hand-written scenario made complete with the questions' assumptions,
    so that the simulated user has an answer to whatever the flow asks."""
    full = dict(answers)
    for question in knowledge.asked_questions:
        full.setdefault(question.id, NOT_SURE if question.assume is None else question.assume)
    return full
