"""The recheck DM: a stored verdict that no longer holds, or a route about to close.

Old and new verdict, the reason in one dated sentence, the way back to the original
thread, and two buttons: "Review my answers" (the adjust form, prefilled) and "Mute this
consultation".
"""

from __future__ import annotations

from datetime import date

from bot.engine.verdicts import VERDICT_LABELS
from bot.slack.blocks import ids
from bot.slack.blocks.common import VERDICT_EMOJI
from bot.slack.blocks.limits import (
    MAX_FALLBACK_TEXT,
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    link,
    section,
)


def _label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict)


def drift_dm(
    *, kind: str, consultation_id: str, old_verdict: str, new_verdict: str, why: str,
    decided_on: date | None, today: date, thread_link: str | None, where: str | None,
) -> tuple[str, list[Block]]:
    """(fallback text, blocks) of one recheck DM; both escaped (`why` is knowledge text)."""
    decided = f" on {decided_on.isoformat()}" if decided_on else ""
    back = link(thread_link, "the original consultation") if thread_link else (
        f"the consultation in {where}" if where else "your consultation")
    if kind == "verdict_changed":
        text = (f"Your verdict changed: it was {_label(old_verdict)}, it is now "
                f"{_label(new_verdict)}. {why}")
        head = (f":warning: *A verdict I gave you no longer holds.*\n"
                f"Decided{decided}: {VERDICT_EMOJI.get(old_verdict, '')} "
                f"*{escape(_label(old_verdict))}*\n"
                f"As of {today.isoformat()}: {VERDICT_EMOJI.get(new_verdict, '')} "
                f"*{escape(_label(new_verdict))}*")
    else:
        text = f"Heads-up: the route of your verdict {_label(old_verdict)} closes soon. {why}"
        head = (f":alarm_clock: *Heads-up: the route I advised is closing.*\n"
                f"Verdict (decided{decided}): {VERDICT_EMOJI.get(old_verdict, '')} "
                f"*{escape(_label(old_verdict))}*, still right today")
    blocks: list[Block] = [
        section(head),
        section(f"*Why:* {escape(why)}"),
        section(f"See {back}. Review your answers to see the full reasons and costs as of "
                "today."),
        actions(ids.DRIFT_ACTIONS_BLOCK, [
            button("Review my answers", ids.ADJUST, consultation_id, style="primary"),
            button("Mute this consultation", ids.MUTE_DRIFT, consultation_id),
        ]),
        context("I recheck stored verdicts against dated facts (provider windows, prices). "
                "Muting stops these messages for this consultation only."),
    ]
    return clip(escape(text), MAX_FALLBACK_TEXT), blocks
