"""DM summary extras, the Markdown record, App Home, and Web API failures on the surfaces."""

from __future__ import annotations

import json

from bot.slack.blocks import check
from bot.slack.blocks.ids import MODAL_CALLBACK
from tests.support.fake_slack import BOT_USER_ID
from tests.support.slack_requests import (
    CHANNEL_ID,
    USER_ID,
    app_home_opened_event,
    app_mention_event,
    message_event,
)
from tests.support.surface import (
    IN_CHANNEL,
    all_text,
    click,
    current_question,
    message,
    modal_values,
    wait_until,
)
from tests.support.surface import READY as READY_CASE

DM = "D0ALICE01"
# Broad skills needed too: the DM then has a caution and a reason pointing the other way.
READY = {**READY_CASE, "general_capability_needed": "Yes"}


def modal_consultation(bot, typed=READY, **command):
    fake = bot.fake
    n = len(fake.calls_to("views.open"))
    bot.sender.command("", **command)
    view = fake.wait_for("views.open", count=n + 1).arg_json("view")
    r = bot.sender.view_submission(MODAL_CALLBACK, modal_values(view, {**IN_CHANNEL, **typed}),
                                   private_metadata=view["private_metadata"])
    assert r.json() == {"response_action": "clear"}
    return view


def dm_summary_call(fake, count=1):
    return fake.wait_for("chat.postMessage", count=count,
                         predicate=lambda c: str(c.arg("channel")).startswith("D"))


def test_dm_summary_has_everything(bot):
    fake = bot.fake
    modal_consultation(bot)
    dm = dm_summary_call(fake)
    blocks = dm.arg_json("blocks")
    assert check(blocks) == []
    text = all_text(blocks)
    for part in ("Your verdict: Fine-tune", "*Why*", "*Cautions*",
                 "*Costs* (USD)", "Prompting, all in, a month", "Break-even: *under 0.1 months*",
                 "Training run (one-off)", "examples x", "*Assumed:*",
                 "model: not named, priced as Llama 3.1 8B Instruct on your own GPUs",
                 "What would change the verdict", "*Your answers:*", "Knowledge 2026.12.02",
                 "(as of 2026-12-02)", "Back to the consultation", "Get the decision record"):
        assert part in text, part
    # a source with a URL is linked, one without is its title
    azure = ("<https://learn.microsoft.com/azure/foundry/openai/how-to/fine-tuning-cost-management"
             "|Cost management for fine-tuning>")
    assert azure in text
    assert "Prompt Engineering vs Fine-Tuning (capability comparison)" in text


def test_no_chart_without_volume(bot):
    fake = bot.fake
    modal_consultation(bot, {"model_access": "Open-weights model"})
    dm = dm_summary_call(fake)
    assert "give the prompt length and the calls a month" in all_text(dm.arg_json("blocks"))
    fake.quiet_for(0.4)
    assert not fake.calls_to("files.getUploadURLExternal")


def test_markdown_record_button_uploads_into_the_dm(bot):
    fake = bot.fake
    modal_consultation(bot)
    dm = dm_summary_call(fake)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    msg = {"ts": dm.response["ts"], "blocks": dm.arg_json("blocks"), "type": "message"}
    click(bot, msg, "Get the decision record (Markdown)", channel=dm.arg("channel"))
    fake.wait_for("files.completeUploadExternal", count=2, timeout=20)
    record = next(u for u in fake.uploads.values() if u["filename"].endswith(".md"))
    assert record["channel_id"] == dm.arg("channel")
    body = record["data"].decode()
    assert body.startswith("# Decision record") and "**Verdict: Fine-tune**" in body


def test_web_api_errors_are_retried_and_nothing_is_lost(bot):
    fake = bot.fake
    fake.fail_next("chat.postMessage", 1, status=500)
    fake.fail_next("conversations.open", 1, status=429, retry_after=1)
    modal_consultation(bot)
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    assert "Verdict: Fine-tune" in all_text(card.arg_json("blocks"))
    dm_summary_call(fake)
    fake.wait_for("files.completeUploadExternal", timeout=20)


def test_dm_failure_is_told_in_the_channel(bot):
    fake = bot.fake
    fake.error_next("conversations.open", "cannot_dm_bot")
    modal_consultation(bot)
    note = fake.wait_for("chat.postEphemeral")
    assert note.arg("user") == USER_ID and "cannot_dm_bot" in note.arg("text")


