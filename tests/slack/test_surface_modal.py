"""/ptf: the modal, its submission, help and history - through the real server and FakeSlack."""

from __future__ import annotations

import json
import time

from bot.engine import decide, parse_answers
from bot.engine.humanize import usd
from bot.slack.blocks import check, ids
from bot.slack.blocks.ids import MODAL_CALLBACK
from tests.conftest import TODAY
from tests.support.fake_slack import BOT_TOKEN
from tests.support.slack_requests import CHANNEL_ID, USER_ID
from tests.support.surface import IN_CHANNEL, READY, all_text, click, modal_values, wait_until


def open_modal(bot, text: str = "", **kw):
    before = len(bot.fake.calls_to("views.open"))
    r = bot.sender.command(text, **kw)
    assert r.status == 200 and r.body == b"", r.body  # the ack is only the ack
    call = bot.fake.wait_for("views.open", count=before + 1)
    view = call.arg_json("view")
    assert call.arg("trigger_id")
    return view


def submit(bot, view, typed, **kw):
    """Submit `view` as typed; the card goes to the channel unless `typed` says "Only me"."""
    values = modal_values(view, {**IN_CHANNEL, **typed})
    return bot.sender.view_submission(
        MODAL_CALLBACK, values, private_metadata=view["private_metadata"], **kw
    )


def dm_posts(fake):
    return [c for c in fake.ok_calls("chat.postMessage") if str(c.arg("channel")).startswith("D")]


# READY as answers (what the form's values mean)
READY_VALUES = {"model_access": "open_weights", "prompt_tokens": "6k", "monthly_calls": "20M",
                "labelled_examples": "8000", "has_eval_set": "yes",
                "prompt_engineering_tried": "yes", "format_resisted": "yes",
                "spec_stable": "yes"}


def test_full_modal_consultation(bot, knowledge):
    fake = bot.fake
    view = open_modal(bot)
    assert view["callback_id"] == MODAL_CALLBACK and check(view) == []
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    # first: who sees the result, "Only me" unless the person picks the channel
    who = inputs.pop("ptf_private")
    assert next(b for b in view["blocks"] if b["type"] == "input") is who
    assert who["element"]["initial_option"]["text"]["text"] == "Only me"
    # every asked question is an optional field with its assumption; the cost parameters
    # are behind "More assumptions..." (see the test below)
    assert {"model_access", "prompt_tokens", "deadline"} <= set(inputs)
    assert "hosting_usd_per_month" not in inputs
    assert all(b["optional"] for b in inputs.values())
    assert "If empty or not sure: 1,000 tokens" in inputs["prompt_tokens"]["hint"]["text"]
    assert "may change the verdict" in inputs["prompt_tokens"]["hint"]["text"]
    assert "6k" in inputs["prompt_tokens"]["element"]["placeholder"]["text"]
    assert inputs["has_eval_set"]["element"]["type"] == "radio_buttons"
    assert inputs["model_access"]["element"]["type"] == "static_select"
    assert "More assumptions" in all_text(view["blocks"])

    r = submit(bot, view, READY)
    assert r.status == 200 and r.json() == {"response_action": "clear"}

    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    blocks = card.arg_json("blocks")
    text = all_text(blocks)
    assert check(blocks) == []
    assert "Verdict: Fine-tune" in text
    assert "*Why*" in text and "Cost management for fine-tuning" in text  # reasons cite sources
    expected = decide(knowledge, parse_answers(knowledge, READY_VALUES)[0], TODAY)
    # the costs as fields: each label over its figure
    assert f"*Prompting, a month*\n{usd(expected.costs.monthly_cost_prompting_usd)}" in text
    assert f"*Fine-tuned on {expected.costs.route.label}, a month*\n" in text
    assert "*Break-even*\nunder 0.1 months" in text
    assert "What would change it" in text
    assert "Full record in my DMs" in text

    fake.wait_for("files.completeUploadExternal", timeout=20)
    dm = dm_posts(fake)
    assert len(dm) == 1
    dm_channel = dm[0].arg("channel")
    dm_text = all_text(dm[0].arg_json("blocks"))
    assert "Your verdict: Fine-tune" in dm_text
    assert "Back to the consultation" in dm_text and "fake-workspace.slack.com/archives" in dm_text
    assert "Get the decision record (Markdown)" in dm_text
    assert knowledge.version in dm_text and "as of 2026-12-02" in dm_text
    chart = next(u for u in fake.uploads.values() if u["filename"] == "break-even.png")
    assert chart["channel_id"] == dm_channel and chart["data"].startswith(b"\x89PNG")
    assert fake.ok_calls("conversations.open")[0].arg("users") == USER_ID

    (row,) = bot.store.recent_for_user(USER_ID)
    assert row.status == "done" and row.surface == "modal" and row.channel == CHANNEL_ID
    assert row.decision["verdict"] == "fine_tuning"
    assert row.answers["prompt_tokens"] == 6000 and row.answers["monthly_calls"] == 20_000_000
    wait_until(lambda: bot.store.get(row.id).meta.get("dm"), what="dm saved in meta")
    meta = bot.store.get(row.id).meta
    assert meta["permalink"].startswith("https://fake-workspace.slack.com/archives/C0CHAN001/")
    assert meta["card"]["channel"] == CHANNEL_ID


