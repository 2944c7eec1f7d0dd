"""The Bolt app factory: `create_app(settings, store) -> slack_bolt.App`.

What the app does before any listener runs:

1. Bolt's built-in middleware: signature check, `auth.test` once on the first request
   (cached; `token_verification_enabled=False` so building the app never calls Slack,
   which keeps start-up working offline and in tests), ignore the bot's own events,
   `url_verification`.
2. Our global middleware (`ServicesAndDedup`):
   - puts `context["store"]` (`bot.store.Store`), `context["settings"]`
     (`bot.config.Settings`) and `context["services"]` (`Services`) in every request's
     context, and swaps `context["client"]` for an instrumented `WebClient` (same
     token, `SLACK_API_URL`, retries) that counts calls and errors in `/metrics`;
   - deduplicates Events API deliveries: `store.claim_event(event_id, event.channel,
     event.ts)`; a delivery already seen (a Slack retry, `X-Slack-Retry-Num`, or the
     same message seen by another replica) is acked with 200 and no listener runs.
     NOTE for listeners: `(channel, ts)` is a second key, so a message that mentions
     the bot, which Slack delivers both as `app_mention` and as `message.*`, reaches
     the listeners ONCE, as whichever event came first. A `message` listener must
     therefore treat a message containing `<@BOT_USER_ID>` (`context.bot_user_id`) as
     a mention. If the database is down the event is let through (logged, counted).
3. `bot.slack.listeners.register(app)` installs the real listeners.

Listeners get their collaborators from the context (or from `services_for(app)` at
registration time)::

    def register(app):
        settings = services_for(app).settings
        @app.command(settings.bot_slash_command)
        def on_command(ack, body, client, context):
            ack()                               # first: Slack wants it within 3 s
            store = context["store"]            # then the slow work (DB, Web API)
            ...

`process_before_response=False`: Bolt runs each listener in `listener_executor`
(`SLACK_LISTENER_THREADS` threads) and answers Slack as soon as `ack()` is called, so
everything after `ack()` in a listener (or in a `lazy=[...]` function) happens after
the HTTP response. Keep work before `ack()` to validation only (e.g. a modal's
`response_action: errors`).
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.slack import metrics
from bot.slack.logging_setup import install_redaction, reset_sdk_logger_levels
from bot.slack.work import WORK_EXECUTOR_KEY, WorkExecutor
from bot.store import Store, StoreError

log = logging.getLogger("bot.slack.app")

SLACK_API_TIMEOUT_S = 10
SLACK_API_MAX_RETRIES = 3


@dataclass(frozen=True)
class Services:
    """What listeners need besides the Slack payload. Shared, never copied."""

    settings: Settings
    store: Store

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        return self


_services: weakref.WeakKeyDictionary[App, Services] = weakref.WeakKeyDictionary()


_work_executors: weakref.WeakKeyDictionary[App, Executor] = weakref.WeakKeyDictionary()


def work_executor_for(app: App) -> Executor | None:
    """The app's work pool (listener work after the ack), or None for a bare Bolt app."""
    return _work_executors.get(app)


def services_for(app: App) -> Services:
    """The `Services` an app was created with (for `register(app)` functions)."""
    return _services[app]


class InstrumentedWebClient(WebClient):
    """A `WebClient` that counts calls and failures per API method in `/metrics`."""

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        metrics.SLACK_API_CALLS.labels(method=api_method).inc()
        try:
            return super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            error = "unknown"
            with contextlib.suppress(Exception):
                error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
            metrics.SLACK_API_ERRORS.labels(method=api_method, error=error).inc()
            raise
        except Exception as exc:
            metrics.SLACK_API_ERRORS.labels(method=api_method, error=type(exc).__name__).inc()
            raise


