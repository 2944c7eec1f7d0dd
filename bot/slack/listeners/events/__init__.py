"""Events API listeners: mentions, thread replies, App Home, revoked tokens."""

from slack_bolt import App

from .app_home_opened import app_home_opened_callback
from .app_mention import app_mention_callback
from .message import message_callback
from .tokens_revoked import tokens_revoked_callback


def register(app: App) -> None:
    app.event("app_mention")(app_mention_callback)
    app.event("message")(message_callback)
    app.event("app_home_opened")(app_home_opened_callback)
    app.event("tokens_revoked")(tokens_revoked_callback)  # acts in OAuth mode only
