"""Serving: the WSGI app, gunicorn, Socket Mode.

- `serve(settings)`: what `python -m bot serve` runs. Socket Mode when
  `SLACK_APP_TOKEN` is set (plus a small HTTP server on `PORT` for /healthz, /readyz,
  /metrics); otherwise gunicorn (gthread) on `0.0.0.0:PORT`. Missing
  `SLACK_BOT_TOKEN` (or `SLACK_SIGNING_SECRET` in HTTP mode): the server still starts,
  so that a fresh install runs, but it is not ready: it says what is missing on stderr
  and in `/readyz` (503), and `/slack/events` answers 503 until the settings are there.
- `build_wsgi_app(settings, ...) -> BotWsgiApp`: the WSGI app without any server
  (tests, bench). Routes:
    POST /slack/events  Slack events, slash commands, interactivity (Bolt)
    GET  /healthz       200 "ok" (the process is up)
    GET  /readyz        200 "ready" when the database answers and Slack accepted the bot
                        token (auth.test), else 503 with the reasons
    GET  /metrics       Prometheus text format (`bot.metrics`)
- `serve_in_thread(wsgi_app) -> BackgroundServer`: a threaded stdlib HTTP server on
  127.0.0.1 for tests and benchmarks (and for health in Socket Mode).

`python -m bot.slack.server` is the same as `python -m bot serve`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socketserver
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot import metrics, metrics_dir
from bot.config import Settings
from bot.slack.app import create_app
from bot.slack.identity import BotIdentity
from bot.slack.logging_setup import configure_logging, reset_sdk_logger_levels
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.slack.outbox_drainer import OutboxDrainer
from bot.slack.recheck_schedule import RecheckSchedule
from bot.slack.services import (
    EVENT_DISPATCH_THREADS,
    Services,
    db_pool_sizes,
    identity_for,
    services_for,
    services_or_none,
)
from bot.slack.work import ACKED_KEY
from bot.store import Store, StoreError, normalize_database_url

log = logging.getLogger("bot.slack.server")

EVENTS_PATH = "/slack/events"
MAX_BODY_BYTES = 1024 * 1024
_ROUTES = (EVENTS_PATH, "/healthz", "/readyz", "/metrics", INSTALL_PATH, REDIRECT_PATH)
AFTER_RESPONSE_KEY = "ptf.after_response"
SOCKET_MODE_IDENTITY_WAIT_S = 30.0
#: `/readyz` right after start waits this long for the first auth.test to answer.
READY_IDENTITY_WAIT_S = 2.0

StartResponse = Callable[..., Any]


def payload_kind(body: dict[str, Any]) -> str:
    """A short label for a Slack payload: command, block_actions, view_submission, event..."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    if kind == "event_callback":
        return "event"
    return str(kind) if isinstance(kind, str) and kind else "unknown"


_DICT_FIELDS = ("user", "team", "channel", "container", "message", "state", "enterprise")
_INTERACTIVE = {
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "interactive_message",
    "dialog_submission",
}


#: Slack's ids (users, channels, teams, message timestamps, event ids) as Slack makes
#: them; anything else (NUL, lone surrogates, 200 characters) never reaches the database.
_SLACK_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_ID_LIMITS = {"event_id": 64}


def _id_problem(where: str, value: Any) -> str | None:
    if value is None or isinstance(value, dict):
        return None
    limit = _ID_LIMITS.get(where.rsplit(".", 1)[-1], 32)
    if not isinstance(value, str) or len(value) > limit or not _SLACK_ID.fullmatch(value):
        return f"{where} is not a Slack id"
    return None


