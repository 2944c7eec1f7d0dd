"""Block Kit builders as pure functions: content, round trips and Slack's limits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from bot.engine import NOT_SURE, Consultation, Decision, decide, parse_answers
from bot.engine.consultation import Progress
from bot.slack.blocks import (
    HistoryItem,
    QuestionState,
    assumptions_modal,
    check,
    consultation_modal,
    dm_summary,
    help_blocks,
    history_blocks,
    home_view,
    question_message,
    read_submission,
    result_card,
)
from bot.slack.blocks.ids import base_of, pack, unpack
from bot.slack.blocks.limits import bullets, clip, escape, fit_blocks, link, section
from tests.conftest import TODAY
from tests.support.surface import all_text, modal_values

SCENARIOS = sorted((Path(__file__).parents[1] / "scenarios").glob("*.yaml"))
CID = "0123456789abcdef0123456789abcdef"


def decision_for(knowledge, path):
    answers, errors = parse_answers(knowledge, yaml.safe_load(path.read_text()))
    assert not errors
    return decide(knowledge, answers, TODAY)


def submitted(knowledge, values):
    """A modal submission read back through the consultation object: (answers, errors)."""
    got = read_submission(knowledge, values)
    state = Consultation(knowledge, TODAY)
    errors = state.submit(got.raw)
    return state.answers, errors, got.private


def huge_decision(knowledge):
    """A decision far past every limit: 60 long reasons with many sources, and so on."""
    base = decision_for(knowledge, SCENARIOS[0]).to_dict()
    item = {"rule": "r", "text": "x <&> " * 400, "sources": [s.id for s in knowledge.sources]}
    return Decision.from_dict({
        **base,
        "summary": "s" * 5000,
        "verdict_label": "L" * 400,
        "reasons": [item] * 60,
        "conditions": [item] * 60,
        "cautions": [item] * 60,
        "advice": [item] * 60,
        "counterfactuals": [{"question": "q", "value": 1, "verdict": "v", "text": "c" * 900}] * 40,
        "assumptions": [{"question": "q", "value": 1, "text": "a" * 500, "source": "seed"}] * 30,
    })


# ---------------------------------------------------------------- modal


def test_modal_has_every_question_and_fits(knowledge):
    view = consultation_modal(knowledge)
    assert check(view) == []
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids[0] == "ptf_private"  # who sees the result comes first
    assert ids[1:] == [q.id for q in knowledge.asked_questions]  # a short form
    text = all_text(view["blocks"])
    assert "More assumptions" in text and "the usual ones" in text
    # the cost assumptions: a second modal, pushed from the button
    pushed = assumptions_modal(knowledge, {}, "")
    assert check(pushed) == []
    hints = {b["block_id"]: b["hint"]["text"] for b in pushed["blocks"] if b["type"] == "input"}
    assert set(hints) == {q.id for q in knowledge.questions if not q.ask}
    assert "If empty or not sure: the figure of the route" in hints["hosting_usd_per_month"]
    assert "If empty or not sure: 25%" in hints["tuned_prompt_share"]
    assert "Claude Haiku 4.5" in hints["input_price_per_mtok"]


def test_modal_prefill_round_trips(knowledge):
    answers = {
        "model_access": "open_weights", "gap": "behaviour", "format_resisted": True,
        "labelled_examples": 8000, "prompt_tokens": 6000, "monthly_calls": 20_000_000,
        "has_eval_set": False, "deadline": "this_week", "task_type": "format",
        "cacheable_share": 0.5, "hosting_usd_per_month": 0.0, "input_price_per_mtok": 2.5,
        "model": "open:llama-3.1-8b", "fine_tuned_price_multiplier": 1.0,
        "output_tokens": 250, "variable_input_tokens": 1200,
    }
    answers["spec_stable"] = NOT_SURE
    answers["smaller_model_wanted"] = NOT_SURE
    answers["monthly_calls"] = NOT_SURE
    answers["training_cost_usd"] = 2151305.67  # every digit comes back
    view = consultation_modal(knowledge, prefill=answers, understood=["a", "b"])
    pushed = assumptions_modal(knowledge, answers, "")
    assert check(view) == [] and check(pushed) == []
    got, errors, private = submitted(knowledge, modal_values(view, {}))
    more, more_errors, _ = submitted(knowledge, modal_values(pushed, {}))
    assert errors == {} == more_errors and private is False
    assert {**got, **more} == answers
    assert not set(got) & set(more)  # each answer is in one of the two


def test_read_submission_errors_per_field_and_private(knowledge):
    from bot.slack.blocks.modal import field_errors

    view = consultation_modal(knowledge)
    values = modal_values(view, {"prompt_tokens": "6k", "monthly_calls": "many",
                                 "ptf_private": "Only me"})
    values.update(modal_values(assumptions_modal(knowledge, {}, ""), {"cacheable_share": "2"}))
    got, errors, private = submitted(knowledge, values)
    assert got == {"prompt_tokens": 6000}
    shown = field_errors(errors)
    assert set(shown) == {"monthly_calls", "cacheable_share"}
    assert "accepted" in shown["monthly_calls"]
    assert private is True


def test_every_modal_question_offers_not_sure(knowledge):
    view = consultation_modal(knowledge)
    for block in view["blocks"]:
        if block["type"] != "input" or block["block_id"] == "ptf_private":
            continue
        element = block["element"]
        if element["type"] == "plain_text_input":
            assert "not sure" in element["placeholder"]["text"]
        else:
            options = element.get("options") or [
                o for group in element["option_groups"] for o in group["options"]]
            assert "not_sure" in [o["value"] for o in options], block["block_id"]


def test_read_submission_ignores_junk(knowledge):
    got, errors, _ = submitted(knowledge, {"nope": {"x": {}}, "prompt_tokens": "weird",
                                           "deadline": {"value": {"selected_option": None}}})
    assert got == {} and errors == {}


# ---------------------------------------------------------------- question message


@pytest.mark.parametrize("qid", ["model_access", "task_type", "has_eval_set", "monthly_calls"])
def test_question_message_per_kind(knowledge, qid):
    q = knowledge.question(qid)
    answers = {x.id: x.assume for x in knowledge.asked_questions
               if x.id != qid and x.assume is not None}
    state = QuestionState(CID, "U1", q, Progress(3, 7), answers,
                          read={"prompt_tokens": "prompt length: 6,000"}, notes=["a note"],
                          bot_user_id="UBOT", can_go_back=True)
    text, blocks = question_message(knowledge, state)
    assert check(blocks) == []
    assert q.text in text
    body = all_text(blocks)
    assert "Only <@U1> can answer" in body and "<@UBOT>" in body and "Change an answer" in body
    assert "Question 3 of at most 7" in body and "Back" in body
    assert "I read:* prompt length: 6,000" in body and "may change the verdict" in body
    (read,) = [b for b in blocks if base_of(b.get("block_id")) == "ptf_read"]
    assert read["accessory"]["action_id"] == "ptf_change_read"  # "(change)": asks it again
    assert unpack(read["accessory"]["options"][0]["value"], 2) == [CID, "prompt_tokens"]
    elements = [el for b in blocks if base_of(b.get("block_id")) == "ptf_q" for el in b["elements"]]
    values = [unpack(el.get("value"), 3) for el in elements if el["type"] == "button"]
    if q.kind == "choice" and len(q.options) > 5:
        assert elements[0]["type"] == "static_select"
        assert len(elements[0]["options"]) == len(q.options)
    elif q.kind in ("choice", "bool"):
        assert [v[1] for v in values if v] == [qid] * (len(q.options) or 2)
    else:
        assert "Type your answer as a reply in this thread" in body
    skip = [el for el in elements if el["action_id"] == "ptf_skip"]
    assert skip and unpack(skip[0]["value"], 2) == [CID, qid]


def test_question_shows_the_current_answer_when_changing(knowledge):
    q = knowledge.question("model_access")
    state = QuestionState(CID, "U1", q, Progress(1, 9), {"model_access": "open_weights"})
    _, blocks = question_message(knowledge, state)
    assert "*Current answer:* Open-weights model" in all_text(blocks)
    chosen = [el for b in blocks if base_of(b.get("block_id")) == "ptf_q" for el in b["elements"]
              if el.get("style") == "primary"]
    assert [el["text"]["text"] for el in chosen] == ["Open-weights model"]


# ---------------------------------------------------------------- card and summary


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_card_and_summary_for_every_scenario(knowledge, path):
    decision = decision_for(knowledge, path)
    for thread in (False, True):
        text, blocks = result_card(decision, knowledge, consultation_id=CID, owner="U1",
                                   thread=thread, adjustable=not thread)
        assert check(blocks) == []
        body = all_text(blocks)
        assert f"Verdict: {decision.verdict_label}" in body
        assert decision.reasons[0].text in body or decision.summary in body
        if decision.has_volume:
            assert "*Break-even*" in body or "no route remains" in body
        assert text and len(text) <= 300
        # the card says the knowledge's date, not its version hash (the DM has both)
        assert f"knowledge as of {decision.knowledge_as_of}" in body
        assert decision.knowledge_version not in body
    text, blocks = dm_summary(decision, knowledge, consultation_id=CID,
                              permalink="https://x.example/p1", where="<#C1>")
    assert check(blocks) == []
    body = all_text(blocks)
    for reason in decision.reasons:
        assert escape(reason.text) in body  # every reason, with its sources
    assert "<https://x.example/p1|Back to the consultation> in <#C1>" in body
    assert decision.knowledge_version in body


def test_limits_hold_for_a_huge_decision(knowledge):
    decision = huge_decision(knowledge)
    _, card = result_card(decision, knowledge, consultation_id=CID, owner="U1", thread=True)
    _, summary = dm_summary(decision, knowledge, consultation_id=CID, note="n" * 4000)
    assert check(card) == [] and check(summary) == []
    assert len(summary) <= 50
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in card + summary)


def test_home_and_history_fit_with_many_items(knowledge):
    when = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    items = [HistoryItem("fine_tuning", "Fine-tune", "done", when, "<#C1>",
                         f"https://x.example/{i}") for i in range(200)]
    items.append(HistoryItem(None, None, "open", when, "<#C2>"))
    view = home_view(items, knowledge_version="v1", knowledge_as_of="2026-11-29")
    assert check(view) == []
    assert "Knowledge v1" in all_text(view["blocks"])
    blocks = history_blocks(items)
    assert check(blocks) == [] and "<https://x.example/0|open>" in all_text(blocks)
    assert "In progress" in all_text(history_blocks(items[-1:]))
    assert "no consultations yet" in all_text(history_blocks([]))
    assert check(help_blocks(command="/ptf")) == []


# ---------------------------------------------------------------- limits helpers


def test_check_finds_violations():
    assert check([section("x")] * 51)
    assert check([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}])
    assert check([{"type": "actions", "block_id": "a", "elements": [
        {"type": "static_select", "action_id": "s", "options": [
            {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
            for i in range(76)]}]}])
    assert check({"type": "modal", "title": {"type": "plain_text", "text": "t" * 25},
                  "blocks": []})


def test_text_helpers():
    assert clip("abcdef", 4) == "abc\u2026" and clip("abc", 4) == "abc"
    assert escape("<a & b>") == "&lt;a &amp; b&gt;"
    assert link("https://e.x/a", "T|<x>") == "<https://e.x/a|T\u2223&lt;x&gt;>"
    assert link(None, "T") == "T"
    text = bullets([f"line {i} " + "y" * 100 for i in range(100)], title="*T*", limit=500)
    assert len(text) <= 500 and text.endswith("more")
    assert len(fit_blocks([section("x")] * 80)) == 50
    assert unpack(pack("a", "b", "c|d"), 3) == ["a", "b", "c|d"]
    assert unpack("a", 3) is None and unpack(None, 2) is None


def test_template_prose_is_not_repeated(knowledge):
    decision = decision_for(knowledge, SCENARIOS[0])
    label, first = decision.verdict_label, decision.reasons[0].text
    assert decision.summary == f"{label}. {first}"  # what the template is made of
    for build in (
        lambda **kw: result_card(decision, knowledge, consultation_id=CID, owner="U1", **kw),
        lambda **kw: dm_summary(decision, knowledge, consultation_id=CID, **kw),
    ):
        blocks = build()[1]
        body = all_text(blocks)
        assert body.count(escape(first)) == 1
        assert blocks[0]["type"] == "header" and label in blocks[0]["text"]["text"]
        assert label not in blocks[1]["text"]["text"]  # the paragraph does not say it again
        # checked LLM phrasing is its own text: every reason is listed under it
        phrased = all_text(build(explanation="P.", explanation_sources=["seed"])[1])
        assert phrased.count(escape(first)) == 1 and "P." in phrased


def test_dm_cost_table_leaves_out_caching_when_nothing_is_cached(knowledge):
    from bot.explain.text import cost_rows

    base = {"model": "openai:gpt-4.1-mini", "prompt_tokens": 6000, "monthly_calls": 2_000_000}

    def labels_and_values(**extra):
        answers, errors = parse_answers(knowledge, {**base, **extra})
        assert not errors
        return " ".join(f"{label} {value}" for label, value in
                        cost_rows(decide(knowledge, answers, TODAY)))

    plain = labels_and_values()
    assert "Prompting, all in, a month" in plain and "with caching" not in plain
    assert "with caching" in labels_and_values(cacheable_share="50%")
    assert "with caching" not in labels_and_values(cacheable_share="0")


def test_modal_privacy_choice_defaults_to_private_and_is_offered_only_where_it_matters(
        knowledge):
    def has_checkbox(view):
        return any(b.get("block_id") == "ptf_private" for b in view["blocks"])

    assert has_checkbox(consultation_modal(knowledge))
    assert not has_checkbox(consultation_modal(knowledge, offer_private=False))
    ticked = consultation_modal(knowledge, private=True)
    assert read_submission(knowledge, modal_values(ticked, {})).private is True
    public = consultation_modal(knowledge, private=False)
    assert read_submission(knowledge, modal_values(public, {})).private is False
    chose = modal_values(ticked, {"ptf_private": "Everyone in the channel"})
    assert read_submission(knowledge, chose).private is False
    # a form opened before the choice was a radio still reads (a ticked checkbox)
    legacy = {"ptf_private": {"private": {"type": "checkboxes",
                                          "selected_options": [{"value": "private"}]}}}
    assert read_submission(knowledge, legacy).private is True


def test_closed_message_fits():
    from bot.slack.blocks.question import closed_message

    text, blocks = closed_message("/ptf")
    assert check(blocks) == [] and "closed" in text and "/ptf" in all_text(blocks)


def test_app_home_says_when_the_history_cannot_be_loaded():
    from bot.slack.blocks import home_view

    view = home_view([], knowledge_version="v", knowledge_as_of="2026-11-29",
                     history_unavailable=True)
    text = all_text(view["blocks"])
    assert "can't load your consultations right now" in text
    assert "Nothing yet" not in text


def test_a_question_message_gets_new_block_ids_when_what_it_shows_changes(knowledge):
    """Slack keeps a select's earlier choice across chat.update unless its block_id
    changes; the same state renders the same ids (an update that changes nothing)."""
    from bot.engine import Consultation
    from bot.slack.blocks import question_message
    from bot.slack.blocks.question import QuestionState
    from tests.conftest import TODAY

    def render(state: Consultation) -> list[str]:
        q = state.next_question()
        progress = state.progress()
        assert q is not None and progress is not None
        qs = QuestionState(consultation_id=CID, owner="U1", question=q, progress=progress,
                           answers=state.answers, read=dict(state.prefilled),
                           notes=list(state.notes), bot_user_id="B1", command="/ptf",
                           can_go_back=state.can_go_back())
        return [b["block_id"] for b in question_message(knowledge, qs)[1] if "block_id" in b]

    state = Consultation(knowledge, TODAY)
    state.read("llama 3.1 8b, 6k token prompt, 20M calls a month")
    first = render(state)
    assert first == render(state)
    assert {base_of(b) for b in first} >= {"ptf_question", "ptf_q"}
    question = state.next_question()
    assert question is not None and question.kind in ("bool", "choice")
    state.answer(question.id, question.options[0].value if question.options else "yes")
    assert not set(render(state)) & set(first)


def test_an_answer_shown_in_a_select_or_radio_can_be_cleared(knowledge):
    from bot.engine import Consultation
    from bot.slack.blocks.modal import CLEAR_LABEL
    from tests.conftest import TODAY

    state = Consultation(knowledge, TODAY)
    assert state.submit({"deadline": "this_week", "format_resisted": "yes",
                         "model": "open:llama-3.1-8b"}) == {}
    view = consultation_modal(knowledge, prefill=state.answers)
    cleared = modal_values(view, {"deadline": CLEAR_LABEL, "format_resisted": CLEAR_LABEL,
                                  "model": CLEAR_LABEL})
    submission = read_submission(knowledge, cleared)
    assert state.submit(submission.raw) == {}
    assert not {"deadline", "format_resisted", "model"} & set(state.answers)
    # nothing to clear on an empty form
    assert CLEAR_LABEL not in all_text(consultation_modal(knowledge)["blocks"])