def test_bad_value_comes_back_on_that_field_only(bot):
    fake = bot.fake
    view = open_modal(bot)
    r = submit(bot, view, {**READY, "monthly_calls": "lots", "prompt_tokens": "6k"})
    assert r.status == 200
    body = r.json()
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == ["monthly_calls"]
    message = body["errors"]["monthly_calls"]
    assert "lots" in message and "accepted" in message and "20M" in message
    fake.quiet_for(0.3)
    assert not fake.calls_to("chat.postMessage")  # nothing decided or posted
    assert bot.store.recent_for_user(USER_ID) == []

    # a corrected submission goes through (the other values were kept by Slack)
    r = submit(bot, view, {**READY, "monthly_calls": "20 million"})
    assert r.json() == {"response_action": "clear"}
    fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)


def test_a_model_and_an_access_that_disagree_are_refused_on_the_field(bot):
    fake = bot.fake
    view = open_modal(bot)
    typed = {**READY, "model": "GPT-4.1 mini (OpenAI)", "model_access": "Open-weights model"}
    r = submit(bot, view, typed)
    body = r.json()
    assert body["response_action"] == "errors" and list(body["errors"]) == ["model_access"]
    assert "openai:gpt-4.1-mini" in body["errors"]["model_access"]
    assert "Give only the model" in body["errors"]["model_access"]
    fake.quiet_for(0.3)
    assert bot.store.recent_for_user(USER_ID) == []  # nothing decided
    # leaving model access empty, the model's own access is used; nothing else is lost
    r = submit(bot, view, {**typed, "model_access": None})
    assert r.json() == {"response_action": "clear"}
    (row,) = wait_until(lambda: bot.store.recent_for_user(USER_ID), what="row")
    assert row.answers["model"] == "openai:gpt-4.1-mini"
    assert row.answers["prompt_tokens"] == 6000 and row.answers["labelled_examples"] == 8000
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    assert "Verdict: Prompt engineering" in all_text(card.arg_json("blocks"))


def test_several_bad_values_each_get_their_own_error(bot):
    view = open_modal(bot)
    r = submit(bot, view, {"prompt_tokens": "0", "labelled_examples": "12.5"})
    errors = r.json()["errors"]
    assert set(errors) == {"prompt_tokens", "labelled_examples"}
    assert "too small" in errors["prompt_tokens"]
    assert "whole number" in errors["labelled_examples"]
    pushed = more_assumptions(bot, view)
    r = submit_assumptions(bot, pushed, {"cacheable_share": "150%", "output_tokens": "lots"})
    assert set(r.json()["errors"]) == {"cacheable_share", "output_tokens"}


def more_assumptions(bot, view):
    """Click "More assumptions..." in the modal `view`: the pushed view."""
    before = len(bot.fake.calls_to("views.push"))
    r = bot.sender.block_action(ids.MORE_ASSUMPTIONS, value="costs", block_id="ptf_costs",
                                view={**view, "id": "V0PARENT01"})
    assert r.status == 200
    call = bot.fake.wait_for("views.push", count=before + 1)
    return call.arg_json("view")


