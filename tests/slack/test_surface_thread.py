"""Thread consultations: @-mention, one question message updated in place, typed numbers,
owner-only answers, Change an answer / Start over, restarts and concurrent clicks."""

from __future__ import annotations

import copy
import json
import threading

import pytest

from bot.engine import next_question
from bot.slack.blocks import check
from bot.slack.blocks.ids import QUESTION_BLOCK, base_of, pack
from tests.conftest import TODAY
from tests.support.fake_slack import BOT_USER_ID
from tests.support.slack_requests import (
    CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    app_mention_event,
    message_event,
    new_ts,
)
from tests.support.surface import (
    all_text,
    answer_current,
    choose,
    click,
    current_question,
    elements,
    mention,
    message,
    settle,
    updates,
    wait_until,
)
from tests.support.surface import run_to_verdict as run_plan

# How Alice answers each question the bot may ask (label to click, or text to type).
PLAN = {
    "model": ("choose", "Llama 3.1 8B Instruct (your own GPUs)"),
    "model_access": ("click", "Open-weights model"),
    "gap": ("click", "Behaviour (style, format, consistency)"),
    "format_resisted": ("click", "Yes"),
    "labelled_examples": ("type", "8k"),
    "prompt_tokens": ("type", "6,000"),
    "monthly_calls": ("type", "20M"),
    "smaller_model_wanted": ("click", "No"),
    "latency_critical": ("click", "No"),
    "task_type": ("choose", "Format"),
    "general_capability_needed": ("click", "No"),
    "prompt_engineering_tried": ("click", "Yes"),
    "has_eval_set": ("click", "Yes"),
    "spec_stable": ("click", "Yes"),
    "deadline": ("click", "No fixed deadline"),
}



@pytest.fixture
def db_bot(bot_factory, db_url):
    """A running bot on SQLite and on PostgreSQL (skipped where TEST_POSTGRES_URL is unset)."""
    return bot_factory(database_url=db_url)


def run_to_verdict(bot, root, ts, plan=PLAN, limit=15):
    return run_plan(bot, root, ts, plan, limit)


def row_for(bot, root):
    rows = [r for r in bot.store.recent_for_user(USER_ID) if r.thread_ts == root]
    assert rows, "no consultation stored"
    return rows[0]


def test_full_thread_consultation(db_bot):
    bot = db_bot
    fake = bot.fake
    root = new_ts()
    fake.add_message(CHANNEL_ID, root, "we use llama with a 6k token prompt, 20M calls a month",
                     user=USER_ID)
    # a teammate's message in the thread is never read as Alice's answers
    fake.add_message(CHANNEL_ID, new_ts(), "8000 examples, and no evals",
                     user=OTHER_USER_ID, thread_ts=root)
    _, ts = mention(bot, "should we fine-tune? the spec is settled", thread_ts=root)

    replies = fake.ok_calls("conversations.replies")
    assert replies and replies[0].arg("ts") == root
    first = message(fake, CHANNEL_ID, ts)
    assert check(first["blocks"]) == []
    text = all_text(first["blocks"])
    assert "I read:" in text and "Open-weights model" in text
    assert "6,000 tokens" in text and "20M" in text
    assert "8,000" not in text  # the teammate's message is not read as Alice's
    row = row_for(bot, root)
    assert row.answers == {"model_access": "open_weights", "prompt_tokens": 6000,
                           "monthly_calls": 20_000_000, "spec_stable": True}
    assert row.message_ts == ts and row.status == "open"
    assert "*Question 1 of at most " in text  # the first question the bot asks is number 1

    asked = run_to_verdict(bot, root, ts)
    assert "labelled_examples" in asked  # the typed number
    assert not {"model_access", "prompt_tokens", "monthly_calls", "spec_stable"} & set(asked)

    card = message(fake, CHANNEL_ID, ts)  # the card replaced the question message
    card_text = all_text(card["blocks"])
    assert check(card["blocks"]) == []
    assert "Verdict: Fine-tune" in card_text and "*Why*" in card_text
    assert "Change an answer" in card_text and "Start over" in card_text
    channel_posts = [c for c in fake.ok_calls("chat.postMessage") if c.arg("channel") == CHANNEL_ID]
    assert len(channel_posts) == 1  # one message, updated in place

    fake.wait_for("files.completeUploadExternal", timeout=20)
    dm = [c for c in fake.ok_calls("chat.postMessage") if str(c.arg("channel")).startswith("D")]
    assert len(dm) == 1
    dm_text = all_text(dm[0].arg_json("blocks"))
    assert "Your verdict: Fine-tune" in dm_text and "Back to the consultation" in dm_text
    permalink = fake.ok_calls("chat.getPermalink")[0]
    assert permalink.arg("message_ts") == ts
    assert any(u["filename"] == "break-even.png" for u in fake.uploads.values())

    row = row_for(bot, root)
    assert row.status == "done" and row.decision["verdict"] == "fine_tuning"
    assert row.answers["labelled_examples"] == 8000
    assert "has_eval_set" in asked  # the teammate's "no evals" was not taken either


