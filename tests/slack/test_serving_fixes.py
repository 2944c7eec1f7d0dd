"""Serving-layer fixes, through the real HTTP server with Slack-signed requests and
FakeSlack (never a mock of the bot's own code):

1. acks never starve behind slow work (the work pool is separate from Bolt's);
2. the bot identity (auth.test) is never looked up before an ack;
3. Web API retries: Retry-After capped, 502/504 retried, no double post after a lost
   connection;
4. events dedup claims only what a listener acts on (message subtypes, plain chatter);
5. FakeSlack records a call before answering it;
6. the database pool is sized from the thread counts.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import text

from bot.slack.blocks import ids
from bot.slack.client import build_web_client
from bot.slack.server import build_wsgi_app, serve_in_thread
from tests.support.fake_slack import BOT_USER_ID
from tests.support.fixtures import make_settings
from tests.support.slack_requests import (
    CHANNEL_ID,
    app_mention_event,
    http_request,
    message_event,
    new_event_id,
    new_ts,
)


@pytest.fixture
def client(fake_slack, sqlite_url):
    return build_web_client(make_settings(fake_slack, sqlite_url))


def _claimed(store, event_id: str) -> bool:
    with store.engine.connect() as conn:
        row = conn.execute(
            text("SELECT 1 FROM processed_events WHERE event_id = :e"), {"e": event_id}
        ).first()
    return row is not None


# ------------------------------------------------------------------ 1. ack starvation


def test_acks_and_views_open_do_not_queue_behind_slow_work(bot, fake_slack):
    """More slow consultations than work threads (Slack hangs on chat.postMessage):
    a /ptf still acks at once and its modal opens at once (the trigger lives 3 s)."""
    threads = bot.settings.slack_listener_threads
    gate = fake_slack.hold("chat.postMessage", "conversations.replies", "chat.postEphemeral")
    try:
        for i in range(threads + 4):
            busy = app_mention_event("should we fine-tune?", channel=f"C0BUSY{i:03d}")
            r = bot.sender.event(busy)
            assert r.status == 200
        fake_slack.wait_holding("chat.postMessage", threads, timeout=15)  # work pool full

        sent = time.monotonic()
        r = bot.sender.command("6k token prompt, 20M calls a month")
        assert (r.status, r.text.strip()) == (200, "")
        assert r.elapsed < 1.0, f"/ptf acked after {r.elapsed:.2f}s behind slow work"
        opened = fake_slack.wait_for("views.open", timeout=3)
        assert opened.at - sent < 1.5, f"views.open {opened.at - sent:.2f}s after the command"

        # App Home's "New consultation" too; and a click's ack
        r = bot.sender.block_action(ids.HOME_NEW, value="new", channel_id=None)
        assert r.status == 200 and r.elapsed < 1.0
        fake_slack.wait_for("views.open", count=2, timeout=3)
        r = bot.sender.block_action(ids.RECORD_DM, value="no-such-consultation")
        assert r.status == 200 and r.elapsed < 1.0
        assert fake_slack.holding("chat.postMessage") >= threads  # still saturated
    finally:
        gate.set()
    # the held work then finishes: every mention gets its question message
    fake_slack.wait_for("chat.postMessage", count=threads + 4, timeout=30,
                        predicate=lambda c: str(c.arg("channel", "")).startswith("C0BUSY"))


def test_failed_work_after_the_ack_is_logged_without_secrets(bot_factory, caplog):
    from tests.support.fake_slack import BOT_TOKEN

    ran = threading.Event()

    def configure(app):
        from bot.slack.work import after_ack

        def explode(context):
            ran.set()
            raise RuntimeError(f"boom with {BOT_TOKEN}")

        @app.command("/ptf-test")
        def _cmd(ack, context):
            ack()
            after_ack(context, explode, context)

    bot = bot_factory(register_listeners=False, configure=configure)
    before = bot.sender.get("/metrics").text.count("explode")
    assert bot.sender.command("", command="/ptf-test").status == 200
    assert ran.wait(5)
    deadline = time.monotonic() + 5
    while not any("listener work" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, "the failure was not logged"
        time.sleep(0.05)
    assert BOT_TOKEN not in caplog.text
    assert "RuntimeError" in caplog.text
    metrics_text = bot.sender.get("/metrics").text
    assert "ptf_listener_work_errors_total" in metrics_text
    assert metrics_text.count("explode") > before


# ------------------------------------------------------------------ 2. auth.test off the ack


def test_first_requests_ack_at_once_while_auth_test_fails(bot_factory, fake_slack):
    """auth.test answers 503 for a while: the first requests are acked at once (no
    "installation ... no longer available"), and the work after the ack runs with the
    bot's identity once auth.test answers."""
    fake_slack.fail_next("auth.test", 4, status=503)  # ~3.5 s of client retries, then 1 s
    seen: list[object] = []
    done = threading.Event()

    def configure(app):
        from bot.slack.work import after_ack

        def record(context):
            seen.append(context.get("bot_user_id"))
            done.set()

        @app.command("/ptf-test")
        def _cmd(ack, context):
            ack(text="on it")
            after_ack(context, record, context)

    bot = bot_factory(configure=configure)
    r = bot.sender.command("", command="/ptf-test")
    assert r.status == 200 and r.elapsed < 1.0, (r.status, r.elapsed, r.text)
    assert "no longer available" not in r.text and "on it" in r.text

    r = bot.sender.command("")  # the real /ptf: the modal opens at once
    assert r.status == 200 and r.elapsed < 1.0
    assert "no longer available" not in r.text
    fake_slack.wait_for("views.open", timeout=3)
    assert not fake_slack.ok_calls("auth.test")  # all that happened before auth.test answered

    assert done.wait(15)
    assert seen == [BOT_USER_ID]
    assert len(fake_slack.ok_calls("auth.test")) == 1
    statuses = [c.status for c in fake_slack.calls_to("auth.test")]
    assert statuses == [503, 503, 503, 503, 200]

    # later requests use the cached identity: no more auth.test
    r = bot.sender.command("help")
    assert r.status == 200 and f"<@{BOT_USER_ID}>" in r.text
    fake_slack.quiet_for(0.3)
    assert len(fake_slack.calls_to("auth.test")) == 5


