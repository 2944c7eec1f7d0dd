"""Shortcuts: the message shortcut "Ask the advisor about this thread"."""

from slack_bolt import App

from bot.slack.thread_shortcut import CALLBACK_ID

from .ask_about_thread import ask_about_thread_callback


def register(app: App) -> None:
    app.message_shortcut(CALLBACK_ID)(ask_about_thread_callback)
