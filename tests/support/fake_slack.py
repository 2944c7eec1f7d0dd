"""`FakeSlack`: a local stand-in for the Slack Web API (and response_url / file uploads).

A threaded HTTP server on 127.0.0.1 (random port) that answers Web API methods in
Slack's JSON shapes and records every call. Point the bot at it with
`SLACK_API_URL=fake.api_url` (`http://127.0.0.1:PORT/api/`).

    with FakeSlack() as fake:
        ...
        call = fake.wait_for("chat.postMessage")        # blocks until it arrives
        assert call.params["channel"] == "C1"
        fake.fail_next("chat.postMessage", 1, status=429, retry_after=1)
        fake.fail_next("chat.update", 2, status=500)
        fake.error_next("views.open", "expired_trigger_id")
        gate = fake.hold("conversations.replies")   # calls wait until gate.set() (or 30 s)
        fake.wait_holding("conversations.replies", 3)  # 3 calls are waiting right now
        fake.drop_next("chat.postMessage")   # read the request, close without answering
        fake.fail_each_method([429, 500, 429])   # storms: every method, the first N calls,
        fake.fail_first_calls(30); fake.fail_randomly(0.3, seed=1); fake.calm()  # or at random
        fake.add_message("C1", "1700000000.000100", "hi", user="U1")   # for replies
        fake.uploads[file_id]  -> {"filename", "length", "data", "title", "channel_id"}

Methods answered: chat.postMessage, chat.update, chat.postEphemeral, chat.delete,
chat.getPermalink, conversations.replies, conversations.history, conversations.open,
conversations.info, views.open, views.update, views.push, views.publish, users.info,
auth.test, files.getUploadURLExternal (+ the upload POST to the returned URL),
files.completeUploadExternal, files.info, apps.connections.open (with the app token;
the ws URL refuses connections), assistant.threads.setStatus / setSuggestedPrompts /
setTitle, functions.completeSuccess / completeError (a workflow step's `xwfp-` token is
accepted once added to `fake.step_tokens`), and OAuth: `GET /oauth/v2/authorize` (the
consent page, approved at once: a redirect back with a code) and `oauth.v2.access`
(`fake.install_next(team, token)` says whose install comes next; its token is then
accepted, and `auth.test` with it answers for that team). Anything else: `{"ok": false, "error":
"unknown_method"}`. A wrong or missing bot token: `invalid_auth` / `not_authed`.

`response_url`s: use `fake.response_url()` in payloads; what the bot posts there is
recorded as method `response_url`.

`fake.on(method, fn)` overrides a method: `fn(call) -> dict` (the JSON answer).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-1111-2222-FAKEbotTOKENfortests"
TEAM_ID = "T0TEAM001"
BOT_USER_ID = "U0BOTUSER"
BOT_ID = "B0BOT0001"


@dataclass
class Call:
    """One recorded request to the fake."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    json: Any = None
    body: bytes = b""
    status: int = 200
    response: Any = None
    at: float = field(default_factory=time.monotonic)

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:]
        return self.params.get("token")

    @property
    def args(self) -> dict[str, Any]:
        """Form/query params and JSON body merged (slack_sdk sends some methods as JSON)."""
        merged = dict(self.params)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged

    def arg(self, name: str, default: Any = None) -> Any:
        """A parameter from the JSON body or the form/query params."""
        if isinstance(self.json, dict) and name in self.json:
            return self.json[name]
        return self.params.get(name, default)

    def arg_json(self, name: str, default: Any = None) -> Any:
        """A parameter that may be JSON-encoded in a form field (blocks, view, files)."""
        value = self.arg(name, default)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: int | None
    error: str | None
    drop: bool = False


