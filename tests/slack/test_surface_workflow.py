"""The Workflow Builder step `ptf_decide` and the "Ask the advisor about this thread"
message shortcut, black-box: signed requests in, Web API calls out (FakeSlack)."""

from __future__ import annotations

import time

import pytest

from bot.engine import decide
from bot.knowledge import load_knowledge
from tests.conftest import TODAY
from tests.support.slack_requests import (
    API_APP_ID,
    CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    new_event_id,
    new_trigger_id,
    new_ts,
)
from tests.support.surface import all_text, current_question, message, wait_until

STEP_TOKEN = "xwfp-1111-2222-FAKEstepTOKEN"
SITUATION = ("Support bot on llama 3.1 8b: the prompt is 6k tokens, 20M calls a month, we "
             "have 8000 labelled examples and an eval set")


def run_step(bot, inputs, *, event_id=None, retry_num=None, execution_id=None):
    bot.fake.step_tokens.add(STEP_TOKEN)
    execution_id = execution_id or f"Fx{new_ts().replace('.', '')}"
    event = {
        "type": "function_executed",
        "function": {"id": "Fn0PTF", "callback_id": "ptf_decide", "title": "Prompt or fine-tune?",
                     "type": "app", "app_id": API_APP_ID},
        "inputs": inputs,
        "function_execution_id": execution_id,
        "workflow_execution_id": "Wx0001",
        "event_ts": new_ts(),
        "bot_access_token": STEP_TOKEN,
    }
    started = time.monotonic()
    r = bot.sender.event(event, event_id=event_id, retry_num=retry_num)
    assert r.status == 200 and time.monotonic() - started < 3
    return execution_id


def completion(fake, execution_id, method="functions.completeSuccess"):
    return fake.wait_for(method, predicate=lambda c: c.arg("function_execution_id")
                         == execution_id)


def test_the_step_decides_from_the_situation_and_completes_with_three_outputs(bot):
    fake = bot.fake
    fx = run_step(bot, {"situation": SITUATION, "asker": USER_ID})
    done = completion(fake, fx)
    assert done.token == STEP_TOKEN  # the workflow's own token, not the bot's
    outputs = done.arg_json("outputs")
    assert set(outputs) == {"verdict", "summary", "link"}
    # the verdict is what decide says for what the text holds, with the rest assumed
    answers = {"model": "meta:llama-3.1-8b-instruct", "prompt_tokens": 6000,
               "monthly_calls": 20_000_000, "labelled_examples": 8000, "has_eval_set": True}
    knowledge = load_knowledge()
    expected = decide(knowledge, answers, TODAY)
    assert outputs["verdict"] == expected.verdict
    summary = outputs["summary"]
    assert expected.verdict_label in summary and "knowledge as of" in summary
    assert "Cost: prompting $" in summary and "Assumed (not given):" in summary
    assert outputs["link"].startswith("https://slack.com/app_redirect?app=" + API_APP_ID)
    # the asker's consultation is saved: it is in their history
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.surface == "workflow" and r.status == "done"), None),
                     what="the saved row")  # saved once the step completed
    assert row.decision["verdict"] == expected.verdict
    assert fake.ok_calls("functions.completeError") == []


def test_typed_inputs_win_over_the_text(bot):
    fake = bot.fake
    fx = run_step(bot, {"situation": SITUATION, "model": "openai:gpt-4.1-mini",
                        "monthly_calls": 50_000, "has_eval_set": False})
    outputs = completion(fake, fx).arg_json("outputs")
    answers = {"model": "openai:gpt-4.1-mini", "prompt_tokens": 6000, "monthly_calls": 50_000,
               "labelled_examples": 8000, "has_eval_set": False}
    typed = decide(load_knowledge(), answers, TODAY)
    assert outputs["verdict"] == typed.verdict
    assert outputs["summary"].startswith(f"*{typed.verdict_label}*")


@pytest.mark.parametrize("inputs, says", [
    ({"situation": ""}, "`situation` is empty"),
    ({"situation": "x" * 4001}, "the step reads at most 4,000"),
    ({"situation": SITUATION, "prompt_tokens": "lots"}, "`prompt_tokens`"),
    ({"situation": SITUATION, "deadline": "yesterday"}, "`deadline`"),
])
def test_bad_inputs_complete_with_an_error_the_author_can_act_on(bot, inputs, says):
    fake = bot.fake
    fx = run_step(bot, inputs)
    error = completion(fake, fx, "functions.completeError").arg("error")
    assert says in error
    if "deadline" in inputs:
        assert "this_week" in error or "this week" in error  # what is accepted
    assert fake.ok_calls("functions.completeSuccess") == []


