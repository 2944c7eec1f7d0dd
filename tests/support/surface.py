"""Helpers for the user-facing surface tests: act on what the bot actually rendered.

They read the blocks the bot posted to `FakeSlack` and send the Slack requests a user's
click, selection or form submission would produce (signed, through the real server):

    root, ts = mention(bot, "6k token prompt")              # start one in a thread
    run_to_verdict(bot, root, ts, {"model_access": ("click", "Open-weights model"), ...})
    click(bot, msg, "Open-weights model")                   # a button, by its label
    choose(bot, msg, "ptf_answer_select", "Reasoning")       # a select option, by label
    values = modal_values(view, {"prompt_tokens": "6k", "has_eval_set": "Yes"})
    bot.sender.view_submission("ptf_consultation", values, private_metadata=...)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from bot.slack.blocks.ids import QUESTION_BLOCK, base_of, unpack
from tests.support.fake_slack import FakeSlack
from tests.support.slack_requests import (
    CHANNEL_ID,
    USER_ID,
    Response,
    app_mention_event,
    message_event,
)

# Modal answers (as typed or picked by label) that make a ready fine-tuning case.
READY = {
    "model_access": "Open-weights model",
    "prompt_tokens": "6k",
    "monthly_calls": "20M",
    "labelled_examples": "8,000",
    "has_eval_set": "Yes",
    "prompt_engineering_tried": "Yes",
    "format_resisted": "Yes",
    "spec_stable": "Yes",
}


def current_question(msg: Mapping[str, Any]) -> str | None:
    """The question id a thread message asks (from its answer/skip elements), None for a
    card."""
    for block in msg.get("blocks", []):
        if base_of(block.get("block_id")) != QUESTION_BLOCK:
            continue
        for el in block["elements"]:
            value = el.get("value") or (el.get("options") or [{}])[0].get("value")
            parts = unpack(value, 3) or unpack(value, 2)
            if parts:
                return parts[1]
    return None


def _text(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) else ""


def elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element in `blocks`."""
    for block in blocks:
        if block.get("type") == "actions":
            for el in block.get("elements", []):
                yield block, el
        elif block.get("type") == "section" and "accessory" in block:
            yield block, block["accessory"]
        elif block.get("type") == "input":
            yield block, block["element"]


def all_text(blocks: list[dict[str, Any]]) -> str:
    """Every text in the blocks, joined (for assertions)."""
    out = []
    for block in blocks:
        out.append(_text(block.get("text")))
        out += [_text(e) for e in block.get("elements", []) if e.get("type") in ("mrkdwn",
                                                                                 "plain_text")]
        out += [_text(f) for f in block.get("fields", [])]
        for _, el in elements([block]):
            out.append(_text(el.get("text")))
            out.append(_text(el.get("placeholder")))
            out += [_text(o.get("text")) for o in el.get("options", [])]
    return "\n".join(t for t in out if t)


def message(fake: FakeSlack, channel: str, ts: str) -> dict[str, Any]:
    """The message as it is now (after any chat.update)."""
    for m in fake.messages.get(channel, []):
        if m.get("ts") == ts:
            return m
    raise AssertionError(f"no message {ts} in {channel}")


def bot_thread_messages(fake: FakeSlack, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    return [m for m in fake.messages.get(channel, [])
            if m.get("thread_ts") == thread_ts and m.get("bot_id")]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.02)


def click(
    bot: Any,
    msg: dict[str, Any],
    label: str,
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
) -> Response:
    """Click the button labelled `label` in `msg` (as rendered now)."""
    for block, el in elements(msg.get("blocks", [])):
        if el.get("type") == "button" and _text(el.get("text")) == label:
            return bot.sender.block_action(
                el["action_id"], value=el.get("value"), block_id=block.get("block_id", "b"),
                user_id=user, channel_id=channel, message_ts=msg["ts"],
                thread_ts=msg.get("thread_ts"), message=dict(msg),
            )
    labels = [_text(el.get("text")) for _, el in elements(msg.get("blocks", []))]
    raise AssertionError(f"no button {label!r} in the message; buttons: {labels}")


def choose(
    bot: Any,
    msg: dict[str, Any],
    action_id: str,
    option_label: str,
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
) -> Response:
    """Pick `option_label` in the select `action_id` of `msg`."""
    for block, el in elements(msg.get("blocks", [])):
        if el.get("action_id") != action_id:
            continue
        options = el.get("options") or [
            o for group in el.get("option_groups", []) for o in group.get("options", [])]
        for opt in options:
            if _text(opt.get("text")) == option_label or opt.get("value", "").endswith(
                "|" + option_label
            ):
                return bot.sender.block_action(
                    action_id, action_type="static_select", selected_option=opt,
                    block_id=block.get("block_id", "b"), user_id=user, channel_id=channel,
                    message_ts=msg["ts"], thread_ts=msg.get("thread_ts"), message=dict(msg),
                )
        raise AssertionError(
            f"no option {option_label!r} in {action_id}: "
            f"{[_text(o.get('text')) for o in options]}"
        )
    raise AssertionError(f"no select {action_id!r} in the message")


