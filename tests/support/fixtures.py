"""pytest fixtures for Slack tests: the real server, FakeSlack, SQLite and PostgreSQL.

Use them from a conftest: `from tests.support.fixtures import *  # noqa: F403`
(tests/slack/conftest.py does). Fixtures:

- `fake_slack`      a started `FakeSlack` (Web API stand-in), stopped after the test.
- `sqlite_url`      a temp SQLite file URL.
- `postgres_url`    a fresh PostgreSQL schema on `TEST_POSTGRES_URL` (dropped after);
                    skips with the reason when the variable is unset.
- `db_url`          parametrised: the test runs on sqlite and on postgresql.
- `bot_settings`    `Settings` for tests: FakeSlack URL, test token/secret, SQLite.
- `bot_factory`     `start(settings=None, *, database_url=None, register_listeners=True,
                    configure=None) -> RunningBot`; starts the real WSGI app on a real
                    threaded HTTP server on 127.0.0.1; everything stopped at teardown.
                    `configure(app)` runs before serving (add test-only listeners there).
- `bot`             `bot_factory()` with the defaults: a running bot with the real
                    listeners, `bot.sender` to post signed requests, `bot.fake`.

    def test_help(bot):
        r = bot.sender.command("help")
        assert r.status == 200
        bot.fake.wait_for("chat.postEphemeral")      # or response_url, per listener

`RunningBot` has: settings, store, app (Bolt), wsgi, server, url, sender, fake,
`restart()` (a new store/app/server on the same database and FakeSlack) and `stop()`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App

from bot import metrics
from bot.config import Settings
from bot.slack.app import create_app
from bot.slack.server import BackgroundServer, BotWsgiApp, serve_in_thread
from bot.slack.services import Services, db_pool_sizes, identity_for, work_executor_for
from bot.store import Store
from tests.conftest import TODAY
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.slack_requests import SlackSender

SIGNING_SECRET = "8f742231b10e8888abcd99ab1c2d3e4f"
POSTGRES_ENV = "TEST_POSTGRES_URL"


def make_settings(
    fake: FakeSlack | None, database_url: str, **overrides: Any
) -> Settings:
    """Test `Settings` (ignores `.env` and the process environment's secrets)."""
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": fake.api_url if fake is not None else "http://127.0.0.1:9/api/",
        "database_url": database_url,
        "anthropic_api_key": None,
        "log_level": "INFO",
        "slack_listener_threads": 8,
        "bot_today": TODAY,
        "bot_recheck_every_hours": 0,  # tests that want the schedule turn it on
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningBot:
    """A bot served over real HTTP on 127.0.0.1 (see module docstring)."""

    settings: Settings
    store: Store
    app: App
    wsgi: BotWsgiApp
    server: BackgroundServer
    sender: SlackSender
    fake: FakeSlack | None
    _configure: Callable[[App], None] | None = field(default=None, repr=False)
    _register_listeners: bool = True
    _track: Callable[[RunningBot], None] | None = field(default=None, repr=False)
    stopped: bool = False

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.server.stop()
        identity = identity_for(self.app)
        if identity is not None:
            identity.stop()
        # event dispatch, then the ack pool (both may still hand work off), then the work
        self.wsgi.close()
        executor = getattr(self.app.listener_runner, "listener_executor", None)
        if executor is not None and hasattr(executor, "shutdown"):
            executor.shutdown(wait=True, cancel_futures=False)
        work = work_executor_for(self.app)
        if work is not None and hasattr(work, "shutdown"):
            work.shutdown(wait=True, cancel_futures=False)
        self.store.dispose()

    def restart(self) -> RunningBot:
        """Stop this one and start a fresh process-like instance on the same DB."""
        self.stop()
        return start_bot(
            self.settings,
            fake=self.fake,
            register_listeners=self._register_listeners,
            configure=self._configure,
            track=self._track,
        )


def start_bot(
    settings: Settings,
    *,
    fake: FakeSlack | None = None,
    register_listeners: bool = True,
    configure: Callable[[App], None] | None = None,
    track: Callable[[RunningBot], None] | None = None,
) -> RunningBot:
    """Create store + Bolt app + WSGI app and serve them on 127.0.0.1 (random port).

    `track(running)` is called with the result (and with every `restart()` result).
    """
    pool_size, max_overflow = db_pool_sizes(settings)
    store = Store(settings.database_url, pool_size=pool_size, max_overflow=max_overflow,
                  on_finish=metrics.consultation_finished)
    store.create_schema()
    app = create_app(Services.build(settings, store), register_listeners=register_listeners)
    if configure is not None:
        configure(app)
    wsgi = BotWsgiApp(settings, store, app)
    server = serve_in_thread(wsgi)
    secret = settings.slack_signing_secret
    sender = SlackSender(server.url, secret.get_secret_value() if secret else "", fake=fake)
    running = RunningBot(
        settings, store, app, wsgi, server, sender, fake, configure, register_listeners, track
    )
    if track is not None:
        track(running)
    return running


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    import psycopg

    conninfo = base.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"ptf_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} unreachable: {type(exc).__name__}")
    try:
        yield _with_search_path(base, schema)
    finally:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def bot_settings(fake_slack: FakeSlack, sqlite_url: str) -> Settings:
    return make_settings(fake_slack, sqlite_url)


@pytest.fixture
def bot_factory(
    fake_slack: FakeSlack, bot_settings: Settings
) -> Iterator[Callable[..., RunningBot]]:
    started: list[RunningBot] = []

    def start(
        settings: Settings | None = None,
        *,
        database_url: str | None = None,
        register_listeners: bool = True,
        configure: Callable[[App], None] | None = None,
    ) -> RunningBot:
        s = settings or bot_settings
        if database_url is not None:
            s = s.model_copy(update={"database_url": database_url})
        return start_bot(
            s,
            fake=fake_slack,
            register_listeners=register_listeners,
            configure=configure,
            track=started.append,
        )

    try:
        yield start
    finally:
        for running in started:
            running.stop()


@pytest.fixture
def bot(bot_factory: Callable[..., RunningBot]) -> RunningBot:
    return bot_factory()