def submit_assumptions(bot, pushed, typed):
    return bot.sender.view_submission(ids.ASSUMPTIONS_CALLBACK, modal_values(pushed, typed),
                                      private_metadata=pushed["private_metadata"],
                                      view_id="V0PUSHED01")


def test_more_assumptions_opens_a_second_modal_and_keeps_what_is_set(bot, knowledge):
    fake = bot.fake
    view = open_modal(bot, "6k token prompt")
    assert "the usual ones" in all_text(view["blocks"])
    pushed = more_assumptions(bot, view)
    assert pushed["callback_id"] == ids.ASSUMPTIONS_CALLBACK and check(pushed) == []
    inputs = {b["block_id"]: b for b in pushed["blocks"] if b["type"] == "input"}
    assert set(inputs) == {q.id for q in knowledge.questions if not q.ask}
    assert "If empty or not sure" in inputs["hosting_usd_per_month"]["hint"]["text"]
    # kept: the ack closes it, and the first modal is redrawn with them listed
    r = submit_assumptions(bot, pushed, {"hosting_usd_per_month": "$1,200",
                                         "output_tokens": "300"})
    assert r.status == 200 and r.body == b""
    update = fake.wait_for("views.update", predicate=lambda c: c.arg("view_id") == "V0PARENT01")
    parent = update.arg_json("view")
    text = all_text(parent["blocks"])
    assert "Cost assumptions you set" in text and "1,200" in text and "300" in text
    assert "I read:" in text and "6,000 tokens" in text  # what was read stays shown
    # opened again, it shows them
    again = more_assumptions(bot, parent)
    shown = {b["block_id"]: b["element"].get("initial_value") for b in again["blocks"]
             if b["type"] == "input"}
    assert shown["hosting_usd_per_month"].replace(",", "") == "1200"
    assert shown["output_tokens"] == "300"
    # submitting the first modal decides with them
    r = submit(bot, parent, READY)
    assert r.json() == {"response_action": "clear"}
    row = wait_until(lambda: bot.store.recent_for_user(USER_ID), what="row")[0]
    assert row.answers["hosting_usd_per_month"] == 1200
    assert row.answers["output_tokens"] == 300
    assert row.answers["prompt_tokens"] == 6000


def _kept_in_parent(fake, count=1):
    update = fake.wait_for("views.update", count=count,
                           predicate=lambda c: c.arg("view_id") == "V0PARENT01")
    return "Cost assumptions you set" in all_text(update.arg_json("view")["blocks"])


def test_the_first_modal_is_redrawn_before_the_ack_closes_the_second(bot):
    # While the pushed modal is open the first cannot be submitted: redrawn before the
    # ack, it is never submitted without the assumptions just kept. Slack takes 0.4 s.
    fake = bot.fake
    pushed = more_assumptions(bot, open_modal(bot, "6k token prompt"))
    fake.hold("views.update", timeout=0.4)
    r = submit_assumptions(bot, pushed, {"hosting_usd_per_month": "$1,200"})
    assert r.status == 200
    answered = [c for c in fake.ok_calls("views.update") if c.arg("view_id") == "V0PARENT01"]
    assert answered and "Cost assumptions you set" in all_text(
        answered[0].arg_json("view")["blocks"])


def test_kept_assumptions_reach_the_first_modal_when_slack_fails_the_first_redraw(bot):
    fake = bot.fake
    pushed = more_assumptions(bot, open_modal(bot, "6k token prompt"))
    fake.fail_next("views.update", status=500)  # the one try before the ack
    r = submit_assumptions(bot, pushed, {"hosting_usd_per_month": "$1,200"})
    assert r.status == 200 and r.body == b""
    assert _kept_in_parent(fake)  # redrawn after the ack, with the usual retries
    assert [c.status for c in fake.calls_to("views.update")] == [500, 200]


def test_a_slow_redraw_does_not_hold_the_ack(bot):
    fake = bot.fake
    pushed = more_assumptions(bot, open_modal(bot, "6k token prompt"))
    gate = fake.hold("views.update", timeout=20)
    started = time.monotonic()
    r = submit_assumptions(bot, pushed, {"hosting_usd_per_month": "$1,200"})
    acked_in = time.monotonic() - started
    assert r.status == 200 and acked_in < 2.5  # the try before the ack gives up after 1 s
    gate.set()
    fake.release_all()
    assert _kept_in_parent(fake)