def test_events_wait_for_the_identity_after_their_ack(bot_factory, fake_slack):
    """An @-mention while auth.test is failing: acked at once, answered once it works."""
    fake_slack.fail_next("auth.test", 4, status=502)
    bot = bot_factory()
    ts = new_ts()
    r = bot.sender.event(app_mention_event("6k token prompt, 20M calls a month", ts=ts))
    assert r.status == 200 and r.elapsed < 1.0
    reply = fake_slack.wait_for("chat.postMessage", timeout=15,
                                predicate=lambda c: c.arg("thread_ts") == ts)
    assert reply.at > fake_slack.ok_calls("auth.test")[0].at


# ------------------------------------------------------------------ 3. Web API retries


def _posting_bot(bot_factory, method: str = "chat_postMessage", **kwargs):
    outcome: dict[str, object] = {}
    done = threading.Event()

    def configure(app):
        @app.command("/ptf-test")
        def _post(ack, body, client):
            ack()
            started = time.monotonic()
            try:
                outcome["response"] = getattr(client, method)(
                    channel=body["channel_id"], text="verdict: prompt first", **kwargs)
            except Exception as exc:
                outcome["error"] = exc
            finally:
                outcome["seconds"] = time.monotonic() - started
                done.set()

    return bot_factory(register_listeners=False, configure=configure), outcome, done


def test_retry_after_beyond_the_cap_is_not_slept(bot_factory, fake_slack):
    bot, outcome, done = _posting_bot(bot_factory)
    fake_slack.fail_next("chat.postMessage", 1, status=429, retry_after=30)
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(5), "the client slept the 30 s Retry-After"
    assert outcome["seconds"] < 2
    error = outcome["error"]
    assert isinstance(error, SlackApiError) and error.response["error"] == "ratelimited"
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429]


def test_retry_after_within_the_cap_is_honoured(bot_factory, fake_slack):
    bot, outcome, done = _posting_bot(bot_factory)
    fake_slack.fail_next("chat.postMessage", 1, status=429, retry_after=2)
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(10)
    attempts = fake_slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 2.0


def test_502_and_504_are_retried(bot_factory, fake_slack):
    bot, outcome, done = _posting_bot(bot_factory)
    fake_slack.fail_next("chat.postMessage", 1, status=502)
    fake_slack.fail_next("chat.postMessage", 1, status=504)
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(10)
    assert "error" not in outcome, outcome.get("error")
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [502, 504, 200]
    assert len(fake_slack.messages[CHANNEL_ID]) == 1