def retry_handlers(max_retries: int = SLACK_API_MAX_RETRIES) -> list[RetryHandler]:
    """Connection errors, 429 (sleeps Retry-After), 500/503 - at most `max_retries` in all."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]


def _api_base_url(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def build_web_client(
    settings: Settings,
    *,
    token: str | None = None,
    timeout: int = SLACK_API_TIMEOUT_S,
    max_retries: int = SLACK_API_MAX_RETRIES,
) -> InstrumentedWebClient:
    """The Web API client: bot token, `SLACK_API_URL`, timeout and retry handlers."""
    if token is None and settings.slack_bot_token is not None:
        token = settings.slack_bot_token.get_secret_value()
    return InstrumentedWebClient(
        token=token,
        base_url=_api_base_url(settings.slack_api_url),
        timeout=timeout,
        retry_handlers=retry_handlers(max_retries),
        logger=logging.getLogger("slack_sdk.web"),
    )


def _event_keys(body: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None
    event = body.get("event")
    event = event if isinstance(event, dict) else {}
    channel = event.get("channel")
    ts = event.get("ts")
    return (
        event_id,
        channel if isinstance(channel, str) and channel else None,
        ts if isinstance(ts, str) and ts else None,
    )


class ServicesAndDedup(Middleware):
    """Global middleware: services in the context, instrumented client, events dedup.

    A `Middleware` subclass rather than a function: Bolt then skips its per-request
    argument injection, which matters in the ack path.
    """

    def __init__(
        self, services: Services, base_client: WebClient, work_executor: Executor | None = None
    ):
        self.services = services
        self.work_executor = work_executor
        self.store = services.store
        self.base_client = base_client

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        ctx = req.context
        ctx["services"] = self.services
        ctx["store"] = self.store
        ctx["settings"] = self.services.settings
        if self.work_executor is not None:
            ctx[WORK_EXECUTOR_KEY] = self.work_executor
        base = self.base_client
        current = ctx.get("client")
        ctx["client"] = InstrumentedWebClient(
            token=current.token if current is not None else base.token,
            base_url=base.base_url,
            timeout=base.timeout,
            headers=base.headers,
            team_id=ctx.team_id,
            logger=base.logger,
            retry_handlers=list(base.retry_handlers or []),
        )

        keys = _event_keys(req.body)
        if keys is not None:
            retry_num = (req.headers.get("x-slack-retry-num") or [None])[0]
            if retry_num is not None:
                metrics.RETRIES_RECEIVED.inc()
            try:
                first = self.store.claim_event(*keys)
            except StoreError:
                metrics.DEDUP_STORE_ERRORS.inc()
                log.warning("event %s handled without dedup: database unavailable", keys[0])
                first = True
            if not first:
                metrics.DUPLICATE_EVENTS.inc()
                reason = (req.headers.get("x-slack-retry-reason") or [""])[0]
                log.info(
                    "duplicate event %s dropped (retry %s %s)", keys[0], retry_num or "-", reason
                )
                return BoltResponse(status=200, body="")
        return next()


@contextlib.contextmanager
def _no_client_token_warning() -> Iterator[None]:
    """Bolt reads SLACK_BOT_TOKEN from the environment even when given a client, then
    warns that the token is unused: expected here (the client carries it), so muted."""
    logger = logging.getLogger("slack_bolt.App")

    def drop(record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()

    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)


def create_app(
    settings: Settings,
    store: Store,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    work_executor: Executor | None = None,
    register_listeners: bool = True,
) -> App:
    """Build the Bolt app: Web API client with retries, dedup middleware, listeners.

    - `client`: override the Web API client (default: `build_web_client(settings)`).
    - `listener_executor`: where listeners run after the ack (default: a thread pool
      of `settings.slack_listener_threads`).
    - `register_listeners=False` gives the bare app with the middleware only (tests).

    Requires `SLACK_BOT_TOKEN`; `SLACK_SIGNING_SECRET` is needed to accept HTTP requests.
    Never calls Slack while building.
    """
    install_redaction(settings)
    if client is None:
        client = build_web_client(settings)
    if listener_executor is None:
        listener_executor = ThreadPoolExecutor(
            max_workers=settings.slack_listener_threads, thread_name_prefix="slack-listener"
        )
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    with _no_client_token_warning():
        app = App(
            name="ptf-bot",
            client=client,
            signing_secret=signing_secret,
            token_verification_enabled=False,
            process_before_response=False,
            listener_executor=listener_executor,
        )
    if work_executor is None:
        work_executor = WorkExecutor(max_workers=settings.slack_listener_threads)
    services = Services(settings=settings, store=store)
    _services[app] = services
    _work_executors[app] = work_executor
    app.use(ServicesAndDedup(services, client, work_executor))
    if register_listeners:
        from bot.slack import listeners

        listeners.register(app)
    reset_sdk_logger_levels()
    return app
