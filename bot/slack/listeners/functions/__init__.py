"""Workflow Builder custom steps (`function_executed`)."""

from slack_bolt import App

from bot.slack.workflow_step import CALLBACK_ID

from .ptf_decide import ptf_decide_callback


def register(app: App) -> None:
    app.function(CALLBACK_ID)(ptf_decide_callback)
