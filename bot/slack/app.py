"""The Bolt app factory: `create_app(settings, store) -> slack_bolt.App`.

What the app does before any listener runs:

1. Bolt's built-in middleware: signature check, authorization, ignore the bot's own
   events, `url_verification`. Authorization is `BotIdentity` (a Bolt `authorize`):
   it never calls Slack on the request path. `auth.test` runs once, in the background
   (started when the server starts, retried with back-off), and its result (bot user
   id, bot id, team, workspace URL) is cached. Until it is known, requests are
   authorized with the bot token and no bot user id, so acks never wait for Slack; the
   work handed off after the ack (`bot.slack.work.after_ack`) first waits (bounded) for
   the identity, and so do Events API deliveries, which are dispatched after their ack.
   Building the app never calls Slack (start-up works offline and in tests).
2. Our global middleware (`ServicesAndDedup`):
   - puts `context["store"]` (`bot.store.Store`), `context["settings"]`
     (`bot.config.Settings`), `context["services"]` (`Services`) and
     `context["work_executor"]` (the app's work pool, see `bot.slack.work`) in every
     request's context, and swaps `context["client"]` for an instrumented `WebClient`
     (same token, `SLACK_API_URL`, retries) that counts calls and errors in `/metrics`;
   - deduplicates Events API deliveries: `store.claim_event(event_id, event.channel,
     event.ts)`; a delivery already seen (a Slack retry, `X-Slack-Retry-Num`, or the
     same message seen by another replica) is acked with 200 and no listener runs.
     Only events a listener acts on are claimed (`claims_event`): `app_mention` always;
     `message` only with a subtype in `HANDLED_MESSAGE_SUBTYPES` (None, `file_share`,
     `thread_broadcast`), not from a bot, and either mentioning the bot, in a thread,
     or in a DM. Plain channel chatter is not written to the database, and a mention
     whose `message` copy has a subtype the bot ignores (e.g. `me_message`) does not
     swallow its `app_mention`.
     NOTE for listeners: `(channel, ts)` is a second key, so a message that mentions
     the bot, which Slack delivers both as `app_mention` and as `message.*`, reaches
     the listeners ONCE, as whichever event came first. A `message` listener must
     therefore treat a message (subtype in `HANDLED_MESSAGE_SUBTYPES`) containing
     `<@BOT_USER_ID>` (`context.bot_user_id`) as a mention. If the database is down
     the event is let through (logged, counted).
3. `bot.slack.listeners.register(app)` installs the real listeners.

Threads (per process): Bolt's `listener_executor` is the *ack pool*
(`ack_threads(settings)` = `WEB_THREADS` + `EVENT_DISPATCH_THREADS`): it runs listeners
up to their `ack()`, `views.open` right after it (a `trigger_id` expires in 3 s) and the
hand-off; the *work pool* (`SLACK_LISTENER_THREADS`) runs everything slow. Listeners::

    from bot.slack.work import after_ack

    def register(app):
        @app.command(settings.bot_slash_command)
        def on_command(ack, body, client, context):
            ack()                                   # first: Slack wants it within 3 s
            after_ack(context, slow_part, body, client, context)   # DB, Web API, LLM

Keep work before `ack()` to validation only (e.g. a modal's `response_action: errors`).

Web API client (`build_web_client`): 10 s timeout, at most 3 retries in all, for
- 429: sleeps `Retry-After` (+ up to 0.25 s jitter) when it is at most
  `MAX_RETRY_AFTER_S` (10 s); a longer wait is not slept: the call fails with
  `ratelimited` and the caller's error path tells the user;
- HTTP 500, 502, 503, 504 (back-off 0.5, 1, 2 s);
- connection errors: always when the request cannot have reached Slack (refused,
  DNS, connect timeout: urllib raises those as `URLError`); when it may have (the
  connection dropped or timed out while waiting for the answer), only for methods
  that are safe to repeat. `chat.postMessage`, `chat.postEphemeral` and the other
  `NOT_REPEATABLE` methods are then NOT retried: a retry could post the message twice,
  and a missing message is recoverable (the user is told and can retry) while a
  duplicate answer in a thread is not.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_bolt import App, BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.config import Settings
from bot.slack import metrics
from bot.slack.logging_setup import install_redaction, reset_sdk_logger_levels
from bot.slack.work import (
    ACKED_KEY,
    HANDLED_MESSAGE_SUBTYPES,
    IDENTITY_KEY,
    WORK_EXECUTOR_KEY,
    WorkExecutor,
)
from bot.store import Store, StoreError

log = logging.getLogger("bot.slack.app")

SLACK_API_TIMEOUT_S = 10
SLACK_API_MAX_RETRIES = 3
#: A 429 asking to wait longer than this is not retried (the call fails `ratelimited`).
MAX_RETRY_AFTER_S = 10.0
#: HTTP statuses retried (slack_sdk's own handler only retries 500 and 503).
RETRIED_SERVER_ERRORS = frozenset({500, 502, 503, 504})
#: Methods not repeated after a connection error once the request may have been sent.
NOT_REPEATABLE = frozenset({
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.meMessage",
    "chat.scheduleMessage",
    "files.completeUploadExternal",
    "files.upload",
})
#: Threads that dispatch Events API deliveries after their ack (`bot.slack.server`).
EVENT_DISPATCH_THREADS = 4
#: `views.open` with a trigger_id: the trigger expires 3 s after the user acted, so a
#: slow or rate-limited call is not worth waiting for (nor retrying after long sleeps).
TRIGGER_TIMEOUT_S = 3
TRIGGER_MAX_RETRY_AFTER_S = 1.0
#: Post-ack waits for the bot identity (auth.test) before going on without it.
IDENTITY_WAIT_S = 15.0
#: auth.test errors that retrying cannot fix.
PERMANENT_AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "not_allowed_token_type", "team_access_not_granted",
})


def ack_threads(settings: Settings) -> int:
    """Size of Bolt's listener executor (the ack pool): every request thread and every
    event dispatcher may wait for a listener's ack at once."""
    return settings.web_threads + EVENT_DISPATCH_THREADS


