"""Every text the bot sends to Slack is escaped (`&`, `<`, `>`), the notification `text` of
a message as well as its blocks, and a cut never leaves half a link or half an entity.

Builders are tested as pure functions; the black-box tests run the real server against
FakeSlack (and FakeAnthropic) and read every recorded Web API call."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Settings
from bot.engine import Decision, decide, parse_answers
from bot.engine.consultation import Progress
from bot.slack.blocks import (
    HistoryItem,
    QuestionState,
    check,
    dm_summary,
    history_blocks,
    home_view,
    question_message,
    result_card,
)
from bot.slack.blocks.drift import drift_dm
from bot.slack.blocks.limits import clip, escape, link, section
from tests.conftest import TODAY
from tests.slack.test_surface_thread import PLAN
from tests.support import fake_anthropic as fa
from tests.support.fixtures import make_settings
from tests.support.slack_requests import CHANNEL_ID, USER_ID, message_event
from tests.support.surface import (
    answer_current,
    current_question,
    mention,
    message,
    run_to_verdict,
    wait_until,
)

HOSTILE = "<!channel> & <b>"
ESCAPED = "&lt;!channel&gt; &amp; &lt;b&gt;"
SCENARIO = sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml"))[0]
CID = "0123456789abcdef0123456789abcdef"
# Slack markup the bot may write on purpose: links, mentions, dates, and the 3 entities.
_MARKUP = re.compile(r"<[^<>]*>|&(?:amp|lt|gt);")


def stray(text: str) -> list[str]:
    """`&`, `<` or `>` outside a whole `<...>` token or entity: raw user text, or a token
    cut in half."""
    return re.findall(r"[&<>]", _MARKUP.sub("", text))


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    out: list[str] = []

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") == "mrkdwn":
                out.append(obj["text"])
            for value in obj.values():
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(blocks)
    return out


def assert_clean(text: str, blocks: list[dict[str, Any]]) -> None:
    assert check(blocks) == []
    for t in [text, *mrkdwn_texts(blocks)]:
        assert "<!channel>" not in t and "<b>" not in t
        assert stray(t) == [], t


@pytest.fixture
def decision(knowledge) -> Decision:
    answers, errors = parse_answers(knowledge, yaml.safe_load(SCENARIO.read_text()))
    assert not errors
    return decide(knowledge, answers, TODAY)


def hostile_decision(decision: Decision) -> Decision:
    data = decision.to_dict()
    data["reasons"][0] = {**data["reasons"][0], "text": f"Because {HOSTILE} said so"}
    return Decision.from_dict(data)


# ---------------------------------------------------------------- builders


def test_card_text_is_escaped_for_template_and_phrased_prose(knowledge, decision):
    text, blocks = result_card(hostile_decision(decision), knowledge, consultation_id=CID,
                               owner="U1")
    assert ESCAPED in text
    assert_clean(text, blocks)
    text, blocks = result_card(decision, knowledge, consultation_id=CID, owner="U1",
                               explanation=f"{decision.verdict_label}. {HOSTILE}",
                               explanation_sources=())
    assert text == f"{decision.verdict_label}. {ESCAPED}"
    assert_clean(text, blocks)


def test_dm_summary_text_is_escaped(knowledge, decision):
    text, blocks = dm_summary(hostile_decision(decision), knowledge, consultation_id=CID)
    assert ESCAPED in text
    assert_clean(text, blocks)
    text, blocks = dm_summary(decision, knowledge, consultation_id=CID,
                              explanation=HOSTILE, explanation_sources=())
    assert text.endswith(ESCAPED)
    assert_clean(text, blocks)


@pytest.mark.parametrize("kind", ["verdict_changed", "heads_up"])
def test_drift_dm_text_is_escaped(kind):
    text, blocks = drift_dm(kind=kind, consultation_id=CID, old_verdict="fine_tuning",
                            new_verdict="prompt_engineering", why=HOSTILE,
                            decided_on=date(2026, 1, 2), today=date(2026, 3, 4),
                            thread_link="https://x.example/p", where="<#C1>")
    assert text.endswith(ESCAPED)
    assert_clean(text, blocks)


def test_question_text_is_escaped(knowledge):
    q = knowledge.question("monthly_calls").model_copy(update={"text": f"How many? {HOSTILE}"})
    text, blocks = question_message(knowledge, QuestionState(CID, "U1", q, Progress(2, 5)))
    assert text.endswith(ESCAPED)
    assert_clean(text, blocks)


def test_notification_text_cut_never_splits_an_entity(knowledge, decision):
    head = f"{decision.verdict_label}. "
    for pad in range(290 - len(head), 300 - len(head)):  # the cut lands on each "&amp;" offset
        long = head + "x" * pad + " & more & more"
        text, _ = result_card(decision, knowledge, consultation_id=CID, owner="U1",
                              explanation=long, explanation_sources=())
        assert len(text) <= 300 and stray(text) == [], text[-12:]


def test_clip_cuts_before_a_link_or_an_entity():
    text = "a" * 2990 + " <https://x.example/" + "p" * 50 + "|the link> tail"
    assert clip(text, 3000) == "a" * 2990 + "\u2026"
    text = "b" * 2997 + "&amp; tail"
    assert clip(text, 3000) == "b" * 2997 + "\u2026"
    text = "c" * 2994 + "&amp; tail"  # the entity fits whole
    assert clip(text, 3000) == "c" * 2994 + "&amp;\u2026"
    assert clip("plain text, no markup at all", 10) == "plain tex\u2026"


def test_history_line_cut_keeps_links_and_entities_whole():
    when = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    long_link = HistoryItem("fine_tuning", "Fine-tune", "done", when, "<#C1>",
                            "https://x.example/" + "p" * 3000)
    for drift in ("& " * 1500, "x" * 2890 + " " + "& " * 100, HOSTILE * 300):
        entity = HistoryItem("fine_tuning", "Fine-tune", "done", when, "<#C1>",
                             "https://x.example/p", drift=drift)
        for blocks in (history_blocks([long_link, entity]),
                       home_view([long_link, entity], knowledge_version="v1",
                                 knowledge_as_of="2026-11-29")["blocks"]):
            assert check(blocks) == []
            for t in mrkdwn_texts(blocks):
                assert len(t) <= 3000 and stray(t) == [], t[-40:]
    (line,) = [t for t in mrkdwn_texts(history_blocks([long_link])) if "Fine-tune" in t]
    assert "<https://" not in line  # the link did not fit: left out, not cut open


def test_link_url_cannot_break_out():
    assert link("https://e.x/a<b>|c", "T") == "<https://e.x/a%3Cb%3E%7Cc|T>"
    assert stray(section(link("https://e.x/<x>", HOSTILE))["text"]["text"]) == []


def test_escape_round_trip():
    assert escape(HOSTILE) == ESCAPED


# ---------------------------------------------------------------- through the server


def sent_texts(fake) -> list[tuple[str, str]]:
    """(method, text) for the `text`, `blocks` and `view` of every call the bot made."""
    out = []
    for call in fake.calls_to():
        for name in ("text", "blocks", "view"):
            value = call.arg(name)
            if value is not None:
                out.append((call.method, value if isinstance(value, str) else json.dumps(value)))
    return out


def raw_leaks(fake) -> list[tuple[str, str]]:
    return [(m, t) for m, t in sent_texts(fake) if "<!channel>" in t or "<b>" in t
            or " & " in t]


def test_typed_markup_in_a_thread_never_reaches_slack_raw(bot):
    fake = bot.fake
    root, ts = mention(bot, f"should we fine-tune? {HOSTILE}")
    for _ in range(15):
        qid = current_question(message(fake, CHANNEL_ID, ts))
        if qid is None:
            break
        if PLAN[qid][0] == "type":  # a typed number: the bot answers what it could not read
            before = len(fake.calls_to("chat.postEphemeral"))
            bot.sender.event(message_event(HOSTILE, thread_ts=root, user=USER_ID))
            wait_until(lambda n=before: len(fake.calls_to("chat.postEphemeral")) > n,
                       what="the note on the typed answer")
        answer_current(bot, root, ts, PLAN)
    assert current_question(message(fake, CHANNEL_ID, ts)) is None
    wait_until(lambda: [c for c in fake.ok_calls("chat.postMessage")
                        if str(c.arg("channel")).startswith("D")], what="the DM summary")
    assert fake.calls_to("chat.postEphemeral")
    assert raw_leaks(fake) == []


def test_phrased_markup_never_reaches_the_notification_text(
    bot_factory, fake_slack, sqlite_url, monkeypatch
):
    """Checked LLM phrasing with `&` and `<...>` in it: the card's and the DM's
    `chat.update` carry it escaped in `text` as in the blocks."""

    def content(body):
        blocks = fa.faithful_content(body, budget_chars=500)
        facts = fa.request_facts(body)
        index = next(i for i, f in enumerate(facts) if f.startswith("Reason:"))
        extra = fa.faithful_content(body)[2]
        extra = {**extra, "text": f" That holds for style {HOSTILE} format alike.",
                 "citations": [{**extra["citations"][0], "start_block_index": index,
                                "end_block_index": index + 1}]}
        return [blocks[0], extra, *blocks[1:]]  # early: inside the 300-character `text`

    with fa.FakeAnthropic() as api:
        api.script(fa.custom(content))
        monkeypatch.setenv("ANTHROPIC_API_KEY", "dummy-anthropic-key-for-escaping-0123")
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
        monkeypatch.setenv("BOT_LLM_TIMEOUT_S", "2")
        base = make_settings(fake_slack, sqlite_url)
        keep = ("slack_bot_token", "slack_signing_secret", "slack_app_token",
                "slack_api_url", "database_url", "log_level", "slack_listener_threads")
        bot = bot_factory(Settings(_env_file=None, **{k: getattr(base, k) for k in keep}))
        root, ts = mention(bot, "should we fine-tune?")
        run_to_verdict(bot, root, ts, PLAN)
        fake_slack.wait_for("chat.update", timeout=10,
                            predicate=lambda c: "holds for style" in str(c.arg("text") or "")
                            and str(c.arg("channel")).startswith("D"))
    updated = [c.arg("text") for c in fake_slack.ok_calls("chat.update")
               if "holds for style" in str(c.arg("text") or "")]
    assert len(updated) == 2  # the card and the DM, both phrased
    assert all(ESCAPED in t for t in updated)
    assert raw_leaks(fake_slack) == []