def test_thread_reply_failure_reaches_the_user_by_dm(bot):
    fake = bot.fake
    fake.error_next("chat.postMessage", "not_in_channel")
    fake.error_next("chat.postEphemeral", "not_in_channel")
    bot.sender.event(app_mention_event("6k token prompt"))
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == USER_ID)
    assert "not_in_channel" in dm.arg("text") and "/ptf" in dm.arg("text")


def test_app_home_lists_consultations(bot):
    fake = bot.fake
    bot.sender.event(app_home_opened_event())
    first = fake.wait_for("views.publish")
    view = first.arg_json("view")
    assert first.arg("user_id") == USER_ID and view["type"] == "home"
    assert check(view) == []
    text = all_text(view["blocks"])
    assert "New consultation" in text and "Nothing yet" in text
    assert "Knowledge 2026.12.02" in text and "as of 2026-12-02" in text

    modal_consultation(bot)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    row = bot.store.recent_for_user(USER_ID)[0]
    wait_until(lambda: bot.store.get(row.id).meta.get("permalink"), what="permalink")
    bot.sender.event(app_home_opened_event())
    again = fake.wait_for("views.publish", count=2).arg_json("view")
    text = all_text(again["blocks"])
    assert "Fine-tune" in text and bot.store.get(row.id).meta["permalink"] in text
    assert "<!date^" in text  # shown in the reader's time zone

    # the Messages tab is not the home tab
    bot.sender.event(app_home_opened_event(tab="messages"))
    fake.quiet_for(0.3)
    assert len(fake.calls_to("views.publish")) == 2


def test_new_consultation_from_app_home(bot):
    fake = bot.fake
    bot.sender.event(app_home_opened_event())
    home = fake.wait_for("views.publish").arg_json("view")
    r = bot.sender.block_action("ptf_home_new", value="home", view=home)
    assert r.status == 200
    view = fake.wait_for("views.open").arg_json("view")
    assert json.loads(view["private_metadata"])["origin"] == "home"
    # the result only goes to the DM: no "Who sees the result" to choose
    assert not [b for b in view["blocks"] if b.get("block_id") == "ptf_private"]
    bot.sender.view_submission(MODAL_CALLBACK, modal_values(view, READY),
                               private_metadata=view["private_metadata"])
    dm_summary_call(fake)
    fake.wait_for("views.publish", count=2)  # home refreshed with the new consultation
    assert not [c for c in fake.calls_to("chat.postMessage") if c.arg("channel") == CHANNEL_ID]
    row = bot.store.recent_for_user(USER_ID)[0]
    assert row.surface == "home" and row.status == "done"


def test_dm_channel_is_opened_once_per_user(bot):
    fake = bot.fake
    modal_consultation(bot)
    dm_summary_call(fake)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    modal_consultation(bot)
    second = dm_summary_call(fake, count=2)
    assert second.arg("channel") == "D0ALICE01"
    assert len(fake.calls_to("conversations.open")) == 1


def dm_event(text):
    return message_event(text, channel=DM, channel_type="im")


def dm_rows(bot):
    return [r for r in bot.store.recent_for_user(USER_ID) if r.channel == DM]


def test_a_message_in_the_bots_dm_starts_a_consultation_there(bot):
    fake = bot.fake
    event = dm_event("6k token prompt, 20M calls")
    bot.sender.event(event)
    posted = fake.wait_for("chat.postMessage")
    # in the DM itself, not in a thread under the message
    assert posted.arg("channel") == DM and not posted.arg("thread_ts")
    assert "6,000 tokens" in all_text(posted.arg_json("blocks"))


def test_chit_chat_in_the_dm_starts_nothing(bot):
    fake = bot.fake
    bot.sender.event(dm_event("hello"))
    hint = fake.wait_for("chat.postMessage")
    assert hint.arg("channel") == DM and not hint.arg("thread_ts")
    assert "6k token prompt" in hint.arg("text") and "/ptf" in hint.arg("text")
    bot.sender.event(dm_event("thanks!"))
    bot.sender.event(dm_event("cool"))
    fake.quiet_for(0.5)
    assert len(fake.calls_to("chat.postMessage")) == 1  # one hint, not one per message
    assert dm_rows(bot) == []


def bot_dm_messages(fake):
    return [m for m in fake.messages.get(DM, []) if m.get("user") == BOT_USER_ID]