def db_pool_sizes(settings: Settings) -> tuple[int, int]:
    """`(pool_size, max_overflow)` of the SQLAlchemy pool, from the thread counts.

    Threads of a process that may hold a database connection at the same time:
    - routinely: the work pool (`SLACK_LISTENER_THREADS`, consultations) and the event
      dispatchers (`EVENT_DISPATCH_THREADS`, the dedup claim): the pool proper;
    - in bursts: the ack pool (`ack_threads`, listeners before their hand-off) and the
      request threads (`WEB_THREADS`, `/readyz`): the overflow, closed when returned.
    So no thread ever waits for a connection. Per process at most
    pool_size + max_overflow connections (defaults: 20 + 20); with PostgreSQL keep
    `WEB_CONCURRENCY` x that (x replicas) below `max_connections` (default 100).
    """
    return (
        settings.slack_listener_threads + EVENT_DISPATCH_THREADS,
        ack_threads(settings) + settings.web_threads,
    )


@dataclass(frozen=True)
class Services:
    """What listeners need besides the Slack payload. Shared, never copied."""

    settings: Settings
    store: Store

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        return self


_services: weakref.WeakKeyDictionary[App, Services] = weakref.WeakKeyDictionary()
_work_executors: weakref.WeakKeyDictionary[App, Executor] = weakref.WeakKeyDictionary()
_identities: weakref.WeakKeyDictionary[App, BotIdentity] = weakref.WeakKeyDictionary()


def services_for(app: App) -> Services:
    """The `Services` an app was created with (for `register(app)` functions)."""
    return _services[app]


def work_executor_for(app: App) -> Executor | None:
    """The app's work pool (listener work after the ack), or None for a bare Bolt app."""
    return _work_executors.get(app)


def identity_for(app: App) -> BotIdentity | None:
    """The app's `BotIdentity` (auth.test cache), or None for a bare Bolt app."""
    return _identities.get(app)


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


# ---------------------------------------------------------------- Web API retries


