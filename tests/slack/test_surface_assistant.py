"""Slack's assistant thread, black-box: signed events in, Web API calls out (FakeSlack)."""

from __future__ import annotations

import time

from tests.support.slack_requests import CHANNEL_ID, USER_ID, message_event, new_event_id, new_ts
from tests.support.surface import all_text, click, current_question, message, wait_until

DM = "D0ALICE01"
#: Everything a ready fine-tuning case needs but the spec and what was tried.
TASK = ("We run llama 3.1 8b, the prompt is 6k tokens at 20M calls a month, we have 8000 "
        "labelled examples and an eval set")


def thread_started(bot, *, thread_ts=None, context_channel=CHANNEL_ID, event_id=None,
                   retry_num=None):
    thread_ts = thread_ts or new_ts()
    event = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": USER_ID,
            "context": {"channel_id": context_channel, "team_id": "T0TEAM001",
                        "enterprise_id": None},
            "channel_id": DM,
            "thread_ts": thread_ts,
        },
        "event_ts": new_ts(),
    }
    bot.fake.add_message(DM, thread_ts, "", user=USER_ID, subtype="assistant_app_thread")
    started = time.monotonic()
    r = bot.sender.event(event, event_id=event_id, retry_num=retry_num)
    assert r.status == 200 and time.monotonic() - started < 3
    return thread_ts


def say(bot, thread_ts, text, *, event_id=None, retry_num=None, ts=None):
    event = message_event(text, channel=DM, channel_type="im", thread_ts=thread_ts, ts=ts)
    bot.fake.add_message(DM, event["ts"], text, user=USER_ID, thread_ts=thread_ts)
    started = time.monotonic()
    r = bot.sender.event(event, event_id=event_id, retry_num=retry_num)
    assert r.status == 200 and time.monotonic() - started < 3
    return event


def in_thread(fake, method, thread_ts):
    return [c for c in fake.ok_calls(method)
            if c.arg("thread_ts") == thread_ts and c.arg("channel", c.arg("channel_id")) == DM]


def question_message(bot, thread_ts):
    post = bot.fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("thread_ts")
                             == thread_ts and "ptf" in str(c.arg("blocks") or ""))
    return post.response["ts"]


def consultation_started(bot, text=TASK):
    """A new assistant thread (greeted) where Alice wrote `text`: (root, question ts)."""
    root = thread_started(bot)
    bot.fake.wait_for("assistant.threads.setSuggestedPrompts")
    say(bot, root, text)
    return root, question_message(bot, root)


def test_a_new_thread_is_greeted_with_its_context_and_suggested_prompts(bot):
    fake = bot.fake
    root = thread_started(bot)
    greeting = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("thread_ts") == root)
    assert greeting.arg("channel") == DM
    assert f"<@{USER_ID}>" in greeting.arg("text") and f"<#{CHANNEL_ID}>" in greeting.arg("text")
    # the context the thread was opened from rides on the greeting (Bolt's context store)
    assert greeting.arg_json("metadata")["event_payload"]["channel_id"] == CHANNEL_ID
    prompts = fake.wait_for("assistant.threads.setSuggestedPrompts")
    assert prompts.arg("thread_ts") == root and prompts.arg("channel_id") == DM
    messages = [p["message"] for p in prompts.arg_json("prompts")]
    assert "Should we fine-tune our support bot?" in messages
    assert any("20M calls a month" in m for m in messages)


def test_a_retried_thread_started_event_greets_once(bot):
    fake = bot.fake
    event_id = new_event_id()
    root = thread_started(bot, event_id=event_id)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    thread_started(bot, thread_ts=root, event_id=event_id, retry_num=1)
    fake.quiet_for(0.4)
    assert len(in_thread(fake, "chat.postMessage", root)) == 1
    assert len(fake.ok_calls("assistant.threads.setSuggestedPrompts")) == 1