def test_top_level_mention_is_answered_in_a_thread(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt, 20M calls, claude")
    assert not fake.calls_to("conversations.replies")  # nothing to read yet
    text = all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    assert "Closed API, no fine-tuning offered" in text
    row = row_for(bot, root)
    assert row.answers["model_access"] == "closed_no_fine_tuning"


def test_settled_at_once_posts_the_card_directly(bot):
    fake = bot.fake
    root, ts = mention(bot, "we call claude, ship this week")
    wait_until(lambda: row_for(bot, root).status == "done", what="finished")
    msg = message(fake, CHANNEL_ID, ts)
    assert "Verdict: Prompt engineering" in all_text(msg["blocks"])
    fake.wait_for("chat.postMessage", predicate=lambda c: str(c.arg("channel")).startswith("D"))


def test_an_openai_team_today_sees_the_dates_and_the_routes_that_remain(bot):
    """OpenAI stops new fine-tuning jobs on 2027-01-06 and tuned models on 2027-01-14: on
    2026-12-02 (BOT_TODAY) that is too soon for a new fine-tune to pay back."""
    fake = bot.fake
    root, ts = mention(bot, "we're on gpt-4.1 mini with a 6k token prompt, 20M calls a "
                            "month and 8000 examples; should we fine-tune?")
    # no question can change it: the verdict comes at once
    assert run_to_verdict(bot, root, ts) == []

    card = message(fake, CHANNEL_ID, ts)
    text = all_text(card["blocks"])
    assert check(card["blocks"]) == []
    assert "Verdict: Prompt engineering" in text
    assert "GPT-4.1 mini (OpenAI)" in text  # what was read, to change if wrong
    assert "2027-01-06" in text and "2027-01-14" in text and "started on 2026-12-02" in text
    assert "Routes that remain: GPT-4.1 mini on Azure" in text  # same base model first
    assert "verdict stands because your fine-tuning route closes too soon" in text
    row = row_for(bot, root)
    assert row.answers["model"] == "openai:gpt-4.1-mini"
    assert "route_closes_too_soon" in [r["rule"] for r in row.decision["reasons"]]


def test_the_model_is_a_select_grouped_by_provider(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt, 20M calls a month, 8000 examples")
    msg = message(fake, CHANNEL_ID, ts)
    assert current_question(msg) == "model"  # asked first: it can change the verdict
    assert check(msg["blocks"]) == []
    select = next(el for _, el in elements(msg["blocks"])
                  if el.get("action_id") == "ptf_answer_select")
    groups = [g["label"]["text"] for g in select["option_groups"]]
    assert groups[:3] == ["OpenAI", "Azure OpenAI", "Anthropic"] and "your own GPUs" not in groups
    answer_current(bot, root, ts, {"model": ("choose", "GPT-4.1 mini (OpenAI)")})
    text = all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    assert "Verdict: Prompt engineering" in text and "2027-01-14" in text


def test_what_was_read_can_be_changed_from_the_i_read_line(bot):
    fake = bot.fake
    root, ts = mention(bot, "we have a 6k token prompt and 20M calls a month")
    msg = message(fake, CHANNEL_ID, ts)
    assert "I read:" in all_text(msg["blocks"])
    n = updates(fake)
    choose(bot, msg, "ptf_change_read", 'prompt length: 6,000 tokens ("6k token prompt")')
    fake.wait_for("chat.update", count=n + 1)
    again = settle(bot, ts)
    assert current_question(again) == "prompt_tokens"
    assert "*Current answer:* 6,000 tokens" in all_text(again["blocks"])
    bot.sender.event(message_event("8k", thread_ts=root))
    wait_until(lambda: row_for(bot, root).answers.get("prompt_tokens") == 8000,
               what="the corrected answer")


def test_another_user_cannot_answer(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt")
    msg = message(fake, CHANNEL_ID, ts)
    before = row_for(bot, root)
    n = updates(fake)
    first_button = next(el for b in msg["blocks"] if base_of(b.get("block_id")) == QUESTION_BLOCK
                        for el in b["elements"] if el["type"] == "button")
    click(bot, msg, first_button["text"]["text"], user=OTHER_USER_ID)
    note = fake.wait_for("chat.postEphemeral")
    assert note.arg("user") == OTHER_USER_ID and note.arg("thread_ts") == root
    assert f"<@{USER_ID}>" in note.arg("text") and "/ptf" in note.arg("text")
    assert f"<@{BOT_USER_ID}>" in note.arg("text")
    fake.quiet_for(0.3)
    after = row_for(bot, root)
    assert after.answers == before.answers and after.version == before.version
    assert updates(fake) == n

    # Start over and Change an answer are the owner's too
    answer_current(bot, root, ts, PLAN)
    msg = message(fake, CHANNEL_ID, ts)
    click(bot, msg, "Start over", user=OTHER_USER_ID)
    fake.wait_for("chat.postEphemeral", count=2)
    choose(bot, msg, "ptf_change", "prompt length: 6,000 tokens", user=OTHER_USER_ID)
    fake.wait_for("chat.postEphemeral", count=3)
    fake.quiet_for(0.3)
    assert len(row_for(bot, root).answers) == len(before.answers) + 1  # only Alice's answer


def ask_again(bot, ts, label):
    """Bring a question back on screen with "Change an answer" (`label` is the option, e.g.
    "labelled examples: 8,000 examples"), whatever order the engine asks in."""
    fake = bot.fake
    n = updates(fake)
    choose(bot, message(fake, CHANNEL_ID, ts), "ptf_change", label)
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    return message(fake, CHANNEL_ID, ts)


def test_bad_typed_number_says_what_is_accepted_and_keeps_answers(bot):
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, 8000 examples")
    msg = ask_again(bot, ts, "labelled examples: 8,000 examples")
    assert current_question(msg) == "labelled_examples"
    kept = row_for(bot, root)
    posts = len(fake.ok_calls("chat.postMessage"))
    bot.sender.event(message_event("quite a lot really", thread_ts=root))
    note = fake.wait_for("chat.postEphemeral")
    assert note.arg("user") == USER_ID and note.arg("thread_ts") == root
    text = note.arg("text")
    assert text.count("quite a lot really") == 1 and "8k" in text and "still open" in text
    fake.quiet_for(0.3)
    assert len(fake.ok_calls("chat.postMessage")) == posts  # nothing posted for all to see
    assert row_for(bot, root).answers == kept.answers
    assert current_question(message(fake, CHANNEL_ID, ts)) == "labelled_examples"

    # a teammate typing a number gets the note; chatter is ignored
    bot.sender.event(message_event("8000", thread_ts=root, user=OTHER_USER_ID))
    fake.wait_for("chat.postEphemeral", predicate=lambda c: c.arg("user") == OTHER_USER_ID)
    bot.sender.event(message_event("nice thread", thread_ts=root, user=OTHER_USER_ID))
    fake.quiet_for(0.3)
    assert row_for(bot, root).answers == kept.answers

    # a human form with words around it works
    n = updates(fake)
    bot.sender.event(message_event("about 5k", thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    assert row_for(bot, root).answers == {**kept.answers, "labelled_examples": 5000}


def test_typed_text_is_never_echoed_as_markup(bot):
    """What Slack sends for a typed `<!channel> lots <https://evil.example|click here>`:
    the angle brackets arrive escaped and must stay escaped in anything the bot posts."""
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, 8000 examples")
    ask_again(bot, ts, "labelled examples: 8,000 examples")
    typed = "&lt;!channel&gt; lots &lt;https://evil.example|click here&gt;"
    bot.sender.event(message_event(typed, thread_ts=root))
    note = fake.wait_for("chat.postEphemeral")
    text = note.arg("text")
    assert note.arg("user") == USER_ID
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt; lots &lt;https://evil.example|click here&gt;" in text
    assert text.count("evil.example") == 1  # said once, not twice
    fake.quiet_for(0.3)
    for c in fake.calls_to():
        for value in (c.arg("text"), json.dumps(c.arg_json("blocks") or [])):
            assert "<!channel>" not in str(value) and "<https://evil" not in str(value)


def test_a_natural_reply_is_read_whole(bot):
    fake = bot.fake
    root, ts = mention(bot, "we use llama, 8000 examples")
    before = row_for(bot, root)
    assert "monthly_calls" not in before.answers and "prompt_tokens" not in before.answers
    n = updates(fake)
    bot.sender.event(message_event("20M calls a month with a 6k token prompt", thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    row = wait_until(lambda: (r := row_for(bot, root)).answers.get("prompt_tokens") and r,
                     what="both answers")
    assert row.answers["monthly_calls"] == 20_000_000 and row.answers["prompt_tokens"] == 6000
    noted = fake.wait_for("chat.postEphemeral")
    assert noted.arg("user") == USER_ID and noted.arg("thread_ts") == root
    assert "Noted:" in noted.arg("text") and "20M calls a month" in noted.arg("text")
    assert "6,000 tokens" in noted.arg("text")
    assert "not a number" not in json.dumps([c.args for c in fake.calls_to()])


def test_a_sentence_typed_mid_flow_keeps_the_numbers(bot):
    """Two questions answered, then a sentence with other answers: those count as read,
    not asked, so the question on screen keeps its number and the bound only goes down."""
    fake = bot.fake
    root, ts = mention(bot, "should we fine-tune?")
    answer_current(bot, root, ts, PLAN)
    answer_current(bot, root, ts, PLAN)
    title = _title(message(fake, CHANNEL_ID, ts))
    assert title.startswith("*Question 3 of at most ")
    bound = int(title.split("at most ")[1].split(".")[0].rstrip("*"))
    n = updates(fake)
    bot.sender.event(message_event("we have 8000 examples and a 6k token prompt",
                                   thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    msg = settle(bot, ts)
    after = _title(msg)
    assert after.startswith("*Question 3 of at most ")
    assert int(after.split("at most ")[1].split(".")[0].rstrip("*")) <= bound
    row = row_for(bot, root)
    assert row.answers["labelled_examples"] == 8000 and row.answers["prompt_tokens"] == 6000
    assert len(row.state["history"]) == 2  # read, not asked


def test_back_on_the_card_and_the_same_answer_sends_no_second_dm(bot):
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, 8000 examples")
    run_to_verdict(bot, root, ts)
    fake.wait_for("files.completeUploadExternal", timeout=20)

    def dms():
        return [c for c in fake.ok_calls("chat.postMessage")
                if str(c.arg("channel")).startswith("D")]

    assert len(dms()) == 1
    n = updates(fake)
    click(bot, message(fake, CHANNEL_ID, ts), "Back")  # the last question, answer shown
    fake.wait_for("chat.update", count=n + 1)
    msg = settle(bot, ts)
    assert current_question(msg) is not None and "*Current answer:*" in all_text(msg["blocks"])
    run_to_verdict(bot, root, ts)  # the same answer again: the same decision
    wait_until(lambda: row_for(bot, root).status == "done", what="finished again")
    fake.quiet_for(0.5)
    assert "Verdict: Fine-tune" in all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    assert len(dms()) == 1  # the owner already has this decision in their DMs


def test_restart_mid_consultation_continues(db_bot):
    bot = db_bot
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls")
    answer_current(bot, root, ts, PLAN)
    answer_current(bot, root, ts, PLAN)
    before = row_for(bot, root)

    bot2 = bot.restart()  # a new process on the same database
    assert bot2.store is not bot.store
    asked = run_to_verdict(bot2, root, ts)
    assert asked
    done = row_for(bot2, root)
    assert done.status == "done"
    assert before.answers.items() <= done.answers.items()
    assert "Verdict:" in all_text(message(fake, CHANNEL_ID, ts)["blocks"])


def test_change_an_answer_and_start_over(bot, knowledge):
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, 8000 examples")
    run_to_verdict(bot, root, ts)
    assert row_for(bot, root).decision["verdict"] == "fine_tuning"
    fake.wait_for("files.completeUploadExternal", timeout=20)

    # change an answer on the verdict: the question comes back with its current answer
    msg = message(fake, CHANNEL_ID, ts)
    n = updates(fake)
    choose(bot, msg, "ptf_change", "labelled examples: 8,000 examples")
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    msg = message(fake, CHANNEL_ID, ts)
    assert current_question(msg) == "labelled_examples"
    assert "Current answer:* 8,000 examples" in all_text(msg["blocks"])
    reopened = row_for(bot, root)
    assert reopened.status == "open" and reopened.decision is None
    n = updates(fake)
    bot.sender.event(message_event("50", thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    run_to_verdict(bot, root, ts)  # the flow may have more to ask now
    wait_until(lambda: row_for(bot, root).status == "done", what="finished again")
    again = row_for(bot, root)
    assert again.answers["labelled_examples"] == 50
    assert again.decision["verdict"] != "fine_tuning"
    assert "Verdict: Prompt" in all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    wait_until(lambda: len([c for c in fake.ok_calls("chat.postMessage")
                            if str(c.arg("channel")).startswith("D")]) == 2, what="second DM")

    # start over: every answer forgotten, first question again, same message
    n = updates(fake)
    click(bot, message(fake, CHANNEL_ID, ts), "Start over")
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    fresh = row_for(bot, root)
    assert fresh.status == "open" and fresh.answers == {} and fresh.message_ts == ts
    msg = message(fake, CHANNEL_ID, ts)
    assert current_question(msg) == next_question(knowledge, {}, TODAY).id  # the first one again
    assert "*Question 1 of at most " in all_text(msg["blocks"])
    assert "I read" not in all_text(msg["blocks"])

    # and change an answer in the middle of the flow
    n = updates(fake)
    bot.sender.event(app_mention_event("we run llama", thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    answer_current(bot, root, ts, PLAN)
    msg = ask_again(bot, ts, "model access: Open-weights model")
    assert current_question(msg) == "model_access"
    n = updates(fake)
    click(bot, message(fake, CHANNEL_ID, ts), "Closed API, no fine-tuning offered")
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    wait_until(lambda: row_for(bot, root).answers.get("model_access") == "closed_no_fine_tuning",
               what="changed")


def test_not_sure_uses_the_assumption(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt, 20M calls")
    msg = message(fake, CHANNEL_ID, ts)
    qid = current_question(msg)
    label = next(el["text"]["text"] for b in msg["blocks"]
                 if base_of(b.get("block_id")) == QUESTION_BLOCK
                 for el in b["elements"] if "text" in el
                 and el["text"]["text"].startswith("Not sure"))
    n = updates(fake)
    click(bot, msg, label)
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    row = row_for(bot, root)
    assert row.answers[qid] == "not_sure"  # asked, and Alice is not sure
    assert current_question(message(fake, CHANNEL_ID, ts)) != qid


def _title(msg) -> str:
    return next(b["text"]["text"] for b in msg["blocks"]
                if base_of(b.get("block_id")) == "ptf_question")


def test_back_shows_the_question_before_with_its_answer_and_numbers_stay(bot):
    fake = bot.fake
    root, ts = mention(bot, "should we fine-tune?")
    first = current_question(message(fake, CHANNEL_ID, ts))
    assert "Back" not in all_text(message(fake, CHANNEL_ID, ts)["blocks"])  # nothing before
    answer_current(bot, root, ts, PLAN)
    second = answer_current(bot, root, ts, PLAN)
    third = current_question(message(fake, CHANNEL_ID, ts))
    assert _title(message(fake, CHANNEL_ID, ts)).startswith("*Question 3 of at most ")
    n = updates(fake)
    click(bot, message(fake, CHANNEL_ID, ts), "Back")
    fake.wait_for("chat.update", count=n + 1)
    msg = settle(bot, ts)
    assert current_question(msg) == second
    assert _title(msg).startswith("*Question 2 of at most ")
    assert "*Current answer:*" in all_text(msg["blocks"])  # the earlier answer is shown
    n = updates(fake)
    click(bot, msg, "Back")
    fake.wait_for("chat.update", count=n + 1)
    assert current_question(settle(bot, ts)) == first
    # answering it again goes on where the flow is; the later answer was kept
    answer_current(bot, root, ts, PLAN)
    assert current_question(message(fake, CHANNEL_ID, ts)) == third
    assert second in row_for(bot, root).answers
    assert _title(message(fake, CHANNEL_ID, ts)).startswith("*Question 3 of at most ")


def test_two_fast_clicks_lose_no_answer(db_bot):
    bot = db_bot
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls")
    row = row_for(bot, root)
    msg = message(fake, CHANNEL_ID, ts)
    clicks = [
        ("ptf_answer_0", pack(row.id, "format_resisted", "yes")),
        ("ptf_answer_1", pack(row.id, "has_eval_set", "yes")),
        ("ptf_answer_2", pack(row.id, "spec_stable", "yes")),
    ]
    barrier = threading.Barrier(len(clicks))

    def send(action_id, value):
        barrier.wait()
        bot.sender.block_action(action_id, value=value, message_ts=ts, thread_ts=root,
                                message=dict(msg))

    workers = [threading.Thread(target=send, args=c) for c in clicks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wait_until(lambda: {"format_resisted", "has_eval_set", "spec_stable"}
               <= set(row_for(bot, root).answers), what="all three answers")
    final = row_for(bot, root)
    if final.status == "open":  # the message converges on the latest answers
        # (sent through the outbox, whose drainer may be between polls: wait for it)
        wanted = ("format resisted: yes", "evaluation set: yes", "spec settled: yes")
        wait_until(lambda: all(w in all_text(message(fake, CHANNEL_ID, ts)["blocks"])
                               for w in wanted), what="the message shows all three answers")


def test_mention_delivered_as_a_message_event(bot):
    fake = bot.fake
    event = message_event(f"<@{BOT_USER_ID}> 6k token prompt, 20M calls")
    bot.sender.event(event)
    posted = fake.wait_for("chat.postMessage")
    assert posted.arg("thread_ts") == event["ts"]
    assert "6,000 tokens" in all_text(posted.arg_json("blocks"))


def test_bot_messages_and_subtypes_are_ignored(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt")
    kept = row_for(bot, root)
    bot_msg = message_event("20M", thread_ts=root)
    bot_msg["bot_id"] = "B0OTHER"
    bot.sender.event(bot_msg)
    edited = message_event("20M", thread_ts=root)
    edited["subtype"] = "message_changed"
    bot.sender.event(edited)
    fake.quiet_for(0.4)
    assert row_for(bot, root).version == kept.version


def test_second_mention_in_a_busy_thread(bot):
    fake = bot.fake
    root, ts = mention(bot, "6k token prompt")
    # someone else: told whose consultation it is
    event = app_mention_event("what about us", thread_ts=root, user=OTHER_USER_ID)
    bot.sender.event(event)
    note = fake.wait_for("chat.postEphemeral")
    assert note.arg("user") == OTHER_USER_ID and f"<@{USER_ID}>" in note.arg("text")
    # the owner again, with new facts: added to the same consultation
    n = updates(fake)
    bot.sender.event(app_mention_event("also 20M calls a month", thread_ts=root))
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    assert row_for(bot, root).answers["monthly_calls"] == 20_000_000
    posts = [c for c in fake.ok_calls("chat.postMessage") if c.arg("channel") == CHANNEL_ID]
    assert len(posts) == 1


def test_question_with_many_options_uses_a_select(bot):
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, a classification task")
    msg = ask_again(bot, ts, "task type: Classification or extraction")
    assert current_question(msg) == "task_type"
    selects = [el for b in msg["blocks"] if base_of(b.get("block_id")) == QUESTION_BLOCK
               for el in b["elements"] if el["type"] == "static_select"]
    assert selects and len(selects[0]["options"]) == 8
    assert selects[0]["initial_option"]["value"].endswith("|classification_extraction")


def test_a_database_outage_bothers_nobody_in_unrelated_threads(bot, caplog):
    import sqlite3

    fake = bot.fake
    database = bot.settings.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:  # the consultations table is gone: every read fails
        db.execute("ALTER TABLE consultations RENAME TO consultations_away")
    root = new_ts()
    bot.sender.event(message_event("lunch at noon?", thread_ts=root, user=OTHER_USER_ID))
    bot.sender.event(message_event("sure", thread_ts=root))
    wait_until(lambda: "not checked for a consultation" in caplog.text, what="the log line")
    fake.quiet_for(0.5)
    assert not fake.calls_to("chat.postEphemeral") and not fake.calls_to("chat.postMessage")


def test_restart_between_finish_and_the_card_is_repaired_on_the_next_click(db_bot, knowledge):
    from bot.engine import decide

    bot = db_bot
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls")
    row = row_for(bot, root)
    fake.quiet_for(0.5)  # the question is shown and the bot has nothing more to do
    # the process that finished it died before the card and the DM went out
    bot.store.finish(row.id, decide(knowledge, row.answers, TODAY).to_dict())
    bot = bot.restart()
    msg = copy.deepcopy(message(fake, CHANNEL_ID, ts))  # still a question on screen
    assert current_question(msg) is not None
    first_button = next(el for b in msg["blocks"] if base_of(b.get("block_id")) == QUESTION_BLOCK
                        for el in b["elements"] if el["type"] == "button")
    click(bot, msg, first_button["text"]["text"])
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: str(c.arg("channel"))
                       .startswith("D"))
    assert "Your verdict" in all_text(dm.arg_json("blocks"))
    card = wait_until(lambda: "Verdict:" in all_text(message(fake, CHANNEL_ID, ts)["blocks"]),
                      what="the card on screen")
    assert card
    assert not fake.calls_to("chat.postEphemeral")  # no "use Change an answer on the verdict"
    wait_until(lambda: bot.store.get(row.id).meta.get("dm"), what="the DM saved")
    # the same stale click again: the card is there and the DM was sent, so only a note
    click(bot, msg, first_button["text"]["text"])
    note = fake.wait_for("chat.postEphemeral")
    assert "finished" in note.arg("text")
    fake.quiet_for(0.3)
    dms = [c for c in fake.ok_calls("chat.postMessage") if str(c.arg("channel")).startswith("D")]
    assert len(dms) == 1


@pytest.mark.parametrize("subtype", ["thread_broadcast", "file_share"])
def test_a_reply_with_a_file_or_sent_to_the_channel_too_is_read(bot, subtype):
    fake = bot.fake
    root, ts = mention(bot, "llama, 6k token prompt, 20M calls, 8000 examples")
    ask_again(bot, ts, "labelled examples: 8,000 examples")
    n = updates(fake)
    event = message_event("about 5k", thread_ts=root)
    event["subtype"] = subtype
    if subtype == "file_share":
        event["files"] = [{"id": "F0FILE", "name": "examples.csv"}]
    bot.sender.event(event)
    fake.wait_for("chat.update", count=n + 1)
    settle(bot, ts)
    assert row_for(bot, root).answers["labelled_examples"] == 5000


def test_a_mention_with_a_file_is_answered(bot):
    fake = bot.fake
    event = message_event(f"<@{BOT_USER_ID}> 6k token prompt, 20M calls, see the spec")
    event["subtype"] = "file_share"
    event["files"] = [{"id": "F0SPEC", "name": "spec.pdf"}]
    bot.sender.event(event)
    posted = fake.wait_for("chat.postMessage")
    assert posted.arg("thread_ts") == event["ts"]
    assert "6,000 tokens" in all_text(posted.arg_json("blocks"))


def test_missing_permission_is_said_in_words_and_logged_with_the_scope(bot, caplog):
    fake = bot.fake
    fake.on("conversations.replies", lambda call: {
        "ok": False, "error": "missing_scope", "needed": "channels:history",
        "provided": "chat:write,commands"})
    root = new_ts()
    fake.add_message(CHANNEL_ID, root, "6k token prompt", user=USER_ID)
    _, ts = mention(bot, "should we fine-tune?", thread_ts=root)
    text = all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    assert ("I'm missing the permission to read this thread (channels:history); ask an admin "
            "to reinstall the app") in text
    assert ("Slack conversations_replies failed: missing_scope (needed: channels:history) "
            f"(consultation -, channel {CHANNEL_ID})") in caplog.text

    # a failure during a consultation names it
    row = row_for(bot, root)
    fake.error_next("chat.update", "channel_not_found")
    fake.error_next("chat.postMessage", "channel_not_found")
    msg = message(fake, CHANNEL_ID, ts)
    click(bot, msg, next(el for b in msg["blocks"] if base_of(b.get("block_id")) == QUESTION_BLOCK
                         for el in b["elements"] if el["type"] == "button")["text"]["text"])
    note = fake.wait_for("chat.postEphemeral")
    assert "I can't see this conversation" in note.arg("text")
    assert f"consultation {row.id}, channel {CHANNEL_ID}" in caplog.text


def test_a_latency_budget_read_from_the_mention_and_a_duration_typed_in_seconds(bot):
    """Alice says her budget in the mention and types today's latency in seconds: both are
    stored in milliseconds, and the card compares them in words she can check."""
    fake = bot.fake
    root, ts = mention(bot, "llama 3.1 8b, format problem, p95 must stay under 300 ms")
    assert row_for(bot, root).answers["latency_budget_ms"] == 300
    assert "latency budget: 300 ms" in all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    plan = {**PLAN, "latency_critical": ("click", "Yes"), "format_resisted": ("click", "No"),
            "labelled_examples": ("type", "500"), "latency_now_ms": ("type", "1.2 s"),
            "retrieval_in_place": ("click", "No"),
            "deployment": ("click", "A cloud API is fine"), "multilingual": ("click", "No"),
            "examples_source": ("click", "People (labelled or real outputs)")}
    asked = run_to_verdict(bot, root, ts, plan)
    assert "latency_now_ms" in asked and "latency_budget_ms" not in asked
    row = row_for(bot, root)
    assert row.answers["latency_now_ms"] == 1200 and row.status == "done"
    card_text = all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    assert "latency budget: 300 ms" in card_text and "latency today: 1,200 ms" in card_text
    dm = fake.wait_for("chat.postMessage", predicate=lambda c: str(c.arg("channel"))
                       .startswith("D"))
    dm_text = all_text(dm.arg_json("blocks"))
    assert "1,200 ms against a budget of 300 ms" in dm_text
    assert "With calls taking 300 ms or fewer today" in dm_text