def test_a_post_is_not_repeated_after_a_lost_connection(bot_factory, fake_slack):
    """The connection drops after chat.postMessage was sent: Slack may have posted it,
    so it is not sent again (no double post); the caller's error path takes over."""
    bot, outcome, done = _posting_bot(bot_factory)
    fake_slack.drop_next("chat.postMessage")
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(10)
    assert "error" in outcome
    time.sleep(0.5)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_an_update_is_retried_after_a_lost_connection(bot_factory, fake_slack):
    bot, outcome, done = _posting_bot(bot_factory, "chat_update", ts="1700000000.000100")
    fake_slack.drop_next("chat.update")
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(10)
    assert "error" not in outcome, outcome.get("error")
    assert [c.status for c in fake_slack.calls_to("chat.update")] == [0, 200]


# ------------------------------------------------------------------ 4. dedup vs subtypes


@pytest.mark.parametrize("subtype", ["me_message", "file_share", "thread_broadcast"])
def test_a_mention_whose_message_copy_has_a_subtype_gets_one_reply(bot, fake_slack, subtype):
    """Slack delivers a message that mentions the bot twice: as `message` (here with a
    subtype, and first) and as `app_mention`. Exactly one reply, whichever handles it."""
    ts = new_ts()
    words = "6k token prompt, 20M calls a month"
    root = new_ts() if subtype == "thread_broadcast" else None
    if root:
        fake_slack.add_message(CHANNEL_ID, root, "should we fine-tune?", user="U0ALICE01")
        fake_slack.add_message(CHANNEL_ID, ts, f"<@{BOT_USER_ID}> {words}", user="U0ALICE01",
                               thread_ts=root)
    message = message_event(f"<@{BOT_USER_ID}> {words}", ts=ts, thread_ts=root)
    message["subtype"] = subtype
    if subtype == "file_share":
        message["files"] = [{"id": "F0FILE001", "name": "notes.txt"}]
    assert bot.sender.event(message).status == 200
    time.sleep(0.3)  # the message copy is dispatched first
    assert bot.sender.event(app_mention_event(words, ts=ts, thread_ts=root)).status == 200

    thread = root or ts
    fake_slack.wait_for("chat.postMessage", timeout=10,
                        predicate=lambda c: c.arg("thread_ts") == thread)
    fake_slack.quiet_for(0.5)
    questions = [c for c in fake_slack.ok_calls("chat.postMessage")
                 if c.arg("thread_ts") == thread]
    assert len(questions) == 1


def test_plain_channel_chatter_is_not_written_to_the_database(bot, fake_slack):
    chatter = new_event_id()
    r = bot.sender.event(message_event("lunch anyone?"), event_id=chatter)
    assert r.status == 200
    joined = new_event_id()
    join = message_event("<@U0BOB0002> has joined the channel", user="U0BOB0002")
    join["subtype"] = "channel_join"
    assert bot.sender.event(join, event_id=joined).status == 200
    own = new_event_id()
    bot_post = message_event("a question", thread_ts=new_ts(), user=BOT_USER_ID)
    bot_post["bot_id"] = "B0BOT0001"
    assert bot.sender.event(bot_post, event_id=own).status == 200

    reply = new_event_id()  # a thread reply may be a typed answer: claimed
    assert bot.sender.event(message_event("5000", thread_ts=new_ts()), event_id=reply).status \
        == 200
    mention = new_event_id()
    assert bot.sender.event(app_mention_event("hi"), event_id=mention).status == 200

    deadline = time.monotonic() + 5
    while not (_claimed(bot.store, reply) and _claimed(bot.store, mention)):
        assert time.monotonic() < deadline, "the events to act on were not claimed"
        time.sleep(0.05)
    time.sleep(0.3)
    assert not _claimed(bot.store, chatter)
    assert not _claimed(bot.store, joined)
    assert not _claimed(bot.store, own)


def test_app_home_opens_are_published_but_not_written_to_the_database(bot, fake_slack):
    from tests.support.slack_requests import app_home_opened_event

    opened = [new_event_id() for _ in range(3)]
    for event_id in opened:
        assert bot.sender.event(app_home_opened_event(), event_id=event_id).status == 200
    fake_slack.wait_for("views.publish", count=3)
    assert not any(_claimed(bot.store, event_id) for event_id in opened)


# ------------------------------------------------------------------ 5. FakeSlack recording


def test_a_call_is_recorded_before_the_client_sees_its_answer(client, fake_slack):
    """A test may read `calls` as soon as its client call returned: the call must be
    there already (FakeSlack recorded after writing the answer, so this raced)."""
    for i in range(1, 301):
        client.users_info(user=f"U{i}")
        calls = fake_slack.calls_to("users.info")
        assert len(calls) == i, f"call {i} not recorded when its answer arrived"