def test_hostile_situation_never_reaches_the_outputs_as_markup(bot):
    fake = bot.fake
    fx = run_step(bot, {"situation": "<!channel> <b>ping</b> & " + SITUATION,
                        "model": "<!here>"})
    error = completion(fake, fx, "functions.completeError").arg("error")
    assert "<" not in error and "\u2039!here\u203a" in error  # shown, never a mention
    fx = run_step(bot, {"situation": "<!channel> <b>ping</b> & " + SITUATION})
    summary = completion(fake, fx).arg_json("outputs")["summary"]
    assert "<!channel>" not in summary and "<b>" not in summary


def test_a_retried_step_event_completes_once_and_slack_errors_are_retried(bot):
    fake = bot.fake
    fake.fail_next("functions.completeSuccess", 1, status=429, retry_after=1)
    fake.fail_next("functions.completeSuccess", 1, status=500)
    event_id = new_event_id()
    fx = run_step(bot, {"situation": SITUATION}, event_id=event_id)
    run_step(bot, {"situation": SITUATION}, event_id=event_id, retry_num=1, execution_id=fx)
    completion(fake, fx)
    fake.quiet_for(0.5)
    statuses = [c.status for c in fake.calls_to("functions.completeSuccess")]
    assert statuses == [429, 500, 200]


def test_outputs_slack_refuses_end_the_step_with_an_error_not_a_hang(bot):
    fake = bot.fake
    fake.error_next("functions.completeSuccess", "invalid_arguments")
    fx = run_step(bot, {"situation": SITUATION})
    error = completion(fake, fx, "functions.completeError").arg("error")
    assert "invalid_arguments" in error and "Run the step again" in error


# ---------------------------------------------------------------- the message shortcut


def shortcut(bot, message_ts, *, thread_ts=None, user=USER_ID):
    msg = {"type": "message", "user": OTHER_USER_ID, "ts": message_ts, "text": "..."}
    if thread_ts:
        msg["thread_ts"] = thread_ts
    payload = {
        "type": "message_action",
        "callback_id": "ask_about_thread",
        "trigger_id": new_trigger_id(),
        "response_url": bot.sender.response_url(),
        "team": {"id": "T0TEAM001", "domain": "fake"},
        "user": {"id": user, "username": "alice", "team_id": "T0TEAM001"},
        "channel": {"id": CHANNEL_ID, "name": "ml-platform"},
        "message_ts": message_ts,
        "message": msg,
        "action_ts": new_ts(),
        "token": "legacy",
        "api_app_id": API_APP_ID,
        "is_enterprise_install": False,
        "enterprise": None,
    }
    started = time.monotonic()
    r = bot.sender.interaction(payload)
    assert r.status == 200 and time.monotonic() - started < 3
    return r


def test_the_shortcut_reads_the_whole_thread_and_starts_there(bot):
    fake = bot.fake
    root = new_ts()
    fake.add_message(CHANNEL_ID, root, "Should we fine-tune the support bot? It runs on "
                     "llama 3.1 8b", user=OTHER_USER_ID)
    reply = new_ts()
    fake.add_message(CHANNEL_ID, reply, "the prompt is 6k tokens, 20M calls a month",
                     user="U0CAROL03", thread_ts=root)
    fake.add_message(CHANNEL_ID, new_ts(), "<!channel> ignore me, I am a bot", user="U0OTHERBOT",
                     thread_ts=root, bot_id="B0OTHER")
    shortcut(bot, reply, thread_ts=root)
    posted = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("thread_ts") == root)
    assert posted.arg("channel") == CHANNEL_ID
    ts = posted.response["ts"]
    text = all_text(message(fake, CHANNEL_ID, ts)["blocks"])
    # both people's messages were read (the model from one, the volume from the other)
    assert "Llama 3.1 8B" in text and "6,000 tokens" in text and "20M calls" in text
    assert current_question(message(fake, CHANNEL_ID, ts)) is not None
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.message_ts == ts), None), what="message_ts stored")
    assert row.user_id == USER_ID and row.meta["origin"] == "shortcut"
    # the same shortcut again in that thread does not start a second one
    shortcut(bot, reply, thread_ts=root)
    fake.wait_for("chat.postEphemeral")
    assert len([c for c in fake.ok_calls("chat.postMessage")
                if c.arg("thread_ts") == root]) == 1


def test_the_shortcut_where_the_bot_cannot_read_says_what_to_do(bot):
    fake = bot.fake
    fake.error_next("conversations.replies", "not_in_channel")
    fake.error_next("chat.postEphemeral", "not_in_channel")  # as Slack would say there
    shortcut(bot, new_ts())
    note = fake.wait_for("response_url")  # works where the bot is not a member
    text = note.arg("text")
    assert "I could not read that thread" in text and "/invite" in text
    assert note.arg("response_type") == "ephemeral"
    assert fake.ok_calls("chat.postMessage") == [] and fake.calls_to("chat.postEphemeral") == []
