"""Scenario sets shared by the benchmarks: hand-written answer files and generated ones."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import yaml

from bot.engine.answers import parse_answers
from bot.knowledge import Knowledge

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


def generated(knowledge: Knowledge, count: int, seed: int = 20261129) -> list[tuple[str, dict]]:
    """Complete answer sets: every asked question answered, numbers log-uniform."""
    rng = random.Random(seed)
    found = []
    for index in range(count):
        answers: dict[str, Any] = {}
        for question in knowledge.asked_questions:
            if question.kind == "choice":
                answers[question.id] = rng.choice(question.option_values())
            elif question.kind == "bool":
                answers[question.id] = rng.random() < 0.5
            else:
                high = TYPICAL_MAX.get(question.id, 50_000)
                answers[question.id] = int(10 ** rng.uniform(0, math.log10(high)))
        found.append((f"generated-{index:03d}", answers))
    return found


def completed(knowledge: Knowledge, answers: dict[str, Any]) -> dict[str, Any]:
    """A partial hand-written scenario made complete with the questions' assumptions,
    so that the simulated user has an answer to whatever the flow asks."""
    full = dict(answers)
    for question in knowledge.asked_questions:
        full.setdefault(question.id, question.assume)
    return full
