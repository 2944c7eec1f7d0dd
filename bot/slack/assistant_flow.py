"""Slack's assistant thread (the AI app side panel) on the one consultation object.

- `greet` (assistant_thread_started): a greeting in the new thread, carrying the
  context the thread was opened from (Bolt's thread context store keeps it as the
  greeting's message metadata, so any replica can read it), and suggested prompts.
- `take_message` (a person's message in a thread of the bot's DM, which is how Slack
  sends the messages of an assistant thread): the thread's open consultation takes it
  as a reply (the free-text reader, else an answer to the question on screen). In an
  assistant thread (told by the thread's root and greeting, see `assistant_thread`)
  with none open, it starts one prefilled from the text: the status line says what the
  bot is doing, the thread gets a title. Any other DM thread (a DM consultation, a DM
  summary) gets the plain message handling, so a "thanks!" there starts nothing. The
  verdict card replaces the question message, and no DM summary follows: the thread is
  in the bot's DM already.

The flow itself is `bot.slack.thread_flow`: the same code as an @-mention thread.
"""

from __future__ import annotations

import contextlib
import html
import logging
import re
from collections.abc import Mapping
from typing import Any

from bot.slack.assistant_status import clear_status, set_status, set_title
from bot.slack.blocks.limits import section
from bot.slack.thread_flow import handle_mention, handle_message, handle_thread_message
from bot.slack.web import Deps, SlackCallFailed, about, call, guarded
from bot.store import StoreError

log = logging.getLogger("bot.slack.assistant_flow")

#: Offered when a thread starts: (title shown on the chip, message it sends).
SUGGESTED_PROMPTS: tuple[tuple[str, str], ...] = (
    ("Fine-tune our support bot?", "Should we fine-tune our support bot?"),
    ("6k prompt, 20M calls a month", "Our prompt is 6k tokens at 20M calls a month"),
    ("On gpt-4.1-mini: what now?", "We're on gpt-4.1-mini: what now?"),
)
READING = "is reading your task..."
DEFAULT_TITLE = "Prompt or fine-tune?"
#: The subtype of the root message of an assistant thread.
ASSISTANT_ROOT = "assistant_app_thread"
#: The metadata event type Bolt's thread context store uses.
CONTEXT_EVENT = "assistant_thread_context"
#: The root and the greeting come first; a few more in case of other early messages.
REPLIES_LOOKED_AT = 5
_MARKUP_TOKEN = re.compile(r"<[^<>]*>")


def greeting(user: str | None, opened_from: str | None) -> str:
    who = f"Hi <@{user}>! " if user else "Hi! "
    text = (who + "I help decide whether to prompt-engineer or fine-tune an LLM task, from "
            "dated knowledge of the providers and their prices. Tell me about yours (the "
            "model, the prompt's size, calls a month, the examples you have) or pick one "
            "below: I ask only what can still change the verdict.")
    if opened_from and not opened_from.startswith("D"):
        text += f" You opened me from <#{opened_from}>; what we work out stays here."
    return text


def greet(deps: Deps, thread: Mapping[str, Any]) -> None:
    """assistant_thread_started: greeting (with the context as metadata) and prompts."""
    channel, thread_ts = str(thread["channel_id"]), str(thread["thread_ts"])
    raw_context = thread.get("context")
    context = dict(raw_context) if isinstance(raw_context, Mapping) else {}
    opened_from = context.get("channel_id") if isinstance(context.get("channel_id"), str) else None
    # a failure is logged by `call`; the prompts still let the person start
    text = greeting(thread.get("user_id"), opened_from)
    with contextlib.suppress(SlackCallFailed):
        # blocks too: Bolt's context store re-posts the greeting's blocks when it saves a
        # changed context on it
        call(deps, "chat_postMessage", channel=channel, thread_ts=thread_ts, text=text,
             blocks=[section(text)],
             metadata={"event_type": CONTEXT_EVENT, "event_payload": context}
             if context else None)
    with contextlib.suppress(SlackCallFailed):
        call(deps, "assistant_threads_setSuggestedPrompts", channel_id=channel,
             thread_ts=thread_ts, title="Try one of these, or describe your task",
             prompts=[{"title": title, "message": message}
                      for title, message in SUGGESTED_PROMPTS])


