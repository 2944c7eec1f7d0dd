"""Talking to Slack: the listeners' dependencies, Web API calls, telling people things.

- `Deps` / `deps_from(context)`: the app's `Services` plus this request's Web API
  client and the bot's user id.
- `call(deps, method, **kwargs)`: one Web API call. A failure (after the client's own
  retries) is logged with the method, Slack's error code (and for `missing_scope` the
  scope Slack says is needed), the channel and the consultation being worked on (see
  `about`), never a token, and raised as `SlackCallFailed`.
- `explain(exc)`: what went wrong, in words for the person (with the code for an admin).
- `tell_user`: an ephemeral note where the person is, else a DM.
- `guarded(...)`: the listeners' safety net: any failure is logged and the person told.
- `permalink`, `is_dm`, `where`: small shared helpers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.knowledge import Knowledge
from bot.slack.services import SERVICES_KEY, Services
from bot.store import Store, StoreError
from bot.store.team_view import TeamView

log = logging.getLogger("bot.slack.web")

#: Slack errors meaning "the bot cannot post in that conversation".
NOT_POSTABLE = frozenset({
    "not_in_channel", "channel_not_found", "is_archived", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "cannot_reply_to_message",
    "team_access_not_granted", "user_not_in_channel",
})
#: chat.update errors after which a fresh message is posted instead.
UPDATE_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
#: views.open errors meaning the click/command is too old to open a form.
TRIGGER_GONE = frozenset({"expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id"})

GENERIC_FAILURE = (
    "Something went wrong on my side (not anything you did). Please try again in a minute."
)
STORE_FAILURE = (
    "I can't reach my database right now, so I could not save that. Please try again in a "
    "minute."
)


def not_found(command: str) -> str:
    """The one wording for a consultation (or its decision) that is gone."""
    return f"I can't find that consultation any more. Start a new one with `{command}`."


# ---------------------------------------------------------------- dependencies


@dataclass(frozen=True)
class Deps:
    """One request's view of the app: its `Services`, a Web API client, the bot's id."""

    services: Services
    client: WebClient
    bot_user_id: str | None = None
    #: The workspace of the request (OAuth mode: the store shows only its rows).
    team_id: str | None = None

    @property
    def store(self) -> Store:
        if self.services.settings.oauth_mode:  # no team: a view of nothing
            return TeamView(self.services.store, self.team_id or "")  # type: ignore[return-value]
        return self.services.store

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def knowledge(self) -> Knowledge:
        return self.services.knowledge

    @property
    def command(self) -> str:
        return self.services.command

    def today(self) -> date:
        return self.services.today()


def deps_from(context: Mapping[str, Any], client: WebClient | None = None) -> Deps:
    """`Deps` from a Bolt request context (set up by `bot.slack.middleware`)."""
    return Deps(
        services=context[SERVICES_KEY],
        client=client if client is not None else context["client"],
        bot_user_id=context.get("bot_user_id"),
        team_id=context.get("team_id"),
    )


# ---------------------------------------------------------------- Web API calls

_consultation: ContextVar[str | None] = ContextVar("ptf_consultation", default=None)


@contextlib.contextmanager
def about(cid: str | None) -> Iterator[None]:
    """Web API failures inside this block are logged with consultation `cid`."""
    token = _consultation.set(cid)
    try:
        yield
    finally:
        _consultation.reset(token)


class SlackCallFailed(Exception):
    """A Web API call failed (after the client's retries). `error` is Slack's error code
    (`not_in_channel`, `ratelimited`, `http_500`) or the exception type for timeouts;
    `needed` is the missing scope Slack named for `missing_scope`."""

    def __init__(self, method: str, error: str, needed: str | None = None,
                 retry_after: float | None = None):
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error
        self.needed = needed
        #: Seconds Slack asked to wait (its Retry-After on a 429), when it said.
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Slack was busy or unreachable: the same call may succeed later."""
        return (self.error in _TRANSIENT or self.error.startswith("http_5")
                or "Timeout" in self.error or self.error[:1].isupper())  # an exception type

    @property
    def unclear(self) -> bool:
        """The call may have been carried out although it failed (a 5xx, a lost
        connection, a timeout); a refusal or a rate limit means it was not."""
        return self.transient and self.error not in ("ratelimited", "http_429")


def slack_error(exc: BaseException) -> tuple[str, str | None]:
    """(Slack's error code or the exception type, the `needed` scope if Slack said one)."""
    if isinstance(exc, SlackApiError):
        try:
            response = exc.response
            error = str(response.get("error") or f"http_{response.status_code}")
            needed = response.get("needed")
            return error, str(needed) if needed else None
        except Exception:  # a response without the usual shape
            return "slack_api_error", None
    return type(exc).__name__, None


def retry_after_of(exc: BaseException) -> float | None:
    """The Retry-After (seconds) of a rate-limited answer, None when there is none."""
    if not isinstance(exc, SlackApiError):
        return None
    try:
        headers = exc.response.headers or {}
        for name, value in headers.items():
            if str(name).lower() == "retry-after":
                value = value[0] if isinstance(value, list) and value else value
                return max(0.0, float(value))
    except (AttributeError, TypeError, ValueError):
        return None
    return None


def call(deps: Deps, method: str, **kwargs: Any) -> Any:
    """`deps.client.<method>(**kwargs)`; failures are logged and raised as SlackCallFailed."""
    try:
        return getattr(deps.client, method)(**kwargs)
    except (SlackApiError, SlackClientError, OSError, ValueError) as exc:
        error, needed = slack_error(exc)
        where = kwargs.get("channel") or kwargs.get("channel_id") or kwargs.get("users") or "-"
        log.warning(
            "Slack %s failed: %s%s (consultation %s, channel %s)",
            method, error, f" (needed: {needed})" if needed else "",
            _consultation.get() or "-", where,
        )
        raise SlackCallFailed(method, error, needed, retry_after_of(exc)) from None


#: What the bot was doing, for "I'm missing the permission to ...".
_DOING = {
    "conversations_replies": "read this thread",
    "conversations_open": "open a DM with you",
    "chat_postMessage": "post here",
    "chat_postEphemeral": "post here",
    "chat_update": "update my message",
    "chat_getPermalink": "link to messages",
    "files_upload_v2": "upload files",
    "views_open": "open forms",
    "views_publish": "show my App Home",
}
_TRANSIENT = frozenset({
    "ratelimited", "http_429", "internal_error", "fatal_error", "service_unavailable",
    "request_timeout", "TimeoutError", "URLError", "ConnectionError", "SlackClientError",
})
_BAD_TOKEN = frozenset({"invalid_auth", "not_authed", "token_revoked", "token_expired",
                        "account_inactive", "no_permission"})


def explain(exc: SlackCallFailed) -> str:
    """What went wrong, in words, with Slack's code (or the missing scope) for an admin."""
    error = exc.error
    if error == "missing_scope":
        scope = f" ({exc.needed})" if exc.needed else ""
        return (f"I'm missing the permission to {_DOING.get(exc.method, 'do that')}{scope}; "
                "ask an admin to reinstall the app")
    if error in ("not_in_channel", "user_not_in_channel"):
        words = "I'm not a member of this channel (add me with `/invite`)"
    elif error == "channel_not_found":
        words = "I can't see this conversation (for a private channel, add me with `/invite`)"
    elif error == "is_archived":
        words = "the channel is archived"
    elif error.startswith("restricted_action") or error == "cannot_reply_to_message":
        words = "this channel's settings don't let me post here"
    elif error in ("cannot_dm_bot", "user_not_found", "user_disabled", "user_is_restricted"):
        words = "Slack would not let me open a DM with you"
    elif error in _BAD_TOKEN:
        words = "my Slack access is not valid any more; ask an admin to reinstall the app"
    elif error in TRIGGER_GONE:
        words = "Slack's window for opening the form had passed"
    elif error in _TRANSIENT or error.startswith("http_5") or "Timeout" in error:
        words = "Slack did not answer in time; please try again in a minute"
    else:
        words = "Slack refused the request"
    return f"{words} ({error})"


def tell_user(
    deps: Deps, user: str, text: str, *, channel: str | None = None, thread_ts: str | None = None
) -> bool:
    """Tell `user` something: ephemeral in `channel` (in the thread), else in a DM."""
    if channel:
        try:
            kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            call(deps, "chat_postEphemeral", **kwargs)
            return True
        except SlackCallFailed:
            pass
    try:
        call(deps, "chat_postMessage", channel=user, text=text)
        return True
    except SlackCallFailed:
        log.error("could not tell user %s anything (ephemeral and DM failed)", user)
        return False


def permalink(deps: Deps, channel: str | None, ts: str | None) -> str | None:
    """The message's permalink (`chat.getPermalink`), None if it cannot be had."""
    if not channel or not ts:
        return None
    try:
        link = call(deps, "chat_getPermalink", channel=channel, message_ts=ts)["permalink"]
    except (SlackCallFailed, KeyError, TypeError):
        return None
    return link if isinstance(link, str) else None


def is_dm(channel: str | None) -> bool:
    """A direct message channel (ids start with D)."""
    return bool(channel) and str(channel).startswith("D")


def where(channel: str | None) -> str | None:
    """mrkdwn for where something happened: `<#C123>`, "a DM", or None."""
    if not channel:
        return None
    return "a DM" if is_dm(channel) else f"<#{channel}>"


# ---------------------------------------------------------------- the listeners' safety net


def guarded(
    deps: Deps,
    user: str,
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> Any:
    """Context manager for listeners: any failure is logged and the user is told (with
    `notify(text)` when given, e.g. a slash command's `respond`; else ephemeral or DM)."""
    return _Guard(deps, user, channel, thread_ts, notify)


class _Guard:
    def __init__(
        self,
        deps: Deps,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        notify: Callable[[str], None] | None,
    ):
        self.deps, self.user, self.channel, self.thread_ts = deps, user, channel, thread_ts
        self.notify = notify

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, StoreError):
            log.error("store failure (channel %s): %s", self.channel or "-", exc)
            text = STORE_FAILURE
        elif isinstance(exc, SlackCallFailed):
            text = f"I could not finish that: {explain(exc)}."
        elif isinstance(exc, Exception):
            log.exception("listener failed (channel %s)", self.channel or "-")
            text = GENERIC_FAILURE
        else:
            return False
        if self.notify is not None:
            try:
                self.notify(text)
                return True
            except Exception:
                log.warning("could not notify user %s through the response URL", self.user)
        if self.user:
            tell_user(self.deps, self.user, text, channel=self.channel, thread_ts=self.thread_ts)
        return True
