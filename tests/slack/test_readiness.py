"""`/readyz` and the bot token: 503 naming Slack while auth.test fails (Slack refuses the
token, or cannot be reached), 200 once it succeeds; one WARNING of ours per retry and
none of slack_sdk's ERROR lines. Through the real server, FakeSlack and the real logs."""

from __future__ import annotations

import logging
import re
import socket

import pytest

from bot.slack.server import build_wsgi_app, serve_in_thread
from bot.slack.services import identity_for
from tests.support.fake_slack import BOT_TOKEN
from tests.support.fixtures import SIGNING_SECRET, make_settings
from tests.support.slack_requests import http_request
from tests.support.surface import wait_until

IDENTITY_LOGGER = "bot.slack.identity"


def ready(url: str):
    return http_request(url + "/readyz")


def retry_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == IDENTITY_LOGGER and r.levelno == logging.WARNING
            and "auth.test" in r.getMessage()]


def sdk_errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.startswith("slack_sdk") and r.levelno >= logging.ERROR]


def no_secrets(caplog) -> None:
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.INFO)
    return caplog


def test_refused_token_is_not_ready_until_auth_test_succeeds(bot_factory, fake_slack, logs):
    fake_slack.error_next("auth.test", "invalid_auth", count=2)
    bot = bot_factory()
    wait_until(lambda: fake_slack.calls_to("auth.test"), what="the first auth.test")
    r = ready(bot.url)
    assert r.status == 503 and "Slack" in r.text and "invalid_auth" in r.text, r.text
    assert BOT_TOKEN not in r.text

    wait_until(lambda: len(fake_slack.calls_to("auth.test")) >= 2, what="the retry")
    r = ready(bot.url)
    assert r.status == 503 and "Slack" in r.text, r.text  # still failing: still not ready

    wait_until(lambda: fake_slack.ok_calls("auth.test"), timeout=6, what="auth.test ok")
    wait_until(lambda: ready(bot.url).status == 200, timeout=2, what="ready")
    assert ready(bot.url).text.strip() == "ready"

    warnings = retry_warnings(logs)
    assert len(warnings) == 2, warnings  # one per failed attempt, i.e. per backoff step
    delays = [re.search(r"retrying in (\S+)s", w) for w in warnings]
    assert [d.group(1) for d in delays if d] == ["1", "2"], warnings
    assert all("invalid_auth" in w for w in warnings)
    assert sdk_errors(logs) == []
    assert not [r for r in logs.records if r.name == IDENTITY_LOGGER
                and r.levelno >= logging.ERROR]
    no_secrets(logs)
    assert identity_for(bot.app).info is not None  # the identity is known after all


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_slack_is_not_ready_and_logs_one_warning_per_retry(sqlite_url, logs):
    api_url = f"http://127.0.0.1:{_closed_port()}/api/"
    settings = make_settings(None, sqlite_url, slack_api_url=api_url)
    wsgi = build_wsgi_app(settings)
    server = serve_in_thread(wsgi)
    try:
        wait_until(lambda: retry_warnings(logs), timeout=5, what="the first failure")
        r = ready(server.url)
        assert r.status == 503 and "Slack" in r.text, r.text
        wait_until(lambda: len(retry_warnings(logs)) >= 2, timeout=5, what="the retry")
        r = ready(server.url)
        assert r.status == 503 and "Slack" in r.text, r.text
    finally:
        server.stop()
        identity = identity_for(wsgi.bolt_app)
        if identity is not None:
            identity.stop()
        wsgi.close()
        wsgi.store.dispose()
    warnings = retry_warnings(logs)
    assert all("retrying in" in w and "Connection" in w for w in warnings), warnings
    assert sdk_errors(logs) == []
    no_secrets(logs)


def test_dropped_connections_then_slack_answers(bot_factory, fake_slack, logs):
    """Slack unreachable for a while (connections closed unanswered), then back."""
    fake_slack.drop_next("auth.test", 2)
    bot = bot_factory()
    wait_until(lambda: retry_warnings(logs), timeout=5, what="the first failure")
    r = ready(bot.url)
    assert r.status == 503 and "Slack" in r.text, r.text
    wait_until(lambda: fake_slack.ok_calls("auth.test"), timeout=6, what="auth.test ok")
    wait_until(lambda: ready(bot.url).status == 200, timeout=2, what="ready")
    assert len(retry_warnings(logs)) == 2, retry_warnings(logs)
    assert sdk_errors(logs) == []


def test_ready_at_once_when_slack_accepts_the_token(bot):
    r = ready(bot.url)
    assert (r.status, r.text.strip()) == (200, "ready")
