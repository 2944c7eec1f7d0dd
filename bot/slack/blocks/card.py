"""The result card posted where the consultation happened (channel, thread or ephemeral).

Short on purpose: the verdict, the summary, the top reasons with their sources (and how
many more the DM has), every "Fine-tune once" condition, one cost line, what would
change the verdict, and buttons (the full record in DMs; in a thread
also "Back", "Change an answer" and "Start over"; after the modal "Adjust answers" and
"Start over", an empty form).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.engine import humanize
from bot.engine.decision import Decision
from bot.slack.blocks import ids
from bot.slack.blocks.common import VERDICT_EMOJI, cited, listed, opening, phrasing_note
from bot.slack.blocks.limits import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    fields_section,
    fit_blocks,
    header,
    section,
)
from bot.slack.blocks.question import nav_elements

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

TOP_REASONS = 3
TOP_COUNTERFACTUALS = 3


def cost_line(decision: Decision) -> str | None:
    """One line: monthly prompt cost, tuned cost and break-even; None without volume."""
    costs = decision.costs
    if not decision.has_volume:
        return None
    parts = [f"prompting {humanize.usd(costs.monthly_cost_prompting_usd)} a month"]
    if costs.route is not None:
        parts.append(f"fine-tuned on {costs.route.label} "
                     f"{humanize.usd(costs.monthly_cost_fine_tuned_usd)} a month")
        parts.append(f"break-even {humanize.months(costs.break_even_months)}")
    else:
        parts.append("no fine-tuning route remains")
    return " \u00b7 ".join(parts)


def cost_fields(decision: Decision) -> list[str]:
    """The card's cost figures, one field each (mrkdwn, label over figure); none without
    volume. The same figures and rounding as `cost_line`."""
    costs = decision.costs
    if not decision.has_volume:
        return []
    fields = [f"*Prompting, a month*\n{humanize.usd(costs.monthly_cost_prompting_usd)}"]
    if costs.route is None:
        return [*fields, "*Fine-tuning*\nno route remains"]
    return [*fields,
            f"*Fine-tuned on {escape(costs.route.label)}, a month*\n"
            f"{humanize.usd(costs.monthly_cost_fine_tuned_usd)}",
            f"*Break-even*\n{humanize.months(costs.break_even_months)}"]


def result_card(
    decision: Decision,
    knowledge: Knowledge | None,
    *,
    consultation_id: str,
    owner: str,
    explanation: str | None = None,
    explanation_sources: Sequence[str] | None = None,
    thread: bool = False,
    adjustable: bool = False,
    can_go_back: bool = False,
) -> tuple[str, list[Block]]:
    """(notification text, blocks) of the result card.

    `explanation` replaces the decision's summary (see `card_explanation`);
    `explanation_sources` is set only when `explanation` is checked LLM phrasing: the
    knowledge source ids it cites, shown under it with a note that a model worded it.
    The verdict is named once (the header); reasons past the first few say how many more
    the DM has; every "Fine-tune once" condition is shown (there are few).
    """
    verdict = decision.verdict
    label = decision.verdict_label
    summary = explanation if explanation is not None else decision.summary
    prose, reasons = opening(decision, knowledge, explanation, explanation_sources)
    blocks: list[Block] = [header(f"Verdict: {label}")]
    blocks.append(section(f"{VERDICT_EMOJI.get(verdict, '')} {prose}".strip()))
    if explanation_sources is not None:
        blocks.append(context(phrasing_note(knowledge, explanation_sources)))
    if reasons:
        blocks.append(section(listed([cited(r, knowledge) for r in reasons], title="*Why*",
                                     top=TOP_REASONS)))
    conditions = list(decision.conditions)
    if conditions:
        blocks.append(section(listed([cited(c, knowledge) for c in conditions],
                                     title="*Fine-tune once*")))
    costs = cost_fields(decision)
    if costs:
        blocks.append(fields_section("*Cost*", costs))
    for note in decision.cost_notes[:1]:  # when the costs point the other way: why it stands
        blocks.append(context(escape(note.text)))
    changes = list(decision.counterfactuals)
    if changes:
        blocks.append(section(listed([escape(c.text) for c in changes],
                                     title="*What would change it*", top=TOP_COUNTERFACTUALS)))
    answered = len(decision.answers) - len(decision.not_sure)
    blocks.append(context(
        f"Asked by <@{owner}> \u00b7 {answered} answer{'s' if answered != 1 else ''}, the rest "
        f"assumed \u00b7 knowledge as of {escape(decision.knowledge_as_of)}"
    ))
    elements = [button("Full record in my DMs", ids.RECORD_DM, consultation_id, style="primary")]
    if adjustable:
        elements.append(button("Adjust answers", ids.ADJUST, consultation_id))
        elements.append(button("Start over", ids.FORM_AGAIN, consultation_id))
    if thread and knowledge is not None:
        elements += nav_elements(knowledge, consultation_id, decision.answers,
                                 back=can_go_back)
    blocks.append(actions(ids.CARD_ACTIONS_BLOCK, elements))
    text = summary if summary.startswith(label) else f"Verdict: {label}. {summary}"
    return clip(escape(text), 300), fit_blocks(blocks)
