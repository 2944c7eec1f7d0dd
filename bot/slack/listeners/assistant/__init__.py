"""Slack's assistant thread, through Bolt's `Assistant` middleware.

The middleware routes the assistant events (and every user message in a thread of the
bot's DM, which is how Slack sends messages in assistant threads) to these listeners
before the plain `message` listener sees them.
"""

from slack_bolt import App, Assistant

from .thread_context_changed import thread_context_changed_callback
from .thread_started import thread_started_callback
from .user_message import user_message_callback


def register(app: App) -> None:
    assistant = Assistant()
    assistant.thread_started(thread_started_callback)
    assistant.thread_context_changed(thread_context_changed_callback)
    assistant.user_message(user_message_callback)
    app.assistant(assistant)
