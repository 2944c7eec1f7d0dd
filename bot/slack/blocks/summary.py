"""The DM summary: the whole decision, with every source, costs, and a way back.

Verdict and summary; every reason, condition, caution and piece of advice with its
sources (titles, linked when the source has a URL); the cost table and the assumptions
behind it; what would change the verdict; the answers given and what was assumed; the
knowledge version and date; a link back to the thread or channel; and a button that
uploads the Markdown decision record. The break-even chart is uploaded separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine.decision import Decision, Item
from bot.explain.text import cost_rows
from bot.slack.blocks import ids
from bot.slack.blocks.common import (
    VERDICT_EMOJI,
    answered_pairs,
    cited,
    opening,
    phrasing_note,
    source_refs,
)
from bot.slack.blocks.limits import (
    MAX_TEXT,
    Block,
    actions,
    bullets,
    button,
    clip,
    context,
    divider,
    escape,
    fit_blocks,
    header,
    link,
    section,
)

if TYPE_CHECKING:
    from bot.knowledge import Knowledge


def _items(title: str, items: Sequence[Item], knowledge: Knowledge | None) -> list[Block]:
    if not items:
        return []
    return [section(bullets([cited(i, knowledge) for i in items], title=f"*{title}*"))]


def _costs(decision: Decision, knowledge: Knowledge | None) -> list[Block]:
    rows = cost_rows(decision)
    if not rows:
        return [context("No cost figures: give the prompt length and the calls a month to get "
                        "the monthly cost and the break-even.")]
    lines = "\n".join(f"{escape(label.strip())}: *{escape(value)}*" for label, value in rows)
    blocks = [section(clip("*Costs* (USD)\n" + lines, MAX_TEXT))]
    for note in decision.cost_notes:
        blocks.append(context(escape(note.text)))
    assumed = []
    for a in decision.assumptions:
        refs = source_refs(knowledge, [a.source]) if a.source else ""
        assumed.append(escape(a.text) + (f" ({refs})" if refs else ""))
    if assumed:
        blocks.append(context(clip("*Assumed:* " + "; ".join(assumed), MAX_TEXT)))
    return blocks


def dm_summary(
    decision: Decision,
    knowledge: Knowledge | None,
    *,
    consultation_id: str,
    explanation: str | None = None,
    explanation_sources: Sequence[str] | None = None,
    permalink: str | None = None,
    where: str | None = None,
    note: str | None = None,
) -> tuple[str, list[Block]]:
    """(notification text, blocks). `permalink` links back; `where` is mrkdwn such as
    `<#C123>` saying where the consultation happened; `note` is mrkdwn written by the bot
    (e.g. "I could not post in <#C123>"), shown first. `explanation_sources`: as in
    `card.result_card` (LLM phrasing only)."""
    verdict = decision.verdict
    label = decision.verdict_label
    summary = explanation if explanation is not None else decision.summary
    blocks: list[Block] = []
    if note:
        blocks.append(section(f":warning: {note}"))
    blocks.append(header(f"Your verdict: {label}"))
    prose, reasons = opening(decision, knowledge, explanation, explanation_sources)
    blocks.append(section(f"{VERDICT_EMOJI.get(verdict, '')} {prose}".strip()))
    if explanation_sources is not None:
        blocks.append(context(phrasing_note(knowledge, explanation_sources)))
    blocks += _items("Why", reasons, knowledge)
    blocks += _items("Fine-tune once", decision.conditions, knowledge)
    blocks += _items("Speaks the other way", decision.counterpoints, knowledge)
    blocks += _items("Cautions", decision.cautions, knowledge)
    blocks += _items("How to carry it out", decision.advice, knowledge)
    blocks.append(divider())
    blocks += _costs(decision, knowledge)
    changes = list(decision.counterfactuals)
    if changes:
        blocks.append(section(bullets([escape(c.text) for c in changes],
                                      title="*What would change the verdict*")))
    else:
        blocks.append(section("*What would change the verdict:* no single answer would."))
    answers = decision.answers
    if knowledge is not None:
        given = [label for _, label in answered_pairs(knowledge, answers)]
    else:
        given = [f"{k}: {v}" for k, v in answers.items()]
    open_questions = [
        knowledge.question(q).short if knowledge is not None and knowledge.has_question(q) else q
        for q in decision.open_questions
    ]
    lines = ["*Your answers:* " + (escape("; ".join(given)) if given else "none")]
    if open_questions:
        lines.append("*Assumed (not asked or not answered):* " + escape(", ".join(open_questions)))
    blocks.append(context(clip("\n".join(lines), MAX_TEXT)))
    back = []
    if permalink:
        back.append(link(permalink, "Back to the consultation") + (f" in {where}" if where else ""))
    elif where:
        back.append(f"Asked in {where}")
    back.append(
        f"Knowledge {escape(decision.knowledge_version)} (as of {escape(decision.knowledge_as_of)})"
    )
    blocks.append(context(*back))
    blocks.append(actions(ids.SUMMARY_ACTIONS_BLOCK, [
        button("Get the decision record (Markdown)", ids.RECORD_MD, consultation_id),
    ]))
    text = summary if summary.startswith(label) else f"Your verdict: {label}. {summary}"
    return clip(escape(text), 300), fit_blocks(blocks)
