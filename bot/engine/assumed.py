"""What "Not sure" (or an empty field) stands for, in words, given the answers so far.

A question's assumption is either a fixed value (`assume`) or a figure looked up in the
knowledge (`assume_from`): the price of the user's model (`model:`), a figure of the route
where a fine-tune would run (`route:`), or a reference fee or training price. The words
say which, so a user sees what the rules will use before they decide to skip."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.engine import catalogue
from bot.engine.answers import is_given
from bot.engine.humanize import shown_value

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question


def assumption_text(knowledge: Knowledge, question: Question,
                    answers: Mapping[str, Any] | None = None) -> str:
    """`$0.40 per million tokens (GPT-4.1 mini on OpenAI)`, `0 examples`, ..."""
    answers = answers or {}
    table, _, field_name = (question.assume_from or "").partition(":")
    if table == "model":
        row = catalogue.priced_as(knowledge, answers)
        value = getattr(row.prices, field_name)
        whose = "your model" if is_given(answers, "model") else "a reference model"
        return (f"{shown_value(question, value)} ({whose}: "
                f"{catalogue.full_label(knowledge, row)})")
    if table == "route":
        return "the figure of the route where the fine-tune would run"
    if table in ("fee", "training"):
        reference = knowledge.reference(question)
        return f"{shown_value(question, reference.value)} ({reference.note})"
    if question.kind == "model":
        return "no particular model: a reference model for what you say of model access"
    if question.assume is None:
        return "not known: nothing is compared with it"
    return shown_value(question, question.assume)
