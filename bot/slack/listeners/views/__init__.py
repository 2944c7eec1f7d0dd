"""View (modal) submission listeners."""

from slack_bolt import App

from bot.slack.blocks.ids import MODAL_CALLBACK

from .consultation_submitted import consultation_submitted_callback


def register(app: App) -> None:
    app.view(MODAL_CALLBACK)(consultation_submitted_callback)
