"""The assistant thread's status line and title (`assistant.threads.setStatus/setTitle`).

Both are cosmetic: a failure (after the client's own retries, which honour Retry-After)
is logged once by `call` and the consultation goes on. Slack clears the status when the
bot posts in the thread; an update in place does not, so `clear_status` ends it.
"""

from __future__ import annotations

from bot.slack.blocks.limits import clip
from bot.slack.web import Deps, SlackCallFailed, call

#: Slack shows at most this much of a thread title in the assistant's history.
TITLE_LIMIT = 60


def set_status(deps: Deps, channel: str, thread_ts: str, status: str) -> bool:
    """Show `status` ("is reading your task...") under the thread; False if Slack refused."""
    try:
        call(deps, "assistant_threads_setStatus", channel_id=channel, thread_ts=thread_ts,
             status=status)
    except SlackCallFailed:
        return False
    return True


def clear_status(deps: Deps, channel: str, thread_ts: str) -> bool:
    return set_status(deps, channel, thread_ts, "")


def set_title(deps: Deps, channel: str, thread_ts: str, title: str) -> bool:
    """Name the thread in the assistant's history (plain text, clipped)."""
    title = " ".join(title.split())
    if not title:
        return False
    try:
        call(deps, "assistant_threads_setTitle", channel_id=channel, thread_ts=thread_ts,
             title=clip(title, TITLE_LIMIT))
    except SlackCallFailed:
        return False
    return True