def test_free_text_prefills_the_modal(bot):
    view = open_modal(bot, "6k token prompt, 20M calls")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["prompt_tokens"]["initial_value"] == "6,000"
    assert inputs["monthly_calls"]["initial_value"] == "20,000,000"
    assert "initial_value" not in inputs["labelled_examples"]
    text = all_text(view["blocks"])
    assert "I read:" in text and "prompt length: 6,000 tokens" in text
    assert "20M calls a month" in text
    # the prefilled values round-trip: submitting untouched gives these answers
    r = submit(bot, view, {})
    assert r.json() == {"response_action": "clear"}
    row = wait_until(lambda: bot.store.recent_for_user(USER_ID), what="row")[0]
    assert row.answers == {"prompt_tokens": 6000, "monthly_calls": 20_000_000}
    # the same consultation object the form was filled from: what was read stays "read"
    assert set(row.state["prefilled"]) == {"prompt_tokens", "monthly_calls"}
    assert row.state["history"] == []


def test_free_text_with_a_model_note(bot):
    view = open_modal(bot, "gpt-4o, 8000 examples, ship this week")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["model"]["initial_option"]["value"] == "openai:gpt-4o"
    assert "initial_option" not in inputs["model_access"]  # it comes from the model
    assert inputs["deadline"]["initial_option"]["value"] == "this_week"
    text = all_text(view["blocks"])
    assert "model: GPT-4o (OpenAI)" in text  # shown as read, to correct if wrong
    # what today means for that model, with the dates and their as-of date
    assert "new fine-tuning jobs stop on 2027-01-06" in text and "2027-01-14" in text
    assert "as of 2026-12-02" in text


def test_unparseable_text_still_opens_the_modal(bot):
    view = open_modal(bot, "what should we do")
    assert "could not pick out any answers" in all_text(view["blocks"])


def test_help_is_ephemeral_in_the_ack(bot):
    r = bot.sender.command("help")
    assert r.status == 200
    body = r.json()
    assert body["response_type"] == "ephemeral"
    text = all_text(body["blocks"])
    assert "/ptf history" in text and "6k token prompt" in text
    bot.fake.quiet_for(0.2)
    assert not bot.fake.calls_to("views.open")


def test_history_lists_recent_consultations_with_links(bot):
    fake = bot.fake
    r = bot.sender.command("history")
    assert r.status == 200 and r.body == b""
    empty = fake.wait_for("response_url")
    assert empty.json["response_type"] == "ephemeral"
    assert "no consultations yet" in all_text(empty.json["blocks"])

    view = open_modal(bot)
    submit(bot, view, READY)
    fake.wait_for("chat.getPermalink")
    row = bot.store.recent_for_user(USER_ID)[0]
    wait_until(lambda: bot.store.get(row.id).meta.get("permalink"), what="permalink")

    bot.sender.command("history")
    listing = fake.wait_for("response_url", count=2)
    assert listing.json["response_type"] == "ephemeral"
    text = all_text(listing.json["blocks"])
    assert "Fine-tune" in text
    assert bot.store.get(row.id).meta["permalink"] in text
    # another user's history does not show it
    bot.sender.command("history", user_id="U0BOB0002")
    other = fake.wait_for("response_url", count=3)
    assert "no consultations yet" in all_text(other.json["blocks"])


def test_private_result_is_ephemeral(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, {**READY, "ptf_private": "Only me"})
    eph = fake.wait_for("chat.postEphemeral")
    assert eph.arg("user") == USER_ID and eph.arg("channel") == CHANNEL_ID
    assert "Verdict: Fine-tune" in all_text(eph.arg_json("blocks"))
    fake.wait_for("files.completeUploadExternal", timeout=20)
    assert not [c for c in fake.calls_to("chat.postMessage") if c.arg("channel") == CHANNEL_ID]
    assert len(dm_posts(fake)) == 1


