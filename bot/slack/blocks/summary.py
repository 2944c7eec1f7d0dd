"""The DM summary: the whole decision, with every source, costs, and a way back.

Verdict and summary; every reason, condition, caution and piece of advice with its
sources (titles, linked when the source has a URL); the cost table and the assumptions
behind it; what would change the verdict; the answers given and what was assumed; the
knowledge version and date; a link back to the thread or channel; and a button that
uploads the Markdown decision record. The break-even chart is uploaded separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.explain.text import COST_LINES, cost_value
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


def _items(title: str, items: list[Mapping[str, Any]], knowledge: Knowledge | None) -> list[Block]:
    if not items:
        return []
    return [section(bullets([cited(i, knowledge) for i in items], title=f"*{title}*"))]


def cost_table(decision: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Label/value rows of the cost table (none without volume). The prompt caching row
    is left out when nothing is cached (it would repeat the prompt cost)."""
    costs = decision.get("costs") or {}
    if costs.get("monthly_input_tokens") is None:
        return []
    same = (costs.get("monthly_prompt_cost_cached_usd")
            == costs.get("monthly_prompt_cost_usd"))
    return [(label, cost_value(key, costs.get(key))) for key, label in COST_LINES
            if not (key == "monthly_prompt_cost_cached_usd" and same)]


def _costs(decision: Mapping[str, Any], knowledge: Knowledge | None) -> list[Block]:
    rows = cost_table(decision)
    if not rows:
        return [context("No cost figures: give the prompt length and the calls a month to get "
                        "the monthly cost and the break-even.")]
    lines = "\n".join(f"{escape(label.strip())}: *{escape(value)}*" for label, value in rows)
    blocks = [section(clip("*Costs* (USD, input tokens only)\n" + lines, MAX_TEXT))]
    assumed = []
    for a in decision.get("assumptions") or []:
        refs = source_refs(knowledge, [a.get("source", "")]) if a.get("source") else ""
        assumed.append(f"{escape(a.get('text', ''))}" + (f" ({refs})" if refs else ""))
    if assumed:
        blocks.append(context(clip("*Assumed:* " + "; ".join(assumed), MAX_TEXT)))
    return blocks


def dm_summary(
    decision: Mapping[str, Any],
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
    verdict = decision.get("verdict", "")
    label = decision.get("verdict_label", verdict)
    summary = explanation if explanation is not None else decision.get("summary", "")
    blocks: list[Block] = []
    if note:
        blocks.append(section(f":warning: {note}"))
    blocks.append(header(f"Your verdict: {label}"))
    prose, reasons = opening(decision, knowledge, explanation, explanation_sources)
    blocks.append(section(f"{VERDICT_EMOJI.get(verdict, '')} {prose}".strip()))
    if explanation_sources is not None:
        blocks.append(context(phrasing_note(knowledge, explanation_sources)))
    blocks += _items("Why", reasons, knowledge)
    blocks += _items("Fine-tune once", list(decision.get("conditions") or []), knowledge)
    blocks += _items("Speaks the other way", list(decision.get("counterpoints") or []),
                     knowledge)
    blocks += _items("Cautions", list(decision.get("cautions") or []), knowledge)
    blocks += _items("How to carry it out", list(decision.get("advice") or []), knowledge)
    blocks.append(divider())
    blocks += _costs(decision, knowledge)
    changes = list(decision.get("counterfactuals") or [])
    if changes:
        blocks.append(section(bullets([escape(c["text"]) for c in changes],
                                      title="*What would change the verdict*")))
    else:
        blocks.append(section("*What would change the verdict:* no single answer would."))
    answers = decision.get("answers") or {}
    if knowledge is not None:
        given = [label for _, label in answered_pairs(knowledge, answers)]
    else:
        given = [f"{k}: {v}" for k, v in answers.items()]
    open_questions = [
        knowledge.question(q).short if knowledge is not None and knowledge.has_question(q) else q
        for q in decision.get("open_questions") or []
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
        f"Knowledge {escape(decision.get('knowledge_version', '?'))} "
        f"(as of {escape(decision.get('knowledge_as_of', '?'))})"
    )
    blocks.append(context(*back))
    blocks.append(actions(ids.SUMMARY_ACTIONS_BLOCK, [
        button("Get the decision record (Markdown)", ids.RECORD_MD, consultation_id),
    ]))
    text = clip(summary if summary.startswith(label) else f"Your verdict: {label}. {summary}", 300)
    return text, fit_blocks(blocks)
