"""Formatting shared by the builders: answers, assumptions, sources, dates."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE
from bot.engine.assumed import assumption_text
from bot.engine.humanize import shown_value
from bot.slack.blocks.limits import MAX_TEXT, bullets, escape, link

if TYPE_CHECKING:
    from bot.engine.decision import Decision, Item
    from bot.knowledge import Knowledge, Question

VERDICT_EMOJI = {
    "prompt_engineering": ":memo:",
    "prompt_then_fine_tune": ":hourglass_flowing_sand:",
    "fine_tuning": ":gear:",
}


def input_value(question: Question, value: Any) -> str:
    """A value as typed into a text input: `parse_value` reads it back exactly (every
    digit kept, never scientific notation)."""
    if value == NOT_SURE:
        return "not sure"
    if question.kind == "bool" or isinstance(value, bool):
        return "yes" if value else "no"
    if question.kind == "choice":
        return str(value)
    if isinstance(value, float) and value.is_integer() and question.kind == "int":
        value = int(value)
    if question.kind == "int":
        return f"{int(value):,}"
    text = format(Decimal(repr(float(value))), "f")  # repr: the shortest exact digits
    return text[:-2] if text.endswith(".0") else text


def assumption(knowledge: Knowledge, question: Question,
               answers: Mapping[str, Any] | None = None) -> str:
    """What the engine uses while `question` is unanswered, for hints and "Not sure"."""
    return assumption_text(knowledge, question, answers)


def source_refs(knowledge: Knowledge | None, ids: Iterable[str]) -> str:
    """Source titles, linked when the source has a URL; unknown ids shown as they are."""
    out = []
    for sid in dict.fromkeys(ids):
        try:
            src = knowledge.source(sid) if knowledge is not None else None
        except KeyError:
            src = None
        out.append(link(src.url, src.title) if src is not None else escape(sid))
    return ", ".join(out)


def phrasing_note(knowledge: Knowledge | None, sources: Iterable[str]) -> str:
    """Under LLM-phrased prose: the sources it cites (titles, linked when the source has a
    URL) and that a model worded it while the rules decided."""
    refs = source_refs(knowledge, sources)
    note = ("_Worded by an AI model and checked against the cited facts; the verdict and "
            "figures come from the rules._")
    return f"*Sources:* {refs} \u00b7 {note}" if refs else note


def cited(item: Item, knowledge: Knowledge | None) -> str:
    refs = source_refs(knowledge, item.sources)
    text = escape(item.text)
    return f"{text} _({refs})_" if refs else text


def opening(
    decision: Decision,
    knowledge: Knowledge | None,
    explanation: str | None,
    explanation_sources: Sequence[str] | None,
) -> tuple[str, list[Item]]:
    """The prose paragraph (mrkdwn, escaped) and the reasons left to list under *Why*.

    Checked LLM phrasing (`explanation_sources` given) is shown as it is, above every
    reason. The template text is the verdict label and then the first reason, word for
    word: the header already names the verdict, so the label is dropped, and the reason
    the paragraph says is not listed again (its sources are cited after the paragraph).
    """
    label = decision.verdict_label
    text = explanation if explanation is not None else decision.summary
    reasons = list(decision.reasons)
    if explanation_sources is not None:
        return escape(text), reasons
    body = text
    if label and text.startswith(label + "."):
        body = text[len(label) + 1:].strip()
    for i, reason in enumerate(reasons):
        if body and reason.text == body:
            return cited(reason, knowledge), reasons[:i] + reasons[i + 1:]
    return escape(body or label), reasons


def listed(
    items: Sequence[str], *, title: str, top: int | None = None, rest: str = "in the DM"
) -> str:
    """A titled bullet list of the first `top` items, then "...and N more <rest>"."""
    shown = list(items) if top is None else list(items)[:top]
    more = len(items) - len(shown)
    tail = f"\n_\u2026and {more} more {rest}_" if more > 0 else ""
    return bullets(shown, title=title, limit=MAX_TEXT - len(tail)) + tail


def slack_date(when: datetime | None) -> str:
    """A date Slack shows in the reader's time zone, with a UTC fallback."""
    if when is None:
        return "unknown date"
    stamp = int(when.timestamp())
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{{date_short}} {{time}}|{fallback}>"


def answered_pairs(knowledge: Knowledge, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(question id, "short: shown value") in the knowledge's question order."""
    out = []
    for q in knowledge.questions:
        if q.id in answers:
            out.append((q.id, f"{q.short}: {shown_value(q, answers[q.id])}"))
    return out