def payload_ids_error(body: dict[str, Any]) -> str | None:
    """Why an id in a (well-shaped) payload is not one Slack would send, or None."""
    checks: list[tuple[str, Any]] = []
    if "command" in body:
        checks += [(k, body.get(k)) for k in ("user_id", "channel_id", "team_id")]
    elif body.get("type") == "event_callback":
        event = body["event"]
        checks += [("event_id", body.get("event_id")), ("team_id", body.get("team_id"))]
        checks += [(f"event.{k}", event.get(k)) for k in ("user", "channel", "ts", "thread_ts")]
    else:
        for part in ("user", "team", "channel"):
            if isinstance(body.get(part), dict):
                checks.append((f"{part}.id", body[part].get("id")))
        container = body.get("container")
        if isinstance(container, dict):
            checks += [(f"container.{k}", container.get(k))
                       for k in ("message_ts", "thread_ts", "channel_id")]
    for where, value in checks:
        if (problem := _id_problem(where, value)) is not None:
            return problem
    return None


def payload_shape_error(body: Any) -> str | None:
    """Why `body` is not shaped like a Slack payload Bolt can route, or None.

    Bolt assumes the shapes (it raises, answering 500, on e.g. `"user": 5`); signed
    garbage gets a 400 here instead.
    """
    if not isinstance(body, dict):
        return "payload is not an object"
    kind = body.get("type")
    if kind is not None and not isinstance(kind, str):
        return "type is not a string"
    if kind == "event_callback":
        if not isinstance(body.get("event_id"), str):
            return "event_id is not a string"
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "event is not an object with a type"
        for key in ("channel", "user", "ts", "thread_ts", "text"):
            if event.get(key) is not None and not isinstance(event[key], str | dict):
                return f"event.{key} has an unexpected type"
        return None
    if kind in _INTERACTIVE:
        for key in _DICT_FIELDS:
            if body.get(key) is not None and not isinstance(body[key], dict):
                return f"{key} is not an object"
        if not isinstance(body.get("user"), dict):
            return "user is missing"
        if kind.startswith("view_") and not isinstance(body.get("view"), dict):
            return "view is not an object"
        if body.get("view") is not None and not isinstance(body["view"], dict):
            return "view is not an object"
        if kind == "block_actions":
            actions = body.get("actions")
            if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
                return "actions is not a list of objects"
    return None


def _timestamp_is_a_number(headers: dict[str, Any]) -> bool:
    """X-Slack-Request-Timestamp is whole seconds; slack_sdk's check raises on anything
    else (empty, `abc`, `1e400`), which must be a 401 like any bad signature."""
    value = headers.get("x-slack-request-timestamp")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 12


class BoltEventsHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, hardened for `POST /slack/events`.

    Before Bolt sees a request: the body must be UTF-8 (400), the Slack signature and a
    timestamp within 5 minutes must check out (401), and the body must parse and be
    shaped like a Slack payload (400, `payload_shape_error`); any
    `X-Slack-Bolt-*` header (Bolt-internal lazy-listener routing) is dropped. Acks are
    counted and timed by payload kind.

    Events API deliveries (`event_callback`) are acked at once with an empty 200 (Slack
    ignores the body of an event ack) and dispatched to Bolt from `events_executor`
    once the response has been written (WSGI `close()`): the dedup claim and the
    listeners run after the ack, so neither a slow database nor listener CPU delays
    it. Commands and interactivity go through Bolt in the request thread, because
    their ack may carry a body (`response_action`, ephemeral text).
    """

    def __init__(
        self,
        app: App,
        signing_secret: str,
        path: str = EVENTS_PATH,
        events_executor: Executor | None = None,
        claim: Callable[[str], bool] | None = None,
    ):
        super().__init__(app, path=path)
        self.verifier = SignatureVerifier(signing_secret)
        self.events_executor = events_executor
        self.claim = claim

    def _replayed(self, headers: dict[str, Any], kind: str) -> bool:
        """A command or interaction whose signed request was seen before: a replay inside
        the 5-minute window (Slack never resends these; events are deduplicated by id)."""
        if self.claim is None or kind == "event":
            return False
        signature = headers.get("x-slack-signature")
        if isinstance(signature, list | tuple):
            signature = signature[0] if signature else None
        if not isinstance(signature, str):
            return False
        try:
            return not self.claim("rq" + signature.removeprefix("v0=")[:62])
        except StoreError:
            return False  # no database: the listener says so; never drop a click for it

    def _dispatch_later(self, bolt_request: BoltRequest) -> None:
        # Already acked: authorization may wait for the bot identity (auth.test).
        bolt_request.context[ACKED_KEY] = True
        try:
            self.app.dispatch(bolt_request)
        except Exception:  # Bolt catches listener errors; this is a last resort
            log.exception("event dispatch failed")

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        started = time.perf_counter()
        try:
            body = request.get_body()
        except UnicodeDecodeError:
            return BoltResponse(status=400, body="body is not UTF-8")
        headers = {
            k: v for k, v in request.get_headers().items() if not k.startswith("x-slack-bolt-")
        }
        if not _timestamp_is_a_number(headers) or not self.verifier.is_valid_request(
                body, headers):  # type: ignore[arg-type]
            return BoltResponse(status=401, body="invalid signature or timestamp")
        try:
            bolt_request = BoltRequest(body=body, query=request.query_string, headers=headers)
        except Exception as exc:  # malformed JSON/form, unexpected shapes
            log.warning("unparseable Slack request (%s)", type(exc).__name__)
            return BoltResponse(status=400, body="malformed payload")
        problem = payload_shape_error(bolt_request.body)
        if problem is None:
            problem = payload_ids_error(bolt_request.body)
        if problem is not None:
            log.warning("malformed Slack payload: %s", problem)
            return BoltResponse(status=400, body=f"malformed payload: {problem}")
        kind = payload_kind(bolt_request.body)
        if self._replayed(headers, kind):
            log.info("replayed Slack %s ignored (same signed request seen before)", kind)
            return BoltResponse(status=200, body="")
        if kind == "event" and self.events_executor is not None:
            executor = self.events_executor

            def after_response() -> None:
                executor.submit(self._dispatch_later, bolt_request)

            # BotWsgiApp runs this from the body's close(), i.e. once the ack is sent.
            request.environ[AFTER_RESPONSE_KEY] = after_response
            response = BoltResponse(status=200, body="")
        else:
            response = self.app.dispatch(bolt_request)
        if response.status < 400:
            metrics.ACKS.labels(kind=kind).inc()
            metrics.ACK_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)
        return response


class BotWsgiApp:
    """The bot's WSGI application (see module docstring for routes).

    Attributes: `bolt_app` (None in health-only mode), `store`, `settings`.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bolt_app: App | None,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        unconfigured: Iterable[str] = (),
        identity: BotIdentity | None = None,
    ):
        self.settings = settings
        self.store = store
        self.bolt_app = bolt_app
        self.max_body_bytes = max_body_bytes
        self.unconfigured = list(unconfigured)
        self.events: BoltEventsHandler | None = None
        self.recheck: RecheckSchedule | None = None
        self.drainer: OutboxDrainer | None = None
        self.identity = identity or (identity_for(bolt_app) if bolt_app is not None else None)
        if bolt_app is not None:
            secret = settings.slack_signing_secret
            executor = ThreadPoolExecutor(
                max_workers=EVENT_DISPATCH_THREADS, thread_name_prefix="slack-events"
            )
            self.events = BoltEventsHandler(
                bolt_app, secret.get_secret_value() if secret else "", events_executor=executor,
                claim=store.claim_event,
            )
            identity = identity_for(bolt_app)
            if identity is not None:
                identity.start()  # auth.test in the background, never in an ack's path
            services = services_or_none(bolt_app)
            if services is not None:
                self.recheck = RecheckSchedule(services)
                self.recheck.start()
                self.drainer = OutboxDrainer(services)
                self.drainer.start()

    def close(self, wait: bool = True) -> None:
        """Stop dispatching events (waits for those being dispatched). Tests, shutdown."""
        if self.recheck is not None:
            self.recheck.stop()
        if self.drainer is not None:
            self.drainer.stop()
        if self.events is not None and self.events.events_executor is not None:
            shutdown = getattr(self.events.events_executor, "shutdown", None)
            if shutdown is not None:
                shutdown(wait=wait, cancel_futures=False)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO") or "/"
        route = path if path in _ROUTES else "other"
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            captured["status"] = status
            return start_response(status, headers, *exc_info)

        try:
            body = self._route(method, path, environ, capture)
        except Exception:
            log.exception("unhandled error on %s %s", method, route)
            if "status" in captured:
                raise
            body = _plain(capture, 500, "internal error")
        status = str(captured.get("status", "500")).split(" ", 1)[0]
        metrics.HTTP_REQUESTS.labels(route=route, status=status).inc()
        return body

    def _route(
        self, method: str, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if path in (INSTALL_PATH, REDIRECT_PATH) and self._oauth:
            if method != "GET":
                return _plain(start_response, 405, "use GET", [("Allow", "GET")])
            assert self.events is not None
            return self.events(environ, start_response)  # Bolt's OAuth flow (GET routes)
        if path == EVENTS_PATH and self.events is not None:
            if method != "POST":
                return _plain(start_response, 405, "use POST", [("Allow", "POST")])
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return _plain(start_response, 400, "bad content-length")
            if length > self.max_body_bytes:
                return _plain(start_response, 413, "request body too large")
            body = self.events(environ, start_response)
            callback = environ.pop(AFTER_RESPONSE_KEY, None)
            return _AfterResponse(body, callback) if callback is not None else body
        if path == EVENTS_PATH and self.unconfigured:
            return _plain(start_response, 503, "Slack is not configured on this server")
        if path in ("/healthz", "/readyz", "/metrics") and method not in ("GET", "HEAD"):
            return _plain(start_response, 405, "use GET", [("Allow", "GET, HEAD")])
        if path == "/healthz":
            return _plain(start_response, 200, "ok")
        if path == "/readyz":
            problems = self.not_ready()
            if problems:
                return _plain(start_response, 503, "not ready: " + "; ".join(problems))
            return _plain(start_response, 200, "ready")
        if path == "/metrics":
            data, content_type = metrics.render_metrics()
            headers = [("Content-Type", content_type), ("Content-Length", str(len(data)))]
            start_response("200 OK", headers)
            return [data]
        return _plain(start_response, 404, "not found")


    @property
    def _oauth(self) -> bool:
        return (self.settings.oauth_mode and self.events is not None
                and self.bolt_app is not None and self.bolt_app.oauth_flow is not None)

    def not_ready(self) -> list[str]:
        """What keeps the server from being ready: missing settings, the database, Slack
        not accepting the bot token (auth.test: refused, unreachable, not answered yet)."""
        if self.unconfigured:
            return list(self.unconfigured)
        problems = []
        try:
            self.store.ping()
        except StoreError as exc:
            problems.append(f"database unavailable ({exc})")
        if self.identity is not None:
            self.identity.answered(READY_IDENTITY_WAIT_S)  # at once, but for the first call
            slack = self.identity.problem()
            if slack:
                problems.append(slack)
        return problems


class _AfterResponse:
    """A WSGI body that runs `callback` from `close()`, which the server calls after
    sending the response (PEP 3333; wsgiref and gunicorn do)."""

    def __init__(self, body: Iterable[bytes], callback: Callable[[], None]):
        self._body = body
        self._callback = callback

    def __iter__(self) -> Any:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._callback()


def _plain(
    start_response: StartResponse,
    status: int,
    text: str,
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    data = (text + "\n").encode()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(data)))]
    start_response(f"{status} {HTTPStatus(status).phrase}", headers + (extra or []))
    return [data]


