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

from bot import metrics
from bot.slack.work import ACKED_KEY

log = logging.getLogger("bot.slack.identity")

#: Post-ack waits for the bot identity (auth.test) before going on without it.
IDENTITY_WAIT_S = 15.0
#: auth.test errors that retrying cannot fix.
PERMANENT_AUTH_ERRORS = frozenset({
    "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
    "not_allowed_token_type", "team_access_not_granted",
})


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
