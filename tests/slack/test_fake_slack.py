"""FakeSlack answers slack_sdk's real WebClient (as the bot builds it) in Slack's shapes."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.slack.client import build_web_client
from tests.support.fixtures import make_settings


@pytest.fixture
def client(fake_slack, sqlite_url):
    return build_web_client(make_settings(fake_slack, sqlite_url))


def test_messages_threads_permalinks(client, fake_slack):
    fake_slack.add_message("C1", "100.000001", "6k token prompt, 20M calls a month")
    fake_slack.add_message("C1", "100.000002", "we have 8000 examples", thread_ts="100.000001")
    posted = client.chat_postMessage(channel="C1", thread_ts="100.000001", text="Q1",
                                     blocks=[{"type": "section",
                                              "text": {"type": "mrkdwn", "text": "Q1"}}])
    assert posted["ok"] and posted["channel"] == "C1" and posted["message"]["text"] == "Q1"
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="Q2")
    assert updated["ts"] == posted["ts"]
    replies = client.conversations_replies(channel="C1", ts="100.000001")
    assert [m["text"] for m in replies["messages"]] == [
        "6k token prompt, 20M calls a month", "we have 8000 examples", "Q2"
    ]
    link = client.chat_getPermalink(channel="C1", message_ts="100.000001")
    assert link["permalink"].endswith("/archives/C1/p100000001")
    eph = client.chat_postEphemeral(channel="C1", user="U2", text="not yours")
    assert eph["message_ts"]
    assert fake_slack.wait_for("chat.postEphemeral").arg("user") == "U2"


def test_views_users_dm(client, fake_slack):
    opened = client.views_open(trigger_id="1.2.abc", view={"type": "modal", "callback_id": "m",
                                                           "title": {"type": "plain_text",
                                                                     "text": "t"}, "blocks": []})
    view_id = opened["view"]["id"]
    assert opened["view"]["callback_id"] == "m"
    assert client.views_update(view_id=view_id, view={"type": "modal", "blocks": []})["ok"]
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["ok"]
    assert fake_slack.wait_for("views.publish").arg_json("view")["type"] == "home"
    fake_slack.add_user("U1", real_name="Ada Lovelace")
    assert client.users_info(user="U1")["user"]["real_name"] == "Ada Lovelace"
    dm = client.conversations_open(users="U1")["channel"]["id"]
    assert dm.startswith("D")
    assert client.auth_test()["user_id"] == fake_slack.bot_user_id


def test_files_upload_v2(client, fake_slack):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    result = client.files_upload_v2(channel="D1", file=png, filename="break-even.png",
                                    title="Break-even", initial_comment="chart")
    file_id = result["file"]["id"]
    info = fake_slack.uploads[file_id]
    assert info["data"] == png and info["completed"] and info["channel_id"] == "D1"
    assert info["title"] == "Break-even" and info["filename"] == "break-even.png"
    assert [c.method for c in fake_slack.calls_to() if c.method != "auth.test"] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"
    ]


def test_auth_errors_failures_and_response_url(client, fake_slack, sqlite_url):
    bad = build_web_client(make_settings(fake_slack, sqlite_url, slack_bot_token="xoxb-wrong"))
    with pytest.raises(SlackApiError) as info:
        bad.chat_postMessage(channel="C1", text="x")
    assert info.value.response["error"] == "invalid_auth"

    fake_slack.error_next("views.open", "expired_trigger_id")
    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id="t", view={"type": "modal", "blocks": []})
    assert info.value.response["error"] == "expired_trigger_id"

    fake_slack.fail_next("users.info", 1, status=500)
    assert client.users_info(user="U1")["ok"]  # retried
    assert [c.status for c in fake_slack.calls_to("users.info")] == [500, 200]

    url = fake_slack.response_url()
    assert WebhookClient(url).send(text="ephemeral answer", response_type="ephemeral").status_code \
        == 200
    call = fake_slack.wait_for("response_url")
    assert call.json["text"] == "ephemeral answer"
