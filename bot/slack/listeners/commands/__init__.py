"""Slash command listeners."""

from slack_bolt import App

from bot.slack.services import services_for

from .ptf_command import ptf_command_callback


def register(app: App) -> None:
    app.command(services_for(app).settings.bot_slash_command)(ptf_command_callback)
