"""App Home, `/ptf help` and `/ptf history`.

App Home: a "New consultation" button (opens the modal), the user's recent
consultations (verdict, date, link), and the knowledge version with its date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.slack.blocks import ids
from bot.slack.blocks.common import VERDICT_EMOJI, slack_date
from bot.slack.blocks.limits import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    fit_blocks,
    header,
    link,
    section,
)

MAX_ITEMS = 15


@dataclass(frozen=True)
class HistoryItem:
    """One past consultation as listed in App Home and `/ptf history`."""

    verdict: str | None  # verdict id, None while open
    verdict_label: str | None
    status: str  # open, done, abandoned
    created_at: datetime | None
    where: str  # mrkdwn: "<#C123>", "a DM", ...
    link: str | None = None  # the card, or for one in progress its thread
    drift: str | None = None  # recheck found its verdict changed: "now X (why)"
    muted: bool = False  # its owner muted recheck for it


def history_line(item: HistoryItem) -> str:
    when = slack_date(item.created_at)
    if item.status == "done" and item.verdict_label:
        head = f"{VERDICT_EMOJI.get(item.verdict or '', '')} *{escape(item.verdict_label)}*"
    elif item.status == "open":
        head = ":speech_balloon: *In progress*"
    else:
        head = ":heavy_multiplication_x: *Stopped*"
    if item.link:
        label = "continue in the thread" if item.status == "open" else "open"
        place = f"{link(item.link, label)} ({item.where})"
    else:
        place = item.where
    line = f"{head.strip()} \u00b7 {when} \u00b7 {place}"
    if item.drift:
        line += f"\n:warning: _Changed on recheck:_ {escape(item.drift)}"
        if item.muted:
            line += " _(muted)_"
    return line


def history_blocks(items: Sequence[HistoryItem], *, command: str = "/ptf") -> list[Block]:
    if not items:
        return [section(f"You have no consultations yet. Start one with `{command}`.")]
    blocks: list[Block] = [section("*Your recent consultations*")]
    blocks += [section(history_line(i)) for i in items[:MAX_ITEMS]]
    return fit_blocks(blocks)


def help_blocks(*, command: str = "/ptf", bot_user_id: str | None = None) -> list[Block]:
    bot = f"<@{bot_user_id}>" if bot_user_id else "the bot"
    return [
        section(
            "*Prompt engineering or fine-tuning?* I ask only what can change the answer, "
            "then give a verdict with its reasons, sources and the cost break-even."
        ),
        section(
            f"\u2022 `{command}` \u2014 open the form (every field optional)\n"
            f"\u2022 `{command} 6k token prompt, 20M calls, 8000 examples, llama` \u2014 the "
            "form, pre-filled with what I can read\n"
            f"\u2022 `{command} history` \u2014 your recent consultations\n"
            f"\u2022 `{command} help` \u2014 this message\n"
            f"\u2022 Mention {bot} in a thread \u2014 I read what you wrote there and ask the "
            "rest one question at a time"
        ),
        context("The full record, the break-even chart and a Markdown decision record come to "
                "your DMs. My App Home lists your past consultations."),
    ]


def home_view(
    items: Sequence[HistoryItem],
    *,
    knowledge_version: str,
    knowledge_as_of: str,
    command: str = "/ptf",
    bot_user_id: str | None = None,
    history_unavailable: bool = False,
) -> dict[str, object]:
    """The App Home tab (`views.publish`). `history_unavailable`: the list could not be
    read (database down), which is said rather than shown as an empty list."""
    bot = f"<@{bot_user_id}>" if bot_user_id else "me"
    blocks: list[Block] = [
        header("Prompt engineering or fine-tuning?"),
        section(
            "I ask only the questions that can change the answer, then give a verdict with "
            "its reasons, sources and the cost break-even."
        ),
        actions(ids.HOME_ACTIONS_BLOCK, [
            button("New consultation", ids.HOME_NEW, "home", style="primary"),
        ]),
        context(f"Or use `{command}` in any channel, or mention {bot} in a thread."),
        divider(),
        header("Your recent consultations"),
    ]
    if history_unavailable:
        blocks.append(section(
            ":warning: I can't load your consultations right now (my database is not "
            "answering). They are not lost; open this tab again in a minute."
        ))
    elif items:
        blocks += [section(history_line(i)) for i in items[:MAX_ITEMS]]
    else:
        blocks.append(section("Nothing yet. Your consultations will be listed here."))
    blocks += [
        divider(),
        context(f"Knowledge {escape(knowledge_version)} \u00b7 as of {escape(knowledge_as_of)}"),
    ]
    return {"type": "home", "blocks": fit_blocks(blocks, 100)}
