"""Parity: the same answers through the console, `python -m bot next`, the Slack thread
and the modal give the same questions in the same order and the same verdict, because
every surface drives the one consultation object."""

from __future__ import annotations

import io
import json

from bot.console import run_console
from bot.slack.blocks.ids import MODAL_CALLBACK
from tests.conftest import TODAY, run_bot
from tests.support.slack_requests import CHANNEL_ID, USER_ID
from tests.support.surface import mention, message, modal_values, run_to_verdict, wait_until

# One team's truth, as a value per question; "not_sure" where they do not know.
TRUTH = {
    "model": "open:llama-3.1-8b", "model_access": "open_weights", "gap": "behaviour",
    "format_resisted": "yes",
    "labelled_examples": "8000", "prompt_tokens": "6000", "monthly_calls": "20000000",
    "smaller_model_wanted": "no", "latency_critical": "not_sure", "task_type": "format",
    "general_capability_needed": "no", "prompt_engineering_tried": "yes",
    "has_eval_set": "not_sure", "spec_stable": "yes", "deadline": "this_month",
}


def _label(knowledge, qid, value):
    question = knowledge.question(qid)
    if value == "not_sure":
        return "Not sure"
    if question.kind == "bool":
        return "Yes" if value == "yes" else "No"
    if question.kind in ("choice", "model"):
        return question.label_of(value)
    return value


def console_questions(knowledge):
    """The questions the console asks, in order, answering each from TRUTH."""
    by_text = {q.text: q.id for q in knowledge.questions}
    screen = io.StringIO()
    asked: list[str] = []

    class Person:
        def readline(self):
            shown = screen.getvalue()
            if shown.rstrip().endswith("change your last answer:"):
                return "\n"
            last = [line for line in shown.splitlines() if line.startswith("[")][-1]
            qid = by_text[last.split("] ", 1)[1]]
            asked.append(qid)
            return ("not sure" if TRUTH[qid] == "not_sure" else TRUTH[qid]) + "\n"

    assert run_console(knowledge, Person(), screen, TODAY) == 0
    verdict = screen.getvalue().split("Verdict: ", 1)[1].split("(", 1)[1].split(")", 1)[0]
    return asked, verdict


def next_questions(tmp_path):
    """The questions `python -m bot next` gives, answering each from TRUTH."""
    answers: dict[str, str] = {}
    asked = []
    path = tmp_path / "answers.json"
    for _ in range(len(TRUTH) + 1):
        path.write_text(json.dumps(answers))
        result = run_bot("next", "--answers", str(path))
        assert result.returncode == 0, result.stderr
        out = json.loads(result.stdout)
        if out["done"]:
            assert set(out) == {"done", "question", "verdict"} and out["question"] is None
            return asked, out["verdict"]
        assert set(out) == {"done", "question"}
        asked.append(out["question"])
        answers[out["question"]] = TRUTH[out["question"]]
    raise AssertionError(f"next never finished: {asked}")


def thread_questions(bot, knowledge):
    plan = {}
    for qid, value in TRUTH.items():
        question = knowledge.question(qid)
        if value == "not_sure":
            plan[qid] = ("not_sure", "")
        elif question.kind in ("int", "float"):
            plan[qid] = ("type", value)
        elif question.kind == "model" or (question.kind == "choice"
                                          and len(question.options) > 5):
            plan[qid] = ("choose", _label(knowledge, qid, value))
        else:
            plan[qid] = ("click", _label(knowledge, qid, value))
    root, ts = mention(bot, "should we fine-tune this?")
    asked = run_to_verdict(bot, root, ts, plan)
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.thread_ts == root and r.status == "done"), None),
                     what="the thread consultation finished")
    assert "Verdict:" in str(message(bot.fake, CHANNEL_ID, ts)["blocks"])
    return asked, row.decision["verdict"]


def modal_verdict(bot, knowledge):
    before = len(bot.fake.calls_to("views.open"))
    assert bot.sender.command("").status == 200
    view = bot.fake.wait_for("views.open", count=before + 1).arg_json("view")
    typed = {qid: _label(knowledge, qid, value) for qid, value in TRUTH.items()}
    values = modal_values(view, typed)
    r = bot.sender.view_submission(MODAL_CALLBACK, values,
                                   private_metadata=view["private_metadata"])
    assert r.json() == {"response_action": "clear"}
    row = wait_until(lambda: next((r for r in bot.store.recent_for_user(USER_ID)
                                   if r.surface == "modal" and r.status == "done"), None),
                     what="the modal consultation finished")
    return row.decision["verdict"]


def test_every_surface_asks_the_same_questions_and_reaches_the_same_verdict(
    bot, knowledge, tmp_path
):
    console_asked, console_verdict = console_questions(knowledge)
    next_asked, next_verdict = next_questions(tmp_path)
    thread_asked, thread_verdict = thread_questions(bot, knowledge)
    modal = modal_verdict(bot, knowledge)

    assert console_asked == next_asked == thread_asked
    assert len(console_asked) < len(TRUTH)  # the flow stopped early
    assert "has_eval_set" in console_asked  # a "not sure" answer was part of the path
    assert console_verdict == next_verdict == thread_verdict == modal == "prompt_then_fine_tune"
