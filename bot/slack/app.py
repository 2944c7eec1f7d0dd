"""The Bolt app factory: `create_app(services) -> slack_bolt.App`.

What the app does before any listener runs:

1. Bolt's built-in middleware: signature check, authorization, ignore the bot's own
   events, `url_verification`. Authorization is `BotIdentity` (`bot.slack.identity`): it
   never calls Slack on the request path; `auth.test` runs once, in the background.
2. `ServicesAndDedup` (`bot.slack.middleware`): the services and an instrumented Web API
   client in every request's context, and Events API deduplication.
3. `bot.slack.listeners.register(app)` installs the real listeners.

Threads (per process): Bolt's `listener_executor` is the *ack pool*
(`ack_threads(settings)` = `WEB_THREADS` + `EVENT_DISPATCH_THREADS`): it runs listeners
up to their `ack()`, `views.open` right after it (a `trigger_id` expires in 3 s) and the
hand-off; the *work pool* (`SLACK_LISTENER_THREADS`) runs everything slow
(`bot.slack.work.after_ack`). Building the app never calls Slack.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack import listeners
from bot.slack.client import build_web_client
from bot.slack.identity import BotIdentity
from bot.slack.logging_setup import install_redaction, reset_sdk_logger_levels
from bot.slack.middleware import ServicesAndDedup
from bot.slack.oauth import oauth_settings
from bot.slack.services import Services, ack_threads, register_app
from bot.slack.work import WorkExecutor


@contextlib.contextmanager
def _no_client_token_warning() -> Iterator[None]:
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client and an
    `authorize`, then warns that the token is unused: expected here (the client and
    `BotIdentity` carry it), so muted."""
    logger = logging.getLogger("slack_bolt.App")

    def drop(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "will be unused" not in message and "will be ignored" not in message

    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def create_app(
    services: Services,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    work_executor: Executor | None = None,
    register_listeners: bool = True,
) -> App:
    """Build the Bolt app: Web API client with retries, authorize, dedup, listeners.

    - `client`: override the Web API client (default: `build_web_client(settings)`).
    - `listener_executor`: Bolt's executor, where listeners run up to and just after
      their ack (default: a thread pool of `ack_threads(settings)`).
    - `work_executor`: where `after_ack` work runs (default: a `WorkExecutor` of
      `settings.slack_listener_threads`).
    - `register_listeners=False` gives the bare app with the middleware only (tests).

    Token mode (one workspace) needs `SLACK_BOT_TOKEN`; OAuth mode (`settings.oauth_mode`:
    `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`, no bot token) authorizes each request
    from the installation stored for its team (`bot.slack.oauth`). `SLACK_SIGNING_SECRET`
    is needed to accept HTTP requests.
    Never calls Slack while building: the bot identity is looked up when the server
    starts (`identity_for(app).start()`) or on the first request, in the background.
    """
    settings = services.settings
    install_redaction(settings)
    if client is None:
        client = build_web_client(settings)
    if listener_executor is None:
        listener_executor = ThreadPoolExecutor(
            max_workers=ack_threads(settings), thread_name_prefix="slack-ack"
        )
    if work_executor is None:
        work_executor = WorkExecutor(max_workers=settings.slack_listener_threads)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    identity: BotIdentity | None = None
    with _no_client_token_warning():
        if settings.oauth_mode:
            app = App(
                name="ptf-bot",
                client=client,
                signing_secret=signing_secret,
                oauth_settings=oauth_settings(settings, services.store.engine, client),
                process_before_response=False,
                listener_executor=listener_executor,
            )
            # app_uninstalled: Bolt's; tokens_revoked: listeners/events/tokens_revoked.py
            app.event("app_uninstalled")(app.default_app_uninstalled_event_listener())
        else:
            identity = BotIdentity(client)
            app = App(
                name="ptf-bot",
                client=client,
                signing_secret=signing_secret,
                authorize=identity,
                process_before_response=False,
                listener_executor=listener_executor,
            )
    register_app(app, services, work_executor, identity)
    app.use(ServicesAndDedup(services, client, work_executor, identity))
    if register_listeners:
        listeners.register(app)
    reset_sdk_logger_levels()
    return app