def test_a_message_starts_the_consultation_there_and_the_verdict_stays_in_the_thread(bot):
    fake = bot.fake
    root, ts = consultation_started(bot)
    status = fake.wait_for("assistant.threads.setStatus")
    assert status.arg("status") == "is reading your task..." and status.arg("thread_ts") == root
    title = fake.wait_for("assistant.threads.setTitle")
    assert title.arg("title").startswith("We run llama 3.1 8b") and len(title.arg("title")) <= 60
    msg = message(fake, DM, ts)
    text = all_text(msg["blocks"])
    assert "6,000" in text or "6k" in text  # what was read from the message is shown
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.message_ts == ts), None), what="message_ts stored")
    assert row.surface == "assistant" and row.meta["opened_from"] == CHANNEL_ID
    # answer what is left by typing in the thread, as a person would in the side panel
    for _ in range(8):
        msg = message(fake, DM, ts)
        question = current_question(msg)
        if question is None:
            break
        n = len(fake.ok_calls("chat.update"))
        say(bot, root, {"task_type": "format", "gap": "behaviour",
                        "deadline": "this quarter"}.get(question, "yes"))
        fake.wait_for("chat.update", count=n + 1)
        wait_until(lambda q=question: current_question(message(fake, DM, ts)) != q,
                   what="the next question")
    card = wait_until(lambda: "Fine-tune" in all_text(message(fake, DM, ts)["blocks"])
                      and message(fake, DM, ts), what="the verdict card in the thread")
    assert current_question(card) is None
    # the chart comes into the thread; no DM summary outside it; the status is cleared
    upload = fake.wait_for("files.completeUploadExternal")
    assert upload.arg("thread_ts") == root and upload.arg("channel_id") == DM
    alt = fake.wait_for("files.getUploadURLExternal").arg("alt_txt")  # says the result
    assert "pays back in" in alt and "Verdict: Fine-tune." in alt
    wait_until(lambda: fake.ok_calls("assistant.threads.setStatus")[-1].arg("status") == "",
               what="the status cleared")
    fake.quiet_for(0.3)
    top_level = [c for c in fake.ok_calls("chat.postMessage") if not c.arg("thread_ts")]
    assert top_level == []
    writing = [c.arg("status") for c in fake.ok_calls("assistant.threads.setStatus")]
    assert "is writing up the verdict..." in writing
    # "Full record in my DMs" on the card still sends the full record on request
    n = len(fake.ok_calls("chat.postMessage"))
    click(bot, card, "Full record in my DMs", channel=DM)
    dm = fake.wait_for("chat.postMessage", count=n + 1)
    assert "Your verdict: Fine-tune" in all_text(dm.arg_json("blocks") or [])


def test_rate_limited_and_failing_status_calls_are_retried_and_nothing_is_lost(bot):
    fake = bot.fake
    root = thread_started(bot)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    fake.fail_next("assistant.threads.setStatus", 1, status=429, retry_after=1)
    fake.fail_next("assistant.threads.setTitle", 1, status=500)
    say(bot, root, TASK)
    ts = question_message(bot, root)
    status = fake.wait_for("assistant.threads.setStatus")  # the retry, answered ok
    assert [c.status for c in fake.calls_to("assistant.threads.setStatus")][:2] == [429, 200]
    assert status.arg("status") == "is reading your task..."
    fake.wait_for("assistant.threads.setTitle")
    assert [c.status for c in fake.calls_to("assistant.threads.setTitle")][:2] == [500, 200]
    assert current_question(message(fake, DM, ts)) is not None
    assert len([c for c in in_thread(fake, "chat.postMessage", root)
                if "ptf" in str(c.arg("blocks") or "")]) == 1


def test_status_refused_for_good_still_gives_the_question(bot):
    fake = bot.fake
    root = thread_started(bot)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    fake.fail_next("assistant.threads.setStatus", 10, status=500)
    say(bot, root, TASK)
    ts = question_message(bot, root)
    assert current_question(message(fake, DM, ts)) is not None