def modal_values(view: Mapping[str, Any], typed: Mapping[str, str]) -> dict[str, Any]:
    """`view.state.values` for a submission of `view` where the user typed/chose `typed`
    (question id -> text for text inputs, option label for selects/radios; "private" -> any
    to tick the private checkbox). Prefilled values the user left alone are included, as
    Slack does."""
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        bid, el = block["block_id"], block["element"]
        aid, kind = el["action_id"], el["type"]
        given = typed.get(bid)
        if kind == "plain_text_input":
            value = given if given is not None else el.get("initial_value")
            values[bid] = {aid: {"type": kind, "value": value}}
        elif kind in ("static_select", "radio_buttons"):
            chosen = el.get("initial_option")
            if given is not None:
                options = el.get("options") or [
                    o for group in el.get("option_groups", []) for o in group["options"]]
                chosen = next(o for o in options
                              if _text(o["text"]) == given or o["value"] == given)
            values[bid] = {aid: {"type": kind, "selected_option": chosen}}
        elif kind == "checkboxes":
            chosen = list(el.get("initial_options", []))
            if given:
                chosen = list(el["options"])
            values[bid] = {aid: {"type": kind, "selected_options": chosen}}
    return values


#: The "Who sees the result" choice for a card in the channel (the form's default is
#: "Only me"); tests that follow the card in the channel pick it.
IN_CHANNEL = {"ptf_private": "Everyone in the channel"}


# ---------------------------------------------------------------- a thread consultation


def updates(fake) -> int:
    return len(fake.ok_calls("chat.update"))


def mention(bot, text, *, thread_ts=None, user=USER_ID):
    """Alice mentions the bot; returns (thread root, question message ts)."""
    fake = bot.fake
    before = len(fake.ok_calls("chat.postMessage"))
    event = app_mention_event(text, thread_ts=thread_ts, user=user)
    fake.add_message(CHANNEL_ID, event["ts"], event["text"], user=user, thread_ts=thread_ts)
    assert bot.sender.event(event).status == 200
    posted = fake.wait_for("chat.postMessage", count=before + 1)
    assert posted.arg("channel") == CHANNEL_ID
    root = posted.arg("thread_ts")
    assert root == (thread_ts or event["ts"])
    ts = posted.response["ts"]
    # its ts is saved first, its permalink right after (a click in between updates it)
    wait_until(lambda: any(r.message_ts == ts and r.meta.get("permalink")
                           for r in bot.store.recent_for_user(user)),
               what="message_ts and permalink stored")
    return root, ts


_KNOWLEDGE: list[Any] = []


def expected_question(bot, ts, user=USER_ID) -> str | None:
    """The question the stored consultation of message `ts` shows now (None when done)."""
    from bot.engine import Consultation
    from bot.knowledge import load_knowledge

    if not _KNOWLEDGE:
        _KNOWLEDGE.append(load_knowledge())
    row = next(r for r in bot.store.recent_for_user(user) if r.message_ts == ts)
    if row.status != "open":
        return None
    question = Consultation.from_json(_KNOWLEDGE[0], row.state,
                                      bot.settings.today()).next_question()
    return question.id if question is not None else None


def settle(bot, ts, *, user=USER_ID) -> dict[str, Any]:
    """Wait until the message shows what is stored. After a click a message may be
    updated more than once (a slower earlier operation re-renders the latest state), so
    counting updates alone can read a message that is about to change again."""
    wait_until(lambda: current_question(message(bot.fake, CHANNEL_ID, ts))
               == expected_question(bot, ts, user), what="the message shows the stored state")
    return message(bot.fake, CHANNEL_ID, ts)


def answer_current(bot, root, ts, plan, *, user=USER_ID):
    """Answer the question on screen per `plan`; wait for the message to change."""
    fake = bot.fake
    msg = message(fake, CHANNEL_ID, ts)
    qid = current_question(msg)
    assert qid is not None, all_text(msg["blocks"])
    how, what = plan[qid]
    n = updates(fake)
    if how == "not_sure":  # the "Not sure (assume ...)" button
        how, what = "click", next(
            _text(el.get("text")) for _, el in elements(msg.get("blocks", []))
            if _text(el.get("text")).startswith("Not sure"))
    if how == "click":
        r = click(bot, msg, what, user=user)
    elif how == "choose":
        r = choose(bot, msg, "ptf_answer_select", what, user=user)
    else:
        r = bot.sender.event(message_event(what, thread_ts=root, user=user))
    assert r.status == 200
    fake.wait_for("chat.update", count=n + 1)
    # the answer is stored (an update counted above may be a late re-render of the
    # state before it), then the message shows what is stored
    wait_until(lambda: expected_question(bot, ts, user) != qid, what=f"{qid} answered")
    settle(bot, ts, user=user)
    return qid


def run_to_verdict(bot, root, ts, plan, limit=15):
    asked = []
    for _ in range(limit):
        msg = message(bot.fake, CHANNEL_ID, ts)
        if current_question(msg) is None:
            return asked
        asked.append(answer_current(bot, root, ts, plan))
    raise AssertionError(f"no verdict after {asked}")
