"""Requests signed exactly as Slack signs them, and Slack-shaped payloads.

Slack's signature: `v0=` + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`),
sent as `X-Slack-Signature` with `X-Slack-Request-Timestamp`.

    sender = SlackSender(server_url, signing_secret, fake=fake_slack)
    r = sender.command("help")                              # POST /slack/events, form
    r = sender.block_action("answer", value="yes", message_ts=ts)
    r = sender.view_submission("ptf_modal", {"deadline": {"deadline": {...}}})
    r = sender.event(message_event("hello", ts=...), event_id="Ev1", retry_num=1)
    assert r.status == 200

Payload builders (`command_form`, `block_actions_payload`, `view_submission_payload`,
`event_envelope`, `app_mention_event`, `message_event`, `app_home_opened_event`) return
plain dicts you can tweak before sending with `sender.post_form/post_json/interaction`.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from tests.support.fake_slack import BOT_USER_ID, TEAM_ID

if TYPE_CHECKING:
    from tests.support.fake_slack import FakeSlack

USER_ID = "U0ALICE01"
OTHER_USER_ID = "U0BOB0002"
CHANNEL_ID = "C0CHAN001"
API_APP_ID = "A0FAKEAPP"

_seq = itertools.count(1)


def signature_headers(
    signing_secret: str, body: bytes | str, timestamp: int | str | None = None
) -> dict[str, str]:
    """`X-Slack-Signature` and `X-Slack-Request-Timestamp` for `body`, as Slack computes them."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + raw
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Signature": f"v0={digest}", "X-Slack-Request-Timestamp": ts}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """One HTTP request with http.client (no proxies, no redirects)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    started = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        elapsed = time.perf_counter() - started
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, elapsed)
    finally:
        conn.close()


def new_ts() -> str:
    """A fresh, unique Slack-style message ts."""
    return f"{int(time.time())}.{next(_seq):06d}"


def new_event_id() -> str:
    return f"Ev{int(time.time() * 1000) % 10**10:010d}{next(_seq):04d}"


def new_trigger_id() -> str:
    return f"{next(_seq)}.{int(time.time())}.faketrigger"


# ---------------------------------------------------------------- payload builders


def command_form(
    text: str = "",
    *,
    command: str = "/ptf",
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str = "https://hooks.slack.invalid/commands/1",
    **extra: str,
) -> dict[str, str]:
    """The form fields of a slash command request."""
    form = {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": "fake-workspace",
        "channel_id": channel_id,
        "channel_name": "ml-platform",
        "user_id": user_id,
        "user_name": f"name-{user_id}",
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or new_trigger_id(),
    }
    form.update(extra)
    return form


def _user(user_id: str, team_id: str) -> dict[str, str]:
    return {"id": user_id, "username": f"name-{user_id}", "name": f"name-{user_id}",
            "team_id": team_id}