def test_not_in_channel_falls_back_to_a_dm_and_says_so(bot):
    fake = bot.fake
    fake.error_next("chat.postMessage", "not_in_channel")
    view = open_modal(bot)
    submit(bot, view, READY)
    dm = fake.wait_for("chat.postMessage",
                       predicate=lambda c: str(c.arg("channel")).startswith("D"))
    text = all_text(dm.arg_json("blocks"))
    assert "not a member of <#C0CHAN001>" in text and "Your verdict" in text
    row = wait_until(lambda: bot.store.recent_for_user(USER_ID), what="row")[0]
    assert row.status == "done"


def filled_after_loading(fake):
    """"Adjust answers" opens a Loading modal at once (no database read before the
    trigger expires), then fills it in with views.update; returns the filled view."""
    opened = fake.wait_for("views.open", count=2)
    assert "Loading your answers" in all_text(opened.arg_json("view")["blocks"])
    update = fake.wait_for("views.update")
    assert update.arg("view_id") == opened.response["view"]["id"]
    return update.arg_json("view")


def test_adjust_answers_reopens_the_modal_prefilled(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, READY)
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    msg = {"ts": card.response["ts"], "blocks": card.arg_json("blocks"), "type": "message"}
    r = click(bot, msg, "Adjust answers", user="U0BOB0002")  # a teammate can do what-ifs
    assert r.status == 200
    again = filled_after_loading(fake)
    inputs = {b["block_id"]: b["element"] for b in again["blocks"] if b["type"] == "input"}
    assert inputs["prompt_tokens"]["initial_value"] == "6,000"
    assert inputs["model_access"]["initial_option"]["value"] == "open_weights"
    assert json.loads(again["private_metadata"])["channel"] == CHANNEL_ID


def test_start_over_on_a_modal_card_opens_an_empty_form(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, READY)
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    msg = {"ts": card.response["ts"], "blocks": card.arg_json("blocks"), "type": "message"}
    before = len(fake.calls_to("views.open"))
    assert click(bot, msg, "Start over").status == 200
    fresh = fake.wait_for("views.open", count=before + 1).arg_json("view")
    inputs = [b["element"] for b in fresh["blocks"]
              if b["type"] == "input" and b["block_id"] != "ptf_private"]
    assert not any("initial_value" in el or "initial_option" in el for el in inputs)
    assert json.loads(fresh["private_metadata"])["channel"] == CHANNEL_ID


def test_expired_trigger_tells_the_user(bot):
    fake = bot.fake
    fake.error_next("views.open", "expired_trigger_id")
    bot.sender.command("")
    note = fake.wait_for("response_url")
    assert note.json["response_type"] == "ephemeral"
    assert "please run `/ptf` again" in note.json["text"]


def test_full_record_button_sends_a_copy_to_a_teammate(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, READY)
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    msg = {"ts": card.response["ts"], "blocks": card.arg_json("blocks"), "type": "message"}
    click(bot, msg, "Full record in my DMs", user="U0BOB0002")
    opened = fake.wait_for("conversations.open", count=2)
    assert opened.arg("users") == "U0BOB0002"
    fake.wait_for("chat.postEphemeral", predicate=lambda c: c.arg("user") == "U0BOB0002")
    copies = [c for c in dm_posts(fake) if c.arg("channel") == "D0BOB0002"]
    assert copies and "Your verdict: Fine-tune" in all_text(copies[0].arg_json("blocks"))


def test_no_token_in_logs(bot, caplog):
    caplog.set_level("DEBUG")
    bot.fake.error_next("chat.postMessage", "not_in_channel")
    view = open_modal(bot)
    submit(bot, view, READY)
    bot.fake.wait_for("files.completeUploadExternal", timeout=20)
    assert "Slack chat_postMessage failed: not_in_channel" in caplog.text
    assert BOT_TOKEN not in caplog.text and "xoxb-" not in caplog.text


def test_command_in_a_dm_sends_only_the_dm_summary(bot):
    fake = bot.fake
    view = open_modal(bot, channel_id="D0ALICE01")
    submit(bot, view, READY)
    fake.wait_for("files.completeUploadExternal", timeout=20)
    posts = fake.ok_calls("chat.postMessage")
    assert len(posts) == 1 and posts[0].arg("channel") == "D0ALICE01"
    assert "Your verdict: Fine-tune" in all_text(posts[0].arg_json("blocks"))


