"""Parse answers, human forms included: `6k`, `6,000`, `20M`, `1.5 million`, `yes`.

Each bad value becomes an AnswerError naming the question and what is
accepted; the good answers are kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question

Value = str | bool | int | float

_TRUE = {"yes", "y", "true", "t", "1", "on", "yep", "yeah", "sure"}
_FALSE = {"no", "n", "false", "f", "0", "off", "nope", "none"}
_SUFFIXES = {
    "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "millions": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9,
    "%": 0.01, "percent": 0.01,
}
_NUMBER = re.compile(
    r"^\s*(?:(?:usd|us\$|\$)\s*)?(?P<num>[+-]?(?:\d{1,3}(?:[,_ ]\d{3})+|\d+)(?:\.\d+)?|[+-]?\.\d+)"
    r"\s*(?P<suffix>k|thousand|mm|mn|m|millions?|bn|b|billions?|%|percent)?\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class AnswerError(Exception):
    question: str
    given: str
    reason: str

    def __str__(self) -> str:
        return f"{self.question}: {self.reason}"


def accepted(question: Question) -> str:
    """What a question accepts, said the way a person reads it."""
    if question.kind == "choice":
        return "one of " + ", ".join(question.option_values())
    if question.kind == "bool":
        return "yes or no"
    low = "above" if question.min_exclusive else "at least"
    bound = _plain(question.min) if question.min is not None else "0"
    whole = "a whole number" if question.kind == "int" else "a number"
    example = " (e.g. 4000, 6k, 6,000, 20M, 1.5 million)" if question.kind == "int" else ""
    return f"{whole} {low} {bound}{example}"


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def parse_number(text: str) -> float | None:
    """`6k` -> 6000, `1.5 million` -> 1.5e6, `6,000` -> 6000, `$3.5` -> 3.5; else None."""
    match = _NUMBER.match(text.replace("\u00a0", " "))
    if not match:
        return None
    number = float(re.sub(r"[,_ ]", "", match.group("num")))
    suffix = (match.group("suffix") or "").lower()
    return number * _SUFFIXES.get(suffix, 1.0)


def parse_value(question: Question, raw: Any) -> Value:
    """Turn one raw answer into a typed value, or raise AnswerError."""
    given = str(raw).strip() if raw is not None else ""

    def fail(reason: str) -> AnswerError:
        return AnswerError(question.id, given, f"{reason}; accepted: {accepted(question)}")

    if raw is None or given == "":
        raise fail("no value given")
    if question.kind == "bool":
        if isinstance(raw, bool):
            return raw
        lowered = given.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise fail(f"{given!r} is not yes or no")
    if question.kind == "choice":
        wanted = _normalized(given)
        for option in question.options:
            if wanted in (_normalized(option.value), _normalized(option.label)):
                return option.value
        raise fail(f"{given!r} is not an option")
    if isinstance(raw, bool):
        raise fail(f"{given!r} is not a number")
    number = float(raw) if isinstance(raw, int | float) else parse_number(given)
    if number is None or number != number:  # NaN check
        raise fail(f"{given!r} is not a number")
    if question.kind == "int":
        if not float(number).is_integer():
            raise fail(f"{given!r} is not a whole number")
        number = int(number)
    low, high = question.min, question.max
    if low is not None and (number < low or (question.min_exclusive and number == low)):
        raise fail(f"{given!r} is too small")
    if question.kind == "float" and high is not None and question.unit == "share" and number > high:
        raise fail(f"{given!r} is too large")
    return number


def _normalized(text: str) -> str:
    return re.sub(r"[\s_-]+", "_", text.strip().lower())


def parse_answers(
    knowledge: Knowledge, raw: Mapping[str, Any]
) -> tuple[dict[str, Value], list[AnswerError]]:
    """Parse every answer; unknown ids and bad values are errors, the rest is kept.

    Answers come back in the knowledge's question order, so that output built
    from them is the same byte for byte whatever order the input had.
    """
    errors: list[AnswerError] = []
    parsed: dict[str, Value] = {}
    for key in raw:
        if not knowledge.has_question(str(key)):
            known = ", ".join(q.id for q in knowledge.questions)
            errors.append(
                AnswerError(str(key), str(raw[key]), f"unknown question id; known ids: {known}")
            )
    for question in knowledge.questions:
        if question.id not in raw:
            continue
        try:
            parsed[question.id] = parse_value(question, raw[question.id])
        except AnswerError as exc:
            errors.append(exc)
    return parsed, errors
