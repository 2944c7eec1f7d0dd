"""The CLI's manners (issue 14): --version, the program's name, help on every option,
answers on stdin, "did you mean", YAML errors with line and column, duplicate keys, and a
missing knowledge folder said once."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import _parser, main
from bot.engine import parse_answers
from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ROOT, run_bot

SCENARIOS = ROOT / "tests" / "scenarios"
READY = SCENARIOS / "open_weights_ready.yaml"


def _stderr_lines(result: subprocess.CompletedProcess) -> list[str]:
    return result.stderr.strip().splitlines()


# ----------------------------------------------------------------- --version, prog


def test_version_prints_the_distribution_and_its_version():
    result = run_bot("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ptf-bot {importlib.metadata.version('ptf-bot')}\n"


@pytest.mark.parametrize(("argv0", "shown"), [
    ("/usr/local/bin/ptf-bot", "ptf-bot"),
    ("/opt/venv/Scripts/ptf-bot.exe", "ptf-bot"),
    (str(ROOT / "bot" / "__main__.py"), "python -m bot"),
])
def test_the_usage_line_names_the_program_as_invoked(monkeypatch, capsys, argv0, shown):
    monkeypatch.setattr(sys, "argv", [argv0, "decide", "--help"])
    with pytest.raises(SystemExit) as done:
        main(["decide", "--help"])
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {shown} decide ")


def test_python_m_bot_and_the_console_script_say_their_own_names():
    assert run_bot("next", "--help").stdout.startswith("usage: python -m bot next ")
    script = Path(sys.executable).parent / "ptf-bot"
    if not script.exists():
        pytest.skip(f"the console script is not installed next to {sys.executable}")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: ptf-bot ")


# ---------------------------------------------------------------------------- help


def _every_parser(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _every_parser(child)


SILENT = (argparse._HelpAction, argparse._SubParsersAction)


def test_every_option_of_every_command_has_help_with_its_default():
    parsers = list(_every_parser(_parser()))
    assert len(parsers) >= 12  # the root, 7 commands, knowledge's 2, db's 2
    for parser in parsers:
        text = " ".join(parser.format_help().split())
        for action in parser._actions:
            if isinstance(action, SILENT):
                continue
            name = f"{parser.prog} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help != argparse.SUPPRESS, f"{name}: no help"
            if action.default not in (None, False, argparse.SUPPRESS):
                assert f"(default: {action.default})" in text, f"{name}: default not shown"
            if "--knowledge-dir" in action.option_strings:
                assert "KNOWLEDGE_DIR" in action.help, name
            if "--today" in action.option_strings:
                assert "BOT_TODAY" in action.help, name


def test_every_command_has_a_description_in_its_help():
    for parser in _every_parser(_parser()):
        assert parser.description, parser.prog


# ----------------------------------------------------------------- answers on stdin


def test_decide_and_next_read_the_answers_from_stdin():
    text = READY.read_text()
    from_file = run_bot("decide", "--answers", str(READY))
    from_stdin = run_bot("decide", "--answers", "-", stdin=text)
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout
    as_json = json.dumps({"model": "not_sure", "model_access": "closed_no_fine_tuning"})
    following = run_bot("next", "--answers", "-", stdin=as_json)
    assert following.returncode == 0, following.stderr
    assert json.loads(following.stdout) == {"done": True, "question": None,
                                            "verdict": "prompt_engineering"}
    empty = run_bot("next", "--answers", "-", stdin="")
    assert json.loads(empty.stdout) == {"done": False, "question": "model"}


def test_bad_answers_on_stdin_are_named_as_stdin():
    result = run_bot("decide", "--answers", "-", stdin="prompt_tokens: [6k\n")
    assert result.returncode == 2 and result.stdout == ""
    assert len(_stderr_lines(result)) == 1
    assert "answers: stdin is not valid YAML or JSON: line 2, column 1:" in result.stderr


# ------------------------------------------------------------------- did you mean


def test_a_mistyped_id_gets_did_you_mean(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("prompt_tokns: 6k\nMonthly-Calls: 20M\ncolour: blue\n")
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    lines = _stderr_lines(result)
    assert len(lines) == 3
    by_id = {line.split(":")[1].strip(): line for line in lines}
    assert "unknown question id (did you mean prompt_tokens?)" in by_id["prompt_tokns"]
    assert "(did you mean monthly_calls?)" in by_id["Monthly-Calls"]
    assert "did you mean" not in by_id["colour"]
    assert all("known ids: model, " in line for line in lines)  # what is accepted


def test_the_engine_suggests_the_closest_ids(knowledge):
    _, errors = parse_answers(knowledge, {"labeled_examples": 800, "prompt_token": "6k"})
    reasons = {e.question: e.reason for e in errors}
    assert reasons["labeled_examples"].startswith(
        "unknown question id (did you mean labelled_examples?)")
    assert reasons["prompt_token"].startswith("unknown question id (did you mean prompt_tokens")


# -------------------------------------------------------- YAML errors, duplicate keys


def test_a_yaml_error_in_an_answers_file_says_line_and_column(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("model: open:llama-3.1-8b\ngap: [behaviour\nprompt_tokens: 6k\n")
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = _stderr_lines(result)
    assert line.startswith(f"answers: {answers} is not valid YAML or JSON: line ")
    assert ", column " in line


def test_a_json_error_in_an_answers_file_says_line_and_column(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text('{\n  "prompt_tokens": 6000,\n}\n')
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = _stderr_lines(result)
    assert line.startswith(f"answers: {answers} is not valid YAML or JSON: line 3, column 1:")


def test_an_answer_given_twice_is_an_error_naming_the_id_and_lines(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("prompt_tokens: 6k\nmonthly_calls: 20M\nprompt_tokens: 7k\n"
                       "deadline: yesterday\n")
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    lines = _stderr_lines(result)
    assert len(lines) == 2  # the duplicate, and the bad deadline: every problem at once
    assert any(line.startswith("answers: prompt_tokens: given twice (line 1 and line 3")
               and "accepted: one value per question id" in line for line in lines)
    assert any(line.startswith("answers: deadline:") for line in lines)
    following = run_bot("next", "--answers", str(answers))
    assert following.returncode == 2 and following.stdout == ""


def test_an_answer_given_twice_in_json_is_an_error(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text('{"prompt_tokens": 6000, "prompt_tokens": 7000}')
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = _stderr_lines(result)
    assert line.startswith("answers: prompt_tokens: given twice")


@pytest.fixture
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_a_key_twice_in_a_knowledge_entry_names_the_entry_line_and_key(knowledge_copy):
    _edit(knowledge_copy / "questions.yaml", '    short: "model access"\n',
          '    short: "model access"\n    short: "access"\n')
    _edit(knowledge_copy / "manifest.yaml", 'version: "2026.12.02"',
          'version: "2026.12.02"\nversion: "again"')
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith("questions.yaml: model_access (line ") and ", column " in p
               and "the key 'short' is written twice (first on line " in p for p in found)
    assert any(p.startswith("manifest.yaml: line ") for p in found)  # both files at once


def test_bad_knowledge_stops_serve_with_file_entry_and_reason(knowledge_copy):
    _edit(knowledge_copy / "questions.yaml", '    short: "model access"\n',
          '    short: "model access"\n    short: "access"\n')
    result = run_bot("serve", env={"KNOWLEDGE_DIR": str(knowledge_copy)})
    assert result.returncode == 2 and result.stdout == ""
    assert "knowledge: questions.yaml: model_access (line " in result.stderr
    assert "'short' is written twice" in result.stderr


# ------------------------------------------------------------- a missing folder


def test_knowledge_check_on_a_missing_folder_says_so_once(tmp_path):
    missing = tmp_path / "nonexistent"
    result = run_bot("knowledge", "check", "--knowledge-dir", str(missing))
    assert result.returncode == 2 and result.stdout == ""
    assert _stderr_lines(result) == [
        f"knowledge: {missing}: (folder): does not exist; set --knowledge-dir or "
        "KNOWLEDGE_DIR to a folder of knowledge files"]


def test_knowledge_check_on_a_file_or_an_empty_folder_says_so_once(tmp_path):
    a_file = tmp_path / "rules.yaml"
    a_file.write_text("rules: []\n")
    result = run_bot("knowledge", "check", "--knowledge-dir", str(a_file))
    assert result.returncode == 2
    assert len(_stderr_lines(result)) == 1 and "is not a folder" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_bot("knowledge", "check", "--knowledge-dir", str(empty))
    assert result.returncode == 2
    (line,) = _stderr_lines(result)
    assert "has none of the knowledge files (manifest.yaml, " in line


def test_a_folder_missing_one_file_names_that_file(knowledge_copy):
    (knowledge_copy / "criteria.yaml").unlink()
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(knowledge_copy)
    assert [str(p) for p in caught.value.problems] == [
        "criteria.yaml: (file): cannot be read: No such file or directory"]

