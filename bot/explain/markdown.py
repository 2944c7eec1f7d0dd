"""A Markdown decision record a team can commit next to the code it concerns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine import humanize
from bot.engine.answers import NOT_SURE
from bot.engine.decision import Decision, Item
from bot.explain.text import cost_rows

if TYPE_CHECKING:
    from bot.knowledge import Knowledge


def _cited(item: Item) -> str:
    return f"{item.text} " + " ".join(f"[{s}]" for s in item.sources)


def _section(title: str, items: Sequence[Item]) -> list[str]:
    if not items:
        return []
    return [f"## {title}", ""] + [f"- {_cited(item)}" for item in items] + [""]


def render_markdown(
    decision: Decision, knowledge: Knowledge, explanation: str | None = None
) -> str:
    lines = [
        "# Decision record: prompt engineering or fine-tuning?",
        "",
        f"**Verdict: {decision.verdict_label}** (`{decision.verdict}`)",
        "",
    ]
    if explanation:
        lines += [explanation.strip(), ""]
    lines += _section("Why", decision.reasons)
    lines += _section("Fine-tune once", decision.conditions)
    lines += _section("Speaks the other way", decision.counterpoints)
    lines += _section("Cautions", decision.cautions)
    lines += _section("How to carry it out", decision.advice)

    lines += ["## Answers", "", "| question | answer |", "|---|---|"]
    for qid, value in decision.answers.items():
        if not knowledge.has_question(qid):
            continue
        question = knowledge.question(qid)
        if value == NOT_SURE:
            shown = "not sure"
        elif question.kind == "choice":
            shown = question.label_of(value)
        else:
            shown = humanize.plain_value(value)
        lines.append(f"| {question.text} (`{qid}`) | {shown} |")
    if not decision.answers:
        lines.append("| (none given) | |")
    lines.append("")
    if decision.open_questions:
        lines += ["Not answered: " + ", ".join(f"`{q}`" for q in decision.open_questions), ""]

    rows = cost_rows(decision)
    if rows:
        lines += ["## Costs (USD)", "", "| | |", "|---|---|"]
        lines += [f"| {label.strip()} | {value} |" for label, value in rows]
        lines.append("")
        lines += [f"{item.text}" for item in decision.cost_notes]
        if decision.cost_notes:
            lines.append("")
    lines += ["## Assumptions", ""]
    lines += [f"- {a.text} [{a.source}]" for a in decision.assumptions]
    if not decision.assumptions:
        lines.append("None: every value the rules used was given.")
    lines.append("")
    if decision.counterfactuals:
        lines += ["## What would change the verdict", ""]
        lines += [f"- {c.text}" for c in decision.counterfactuals]
        lines.append("")

    if decision.tradeoffs:
        lines += ["## Trade-offs that apply", "",
                  "| criterion | prompt engineering | fine-tuning |", "|---|---|---|"]
        lines += [f"| {row['criterion']} | {row['prompt_engineering']} | {row['fine_tuning']} |"
                  for row in decision.tradeoffs]
        lines.append("")
    items = (*decision.reasons, *decision.conditions, *decision.cautions, *decision.advice,
             *decision.cost_notes)
    cited = sorted({s for item in items for s in item.sources}
                   | {a.source for a in decision.assumptions})
    lines += ["## Sources", ""]
    for source_id in cited:
        try:
            source = knowledge.source(source_id)
        except KeyError:  # a stored record citing a source the knowledge has dropped
            lines.append(f"- [{source_id}]")
            continue
        title = f"[{source.title}]({source.url})" if source.url else source.title
        lines.append(f"- [{source_id}] {title}, {source.publisher} (as of {source.as_of})")
    lines += [
        "",
        f"Decided as of {decision.today}. Knowledge version {decision.knowledge_version} "
        f"(as of {decision.knowledge_as_of}).",
        "",
    ]
    return "\n".join(lines)