# ------------------------------------------------------------------ 6. database pool


def test_database_pool_is_sized_from_the_thread_counts(fake_slack, sqlite_url):
    settings = make_settings(fake_slack, sqlite_url, slack_listener_threads=24, web_threads=6)
    server = serve_in_thread(build_wsgi_app(settings))
    try:
        assert http_request(server.url + "/readyz").status == 200
        pool = server.wsgi_app.store.engine.pool
        size, overflow = pool.size(), pool._max_overflow
        # every thread that may hold a connection at once gets one without waiting:
        # routinely the work pool (24) and the 4 event dispatchers; in bursts also the
        # ack pool (6 request threads + 4 dispatchers) and the 6 request threads
        assert size >= 24 + 4, (size, overflow)
        assert size + overflow >= 24 + 4 + (6 + 4) + 6, (size, overflow)
    finally:
        server.stop()
        close = getattr(server.wsgi_app, "close", None)
        if close is not None:
            close()
        server.wsgi_app.store.dispose()


@pytest.mark.parametrize("bad", ["U\x00X", "U" + "X" * 200, "U\ud800", "<!channel>"])
def test_ids_slack_never_sends_are_refused_at_the_door(bot, bad):
    """Signed, but with an id no Slack payload has: a 400 naming it, nothing stored."""
    from tests.support.slack_requests import app_mention_event

    event = bot.sender.event(app_mention_event("6k token prompt", user=bad))
    assert event.status == 400 and "event.user is not a Slack id" in event.text
    if "\ud800" not in bad:  # a form body is UTF-8: it cannot carry a lone surrogate
        command = bot.sender.command("6k", user_id=bad)
        assert command.status == 400 and "user_id is not a Slack id" in command.text
    click = bot.sender.block_action("ptf_skip", value="x|y", user_id=bad)
    assert click.status == 400 and "user.id is not a Slack id" in click.text
    with bot.store.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM consultations")).scalar() == 0


def test_nul_and_lone_surrogates_in_text_are_stored_harmlessly(bot_factory, postgres_url,
                                                               fake_slack):
    from tests.support.slack_requests import app_mention_event
    from tests.support.surface import wait_until

    bot = bot_factory(database_url=postgres_url)
    r = bot.sender.event(app_mention_event("our prompt\x00 is 6k tokens \ud800 long"))
    assert r.status == 200
    wait_until(lambda: fake_slack.ok_calls("chat.postMessage"), what="the first question")
    said = " ".join(str(c.arg("text")) for c in fake_slack.calls_to())
    assert "can't reach my database" not in said
    from tests.support.slack_requests import USER_ID

    stored = bot.store.recent_for_user(USER_ID)
    assert len(stored) == 1 and stored[0].answers.get("prompt_tokens") == 6000
    assert "\x00" not in json.dumps(stored[0].state)


def test_a_replayed_command_or_click_is_answered_once(bot, fake_slack):
    """The same signed request sent again inside Slack's 5-minute window (a replay, or a
    proxy resending it) is acked and does nothing; a new click with the same button works."""
    from urllib.parse import urlencode

    from tests.support.fixtures import SIGNING_SECRET as SECRET
    from tests.support.slack_requests import (
        block_actions_payload,
        command_form,
        signature_headers,
    )
    from tests.support.surface import wait_until

    form = urlencode(command_form("help", response_url=fake_slack.response_url()))
    headers = signature_headers(SECRET, form.encode())
    ctype = "application/x-www-form-urlencoded"
    answers = [bot.sender.post(form, ctype, sign=False, headers=headers) for _ in range(3)]
    assert [r.status for r in answers] == [200, 200, 200]
    assert "How to use me" in answers[0].text  # help is answered in the ack
    assert [r.text for r in answers[1:]] == ["", ""]  # the replays: acked, nothing done

    click = urlencode({"payload": json.dumps(block_actions_payload(
        "ptf_home_new", value="home", channel_id=None))})
    signed = signature_headers(SECRET, click.encode())
    for _ in range(2):
        assert bot.sender.post(click, ctype, sign=False, headers=signed).status == 200
    fake_slack.quiet_for(0.5)
    first = len(fake_slack.calls_to("views.open"))
    assert first == 1
    assert bot.sender.block_action("ptf_home_new", value="home", channel_id=None).status == 200
    wait_until(lambda: len(fake_slack.calls_to("views.open")) == 2, what="a new click")