class FakeSlack:
    """The stand-in server. Start with `start()` (or use as a context manager)."""

    def __init__(self, token: str | None = BOT_TOKEN, team_id: str = TEAM_ID):
        self.token = token
        #: Workflow step tokens (`xwfp-...`) accepted as well as the bot token.
        self.step_tokens: set[str] = set()
        #: OAuth: bot tokens given by `oauth.v2.access`, and their team.
        self.installed: dict[str, str] = {}
        self._next_installs: list[tuple[str, str]] = []
        #: Where the consent page sends the browser back when the link names no
        #: redirect_uri (Slack uses the app's configured Redirect URL).
        self.oauth_redirect_uri = ""
        self._codes: dict[str, tuple[str, str, Any, Any]] = {}
        self.team_id = team_id
        self.bot_user_id = BOT_USER_ID
        self.socket_mode_port = 9  # discard port: Socket Mode connections are refused
        self.calls: list[Call] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages
        self.users: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._storm_each: list[int] = []
        self._storm_seen: dict[str, int] = {}
        self._storm_first = 0
        self._storm_status = 429
        self._storm_retry_after = 0
        self._storm_random: tuple[float, Any, tuple[int, ...]] | None = None
        self._overrides: dict[str, Callable[[Call], dict[str, Any]]] = {}
        self._holds: dict[str, tuple[threading.Event, float]] = {}
        self._holding: dict[str, int] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._seq = itertools.count(1)
        self._ts_base = 1_700_000_000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="fake-slack",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeSlack not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str | None = None) -> str:
        """A response_url for a payload; posts to it are recorded as method `response_url`."""
        return f"{self.base_url}/respond/{name or next(self._seq)}"

    # ------------------------------------------------------------ test controls

    def fail_next(
        self,
        method: str,
        count: int = 1,
        *,
        status: int = 429,
        retry_after: int | None = 1,
    ) -> None:
        """The next `count` calls to `method` answer HTTP `status` (429 has Retry-After)."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(count, status, retry_after if status == 429 else None, None)
            )

    def error_next(self, method: str, error: str, count: int = 1) -> None:
        """The next `count` calls to `method` answer 200 `{"ok": false, "error": error}`."""
        with self._lock:
            self._failures.setdefault(method, []).append(_Failure(count, 200, None, error))

    def fail_each_method(self, statuses: list[int], *, retry_after: int = 0) -> None:
        """Every method's first calls answer `statuses` in turn (e.g. 429, 500, 429),
        then it works: each method Slack is asked for meets the same storm."""
        with self._lock:
            self._storm_each = list(statuses)
            self._storm_retry_after = retry_after

    def fail_first_calls(self, count: int, *, status: int = 429, retry_after: int = 0) -> None:
        """The next `count` calls, whatever their method, answer HTTP `status`."""
        with self._lock:
            self._storm_first = count
            self._storm_status = status
            self._storm_retry_after = retry_after

    def fail_randomly(self, rate: float, *, seed: int, statuses: tuple[int, ...] = (429, 500),
                      retry_after: int = 0) -> None:
        """Each call fails with probability `rate` (an HTTP status drawn from `statuses`),
        from a seeded generator: the same seed gives the same storm."""
        import random

        with self._lock:
            self._storm_random = (rate, random.Random(seed), statuses)
            self._storm_retry_after = retry_after

    def calm(self) -> None:
        """Stop every storm started with the `fail_*` methods above."""
        with self._lock:
            self._storm_each, self._storm_first, self._storm_random = [], 0, None
            self._storm_seen.clear()

    def _storm(self, method: str) -> _Failure | None:
        with self._lock:
            status = None
            if self._storm_first > 0:
                self._storm_first -= 1
                status = self._storm_status
            elif self._storm_each:
                n = self._storm_seen.get(method, 0)
                if n < len(self._storm_each):
                    self._storm_seen[method] = n + 1
                    status = self._storm_each[n]
            elif self._storm_random is not None:
                rate, rng, statuses = self._storm_random
                if rng.random() < rate:
                    status = rng.choice(statuses)
            if status is None:
                return None
            return _Failure(1, status, self._storm_retry_after if status == 429 else None, None)

    def drop_next(self, method: str, count: int = 1) -> None:
        """The next `count` calls to `method` are read, recorded (status 0) and then the
        connection is closed without an answer: the client cannot know whether Slack
        acted on it (a lost connection after the request was sent)."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(count, 0, None, None, drop=True)
            )

    def hold(self, *methods: str, timeout: float = 30.0) -> threading.Event:
        """Calls to `methods` wait, before being answered as usual, until the returned
        event is set (or `timeout` s passed): a slow Slack. `stop()` releases them."""
        gate = threading.Event()
        with self._lock:
            for method in methods:
                self._holds[method] = (gate, timeout)
        return gate

    def release_all(self) -> None:
        """Release every held call and stop holding."""
        with self._lock:
            gates = [gate for gate, _ in self._holds.values()]
            self._holds.clear()
        for gate in gates:
            gate.set()

    def holding(self, method: str) -> int:
        """How many calls to `method` are being held right now."""
        with self._lock:
            return self._holding.get(method, 0)

    def wait_holding(self, method: str, count: int, timeout: float = 10.0) -> None:
        """Block until at least `count` calls to `method` are held at once."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._holding.get(method, 0) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"timed out waiting for {count} held {method} calls; "
                        f"{self._holding.get(method, 0)} held"
                    )
                self._cond.wait(left)

    def _wait_if_held(self, method: str) -> None:
        with self._cond:
            held = self._holds.get(method)
            if held is None:
                return
            self._holding[method] = self._holding.get(method, 0) + 1
            self._cond.notify_all()
        gate, timeout = held
        try:
            gate.wait(timeout)
        finally:
            with self._cond:
                self._holding[method] -= 1
                self._cond.notify_all()

    def on(self, method: str, fn: Callable[[Call], dict[str, Any]]) -> None:
        """Answer `method` with `fn(call)` instead of the built-in behaviour."""
        self._overrides[method] = fn

    def add_message(
        self,
        channel: str,
        ts: str,
        text: str,
        *,
        user: str = "U0ALICE01",
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Register a message (served by conversations.replies / history)."""
        msg = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
        if thread_ts:
            msg["thread_ts"] = thread_ts
        with self._lock:
            self.messages.setdefault(channel, []).append(msg)
        return msg

    def add_user(self, user_id: str, **profile: Any) -> None:
        self.users[user_id] = profile

    def reset(self) -> None:
        """Forget calls, failures, overrides and holds (not messages/users)."""
        self.release_all()
        with self._lock:
            self.calls.clear()
            self._failures.clear()
            self._overrides.clear()

    # ------------------------------------------------------------ inspection

    def calls_to(self, method: str | None = None) -> list[Call]:
        """Recorded calls (answered ones, including injected failures), oldest first."""
        with self._lock:
            return [c for c in self.calls if method is None or c.method == method]

    def ok_calls(self, method: str) -> list[Call]:
        """Calls to `method` that were answered 200 ok:true."""
        return [
            c
            for c in self.calls_to(method)
            if c.status == 200 and isinstance(c.response, dict) and c.response.get("ok")
        ]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        predicate: Callable[[Call], bool] | None = None,
        ok_only: bool = True,
    ) -> Call:
        """Block until `count` matching calls were answered; return the last. AssertionError
        on timeout, listing what was called."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Call]:
            out = []
            for c in self.calls:
                if c.method != method:
                    continue
                if ok_only and not (c.status == 200 and (c.response or {}).get("ok")):
                    continue
                if predicate is not None and not predicate(c):
                    continue
                out.append(c)
            return out

        with self._cond:
            while True:
                found = matching()
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"{c.method}:{c.status}" for c in self.calls]
                    raise AssertionError(
                        f"timed out waiting for {count} x {method}; calls so far: {seen}"
                    )
                self._cond.wait(left)

    def quiet_for(self, seconds: float = 0.3) -> None:
        """Wait until no call arrived for `seconds` (to assert that nothing more happens)."""
        while True:
            with self._lock:
                last = self.calls[-1].at if self.calls else 0.0
            idle = time.monotonic() - last
            if idle >= seconds:
                return
            time.sleep(seconds - idle)

    # ------------------------------------------------------------ HTTP plumbing

    def _next_ts(self) -> str:
        return f"{self._ts_base + next(self._seq)}.{next(self._seq):06d}"

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        if url.path.startswith("/upload/"):
            self._upload(h, url.path.rsplit("/", 1)[-1], raw, headers)
            return
        params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
        body_json: Any = None
        ctype = headers.get("content-type", "")
        if raw and ctype.startswith("application/json"):
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        elif raw and ctype.startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        elif raw and ctype.startswith("multipart/form-data"):
            params.update(_parse_multipart(ctype, raw))

        path = url.path
        if path == "/oauth/v2/authorize":  # Slack's consent page, approved at once
            self._authorize(h, params, headers)
            return
        if path.startswith("/respond/"):
            call = Call("response_url", params, headers, body_json, raw)
            self._reply(h, call, 200, {"ok": True})
            return
        if not path.startswith("/api/"):
            self._reply(h, Call(path, params, headers, body_json, raw), 404, {"ok": False})
            return
        method = path[len("/api/") :]
        call = Call(method, params, headers, body_json, raw)

        self._wait_if_held(method)
        failure = self._take_failure(method) or self._storm(method)
        if failure is not None:
            if failure.drop:
                call.status = 0
                call.response = None
                self._record(call)
                h.close_connection = True
                with contextlib.suppress(OSError):
                    h.connection.shutdown(socket.SHUT_RDWR)
                return
            if failure.error is not None:
                self._reply(h, call, 200, {"ok": False, "error": failure.error})
            else:
                extra = {}
                if failure.retry_after is not None:
                    extra["Retry-After"] = str(failure.retry_after)
                error = "ratelimited" if failure.status == 429 else "internal_error"
                self._reply(h, call, failure.status, {"ok": False, "error": error}, extra)
            return

        if method == "oauth.v2.access":  # client credentials, not a token
            self._reply(h, call, 200, self._oauth_access(call))
            return
        if self.token is not None:
            token = call.token
            if not token:
                self._reply(h, call, 200, {"ok": False, "error": "not_authed"})
                return
            app_level = method == "apps.connections.open" and token.startswith("xapp-")
            if (token != self.token and not app_level and token not in self.step_tokens
                    and token not in self.installed):
                self._reply(h, call, 200, {"ok": False, "error": "invalid_auth"})
                return

        try:
            override = self._overrides.get(method)
            answer = override(call) if override else self._answer(method, call)
        except Exception as exc:  # a bug in a test override: make it visible
            answer = {"ok": False, "error": f"fake_slack_exception: {exc!r}"}
        self._reply(h, call, 200, answer)

    def _take_failure(self, method: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(method)
            while queue:
                head = queue[0]
                if head.remaining <= 0:
                    queue.pop(0)
                    continue
                head.remaining -= 1
                return head
        return None

    def _reply(
        self,
        h: BaseHTTPRequestHandler,
        call: Call,
        status: int,
        payload: Any,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        call.status = status
        call.response = payload
        # Record BEFORE answering: a test that reads `calls` right after its client call
        # returned must see this call (recording after the write raced with the reader).
        self._record(call)
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (extra_headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _upload(
        self, h: BaseHTTPRequestHandler, file_id: str, raw: bytes, headers: dict[str, str]
    ) -> None:
        call = Call("upload", {"file_id": file_id}, headers, None, raw)
        with self._lock:
            info = self.uploads.get(file_id)
            if info is not None:
                info["data"] = raw
        data = f"OK - {len(raw)}".encode()
        call.status = 200 if info is not None else 404
        call.response = {"ok": info is not None}
        self._record(call)  # before answering (see _reply)
        h.send_response(call.status)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    # ------------------------------------------------------------ OAuth

    def install_next(self, team_id: str, token: str) -> None:
        """The next OAuth install (the consent page, then `oauth.v2.access`) is for
        `team_id` and gives the bot token `token`."""
        with self._lock:
            self._next_installs.append((team_id, token))

    def _authorize(self, h: BaseHTTPRequestHandler, params: dict[str, Any],
                   headers: dict[str, str]) -> None:
        """The person approves: back to `redirect_uri` with a code and the same state."""
        call = Call("oauth.authorize", params, headers)
        code = f"code-{next(self._seq)}"
        redirect = params.get("redirect_uri") or self.oauth_redirect_uri
        with self._lock:
            team, token = self._next_installs.pop(0) if self._next_installs else (
                self.team_id, self.token or BOT_TOKEN)
            self._codes[code] = (team, token, params.get("client_id"), params.get("scope"))
        location = f"{redirect}?code={code}&state={params.get('state', '')}"
        call.status, call.response = 302, {"location": location}
        self._record(call)
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def _oauth_access(self, call: Call) -> dict[str, Any]:
        code = call.arg("code")
        with self._lock:
            grant = self._codes.pop(str(code), None)
        if grant is None:
            return {"ok": False, "error": "invalid_code"}
        team, token, client_id, scope = grant
        if call.arg("client_id", client_id) != client_id:
            return {"ok": False, "error": "invalid_client_id"}
        with self._lock:
            self.installed[token] = team
        return {
            "ok": True, "access_token": token, "token_type": "bot", "scope": scope or "",
            "bot_user_id": self.bot_user_id, "app_id": "A0FAKEAPP",
            "team": {"id": team, "name": f"Team {team}"}, "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0INSTALL1"},
        }

    # ------------------------------------------------------------ Slack method shapes

    def _message(self, call: Call, channel: str, ts: str) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": BOT_ID,
            "app_id": "A0FAKEAPP",
            "text": call.arg("text", "") or "",
            "ts": ts,
            "team": self.team_id,
        }
        blocks = call.arg_json("blocks")
        if blocks:
            msg["blocks"] = blocks
        thread_ts = call.arg("thread_ts")
        if thread_ts:
            msg["thread_ts"] = thread_ts
        metadata = call.arg_json("metadata")
        if isinstance(metadata, dict):
            msg["metadata"] = metadata
        return msg

    def _answer(self, method: str, call: Call) -> dict[str, Any]:
        if method == "auth.test" and call.token in self.installed:
            team = self.installed[call.token]
            return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": team,
                    "user": "ptf-bot", "team_id": team, "user_id": self.bot_user_id,
                    "bot_id": BOT_ID, "is_enterprise_install": False}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake-workspace.slack.com/",
                "team": "Fake Workspace",
                "user": "ptf-bot",
                "team_id": self.team_id,
                "user_id": self.bot_user_id,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method == "apps.connections.open":  # Socket Mode: a URL where nothing listens
            return {"ok": True, "url": f"ws://127.0.0.1:{self.socket_mode_port}/link"}
        if method == "chat.postMessage":
            channel = call.arg("channel")
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            if str(channel)[:1] in ("U", "W"):  # a user id: Slack posts in the app's DM
                channel = "D" + str(channel).lstrip("UW")[:10]
            ts = self._next_ts()
            msg = self._message(call, channel, ts)
            with self._lock:
                self.messages.setdefault(channel, []).append(msg)
            return {"ok": True, "channel": channel, "ts": ts, "message": msg}
        if method == "chat.update":
            channel, ts = call.arg("channel"), call.arg("ts")
            if not channel or not ts:
                return {"ok": False, "error": "cant_update_message"}
            msg = self._message(call, channel, ts)
            with self._lock:
                for m in self.messages.get(channel, []):
                    if m.get("ts") == ts:
                        m.update({k: v for k, v in msg.items() if k != "thread_ts"})
            return {"ok": True, "channel": channel, "ts": ts, "text": msg["text"], "message": msg}
        if method.startswith("assistant.threads."):
            if not call.arg("channel_id") or not call.arg("thread_ts"):
                return {"ok": False, "error": "invalid_arguments"}
            if method == "assistant.threads.setSuggestedPrompts":
                prompts = call.arg_json("prompts")
                if (not isinstance(prompts, list) or not 1 <= len(prompts) <= 4
                        or not all(isinstance(p, dict) and p.get("title") and p.get("message")
                                   for p in prompts)):
                    return {"ok": False, "error": "invalid_arguments"}
            elif method == "assistant.threads.setTitle" and not call.arg("title"):
                return {"ok": False, "error": "invalid_arguments"}
            elif method not in ("assistant.threads.setStatus", "assistant.threads.setTitle"):
                return {"ok": False, "error": "unknown_method"}
            return {"ok": True}
        if method in ("functions.completeSuccess", "functions.completeError"):
            if not call.arg("function_execution_id"):
                return {"ok": False, "error": "invalid_arguments"}
            if method == "functions.completeError" and not call.arg("error"):
                return {"ok": False, "error": "invalid_arguments"}
            if method == "functions.completeSuccess" and not isinstance(
                    call.arg_json("outputs"), dict):
                return {"ok": False, "error": "invalid_arguments"}
            return {"ok": True}
        if method == "chat.postEphemeral":
            if not call.arg("channel") or not call.arg("user"):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "chat.delete":
            return {"ok": True, "channel": call.arg("channel"), "ts": call.arg("ts")}
        if method == "chat.getPermalink":
            channel, ts = call.arg("channel"), str(call.arg("message_ts", ""))
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://fake-workspace.slack.com/archives/{channel}/p"
                + ts.replace(".", ""),
            }
        if method in ("conversations.replies", "conversations.history"):
            channel = call.arg("channel")
            with self._lock:
                msgs = [dict(m) for m in self.messages.get(channel, [])]
            if method == "conversations.replies":
                root = call.arg("ts")
                msgs = [m for m in msgs if m.get("ts") == root or m.get("thread_ts") == root]
                if not msgs:
                    return {"ok": False, "error": "thread_not_found"}
            if str(call.arg("include_all_metadata", "")).lower() not in ("1", "true"):
                for m in msgs:  # Slack returns message metadata only when asked
                    m.pop("metadata", None)
            msgs.sort(key=lambda m: float(m["ts"]), reverse=method == "conversations.history")
            return {"ok": True, "messages": msgs, "has_more": False,
                    "response_metadata": {"next_cursor": ""}}
        if method == "conversations.open":
            users = str(call.arg("users", "") or "")
            first = users.split(",")[0] if users else "UNKNOWN"
            return {"ok": True, "channel": {"id": "D" + first.lstrip("UW")[:10]}}
        if method == "conversations.info":
            channel = call.arg("channel")
            return {"ok": True, "channel": {"id": channel, "name": f"chan-{channel}",
                                            "is_im": str(channel).startswith("D")}}
        if method in ("views.open", "views.push", "views.update", "views.publish"):
            view = call.arg_json("view") or {}
            if not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}
            pointer = call.arg("trigger_id") or call.arg("interactivity_pointer")
            if method in ("views.open", "views.push") and not pointer:
                return {"ok": False, "error": "invalid_arguments"}
            view_id = call.arg("view_id") or f"V{next(self._seq):08d}"
            out = {
                "id": view_id,
                "team_id": self.team_id,
                "hash": f"{time.time():.6f}.fakehash",
                "state": {"values": {}},
                **view,
            }
            return {"ok": True, "view": out}
        if method == "users.info":
            user = call.arg("user")
            profile = self.users.get(user, {})
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": self.team_id,
                    "name": profile.get("name", f"user-{user}"),
                    "real_name": profile.get("real_name", f"User {user}"),
                    "tz": profile.get("tz", "Europe/London"),
                    "is_bot": False,
                    "profile": {"display_name": profile.get("display_name", f"user-{user}")},
                },
            }
        if method == "files.getUploadURLExternal":
            filename, length = call.arg("filename"), call.arg("length")
            if not filename or length in (None, ""):
                return {"ok": False, "error": "invalid_arguments"}
            file_id = f"F{next(self._seq):08d}"
            with self._lock:
                self.uploads[file_id] = {
                    "filename": filename,
                    "length": int(length),
                    "data": None,
                    "title": None,
                    "channel_id": None,
                    "completed": False,
                }
            return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}",
                    "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = call.arg_json("files") or []
            out = []
            with self._lock:
                for f in files:
                    info = self.uploads.get(f.get("id"))
                    if info is None or info["data"] is None:
                        return {"ok": False, "error": "file_not_found"}
                    info.update(
                        title=f.get("title"),
                        channel_id=call.arg("channel_id"),
                        thread_ts=call.arg("thread_ts"),
                        initial_comment=call.arg("initial_comment"),
                        completed=True,
                    )
                    out.append({"id": f["id"], "name": info["filename"],
                                "title": f.get("title") or info["filename"],
                                "size": len(info["data"])})
            return {"ok": True, "files": out}
        if method == "files.info":
            info = self.uploads.get(call.arg("file"))
            if info is None:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": {"id": call.arg("file"), "name": info["filename"]}}
        return {"ok": False, "error": "unknown_method"}


def _parse_multipart(ctype: str, raw: bytes) -> dict[str, Any]:
    msg = BytesParser(policy=email_policy).parsebytes(
        b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
    )
    out: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            out[name] = payload if part.get_filename() else payload.decode("utf-8", "replace")
    return out
