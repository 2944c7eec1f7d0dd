"""Parse answers, human forms included: `6k`, `6,000`, `20M`, `1.5 million`, `yes`.

Each bad value becomes an AnswerError naming the question and what is
accepted; the good answers are kept.

Any question also takes `not_sure` (and the words people use for it: "not sure",
"don't know", "skip"): the question was asked and the person does not know. The value
stays `NOT_SURE` in the answers; the rules use the question's stated assumption, and the
flow does not ask it again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question

Value = str | bool | int | float

#: The answer "asked, and the person does not know" (any question; see the module doc).
NOT_SURE = "not_sure"
_NOT_SURE_WORDS = {
    "not sure", "notsure", "unsure", "not known", "unknown", "dont know", "don't know",
    "do not know", "no idea", "idk", "skip", "pass", "no clue",
}


def is_not_sure(text: Any) -> bool:
    """Whether a raw answer means "not sure" (`not_sure`, "don't know", "skip", ...)."""
    if not isinstance(text, str):
        return False
    words = " ".join(text.lower().replace("\u2019", "'").replace("_", " ").split())
    return words.rstrip(".!") in _NOT_SURE_WORDS


def is_given(answers: Mapping[str, Any], question_id: str) -> bool:
    """The question has an answer: neither missing nor "not sure"."""
    return answers.get(question_id, NOT_SURE) != NOT_SURE


def given_ids(answers: Mapping[str, Any]) -> frozenset[str]:
    """The ids of the questions that have an answer (not "not sure")."""
    return frozenset(qid for qid, value in answers.items() if value != NOT_SURE)


_TRUE = {"yes", "y", "true", "t", "1", "on", "yep", "yeah", "sure"}
_FALSE = {"no", "n", "false", "f", "0", "off", "nope", "none"}
_SUFFIXES = {
    "k": 10**3, "thousand": 10**3,
    "m": 10**6, "mm": 10**6, "mn": 10**6, "million": 10**6, "millions": 10**6,
    "b": 10**9, "bn": 10**9, "billion": 10**9, "billions": 10**9,
}
_NUMBER = re.compile(
    r"^\s*(?:(?:usd|us\$|\$)\s*)?"
    r"(?P<num>[+-]?(?:\d{1,3}(?:[,_ ]\d{3})+|\d+)(?:\.\d+)?(?:e[+-]?\d+)?|[+-]?\.\d+)"
    r"\s*(?P<suffix>thousand|millions?|billions?|mm|mn|bn|k|m|b)?\.?"
    r"\s*(?P<percent>%|percent)?"
    r"\s*(?P<unit>[a-z /]*?)\s*$",
    re.IGNORECASE,
)
# Words people add after a number ("6k tokens", "20M calls a month", "$3 per 1M").
_UNIT_WORDS = {
    "token", "tokens", "tok", "call", "calls", "request", "requests", "example", "examples",
    "a", "per", "month", "months", "mo", "monthly", "usd", "dollars", "x", "times", "1m",
    "mtok", "input", "in", "prompt", "labelled", "labeled", "of", "the",
}


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
    if question.kind == "model":
        return ("a model of the catalogue as provider:model, e.g. openai:gpt-4.1-mini "
                "(`python -m bot knowledge models` lists them)")
    if question.kind == "bool":
        return "yes or no"
    whole = "a whole number" if question.kind == "int" else "a number"
    low = _plain(question.min if question.min is not None else 0)
    high = _plain(question.max) if question.max is not None else None
    if question.unit == "share":
        return f"{whole} from 0 to 1, or a percentage (e.g. 0.6 or 60%)"
    if question.min_exclusive:
        bounds = f"above {low}" + (f" and at most {high}" if high else "")
    else:
        bounds = f"from {low} to {high}" if high else f"at least {low}"
    examples = {
        "ms": "e.g. 300, 300 ms, 1.2 s",
        "tokens": "e.g. 4000, 6k, 6,000",
        "calls": "e.g. 20M, 20 million, 20,000,000",
        "examples": "e.g. 800, 8k, 8,000",
    }.get(question.unit or "", "")
    return f"{whole} {bounds}" + (f"; {examples}" if examples else "")


def _plain(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else str(number)


#: Longer answers are not read as numbers; larger magnitudes are "too large" (inf).
MAX_NUMBER_CHARS = 64
MAX_MAGNITUDE = Decimal(10) ** 30
_LONG_DIGITS = re.compile(r"\s*(?:[+]|(-))?\d[\d,_ ]*(?:\.\d*)?\s*")


def parse_number(text: str) -> float | None:
    """`6k` -> 6000, `1.5 million` -> 1.5e6, `6,000` -> 6000, `$3.5` -> 3.5,
    `2e7` -> 2e7, `60%` -> 0.6, `6k tokens` -> 6000; None when it is not a number.

    Decimal arithmetic, so that `2.01M` is exactly 2,010,000. Never raises: a number
    beyond 1e30 in size (`1e400`, 400 digits) comes back as +/-inf, which every
    question refuses as too large."""
    if len(text) > MAX_NUMBER_CHARS:  # only a run of digits is a number this long
        digits = _LONG_DIGITS.fullmatch(text)
        return None if digits is None else (-math.inf if digits.group(1) else math.inf)
    match = _NUMBER.match(text.replace("\u00a0", " "))
    if not match:
        return None
    unit = match.group("unit").lower().replace("/", " ").split()
    if any(word not in _UNIT_WORDS for word in unit):
        return None
    try:
        number = Decimal(re.sub(r"[,_ ]", "", match.group("num")))
        number *= _SUFFIXES.get((match.group("suffix") or "").lower(), 1)
        if match.group("percent"):
            number /= 100
        if abs(number) > MAX_MAGNITUDE:
            return math.inf if number > 0 else -math.inf
        return int(number) if number == number.to_integral_value() else float(number)
    except (InvalidOperation, OverflowError, ValueError):
        return None


_DURATION = re.compile(
    r"^\s*(?P<number>.*?)\s*(?P<unit>ms|msec|millis(?:econds?)?|s|secs?|seconds?)\.?\s*$",
    re.IGNORECASE,
)


def parse_milliseconds(text: str) -> float | None:
    """`300`, `300 ms`, `300ms` -> 300; `1.2 s`, `1.2 seconds` -> 1200; None otherwise."""
    match = _DURATION.match(text)
    if match is None:
        return parse_number(text)
    number = parse_number(match.group("number"))
    if number is None or math.isinf(number) or match.group("unit").lower().startswith(
            ("ms", "msec", "milli")):
        return number
    scaled = Decimal(str(number)) * 1000
    return int(scaled) if scaled == scaled.to_integral_value() else float(scaled)


def parse_value(question: Question, raw: Any) -> Value:
    """Turn one raw answer into a typed value, or raise AnswerError."""
    given = str(raw).strip() if raw is not None else ""
    if len(given) > 40:  # errors quote what was typed; a long text is cut, not echoed
        given = given[:40] + "\u2026"

    def fail(reason: str) -> AnswerError:
        return AnswerError(question.id, given, f"{reason}; accepted: {accepted(question)}")

    if raw is None or given == "":
        raise fail("no value given")
    if is_not_sure(raw):
        return NOT_SURE
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
        for option in question.options:
            if given == option.value:  # an option id, as stored answers and buttons give it
                return option.value
        wanted = _normalized(given)
        for option in question.options:
            if wanted in (_normalized(option.value), _normalized(option.label)):
                return option.value
        raise fail(f"{given!r} is not an option")
    if question.kind == "model":
        found = match_model(question, given)
        if found is not None:
            return found
        close = close_models(question, given)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise fail(f"{given!r} is not a model in the catalogue{hint}")
    if isinstance(raw, bool):
        raise fail(f"{given!r} is not a number")
    if isinstance(raw, int | float):
        number = raw
    elif question.unit == "ms":
        number = parse_milliseconds(given)
    else:
        number = parse_number(given)
    shown = given
    if number is None or number != number:
        raise fail(f"{shown!r} is not a number")
    if abs(number) > MAX_MAGNITUDE:  # ints of any size and inf compare without overflow
        raise fail(f"{shown!r} is too {'large' if number > 0 else 'small'}")
    if question.kind == "int":
        if not float(number).is_integer():
            raise fail(f"{shown!r} is not a whole number")
        number = int(number)
    else:
        number = float(number)
    low, high = question.min, question.max
    if low is not None and (number < low or (question.min_exclusive and number == low)):
        raise fail(f"{shown!r} is too small")
    if high is not None and number > high:
        raise fail(f"{shown!r} is too large")
    return number


def _normalized(text: str) -> str:
    return re.sub(r"[\s_-]+", "_", text.strip().lower())


def _model_key(text: str) -> str:
    """`GPT-4.1 mini`, `gpt_4.1-mini` and `gpt 4.1 mini` compare equal."""
    return re.sub(r"[^a-z0-9.:]+", "", text.lower())


def match_model(question: Question, text: str) -> str | None:
    """The catalogue id `text` names: an id, a label (`GPT-4.1 mini (OpenAI)`) or an
    alias; None when it names none or several."""
    index = _model_index(question)
    if text in index.ids:
        return text  # an id, as stored answers and buttons give it
    hits = index.names.get(_model_key(text), set())
    return next(iter(hits)) if len(hits) == 1 else None


@dataclass(frozen=True)
class _ModelIndex:
    question: Question
    ids: frozenset[str]
    names: dict[str, set[str]]


_MODEL_INDEXES: dict[int, _ModelIndex] = {}


def _model_index(question: Question) -> _ModelIndex:
    """Every way of naming each catalogue id, built once per question object."""
    found = _MODEL_INDEXES.get(id(question))
    if found is not None and found.question is question:
        return found
    names: dict[str, set[str]] = {}
    for option in question.options:
        for name in (option.value, option.label, *option.aliases):
            key = _model_key(name)
            if key:
                names.setdefault(key, set()).add(option.value)
    found = _ModelIndex(question, frozenset(o.value for o in question.options), names)
    if len(_MODEL_INDEXES) > 64:
        _MODEL_INDEXES.clear()
    _MODEL_INDEXES[id(question)] = found
    return found


def close_models(question: Question, text: str, limit: int = 3) -> list[str]:
    """Catalogue ids that look like `text`, closest first."""
    import difflib

    wanted = _model_key(text)
    names: dict[str, str] = {}
    for option in question.options:
        for name in (option.value, option.value.split(":", 1)[-1], *option.aliases):
            names.setdefault(_model_key(name), option.value)
    found = difflib.get_close_matches(wanted, list(names), n=limit * 3, cutoff=0.6)
    return list(dict.fromkeys(names[f] for f in found))[:limit]


def parse_answers(
    knowledge: Knowledge, raw: Mapping[str, Any]
) -> tuple[dict[str, Value], list[AnswerError]]:
    """Parse every answer; unknown ids and bad values are errors, the rest is kept.

    Answers come back in the knowledge's question order, so that output built from them
    is the same byte for byte whatever order the input had. (Whether answers agree with
    each other on a date is `bot.engine.catalogue.check_answers`.)
    """
    errors: list[AnswerError] = []
    parsed: dict[str, Value] = {}
    for key in raw:
        if not knowledge.has_question(str(key)):
            errors.append(AnswerError(str(key), str(raw[key]), unknown_id_reason(knowledge, key)))
    for question in knowledge.questions:
        if question.id not in raw:
            continue
        try:
            parsed[question.id] = parse_value(question, raw[question.id])
        except AnswerError as exc:
            errors.append(exc)
    return parsed, errors


def close_question_ids(knowledge: Knowledge, key: Any, limit: int = 3) -> list[str]:
    """Question ids that look like a mistyped `key` (`prompt_tokns`, `Monthly-Calls`)."""
    import difflib

    ids = [q.id for q in knowledge.questions]
    return difflib.get_close_matches(_normalized(str(key)), ids, n=limit, cutoff=0.75)


def unknown_id_reason(knowledge: Knowledge, key: Any) -> str:
    """Why an answers file's `key` is refused: the closest ids, then every known one."""
    close = close_question_ids(knowledge, key)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    known = ", ".join(q.id for q in knowledge.questions)
    return f"unknown question id{hint}; known ids: {known}"