def test_adjust_answers_keeps_a_private_result_private(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, {**READY, "ptf_private": "Only me"})
    eph = fake.wait_for("chat.postEphemeral")
    msg = {"ts": eph.response["message_ts"], "blocks": eph.arg_json("blocks"), "type": "message"}
    assert click(bot, msg, "Adjust answers").status == 200
    again = filled_after_loading(fake)
    private = next(b for b in again["blocks"] if b.get("block_id") == "ptf_private")
    assert private["element"]["initial_option"]["value"] == "private"
    # submitted as it is (one answer changed): private again, nothing in the channel
    bot.sender.view_submission(MODAL_CALLBACK, modal_values(again, {"labelled_examples": "50"}),
                               private_metadata=again["private_metadata"])
    fake.wait_for("chat.postEphemeral", count=2)
    fake.wait_for("chat.postMessage", count=2,
                  predicate=lambda c: str(c.arg("channel")).startswith("D"))
    fake.quiet_for(0.3)
    assert not [c for c in fake.calls_to("chat.postMessage") if c.arg("channel") == CHANNEL_ID]
    rows = bot.store.recent_for_user(USER_ID)
    assert len(rows) == 2 and all(r.meta["private"] for r in rows)


def test_the_card_says_each_thing_once_and_hides_nothing(bot):
    """Four reasons and three "fine-tune once" conditions: the verdict is named once, the
    paragraph is not repeated as a bullet, every condition is shown, and the reasons not
    shown are counted."""
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, {"model_access": "Open-weights model", "prompt_tokens": "6k",
                       "monthly_calls": "20M", "format_resisted": "Yes",
                       "labelled_examples": "8,000", "has_eval_set": "No",
                       "spec_stable": "No", "prompt_engineering_tried": "No"})
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    row = wait_until(lambda: bot.store.recent_for_user(USER_ID), what="row")[0]
    decision = row.decision
    assert decision["verdict"] == "prompt_then_fine_tune"
    assert len(decision["conditions"]) >= 3 and len(decision["reasons"]) >= 5
    blocks = card.arg_json("blocks")
    text = all_text(blocks)
    assert text.count(decision["verdict_label"]) == 1  # the header, nothing else
    first = decision["reasons"][0]["text"]
    assert text.count(first) == 1  # the paragraph, not again as a bullet
    for condition in decision["conditions"]:
        assert condition["text"] in text
    shown = sum(r["text"] in text for r in decision["reasons"])
    assert f"and {len(decision['reasons']) - shown} more in the DM" in text

    dm = fake.wait_for("chat.postMessage", predicate=lambda c: str(c.arg("channel"))
                       .startswith("D")).arg_json("blocks")
    dm_text = all_text(dm)
    assert all(r["text"] in dm_text for r in decision["reasons"])
    assert dm_text.count(first) == 1
    assert "with prompt caching" not in dm_text  # nothing cached: it would repeat the cost


def test_expired_trigger_on_a_button_says_click_again(bot):
    fake = bot.fake
    view = open_modal(bot)
    submit(bot, view, READY)
    card = fake.wait_for("chat.postMessage", predicate=lambda c: c.arg("channel") == CHANNEL_ID)
    fake.error_next("views.open", "expired_trigger_id")
    msg = {"ts": card.response["ts"], "blocks": card.arg_json("blocks"), "type": "message"}
    click(bot, msg, "Adjust answers")
    note = fake.wait_for("chat.postEphemeral")
    assert "click *Adjust answers* again" in note.arg("text")
    assert "command" not in note.arg("text")


def test_no_private_checkbox_where_the_result_only_goes_to_the_dm(bot):
    in_channel = open_modal(bot)
    [who] = [b for b in in_channel["blocks"] if b.get("block_id") == "ptf_private"]
    assert who["label"]["text"] == "Who sees the result"
    in_dm = open_modal(bot, channel_id="D0ALICE01")
    assert not [b for b in in_dm["blocks"] if b.get("block_id") == "ptf_private"]
