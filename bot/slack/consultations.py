"""Slack-side orchestration: what the listeners do after they ack (a facade).

The listeners (`bot.slack.listeners.*`) stay thin: they read the payload, ack, build a
`Deps` and call one function. Those functions live in cohesive modules and are
re-exported here, so listeners may import them from either place:

- `bot.slack.web`: `Deps`, `deps_from`, `call` / `SlackCallFailed` (logged Web API
  calls), `explain` (errors in words), `tell_user`, `guarded`, the error-code sets.
- `bot.slack.records`: the card's prose, the DM summary with the chart and its in-place
  phrasing (`deliver`), the Markdown record, "Full record in my DMs", history, App Home.
- `bot.slack.modal_flow`: `/ptf`, App Home's "New consultation", "Adjust answers".
- `bot.slack.thread_flow`: @-mentions, typed replies, the bot's DM, the question
  message updated in place and the end of a thread consultation.
- `bot.slack.thread_actions`: answer / "Not sure" / "Change an answer" / "Start over".
- `bot.slack.phrasing`: the optional LLM phrasing after the card and the DM.
"""

from __future__ import annotations

from bot.slack.modal_flow import modal_metadata, open_modal, read_metadata, submit_modal
from bot.slack.records import (
    card_explanation,
    deliver,
    history_item,
    history_items,
    open_dm,
    publish_home,
    send_record_dm,
    send_summary,
    upload_markdown,
)
from bot.slack.thread_actions import answer, change, skip, start_over
from bot.slack.thread_flow import (
    advance,
    current_question,
    flow_answers,
    handle_direct_message,
    handle_mention,
    handle_thread_message,
    render_thread_message,
)
from bot.slack.web import (
    GENERIC_FAILURE,
    NOT_POSTABLE,
    STORE_FAILURE,
    UPDATE_GONE,
    Deps,
    SlackCallFailed,
    call,
    deps_from,
    explain,
    guarded,
    tell_user,
)

__all__ = [
    "GENERIC_FAILURE",
    "NOT_POSTABLE",
    "STORE_FAILURE",
    "UPDATE_GONE",
    "Deps",
    "SlackCallFailed",
    "advance",
    "answer",
    "call",
    "card_explanation",
    "change",
    "current_question",
    "deliver",
    "deps_from",
    "explain",
    "flow_answers",
    "guarded",
    "handle_direct_message",
    "handle_mention",
    "handle_thread_message",
    "history_item",
    "history_items",
    "modal_metadata",
    "open_dm",
    "open_modal",
    "publish_home",
    "read_metadata",
    "render_thread_message",
    "send_record_dm",
    "send_summary",
    "skip",
    "start_over",
    "submit_modal",
    "tell_user",
    "upload_markdown",
]