def block_actions_payload(
    action_id: str,
    *,
    value: str | None = None,
    action_type: str = "button",
    block_id: str = "block-1",
    selected_option: dict[str, Any] | None = None,
    user_id: str = USER_ID,
    channel_id: str | None = CHANNEL_ID,
    message_ts: str | None = None,
    thread_ts: str | None = None,
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    state_values: dict[str, Any] | None = None,
    team_id: str = TEAM_ID,
    response_url: str = "https://hooks.slack.invalid/actions/1",
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A `block_actions` payload: a click in a message (default) or in a view (`view=`)."""
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        action["value"] = value
    if selected_option is not None:
        action["selected_option"] = selected_option
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": "fake-workspace"},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": state_values or {}},
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0VIEW001")}
        payload["view"] = {"id": "V0VIEW001", "type": "modal", "state": {"values": {}}, **view}
    else:
        ts = message_ts or new_ts()
        msg = message or {"type": "message", "user": BOT_USER_ID, "ts": ts, "text": ""}
        if thread_ts:
            msg.setdefault("thread_ts", thread_ts)
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        if thread_ts:
            payload["container"]["thread_ts"] = thread_ts
        payload["channel"] = {"id": channel_id, "name": "ml-platform"}
        payload["message"] = msg
        payload["response_url"] = response_url
    return payload


def view_submission_payload(
    callback_id: str,
    values: dict[str, Any],
    *,
    user_id: str = USER_ID,
    private_metadata: str = "",
    view_id: str = "V0VIEW001",
    team_id: str = TEAM_ID,
    blocks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A `view_submission` payload; `values` is `view.state.values` (block -> action -> ..)."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": "fake-workspace"},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "trigger_id": new_trigger_id(),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "blocks": blocks or [],
            "state": {"values": values},
            "hash": "1.fakehash",
            "title": {"type": "plain_text", "text": "Prompt or fine-tune"},
            "app_id": API_APP_ID,
            "bot_id": "B0BOT0001",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_event(
    text: str,
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A `message` event (a user's message in a channel, or in a thread with thread_ts)."""
    ts = ts or new_ts()
    event = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_mention_event(
    text: str = "",
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` event; `text` gets the `<@BOT>` prefix Slack puts there."""
    ts = ts or new_ts()
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}".strip(),
        "ts": ts,
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def app_home_opened_event(user: str = USER_ID, tab: str = "home") -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user.lstrip("U")[:10],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }


def event_envelope(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> dict[str, Any]:
    """The Events API JSON body around `event`."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(time.time()),
        "authorizations": [
            {"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
             "is_bot": True, "is_enterprise_install": False}
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{next(_seq)}",
    }


# ---------------------------------------------------------------- sender


class SlackSender:
    """Posts signed Slack requests to a running bot (`base_url` like http://127.0.0.1:PORT)."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        fake: FakeSlack | None = None,
        path: str = "/slack/events",
        timeout: float = 10.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.signing_secret = signing_secret
        self.fake = fake
        self.path = path
        self.timeout = timeout

    def response_url(self) -> str:
        return self.fake.response_url() if self.fake else "https://hooks.slack.invalid/r/1"

    def post(
        self,
        body: bytes | str,
        content_type: str,
        *,
        timestamp: int | str | None = None,
        sign: bool = True,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """POST a raw body to the events path, signed unless `sign=False`/`signature=` given."""
        raw = body.encode() if isinstance(body, str) else body
        h = {"Content-Type": content_type}
        if sign:
            h.update(signature_headers(self.signing_secret, raw, timestamp))
        if signature is not None:
            h["X-Slack-Signature"] = signature
            ts = str(int(time.time()) if timestamp is None else timestamp)
            h.setdefault("X-Slack-Request-Timestamp", ts)
        h.update(headers or {})
        return http_request(self.base_url + self.path, "POST", raw, h, self.timeout)

    def post_form(self, form: dict[str, str], **kw: Any) -> Response:
        return self.post(urlencode(form), "application/x-www-form-urlencoded", **kw)

    def post_json(self, data: Any, **kw: Any) -> Response:
        return self.post(json.dumps(data), "application/json", **kw)

    def get(self, path: str) -> Response:
        return http_request(self.base_url + path, "GET", None, None, self.timeout)

    # -- Slack request kinds

    def command(self, text: str = "", **kw: Any) -> Response:
        """A slash command (form-encoded). Keyword args go to `command_form`."""
        kw.setdefault("response_url", self.response_url())
        return self.post_form(command_form(text, **kw))

    def interaction(self, payload: dict[str, Any], **kw: Any) -> Response:
        """An interactivity request: form field `payload` holding the JSON."""
        return self.post_form({"payload": json.dumps(payload)}, **kw)

    def block_action(self, action_id: str, **kw: Any) -> Response:
        """A button/select click. Keyword args go to `block_actions_payload`."""
        if "view" not in kw:
            kw.setdefault("response_url", self.response_url())
        return self.interaction(block_actions_payload(action_id, **kw))

    def view_submission(self, callback_id: str, values: dict[str, Any], **kw: Any) -> Response:
        return self.interaction(view_submission_payload(callback_id, values, **kw))

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        **kw: Any,
    ) -> Response:
        """An Events API delivery; `retry_num` adds X-Slack-Retry-Num/-Reason like a retry."""
        headers = dict(kw.pop("headers", None) or {})
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return self.post_json(event_envelope(event, event_id=event_id), headers=headers, **kw)
