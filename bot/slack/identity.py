"""The bot's own identity (`auth.test`), looked up in the background, never on an ack."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from bot import metrics
from bot.slack.work import ACKED_KEY

log = logging.getLogger("bot.slack.identity")


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno < logging.WARNING


#: slack_sdk's logger for the auth.test client: its per-attempt ERROR ("Failed to send a
#: request to Slack API server") is dropped; `BotIdentity` logs one WARNING per attempt.
_SDK_LOG = logging.getLogger("slack_sdk.web.auth_test")
_SDK_LOG.addFilter(_below_warning)

#: Post-ack waits for the bot identity (auth.test) before going on without it.
IDENTITY_WAIT_S = 15.0
#: auth.test errors that retrying cannot fix.
PERMANENT_AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "not_allowed_token_type", "team_access_not_granted",
})


def auth_test_client(client: WebClient) -> WebClient:
    """A copy of `client` for `auth.test` in the background: same token, URL, timeout,
    headers and metrics; no retries of its own on connection errors (`BotIdentity`'s
    back-off retries, one WARNING each) and none of slack_sdk's ERROR lines."""
    handlers = [h for h in client.retry_handlers
                if not isinstance(h, ConnectionErrorRetryHandler)]
    return type(client)(
        token=client.token, base_url=client.base_url, timeout=client.timeout,
        ssl=client.ssl, proxy=client.proxy, headers=dict(client.headers),
        logger=_SDK_LOG, retry_handlers=handlers,
    )


def _problem(exc: Exception) -> str:
    """Slack's error code, or the exception and its reason (`URLError: [Errno 111] ...`)."""
    if isinstance(exc, SlackApiError):
        with contextlib.suppress(Exception):
            return str(exc.response.get("error") or f"http_{exc.response.status_code}")
        return "unknown"
    reason = getattr(exc, "reason", None) or exc
    return f"{type(exc).__name__}: {reason}"[:200]


class BotIdentity(Authorize):
    """Bolt `authorize` for one workspace that never calls Slack on the request path.

    `auth.test` runs on a background thread (`start()`, called when the server starts
    and on the first request at the latest), retried with back-off (1, 2, 5, 10, 30,
    60 s, then every 60 s) until it succeeds, also after an error such as `invalid_auth`
    (a token fixed on Slack's side, or Slack answering wrongly for a while). Each failed
    attempt logs one WARNING naming the error and the next delay, and `problem()` says
    it (`/readyz` is 503 with it). The result is cached for the life of the process.

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
        self.client = auth_test_client(client)
        self.token = client.token
        self.backoff_s = backoff_s or self.BACKOFF_S
        self.info: dict[str, Any] | None = None
        self.failed: str | None = None  # a permanent error (the token), while it lasts
        self.error: str | None = None  # the last attempt's error, None once it succeeded
        self.retry_in_s: float | None = None
        self._settled = threading.Event()  # identity known, or the token refused
        self._answered = threading.Event()  # the first attempt is over
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> None:
        """Look the identity up in the background (idempotent; returns at once)."""
        if self.info is not None:
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

    def answered(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the first auth.test to be over (starts it)."""
        self.start()
        return self._answered.wait(timeout)

    def problem(self) -> str | None:
        """Why Slack has not accepted the bot token (yet), for `/readyz`; None once it has."""
        if self.info is not None:
            return None
        if self.error is None:
            return "Slack has not confirmed the bot token yet (auth.test pending)"
        hint = "; check SLACK_BOT_TOKEN" if self.failed else ""
        retry = f", retrying in {self.retry_in_s:g}s" if self.retry_in_s is not None else ""
        return f"Slack auth.test failed: {self.error}{hint}{retry}"

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            try:
                response = self.client.auth_test()
            except Exception as exc:  # Slack's error, or Slack not reachable
                self._failed_attempt(_problem(exc), attempt)
            else:
                self._succeeded(response)
                return
            attempt += 1
            if self._stop.wait(self.retry_in_s or 0):
                return

    def _failed_attempt(self, error: str, attempt: int) -> None:
        """Record a failed attempt and log it: one WARNING with the error and the delay."""
        metrics.AUTH_FAILURES.inc()
        delay = self.backoff_s[min(attempt, len(self.backoff_s) - 1)]
        permanent = error in PERMANENT_AUTH_ERRORS
        self.error, self.retry_in_s = error, delay
        self.failed = error if permanent else None
        if permanent:
            self._settled.set()  # nobody waits for an identity a refused token cannot get
        self._answered.set()
        log.warning("auth.test failed (%s)%s; retrying in %gs", error,
                    "; check SLACK_BOT_TOKEN" if permanent else "", delay)

    def _succeeded(self, response: Any) -> None:
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
        self.error = self.failed = self.retry_in_s = None
        self._settled.set()
        self._answered.set()
        log.info("bot identity: user %s in team %s", self.info["bot_user_id"],
                 self.info["team_id"])

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
