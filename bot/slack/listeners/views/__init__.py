"""View (modal) submission listeners."""

from slack_bolt import App

from bot.slack.blocks.ids import ASSUMPTIONS_CALLBACK, MODAL_CALLBACK

from .assumptions_submitted import assumptions_submitted_callback
from .consultation_submitted import consultation_submitted_callback


def register(app: App) -> None:
    app.view(MODAL_CALLBACK)(consultation_submitted_callback)
    app.view(ASSUMPTIONS_CALLBACK)(assumptions_submitted_callback)
