"""The console keeps partial answers as an answers file (`save`, and offered on quit,
Ctrl-D and Ctrl-C) that `decide --answers FILE` and `next` read back exactly."""

from __future__ import annotations

import io
import json

import pytest

from bot.console import run_console
from bot.engine import Consultation
from tests.conftest import TODAY, run_bot

OFFER_END = "or Enter to skip: "
EOF = object()  # Ctrl-D: end of input, after which a terminal still reads


class Terminal:
    """Lines typed at the terminal, in order: a str is a line (Enter included), EOF is
    Ctrl-D, KeyboardInterrupt is Ctrl-C; after the last one, end of input."""

    def __init__(self, *typed):
        self.typed = list(typed)

    def readline(self):
        item = self.typed.pop(0) if self.typed else EOF
        if item is KeyboardInterrupt:
            raise KeyboardInterrupt
        return "" if item is EOF else item + "\n"


def _expected(knowledge, steps) -> Consultation:
    """The same answers given to the engine's consultation directly."""
    probe = Consultation(knowledge, TODAY)
    for question_id, raw in steps:
        assert probe.answer(question_id, raw) is None
    return probe


def _open_weights(knowledge) -> str:
    values = [o.value for o in knowledge.question("model_access").options]
    return str(values.index("open_weights") + 1)


def _decide(path, *extra):
    result = run_bot("decide", "--answers", str(path), *extra)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _decide_same_as(tmp_path, answers: dict) -> str:
    reference = tmp_path / "reference.json"
    reference.write_text(json.dumps(answers))
    return _decide(reference)


def test_save_at_a_question_writes_an_answers_file_that_decides_the_same(knowledge, tmp_path):
    saved = tmp_path / "partial.yaml"
    screen = io.StringIO()
    typed = Terminal("not sure", _open_weights(knowledge), "save", str(saved), "quit")
    assert run_console(knowledge, typed, screen, TODAY) == 0
    shown = screen.getvalue()
    assert f"Saved your answers in {saved}" in shown
    assert OFFER_END not in shown  # nothing new since the save: quitting does not ask again
    probe = _expected(knowledge, [("model", "not_sure"), ("model_access", "open_weights")])
    assert _decide(saved) == _decide_same_as(tmp_path, probe.answers)
    following = run_bot("next", "--answers", str(saved))
    assert json.loads(following.stdout) == {"done": False,
                                            "question": probe.next_question().id}
    assert "--answers" in saved.read_text().splitlines()[1]  # says how to use it


def test_quit_offers_to_save_and_the_file_round_trips(knowledge, tmp_path):
    """Every kind of answer the flow asks (choice, yes/no, whole numbers, not sure)."""
    by_text = {q.text: q.id for q in knowledge.questions}
    replies = {"model": "not sure", "model_access": "open_weights", "gap": "behaviour",
               "format_resisted": "yes", "labelled_examples": "8,000", "prompt_tokens": "6k",
               "monthly_calls": "20M", "smaller_model_wanted": "no"}
    saved = tmp_path / "answers.yaml"
    screen = io.StringIO()
    given = []

    class Person:
        def readline(self):
            shown = screen.getvalue()
            if shown.endswith(OFFER_END):
                return f"{saved}\n"
            last = [line for line in shown.splitlines() if line.startswith("[")][-1]
            qid = by_text[last.split("] ", 1)[1]]
            if qid not in replies or len(given) == 5:
                return "quit\n"
            given.append((qid, replies[qid]))
            return replies[qid] + "\n"

    assert run_console(knowledge, Person(), screen, TODAY) == 0
    assert len(given) >= 3
    assert f"Saved your answers in {saved}" in screen.getvalue()
    probe = _expected(knowledge, given)
    assert _decide(saved) == _decide_same_as(tmp_path, probe.answers)
    decided = json.loads(_decide(saved))
    assert decided["answers"] == json.loads(_decide_same_as(tmp_path, probe.answers))["answers"]
    assert len(decided["answers"]) == len(given)


