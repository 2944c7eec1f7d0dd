"""Serving-layer fixes, through the real HTTP server with Slack-signed requests and
FakeSlack: acks never starve behind slow work, the bot identity (auth.test) is never
looked up before an ack, Web API retries, events dedup vs message subtypes, and the
FakeSlack call recording race."""

from __future__ import annotations

import pytest

from bot.slack.app import build_web_client
from tests.support.fixtures import make_settings


@pytest.fixture
def client(fake_slack, sqlite_url):
    return build_web_client(make_settings(fake_slack, sqlite_url))


# ------------------------------------------------------------------ FakeSlack recording


def test_a_call_is_recorded_before_the_client_sees_its_answer(client, fake_slack):
    """A test may read `calls` as soon as its client call returned: the call must be
    there already (FakeSlack recorded after writing the answer, so this raced)."""
    for i in range(1, 301):
        client.users_info(user=f"U{i}")
        calls = fake_slack.calls_to("users.info")
        assert len(calls) == i, f"call {i} not recorded when its answer arrived"