def test_the_dm_goes_on_with_the_open_consultation_in_one_place(bot):
    """In the bot's DM the consultation is top-level: typed answers go to it, and its
    question moves below them; nothing goes into a thread."""
    fake = bot.fake
    first = dm_event("we use llama")
    bot.sender.event(first)
    question = fake.wait_for("chat.postMessage")
    assert not question.arg("thread_ts")
    (row,) = wait_until(lambda: [r for r in dm_rows(bot) if r.message_ts], what="the row")
    old_ts = row.message_ts

    # top-level facts go to the open consultation, not a new one; the question moves down
    bot.sender.event(dm_event("20M calls a month and a 6k token prompt"))
    noted = fake.wait_for("chat.postMessage", count=2)
    assert noted.arg("channel") == DM and "Noted:" in noted.arg("text")
    assert "thread" not in noted.arg("text")
    moved = fake.wait_for("chat.postMessage", count=3)
    assert not moved.arg("thread_ts") and "Question" in moved.arg("text")
    fake.wait_for("chat.delete", predicate=lambda c: c.arg("ts") == old_ts)
    (again,) = dm_rows(bot)
    assert again.id == row.id and again.answers["monthly_calls"] == 20_000_000
    assert again.message_ts == moved.response["ts"]
    assert all(not m.get("thread_ts") for m in bot_dm_messages(fake))

    assert current_question(message(fake, DM, again.message_ts)) is not None  # at the bottom

    # chit-chat: one hint pointing at the question, then silence
    n = len(fake.calls_to("chat.postMessage"))
    bot.sender.event(dm_event("thanks!"))
    hint = fake.wait_for("chat.postMessage", count=n + 1)
    assert "still open" in hint.arg("text") and "question above" in hint.arg("text")
    bot.sender.event(dm_event("great"))
    fake.quiet_for(0.5)
    assert len(fake.calls_to("chat.postMessage")) == n + 1
    assert len(dm_rows(bot)) == 1

    # "new" replaces the open one: abandoned (its message says so), a new one starts
    bot.sender.event(dm_event("new"))
    fresh = fake.wait_for("chat.postMessage", count=n + 2)
    assert "Question" in fresh.arg("text") and not fresh.arg("thread_ts")
    wait_until(lambda: bot.store.get(row.id).status == "abandoned", what="abandoned")
    closed = fake.wait_for("chat.update", predicate=lambda c: c.arg("ts") == again.message_ts
                           and "closed" in c.arg("text"))
    assert closed
    rows = dm_rows(bot)
    assert [r.status for r in rows] == ["open", "abandoned"]
    # App Home lists one in progress
    bot.sender.event(app_home_opened_event())
    home = all_text(fake.wait_for("views.publish").arg_json("view")["blocks"])
    assert home.count("In progress") == 1 and "Stopped" in home


def test_start_over_on_an_older_dm_consultation_replaces_the_open_one(bot):
    fake = bot.fake
    bot.sender.event(dm_event("we call claude, ship this week"))  # settled at once
    done = wait_until(lambda: [r for r in dm_rows(bot) if r.status == "done" and r.message_ts],
                      what="done")[0]
    fake.wait_for("chat.postMessage", count=2)  # the card and the DM summary
    bot.sender.event(dm_event("new"))
    wait_until(lambda: len([r for r in dm_rows(bot) if r.status == "open"]) == 1, what="open")
    card = next(m for m in fake.messages[DM] if m.get("ts") == done.message_ts)
    click(bot, card, "Start over", channel=DM)
    wait_until(lambda: bot.store.get(done.id).status == "open", what="reopened")
    wait_until(lambda: [r.status for r in dm_rows(bot)].count("open") == 1,
               what="only one open in the DM")


def test_history_links_an_open_thread_consultation_to_its_thread(bot):
    fake = bot.fake
    bot.sender.event(app_mention_event("6k token prompt"))
    fake.wait_for("chat.postMessage")
    row = wait_until(lambda: [r for r in bot.store.recent_for_user(USER_ID)
                              if r.meta.get("permalink")], what="permalink")[0]
    assert row.status == "open"
    bot.sender.event(app_home_opened_event())
    home = all_text(fake.wait_for("views.publish").arg_json("view")["blocks"])
    assert f"<{row.meta['permalink']}|continue in the thread>" in home
    bot.sender.command("history")
    listing = all_text(fake.wait_for("response_url").json["blocks"])
    assert f"<{row.meta['permalink']}|continue in the thread>" in listing
