"""The real HTTP server: signatures, garbage, health/readiness/metrics, dedup, Web API retries.

Test-only listeners are registered in the tests (via `configure`), never in bot code.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from urllib.parse import urlsplit

import pytest

from bot.slack.server import build_wsgi_app, serve_in_thread
from tests.support.fixtures import SIGNING_SECRET, make_settings
from tests.support.slack_requests import (
    CHANNEL_ID,
    SlackSender,
    app_mention_event,
    http_request,
    message_event,
    new_ts,
    signature_headers,
)


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` in a /metrics text."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        m = re.match(r"^([a-zA-Z_:]+)(\{[^}]*\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


def wait_metric(bot, name: str, at_least: float, timeout: float = 5.0, **labels: str) -> str:
    """Poll /metrics until `name` reaches `at_least` (events are handled after the ack)."""
    deadline = time.monotonic() + timeout
    while True:
        text = bot.sender.get("/metrics").text
        if metric(text, name, **labels) >= at_least or time.monotonic() > deadline:
            return text
        time.sleep(0.02)


class Counter:
    def __init__(self) -> None:
        self.items: list[object] = []
        self.lock = threading.Lock()
        self.event = threading.Event()

    def add(self, item: object) -> None:
        with self.lock:
            self.items.append(item)
        self.event.set()


def counting_listeners(counter: Counter):
    def configure(app):
        @app.event("message")
        def _count_message(event):
            counter.add(("message", event.get("ts")))

        @app.event("app_mention")
        def _count_mention(event):
            counter.add(("app_mention", event.get("ts")))

        @app.command("/ptf-test")
        def _count_command(ack, body):
            ack()
            counter.add(("command", body.get("text")))

    return configure


# ---------------------------------------------------------------- health, readiness, metrics


def test_health_ready_metrics(bot):
    r = bot.sender.get("/healthz")
    assert (r.status, r.text.strip()) == (200, "ok")
    r = bot.sender.get("/readyz")
    assert r.status == 200
    r = bot.sender.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert metric(r.text, "ptf_http_requests_total", route="/healthz", status="200") >= 1
    for name in (
        "ptf_duplicate_events_total",
        "ptf_slack_acks_total",
        "ptf_llm_fallbacks_total",
        "ptf_consultations_finished_total",
        "ptf_slack_api_errors_total",
    ):
        assert f"# TYPE {name} counter" in r.text
    assert bot.sender.get("/nope").status == 404
    assert bot.sender.get("/slack/events").status == 405
    assert http_request(bot.url + "/healthz", "POST", b"x").status == 405


@pytest.mark.parametrize(
    "database_url",
    ["postgresql://ptf:s3cretDBpass@127.0.0.1:1/ptf", "sqlite:////nonexistent-dir/ptf/bot.db"],
)
def test_readyz_503_when_database_unreachable(fake_slack, database_url, caplog):
    settings = make_settings(fake_slack, database_url)
    server = serve_in_thread(build_wsgi_app(settings))  # starts even though the DB is down
    try:
        assert http_request(server.url + "/healthz").status == 200
        r = http_request(server.url + "/readyz")
        assert r.status == 503
        assert "database unavailable" in r.text
        assert "s3cretDBpass" not in r.text
        metrics_text = http_request(server.url + "/metrics").text
        assert metric(metrics_text, "ptf_http_requests_total", route="/readyz", status="503") >= 1
    finally:
        server.stop()
        server.wsgi_app.store.dispose()
    assert "s3cretDBpass" not in caplog.text
    assert any("database" in rec.getMessage() for rec in caplog.records)


# ---------------------------------------------------------------- request verification


def test_bad_signature_and_stale_timestamp_are_refused(bot_factory):
    counter = Counter()
    bot = bot_factory(register_listeners=False, configure=counting_listeners(counter))
    form = "command=%2Fptf-test&text=hi&user_id=U1&channel_id=C1&team_id=T0TEAM001"
    ctype = "application/x-www-form-urlencoded"

    assert bot.sender.post(form, ctype, signature="v0=" + "0" * 64).status == 401
    assert bot.sender.post(form, ctype, sign=False).status == 401
    ten_minutes_ago = int(time.time()) - 600
    r = bot.sender.post(form, ctype, timestamp=ten_minutes_ago)  # correctly signed, but old
    assert r.status == 401
    wrong_secret = SlackSender(bot.url, "not-the-secret-0000000000000000")
    assert wrong_secret.post(form, ctype).status == 401
    # tampered body: signature of another body
    headers = signature_headers(SIGNING_SECRET, form)
    r = bot.sender.post(form.replace("hi", "ho"), ctype, sign=False, headers=headers)
    assert r.status == 401

    # a timestamp that is not whole seconds is refused like a bad signature, not a 500
    for stamp in ("", "abc", "1e400", "12.5", "9" * 40):
        headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + "0" * 64}
        assert bot.sender.post(form, ctype, sign=False, headers=headers).status == 401, stamp

    assert bot.sender.post(form, ctype).status == 200  # the genuine one
    assert counter.event.wait(5)
    time.sleep(0.2)
    assert counter.items == [("command", "hi")]


def test_garbage_does_not_crash_the_server(bot_factory):
    counter = Counter()
    bot = bot_factory(register_listeners=False, configure=counting_listeners(counter))
    s = bot.sender
    bad = [
        s.post("{not json", "application/json"),
        s.post("payload=%7Bnot-json", "application/x-www-form-urlencoded"),
        s.post(b"\xff\xfe\xfa", "application/json"),
        s.post("[1, 2, 3]", "application/json"),
        s.post("", "application/json"),
        s.interaction({"type": "block_actions", "user": 5, "actions": "x"}),
        s.interaction({"type": "view_submission", "view": None, "team": []}),
        s.post_json({"type": "event_callback", "event_id": 5, "event": "x"}),
        s.post_json({"type": "event_callback", "event_id": "Ev1", "event": {"type": 3}}),
        s.post_json({"type": "url_verification"}),
    ]
    for r in bad:
        assert r.status < 500, (r.status, r.text)
    assert [r.status for r in bad[:3]] == [400, 400, 400]
    assert _announce_big_body(bot.url) == 413  # refused on Content-Length, before reading

    assert s.post_form({"command": "/ptf-test", "text": "still alive", "user_id": "U1",
                        "channel_id": "C1", "team_id": "T0TEAM001"}).status == 200
    assert counter.event.wait(5)
    assert ("command", "still alive") in counter.items
    assert s.get("/healthz").status == 200


def _announce_big_body(url: str) -> int:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.putrequest("POST", "/slack/events")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(2 * 1024 * 1024))
        conn.endheaders()
        return conn.getresponse().status
    finally:
        conn.close()


def test_url_verification_challenge(bot):
    r = bot.sender.post_json({"type": "url_verification", "challenge": "abc123", "token": "t"})
    assert r.status == 200
    assert "abc123" in r.text


# ---------------------------------------------------------------- events dedup


def test_same_event_three_deliveries_handled_once(bot_factory):
    counter = Counter()
    bot = bot_factory(register_listeners=False, configure=counting_listeners(counter))
    before = metric(bot.sender.get("/metrics").text, "ptf_duplicate_events_total")
    # a reply in a thread: a message a listener may act on (plain chatter is not claimed)
    ev = message_event("6k token prompt, 20M calls a month", thread_ts=new_ts())
    responses = [
        bot.sender.event(ev, event_id="EvDup0001"),
        bot.sender.event(ev, event_id="EvDup0001", retry_num=1),
        bot.sender.event(ev, event_id="EvDup0001", retry_num=2),
    ]
    assert [r.status for r in responses] == [200, 200, 200]
    assert counter.event.wait(5)
    after = wait_metric(bot, "ptf_duplicate_events_total", before + 2)
    time.sleep(0.2)
    assert counter.items == [("message", ev["ts"])]
    assert metric(after, "ptf_duplicate_events_total") - before == 2
    assert metric(after, "ptf_slack_retries_received_total") >= 2

    # a retry after a restart is still a duplicate (the dedup is in the database)
    bot2 = bot.restart()
    assert bot2.sender.event(ev, event_id="EvDup0001", retry_num=3).status == 200
    time.sleep(0.3)
    assert len(counter.items) == 1


def test_mention_and_message_for_one_message_handled_once(bot_factory):
    counter = Counter()
    bot = bot_factory(register_listeners=False, configure=counting_listeners(counter))
    ts = new_ts()
    bot.sender.event(app_mention_event("should we fine-tune?", ts=ts))
    bot.sender.event(message_event("<@U0BOTUSER> should we fine-tune?", ts=ts))
    other = message_event("another message")
    bot.sender.event(other)
    deadline = time.monotonic() + 5
    while len(counter.items) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    # one of the pair, whichever was dispatched first (events are dispatched in parallel)
    assert [kind for kind, t in counter.items if t == ts] in (["app_mention"], ["message"])
    assert [item for item in counter.items if item[1] != ts] == [("message", other["ts"])]


def test_same_event_to_two_instances_sharing_postgres(bot_factory, postgres_url):
    counter = Counter()
    configure = counting_listeners(counter)
    a = bot_factory(database_url=postgres_url, register_listeners=False, configure=configure)
    b = bot_factory(database_url=postgres_url, register_listeners=False, configure=configure)

    # sequential: original to A, retries to B then A
    ev = message_event("hello from two replicas", thread_ts=new_ts())
    assert a.sender.event(ev, event_id="EvPg00001").status == 200
    assert b.sender.event(ev, event_id="EvPg00001", retry_num=1).status == 200
    assert a.sender.event(ev, event_id="EvPg00001", retry_num=2).status == 200

    # simultaneous: the same delivery reaching both replicas at once, several times
    ev2 = message_event("racing replicas", thread_ts=new_ts())
    barrier = threading.Barrier(6)

    def deliver(i: int) -> None:
        barrier.wait()
        (a, b)[i % 2].sender.event(ev2, event_id="EvPg00002", retry_num=i or None)

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    time.sleep(0.5)
    assert sorted(counter.items) == sorted([("message", ev["ts"]), ("message", ev2["ts"])])


# ---------------------------------------------------------------- Web API retries


def test_web_api_429_then_500s_message_arrives_once(bot_factory, fake_slack):
    def configure(app):
        @app.command("/ptf-test")
        def _post(ack, body, client):
            ack()
            client.chat_postMessage(channel=body["channel_id"], text="verdict: prompt first")

    bot = bot_factory(register_listeners=False, configure=configure)
    fake_slack.fail_next("chat.postMessage", 1, status=429, retry_after=1)
    fake_slack.fail_next("chat.postMessage", 2, status=500)

    r = bot.sender.command("go", command="/ptf-test")
    assert r.status == 200
    assert r.elapsed < 1.0  # the ack does not wait for the Web API

    fake_slack.wait_for("chat.postMessage", timeout=20)
    fake_slack.quiet_for(0.5)
    attempts = fake_slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 500, 500, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After honoured
    delivered = fake_slack.ok_calls("chat.postMessage")
    assert len(delivered) == 1
    assert delivered[0].arg("text") == "verdict: prompt first"
    assert delivered[0].arg("channel") == CHANNEL_ID
    assert delivered[0].token == bot.settings.slack_bot_token.get_secret_value()
    assert len(fake_slack.messages[CHANNEL_ID]) == 1

    text = bot.sender.get("/metrics").text
    assert metric(text, "ptf_slack_api_calls_total", method="chat.postMessage") >= 1


def test_web_api_error_is_counted(bot_factory, fake_slack):
    done = threading.Event()

    def configure(app):
        @app.command("/ptf-test")
        def _post(ack, body, client):
            ack()
            try:
                client.chat_postMessage(channel=body["channel_id"], text="x")
            finally:
                done.set()

    bot = bot_factory(register_listeners=False, configure=configure)
    before = metric(bot.sender.get("/metrics").text, "ptf_slack_api_errors_total",
                    method="chat.postMessage", error="channel_not_found")
    fake_slack.error_next("chat.postMessage", "channel_not_found")
    assert bot.sender.command("x", command="/ptf-test").status == 200
    assert done.wait(5)
    time.sleep(0.1)
    after = metric(bot.sender.get("/metrics").text, "ptf_slack_api_errors_total",
                   method="chat.postMessage", error="channel_not_found")
    assert after - before == 1


# ---------------------------------------------------------------- state through the app


def test_restart_mid_consultation_continues(bot_factory):
    """A click handled by one instance, a restart, the next click by the new instance."""
    clicks = Counter()

    def configure(app):
        @app.action("t_answer")
        def _answer(ack, body, context):
            ack()
            store = context["services"].store
            action = body["actions"][0]
            question, value = action["value"].split("=", 1)
            c = store.find_open_for_thread(body["channel"]["id"], body["container"]["thread_ts"])

            def apply(draft):
                draft.state = {**draft.state,
                               "answers": {**draft.state.get("answers", {}), question: value}}

            store.update(c.id, apply)
            clicks.add(question)

    bot = bot_factory(register_listeners=False, configure=configure)
    thread = new_ts()
    c = bot.store.create_consultation(user_id="U0ALICE01", surface="thread", channel=CHANNEL_ID,
                                      thread_ts=thread, team_id="T0TEAM001")
    bot.sender.block_action("t_answer", value="deadline=this_month", thread_ts=thread)
    assert clicks.event.wait(5)
    clicks.event.clear()

    bot2 = bot.restart()
    bot2.sender.block_action("t_answer", value="spec_stable=yes", thread_ts=thread)
    assert clicks.event.wait(5)
    time.sleep(0.1)
    got = bot2.store.get(c.id)
    assert got.answers == {"deadline": "this_month", "spec_stable": "yes"}
    assert got.status == "open"


def test_listeners_get_store_and_settings_from_context(bot_factory):
    seen: dict[str, object] = {}
    done = threading.Event()

    def configure(app):
        @app.command("/ptf-test")
        def _cmd(ack, context):
            ack()
            services = context["services"]
            seen.update(store=services.store, settings=services.settings, services=services)
            done.set()

    bot = bot_factory(register_listeners=False, configure=configure)
    assert bot.sender.command("", command="/ptf-test").status == 200
    assert done.wait(5)
    assert seen["store"] is bot.store
    assert seen["settings"] is bot.settings
    assert json.dumps(bool(seen["services"]))


def test_acks_do_not_wait_for_slow_work(bot_factory):
    """Work after ack() (and all event handling) never delays the HTTP response."""
    finished = Counter()

    def configure(app):
        @app.command("/ptf-test")
        def _slow_command(ack):
            ack()
            time.sleep(1.5)
            finished.add("command")

        @app.action("t_slow")
        def _slow_action(ack):
            ack()
            time.sleep(1.5)
            finished.add("action")

        @app.event("app_mention")
        def _slow_event(event):
            time.sleep(1.5)
            finished.add("event")

    bot = bot_factory(register_listeners=False, configure=configure)
    responses = [
        bot.sender.command("x", command="/ptf-test"),
        bot.sender.block_action("t_slow", value="v"),
        bot.sender.event(app_mention_event("slow")),
    ]
    assert [r.status for r in responses] == [200, 200, 200]
    assert max(r.elapsed for r in responses) < 0.5
    deadline = time.monotonic() + 10
    while len(finished.items) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(finished.items) == ["action", "command", "event"]