def test_end_of_input_offers_to_save(knowledge, tmp_path):
    saved = tmp_path / "later.yaml"
    screen = io.StringIO()
    # Ctrl-D at the third question; a terminal still reads after it
    typed = Terminal("not sure", _open_weights(knowledge), EOF, str(saved))
    assert run_console(knowledge, typed, screen, TODAY) == 0
    assert f"Saved your answers in {saved}" in screen.getvalue()
    probe = _expected(knowledge, [("model", "not_sure"), ("model_access", "open_weights")])
    assert _decide(saved) == _decide_same_as(tmp_path, probe.answers)


def test_end_of_a_pipe_saves_nothing(knowledge):
    screen = io.StringIO()
    typed = io.StringIO("not sure\n2\n")
    assert run_console(knowledge, typed, screen, TODAY) == 0
    shown = screen.getvalue()
    assert shown.count(OFFER_END) == 1 and shown.endswith("Stopped. Nothing was saved.\n")


def test_ctrl_c_offers_to_save_and_exits_130(knowledge, tmp_path):
    saved = tmp_path / "interrupted.yaml"
    screen = io.StringIO()
    typed = Terminal("not sure", _open_weights(knowledge), KeyboardInterrupt, str(saved))
    assert run_console(knowledge, typed, screen, TODAY) == 130
    assert f"Saved your answers in {saved}" in screen.getvalue()
    assert saved.exists()

    screen = io.StringIO()  # a second Ctrl-C at the offer: stop, nothing saved
    typed = Terminal("not sure", KeyboardInterrupt, KeyboardInterrupt)
    assert run_console(knowledge, typed, screen, TODAY) == 130
    assert screen.getvalue().endswith("Stopped. Nothing was saved.\n")


def test_nothing_answered_nothing_offered(knowledge):
    screen = io.StringIO()
    assert run_console(knowledge, Terminal("quit"), screen, TODAY) == 0
    assert OFFER_END not in screen.getvalue()
    assert "Stopped. Nothing was saved." in screen.getvalue()


def test_a_json_name_gets_json_and_an_existing_file_is_not_overwritten_unasked(
        knowledge, tmp_path):
    saved = tmp_path / "answers.json"
    saved.write_text("mine")
    screen = io.StringIO()
    typed = Terminal("not sure", "save", str(saved), "no", "save", str(saved), "yes", "quit")
    assert run_console(knowledge, typed, screen, TODAY) == 0
    shown = screen.getvalue()
    assert shown.count("exists. Overwrite it? (yes/no)") == 2
    assert "Not saved." in shown
    assert json.loads(saved.read_text()) == {"model": "not_sure"}
    assert _decide(saved) == _decide_same_as(tmp_path, {"model": "not_sure"})


def test_save_after_the_verdict_keeps_the_answers(knowledge, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    screen = io.StringIO()
    # model 1 settles it on this date; save the answers (default name), then no record
    typed = Terminal("1", "save", "", "")
    assert run_console(knowledge, typed, screen, TODAY) == 0
    assert "File name for your answers [answers.yaml]:" in screen.getvalue()
    saved = tmp_path / "answers.yaml"
    model = knowledge.question("model").options[0].value
    assert _decide(saved) == _decide_same_as(tmp_path, {"model": model})
    assert not list(tmp_path.glob("*.md"))


@pytest.mark.parametrize("name", ["answers.yaml", "answers.json"])
def test_the_console_itself_saves_on_quit_through_a_pipe(knowledge, tmp_path, name):
    saved = tmp_path / name
    result = run_bot("console", stdin=f"not sure\n{_open_weights(knowledge)}\nquit\n{saved}\n")
    assert result.returncode == 0, result.stderr
    assert f"Saved your answers in {saved}" in result.stdout
    probe = _expected(knowledge, [("model", "not_sure"), ("model_access", "open_weights")])
    assert _decide(saved) == _decide_same_as(tmp_path, probe.answers)