def api_method_of(request: HttpRequest) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage`."""
    return urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]


def _retry_after_s(response: HttpResponse) -> float | None:
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(value))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return None
    return None


class CappedRateLimitRetryHandler(RetryHandler):
    """429: sleep `Retry-After` (+ jitter) and retry, unless it asks for more than
    `max_retry_after_s`; then give up at once (the caller sees `ratelimited`)."""

    def __init__(self, max_retry_count: int = 1, max_retry_after_s: float = MAX_RETRY_AFTER_S):
        super().__init__(max_retry_count=max_retry_count)
        self.max_retry_after_s = max_retry_after_s

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after_s(response)
        if wait is not None and wait > self.max_retry_after_s:
            log.warning(
                "Slack %s rate limited for %gs (more than %gs): not retried",
                api_method_of(request), wait, self.max_retry_after_s,
            )
            return False
        return True

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = _retry_after_s(response) if response is not None else None
        state.next_attempt_requested = True
        time.sleep((1.0 if wait is None else wait) + random.uniform(0, 0.25))
        state.increment_current_attempt()


class ServerErrorsRetryHandler(RetryHandler):
    """HTTP 500, 502, 503 and 504 (slack_sdk's `ServerErrorRetryHandler`: 500/503 only)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and response.status_code in RETRIED_SERVER_ERRORS


class SafeConnectionErrorRetryHandler(ConnectionErrorRetryHandler):
    """Connection errors, without ever repeating a message post that may have arrived.

    urllib raises `URLError` for what fails while connecting or sending (refused, DNS,
    connect timeout): Slack cannot have acted, so every method is retried. Errors while
    waiting for or reading the answer (`RemoteDisconnected`, `ConnectionResetError`,
    timeouts) mean the request may have been processed: those are retried only for
    methods outside `NOT_REPEATABLE`.
    """

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if not super()._can_retry(state=state, request=request, response=response, error=error):
            return False
        sent_before_failure = not (isinstance(error, URLError) and not isinstance(error, HTTPError))
        method = api_method_of(request)
        if sent_before_failure and method in NOT_REPEATABLE:
            log.warning(
                "Slack %s: connection lost after the request was sent (%s); not retried, "
                "it may have been posted", method, type(error).__name__,
            )
            return False
        return True


def retry_handlers(
    max_retries: int = SLACK_API_MAX_RETRIES, max_retry_after_s: float = MAX_RETRY_AFTER_S
) -> list[RetryHandler]:
    """Connection errors (safely), 429 (Retry-After up to a cap), 500/502/503/504."""
    return [
        SafeConnectionErrorRetryHandler(max_retry_count=max_retries),
        CappedRateLimitRetryHandler(max_retry_count=max_retries,
                                    max_retry_after_s=max_retry_after_s),
        ServerErrorsRetryHandler(max_retry_count=max_retries),
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


def trigger_client(context: Mapping[str, Any]) -> WebClient:
    """A client for `views.open` right after an ack: the request's client (same token,
    URL, metrics) with a 3 s timeout, one retry, and no rate-limit sleep over 1 s: a
    `trigger_id` is dead 3 s after the click, and the ack pool must not sleep."""
    base: WebClient = context["client"]
    return InstrumentedWebClient(
        token=base.token,
        base_url=base.base_url,
        timeout=TRIGGER_TIMEOUT_S,
        headers=base.headers,
        team_id=context.get("team_id"),
        logger=base.logger,
        retry_handlers=retry_handlers(1, TRIGGER_MAX_RETRY_AFTER_S),
    )


# ---------------------------------------------------------------- bot identity


class BotIdentity(Authorize):
    """Bolt `authorize` for one workspace that never calls Slack on the request path.

    `auth.test` runs on a background thread (`start()`, called when the server starts
    and on the first request at the latest), retried with back-off (1, 2, 5, 10, 30,
    60 s, then every 60 s) until it answers; a permanent error (`invalid_auth`,
    `token_revoked`, ...) stops the retries and is logged. The result is cached for the
    life of the process.

    A request is authorized at once: with the cached identity when known, else with the
    bot token and no bot user id (the ack is never delayed, and nobody sees Bolt's
    "installation no longer available"). After the ack, `fill(context)` (done by
    `after_ack` before the hand-off work runs, and for Events API deliveries, which
    are dispatched after their ack) waits up to `IDENTITY_WAIT_S` for the identity;
    without it, the work goes on with `context["bot_user_id"]` unset.
    """

    BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

    def __init__(self, client: WebClient, *, backoff_s: tuple[float, ...] | None = None):
        super().__init__()
        self.client = client
        self.token = client.token
        self.backoff_s = backoff_s or self.BACKOFF_S
        self.info: dict[str, Any] | None = None
        self.failed: str | None = None
        self._settled = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> None:
        """Look the identity up in the background (idempotent; returns at once)."""
        if self._settled.is_set():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="slack-auth-test", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def wait(self, timeout: float) -> dict[str, Any] | None:
        """The identity, waiting up to `timeout` s for it (starts the lookup)."""
        self.start()
        self._settled.wait(timeout)
        return self.info

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                response = self.client.auth_test()
            except SlackApiError as exc:
                error = "unknown"
                with contextlib.suppress(Exception):
                    error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
                metrics.AUTH_FAILURES.inc()
                if error in PERMANENT_AUTH_ERRORS:
                    log.error("auth.test failed: %s; check SLACK_BOT_TOKEN (no more retries)",
                              error)
                    self.failed = error
                    self._settled.set()
                    return
                problem = error
            except Exception as exc:  # connection errors after the client's own retries
                metrics.AUTH_FAILURES.inc()
                problem = type(exc).__name__
            else:
                scopes = None
                with contextlib.suppress(Exception):
                    scopes = response.headers.get("x-oauth-scopes")
                self.info = {
                    "enterprise_id": response.get("enterprise_id"),
                    "team_id": response.get("team_id"),
                    "team": response.get("team"),
                    "url": response.get("url"),
                    "bot_user_id": response.get("user_id"),
                    "bot_id": response.get("bot_id"),
                    "bot_scopes": scopes,
                }
                self._settled.set()
                log.info("bot identity: user %s in team %s", self.info["bot_user_id"],
                         self.info["team_id"])
                return
            delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
            attempt += 1
            log.warning("auth.test failed (%s); retrying in %gs", problem, delay)
            if self._stop.wait(delay):
                return

    # Bolt authorize
    def result(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> AuthorizeResult:
        info = self.info
        if info is None:
            return AuthorizeResult(
                enterprise_id=enterprise_id, team_id=team_id, bot_token=self.token,
                user_id=user_id,
            )
        return AuthorizeResult(
            enterprise_id=info["enterprise_id"] or enterprise_id,
            team_id=info["team_id"] or team_id,
            team=info["team"],
            url=info["url"],
            bot_user_id=info["bot_user_id"],
            bot_id=info["bot_id"],
            bot_token=self.token,
            bot_scopes=info["bot_scopes"],
            user_id=user_id,
        )

    def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult:
        if self.info is None:
            if context.get(ACKED_KEY):  # an event already acked: waiting is free
                self.wait(IDENTITY_WAIT_S)
            else:
                self.start()
        return self.result(enterprise_id, team_id, user_id)

    def fill(self, context: Any, timeout: float = IDENTITY_WAIT_S) -> None:
        """After the ack: make sure `context` has the bot identity (waits up to `timeout`)."""
        if context.get("bot_user_id") or self.failed:
            return
        if self.wait(timeout) is None:
            log.warning("bot identity still unknown after %gs; going on without it", timeout)
            return
        result = self.result(context.get("enterprise_id"), context.get("team_id"),
                             context.get("user_id"))
        if hasattr(context, "set_authorize_result"):
            context.set_authorize_result(result)
        else:
            context["bot_user_id"] = result.bot_user_id


# ---------------------------------------------------------------- events dedup


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


def claims_event(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Whether a listener may act on this event, so that it must be deduplicated.

    `app_mention`: always; `app_home_opened`: never (publishing twice is harmless).
    `message`: a subtype in `HANDLED_MESSAGE_SUBTYPES`, not
    from a bot, and mentioning the bot (any mention while the bot's id is unknown), in
    a thread, or in a DM. Everything else is not written to the database: plain channel
    chatter the bot ignores, and message subtypes the message listener drops (a mention
    sent as, e.g., `me_message` then still reaches the listeners as `app_mention`)."""
    kind = event.get("type")
    if kind == "app_home_opened":
        return False  # publishing the tab twice is harmless: no database write per open
    if kind != "message":
        return True  # app_mention, ...: handled when delivered
    if event.get("subtype") not in HANDLED_MESSAGE_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return False
    if event.get("channel_type") == "im":
        return True
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if thread_ts and thread_ts != ts:
        return True
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    return f"<@{bot_user_id}" in text if bot_user_id else "<@" in text


class ServicesAndDedup(Middleware):
    """Global middleware: services in the context, instrumented client, events dedup.

    A `Middleware` subclass rather than a function: Bolt then skips its per-request
    argument injection, which matters in the ack path.
    """

    def __init__(
        self,
        services: Services,
        base_client: WebClient,
        work_executor: Executor | None = None,
        identity: BotIdentity | None = None,
    ):
        self.services = services
        self.store = services.store
        self.base_client = base_client
        self.work_executor = work_executor
        self.identity = identity

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
        if self.identity is not None:
            ctx[IDENTITY_KEY] = self.identity
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
        if keys is not None and claims_event(req.body.get("event") or {}, ctx.bot_user_id):
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
    settings: Settings,
    store: Store,
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

    Requires `SLACK_BOT_TOKEN`; `SLACK_SIGNING_SECRET` is needed to accept HTTP requests.
    Never calls Slack while building: the bot identity is looked up when the server
    starts (`identity_for(app).start()`) or on the first request, in the background.
    """
    install_redaction(settings)
    if client is None:
        client = build_web_client(settings)
    if listener_executor is None:
        listener_executor = ThreadPoolExecutor(
            max_workers=ack_threads(settings), thread_name_prefix="slack-ack"
        )
    if work_executor is None:
        work_executor = WorkExecutor(max_workers=settings.slack_listener_threads)
    identity = BotIdentity(client)
    signing_secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    with _no_client_token_warning():
        app = App(
            name="ptf-bot",
            client=client,
            signing_secret=signing_secret,
            authorize=identity,
            process_before_response=False,
            listener_executor=listener_executor,
        )
    services = Services(settings=settings, store=store)
    _services[app] = services
    _work_executors[app] = work_executor
    _identities[app] = identity
    app.use(ServicesAndDedup(services, client, work_executor, identity))
    if register_listeners:
        from bot.slack import listeners

        listeners.register(app)
    reset_sdk_logger_levels()
    return app