def test_a_retried_message_event_gives_one_question_message(bot):
    fake = bot.fake
    root = thread_started(bot)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    event_id = new_event_id()
    first = say(bot, root, TASK, event_id=event_id)
    say(bot, root, TASK, event_id=event_id, retry_num=1, ts=first["ts"])
    question_message(bot, root)
    fake.quiet_for(0.4)
    questions = [c for c in in_thread(fake, "chat.postMessage", root)
                 if "ptf" in str(c.arg("blocks") or "")]
    assert len(questions) == 1
    assert len([r for r in bot.store.recent_for_user(USER_ID) if r.thread_ts == root]) == 1


def test_hostile_text_in_the_assistant_thread_is_escaped(bot):
    fake = bot.fake
    root = thread_started(bot)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    # as Slack sends what a person typed: their < > & arrive as entities
    say(bot, root, "&lt;!channel&gt; &lt;b&gt;hi&lt;/b&gt; &amp; 6k token prompt")
    ts = question_message(bot, root)
    title = fake.wait_for("assistant.threads.setTitle").arg("title")
    assert "<" not in title and ">" not in title and "!channel" in title
    for c in fake.calls_to():
        if c.method in ("chat.postMessage", "chat.update") and c.arg("channel") == DM:
            raw = str(c.arg("text")) + str(c.arg("blocks"))
            assert "<!channel>" not in raw and "<b>" not in raw
    assert current_question(message(fake, DM, ts)) is not None


def test_a_changed_context_is_kept_on_the_greeting_and_used_by_the_consultation(bot):
    fake = bot.fake
    root = thread_started(bot)
    fake.wait_for("assistant.threads.setSuggestedPrompts")
    event = {
        "type": "assistant_thread_context_changed",
        "assistant_thread": {"user_id": USER_ID, "channel_id": DM, "thread_ts": root,
                             "context": {"channel_id": "C0OTHER02", "team_id": "T0TEAM001",
                                         "enterprise_id": None}},
        "event_ts": new_ts(),
    }
    assert bot.sender.event(event).status == 200
    saved = fake.wait_for("chat.update", predicate=lambda c: c.arg("channel") == DM)
    assert saved.arg_json("metadata")["event_payload"]["channel_id"] == "C0OTHER02"
    say(bot, root, TASK)
    ts = question_message(bot, root)
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.message_ts == ts), None), what="message_ts stored")
    assert row.meta["opened_from"] == "C0OTHER02"


def test_a_reply_in_another_dm_thread_starts_nothing(bot):
    """Slack sends a reply under the DM summary (or any thread of the bot's DM) the way it
    sends assistant messages: it is not a request."""
    fake = bot.fake
    root = new_ts()
    fake.add_message(DM, root, "Your verdict: Fine-tune", user="U0BOTUSER", bot_id="B0BOT0001")
    say(bot, root, "thanks, great!")
    fake.quiet_for(0.4)
    assert bot.store.find_open_for_thread(DM, root) is None
    assert fake.calls_to("assistant.threads.setStatus") == []
    assert [c for c in fake.ok_calls("chat.postMessage") if c.arg("thread_ts") == root] == []


def test_a_top_level_dm_leaves_the_assistant_thread_alone(bot):
    fake = bot.fake
    root, ts = consultation_started(bot)
    shown = current_question(message(fake, DM, ts))
    event = message_event("new", channel=DM, channel_type="im")
    assert bot.sender.event(event).status == 200
    other = fake.wait_for("chat.postMessage", predicate=lambda c: not c.arg("thread_ts")
                          and "Question" in str(c.arg("text")))
    assert other.arg("channel") == DM  # a new DM consultation, top-level
    fake.quiet_for(0.3)
    row = bot.store.find_open_for_thread(DM, root)
    assert row is not None and row.surface == "assistant"  # not abandoned
    assert current_question(message(fake, DM, ts)) == shown