def assistant_thread(deps: Deps, channel: str, thread_ts: str) -> tuple[bool, str | None]:
    """(is this an assistant thread, the channel it was opened from). Read from the thread
    itself, so any replica knows: Slack's root message of an assistant thread has the
    subtype `assistant_app_thread`, and the greeting carries the context as metadata.
    When the thread cannot be read it is taken as one: the person wrote to the bot."""
    try:
        replies = call(deps, "conversations_replies", channel=channel, ts=thread_ts,
                       include_all_metadata=True, limit=REPLIES_LOOKED_AT)
    except SlackCallFailed:
        return True, None
    found, opened_from = False, None
    for m in replies.get("messages") or []:
        if m.get("ts") == thread_ts and m.get("subtype") == ASSISTANT_ROOT:
            found = True
        metadata = m.get("metadata") if isinstance(m.get("metadata"), Mapping) else {}
        if metadata.get("event_type") == CONTEXT_EVENT and opened_from is None:
            found = True
            payload = metadata.get("event_payload")
            channel_id = payload.get("channel_id") if isinstance(payload, Mapping) else None
            opened_from = channel_id if isinstance(channel_id, str) and channel_id else None
    return found, opened_from


def take_message(deps: Deps, event: Mapping[str, Any], *, team: str | None) -> None:
    """A person's message in a thread of the bot's DM (Slack sends the messages of an
    assistant thread this way too). The open consultation there takes it; in an
    assistant thread with none open, it starts one; any other DM thread gets the plain
    message handling (`thread_flow.handle_message`)."""
    user, channel = str(event["user"]), str(event["channel"])
    ts, thread_ts = str(event["ts"]), str(event["thread_ts"])
    if deps.bot_user_id and user == deps.bot_user_id:
        return
    try:
        existing = deps.store.find_open_for_thread(channel, thread_ts)
    except StoreError as exc:
        log.warning("DM thread message in %s not checked for a consultation: %s", channel, exc)
        return
    if existing is not None and existing.surface != "assistant":
        handle_message(deps, event, team=team)
        return
    text = str(event.get("text") or "")
    with guarded(deps, user, channel=channel, thread_ts=thread_ts):
        if existing is not None:
            handle_thread_message(deps, user=user, channel=channel, thread_ts=thread_ts,
                                  text=text)
            return
        is_assistant, opened_from = assistant_thread(deps, channel, thread_ts)
        if not is_assistant:
            handle_message(deps, event, team=team)
            return
        _start(deps, user=user, team=team, channel=channel, ts=ts, thread_ts=thread_ts,
               text=text, opened_from=opened_from)


def _start(deps: Deps, *, user: str, team: str | None, channel: str, ts: str,
           thread_ts: str, text: str, opened_from: str | None) -> None:
    set_status(deps, channel, thread_ts, READING)
    started = handle_mention(
        deps, user=user, team=team, channel=channel, ts=ts, thread_ts=thread_ts, text=text,
        surface="assistant", origin="assistant", read_thread=False,
        meta={"opened_from": opened_from} if opened_from else None,
    )
    if started is None:
        clear_status(deps, channel, thread_ts)
        return
    with about(started.id):
        set_title(deps, channel, thread_ts, plain_title(text))
        shown = deps.store.get(started.id)
        if shown is None or shown.message_ts is None:  # nothing posted: the status stays
            clear_status(deps, channel, thread_ts)


def plain_title(text: str) -> str:
    """A thread title from what the person wrote: Slack's markup tokens (mentions, links)
    dropped, entities read back, and no `<` or `>` left, so nothing in it is markup."""
    words = html.unescape(_MARKUP_TOKEN.sub(" ", text))
    words = " ".join(words.replace("<", " ").replace(">", " ").split())
    return words or DEFAULT_TITLE
