"""No token or signing secret in the logs, even at DEBUG; quiet SDK loggers otherwise."""

from __future__ import annotations

import logging
import threading

import pytest

from bot.slack.logging_setup import QUIET_LOGGERS, configure_logging, redact
from tests.support.fake_slack import BOT_TOKEN
from tests.support.fixtures import SIGNING_SECRET, make_settings
from tests.support.slack_requests import message_event

APP_TOKEN = "xapp-1-A0FAKEAPP-1234567890-abcdef0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-api03-FAKEkeyFORtests_0123456789"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.setLevel(saved[0])
    for h in list(root.handlers):
        if h not in saved[1]:
            root.removeHandler(h)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


def test_redact_shapes():
    text = (
        f"bot {BOT_TOKEN} user xoxp-12-34-abcdef app {APP_TOKEN} key {ANTHROPIC_KEY} "
        "auth Bearer abcdefghijklmnop url postgresql://ptf:pa55word@db/ptf conn password=pw123"
    )
    out = redact(text)
    for secret in (BOT_TOKEN, "xoxp-12-34-abcdef", APP_TOKEN, ANTHROPIC_KEY,
                   "abcdefghijklmnop", "pa55word", "pw123"):
        assert secret not in out
    assert "postgresql://[REDACTED]@db/ptf" in out


def test_levels(restore_logging, fake_slack, sqlite_url):
    configure_logging(make_settings(fake_slack, sqlite_url, log_level="INFO"))
    assert logging.getLogger().level == logging.INFO
    assert logging.getLogger("slack_sdk").level == logging.WARNING
    assert logging.getLogger("slack_bolt").level == logging.WARNING
    configure_logging(make_settings(fake_slack, sqlite_url, log_level="DEBUG"))
    assert logging.getLogger("slack_sdk").level == logging.DEBUG
    assert logging.getLogger("slack_bolt").level == logging.DEBUG


def test_no_secret_in_logs_at_debug(restore_logging, bot_factory, fake_slack, sqlite_url, caplog):
    settings = make_settings(
        fake_slack,
        sqlite_url,
        log_level="DEBUG",
        slack_app_token=None,
        anthropic_api_key=ANTHROPIC_KEY,
    )
    configure_logging(settings)
    caplog.set_level(logging.DEBUG)
    done = threading.Event()

    def configure(app):
        @app.command("/ptf-test")
        def _cmd(ack, body, client, logger):
            ack()
            logger.debug("token in use: %s / secret %s", BOT_TOKEN, SIGNING_SECRET)
            client.chat_postMessage(channel=body["channel_id"], text="hello")
            client.files_upload_v2(channel="D1", content="# record", filename="record.md")
            try:
                raise RuntimeError(f"boom with {BOT_TOKEN}")
            except RuntimeError:
                logger.exception("failure while using %s", APP_TOKEN)
            done.set()

        @app.event("message")
        def _msg(event, logger):
            logger.info("message %s", event["text"])

    bot = bot_factory(settings, configure=configure)
    fake_slack.fail_next("chat.postMessage", 1, status=500)
    assert bot.sender.command("hi", command="/ptf-test").status == 200
    assert done.wait(15)
    bot.sender.event(message_event(f"pasted my token {BOT_TOKEN} oops"))
    bot.sender.post("{bad json", "application/json")
    fake_slack.quiet_for(0.3)
    logging.getLogger("bot.test").warning("settings: %r", settings)

    assert caplog.records, "expected DEBUG records"
    assert any(r.name.startswith("slack_sdk") for r in caplog.records)
    everything = caplog.text + "\n".join(
        (r.getMessage() + str(r.exc_text or "")) for r in caplog.records
    )
    for secret in (BOT_TOKEN, SIGNING_SECRET, ANTHROPIC_KEY, APP_TOKEN):
        assert secret not in everything
    assert "[REDACTED]" in everything
