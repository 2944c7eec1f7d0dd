"""The Slack Web API client: timeouts, retries that honour Retry-After, metrics.

`build_web_client(settings)`: 10 s timeout, at most 3 retries in all, for
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

`trigger_client(context)`: the same, for `views.open` right after an ack (3 s timeout,
one retry, no rate-limit sleep over 1 s). `before_ack_client(context)`: one try of at most
1 s and no retry, for the one call made before an ack (the ack is owed within 3 s; a
caller falls back to its after-ack path). Every call is counted in `/metrics`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Mapping
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot import metrics
from bot.config import Settings

log = logging.getLogger("bot.slack.client")

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
#: `views.open` with a trigger_id: the trigger expires 3 s after the user acted, so a
#: slow or rate-limited call is not worth waiting for (nor retrying after long sleeps).
TRIGGER_TIMEOUT_S = 3
TRIGGER_MAX_RETRY_AFTER_S = 1.0


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


#: The metadata event type of the outbox's posts (`bot.slack.outbox.EVENT_TYPE`).
OUTBOX_EVENT_TYPE = "ptf_message"


def _from_outbox(request: HttpRequest) -> bool:
    body = request.data or b""
    if not body and request.body_params:
        body = str(request.body_params).encode()
    return OUTBOX_EVENT_TYPE.encode() in body


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
        if response is None or response.status_code not in RETRIED_SERVER_ERRORS:
            return False
        # A post from the outbox may have arrived despite the 5xx: the outbox looks for it
        # by its key before posting again, so it is not repeated blindly here.
        return not (api_method_of(request) in NOT_REPEATABLE and _from_outbox(request))


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
    return _request_client(context, TRIGGER_TIMEOUT_S,
                           retry_handlers(1, TRIGGER_MAX_RETRY_AFTER_S))


#: The one call made before an ack: at most this long, no retry.
BEFORE_ACK_TIMEOUT_S = 1


def before_ack_client(context: Mapping[str, Any]) -> WebClient:
    """A client for a call that must finish before the ack (the request's client, one try
    of at most 1 s); on any failure the caller does the call after the ack instead."""
    return _request_client(context, BEFORE_ACK_TIMEOUT_S, [])


def _request_client(context: Mapping[str, Any], timeout: int,
                    handlers: list[RetryHandler]) -> WebClient:
    """The request's client (same token, URL, team and metrics) with its own timeout and
    retries."""
    base: WebClient = context["client"]
    return InstrumentedWebClient(
        token=base.token,
        base_url=base.base_url,
        timeout=timeout,
        headers=base.headers,
        team_id=context.get("team_id"),
        logger=base.logger,
        retry_handlers=handlers,
    )