def build_store(settings: Settings) -> Store:
    """The `Store` for `DATABASE_URL`, schema created if the database answers.

    Its connection pool is sized from the thread counts (`bot.slack.services.db_pool_sizes`).

    If it does not, the error is logged and serving goes on: `/readyz` answers 503 and
    the schema is created on the first successful ping.
    """
    pool_size, max_overflow = db_pool_sizes(settings)
    store = Store(
        settings.database_url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        on_finish=metrics.consultation_finished,
    )
    try:
        store.create_schema()
    except StoreError:
        log.warning("database not reachable at start-up (%s); /readyz says 503", store.safe_url)
    return store


#: The serving process's GIL switch interval (CPython's default is 5 ms). Work after an
#: ack (a decision, a workflow step's decide, free text) is CPU-bound on the work pool;
#: with the default, the next request's ack waits for it in 5 ms slices (bench/ack.py:
#: a slash command right after a workflow step, p50 46 ms at 5 ms, 20 ms at 0.5 ms).
SWITCH_INTERVAL_S = 0.0005


def give_acks_the_gil_sooner() -> None:
    """Let the ack threads take the GIL from CPU-bound work sooner (a process setting:
    called by whatever builds the serving app)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL_S:
        sys.setswitchinterval(SWITCH_INTERVAL_S)


def build_wsgi_app(
    settings: Settings,
    store: Store | None = None,
    *,
    app: App | None = None,
    register_listeners: bool = True,
    slack_events: bool = True,
    unconfigured: Iterable[str] = (),
    identity: BotIdentity | None = None,
) -> BotWsgiApp:
    """Build the WSGI app (no server). Creates the store and the Bolt app if not given.

    `slack_events=False` serves only /healthz, /readyz and /metrics (Socket Mode, or
    `unconfigured`: the missing settings, which /readyz and /slack/events report).
    `identity`: whose auth.test /readyz reports (default: the Bolt app's).
    """
    give_acks_the_gil_sooner()
    if store is None:
        store = build_store(settings)
    if slack_events and app is None:
        app = create_app(Services.build(settings, store), register_listeners=register_listeners)
    return BotWsgiApp(
        settings, store, app if slack_events else None, unconfigured=unconfigured,
        identity=identity,
    )


# ---------------------------------------------------------------- threaded stdlib server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


@dataclass
class BackgroundServer:
    """A running threaded WSGI server. `url` is like http://127.0.0.1:PORT."""

    server: WSGIServer
    thread: threading.Thread
    host: str
    port: int
    wsgi_app: Any = field(repr=False, default=None)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_thread(wsgi_app: Any, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
    """Serve `wsgi_app` from a daemon thread (one thread per request); port 0 = any free."""
    server = make_server(
        host, port, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="wsgi-server", daemon=True
    )
    thread.start()
    return BackgroundServer(server, thread, host, server.server_port, wsgi_app)


# ---------------------------------------------------------------- gunicorn


def gunicorn_options(settings: Settings) -> dict[str, Any]:
    """gunicorn settings: gthread workers, WEB_CONCURRENCY x WEB_THREADS, bind 0.0.0.0:PORT."""
    debug = settings.log_level.upper() == "DEBUG"
    options: dict[str, Any] = {
        "bind": f"0.0.0.0:{settings.port}",
        "workers": settings.web_concurrency,
        "worker_class": "gthread",
        "threads": settings.web_threads,
        "timeout": 30,
        "graceful_timeout": 20,
        "keepalive": 5,
        "accesslog": "-" if debug else None,
        "errorlog": "-",
        "loglevel": "debug" if debug else "info",
        "proc_name": "ptf-bot",
        "preload_app": False,
        "child_exit": _worker_exited,
    }
    if os.path.isdir("/dev/shm"):
        options["worker_tmp_dir"] = "/dev/shm"
    return options


def _worker_exited(_server: Any, worker: Any) -> None:
    metrics_dir.worker_exited(worker.pid)


def gunicorn_application(factory: Callable[[], Any], options: dict[str, Any]) -> Any:
    """A gunicorn application serving `factory()` (called in each worker); `.run()` blocks."""
    from gunicorn.app.base import BaseApplication

    class GunicornApplication(BaseApplication):  # type: ignore[misc]
        """Runs `factory()` in each worker (after fork) and serves it."""

        def __init__(self) -> None:
            self.options = options
            self.factory = factory
            super().__init__()

        def load_config(self) -> None:
            for key, value in self.options.items():
                if key in self.cfg.settings and value is not None:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return self.factory()

    return GunicornApplication()


# ---------------------------------------------------------------- entry point


def config_errors(settings: Settings) -> list[str]:
    """What is missing to serve in the mode the settings select (empty when fine)."""
    problems = []
    if _secret(settings.slack_bot_token) and settings.slack_client_id and _secret(
            settings.slack_client_secret):
        problems.append("SLACK_BOT_TOKEN and SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are all set: "
                        "keep SLACK_BOT_TOKEN for one workspace, or the client id and secret "
                        "(and no bot token) for many")
    if settings.oauth_mode and settings.socket_mode:
        problems.append("OAuth (SLACK_CLIENT_ID/SECRET) needs HTTP mode for /slack/install: "
                        "unset SLACK_APP_TOKEN")
    if not _secret(settings.slack_bot_token) and not settings.oauth_mode:
        problems.append("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...; or "
                        "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for many workspaces)")
    if not settings.socket_mode and not _secret(settings.slack_signing_secret):
        problems.append(
            "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    return problems


def _secret(value: Any) -> str:
    return value.get_secret_value() if value is not None else ""


def serve(settings: Settings) -> None:
    """Run the bot until stopped (see module docstring)."""
    configure_logging(settings)
    problems = config_errors(settings)
    if problems:
        for p in problems:
            print(f"ptf-bot: not connected to Slack: {p}", file=sys.stderr)
        print(
            "ptf-bot: serving /healthz, /readyz (503 until configured) and /metrics on port "
            f"{settings.port}; put the settings in the environment or .env (see "
            "deploy/README.md) and restart. `python -m bot console` works without Slack.",
            file=sys.stderr,
        )
        gunicorn_application(
            lambda: build_wsgi_app(settings, slack_events=False, unconfigured=problems),
            gunicorn_options(settings),
        ).run()
        return

    if settings.socket_mode:
        _serve_socket_mode(settings)
        return

    log.info(
        "serving HTTP on 0.0.0.0:%d (%d worker(s) x %d threads), database %s",
        settings.port,
        settings.web_concurrency,
        settings.web_threads,
        normalize_database_url(settings.database_url).render_as_string(hide_password=True),
    )
    gunicorn_application(lambda: build_wsgi_app(settings), gunicorn_options(settings)).run()


def _serve_socket_mode(settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    store = build_store(settings)
    app = create_app(Services.build(settings, store))
    health_app = build_wsgi_app(settings, store, slack_events=False,
                                identity=identity_for(app))
    health = serve_in_thread(health_app, "0.0.0.0", settings.port)
    log.info("Socket Mode; health and metrics on %s", health.url)
    schedule = RecheckSchedule(services_for(app))
    schedule.start()
    OutboxDrainer(services_for(app)).start()
    handler = SocketModeHandler(app, _secret(settings.slack_app_token))
    reset_sdk_logger_levels()
    identity = identity_for(app)
    if identity is not None and identity.wait(SOCKET_MODE_IDENTITY_WAIT_S) is None:
        # In Socket Mode the ack is sent after dispatch: nothing is delayed by waiting
        # here, before connecting; without it, requests go on and the lookup continues.
        log.warning("bot identity unknown at start-up (auth.test); connecting anyway")

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        handler.start()
    finally:
        with contextlib.suppress(Exception):
            handler.close()
        health.stop()


def main() -> None:
    from bot.config import get_settings

    serve(get_settings())


if __name__ == "__main__":
    main()
