"""The message shortcut "Ask the advisor about this thread".

It reads the whole thread the message is in (people's messages, not bots'), prefills a
consultation from it and starts that consultation in the thread, owned by the person
who used the shortcut: the same flow as an @-mention (`bot.slack.thread_flow`). When the
bot cannot read the thread, the person is told privately (by the shortcut's
`response_url`, which works where the bot is not a member) why and what to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.slack.thread_flow import handle_mention, people_messages
from bot.slack.web import Deps, SlackCallFailed, explain, tell_user

log = logging.getLogger("bot.slack.thread_shortcut")

CALLBACK_ID = "ask_about_thread"


def ask_about_thread(deps: Deps, *, user: str, team: str | None, channel: str,
                     message_ts: str, thread_ts: str | None,
                     notify: Callable[[str], None] | None = None) -> None:
    """`notify(text)`: tell the person privately where they used the shortcut (its
    `response_url`, which works even where the bot is not a member); else `tell_user`."""
    root = thread_ts or message_ts
    try:
        texts = people_messages(deps, channel=channel, thread_ts=root)
    except SlackCallFailed as exc:
        words = (f"I could not read that thread: {explain(exc)}. Then use the shortcut again; "
                 f"`{deps.command}` works in any channel.")
        if notify is not None:
            try:
                notify(words)
                return
            except Exception as error:  # noqa: BLE001 - fall back to the usual way
                log.warning("shortcut reply by response_url failed: %s", type(error).__name__)
        tell_user(deps, user, words, channel=channel)
        return
    handle_mention(deps, user=user, team=team, channel=channel, ts="", thread_ts=root,
                   text="", origin="shortcut", texts=texts)
