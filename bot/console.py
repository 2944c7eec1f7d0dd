"""The guided consultation in a terminal: same flow object as Slack, plain text."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.engine import Consultation, decide
from bot.engine.answers import accepted
from bot.explain.markdown import render_markdown
from bot.explain.text import render_text

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question

INTRO = (
    "Prompt engineering or fine-tuning? I will ask only what can change the answer.\n"
    "Type ? for help on a question, back to change the previous answer, quit to stop.\n"
)


class _Quit(Exception):
    pass


def _ask(stdin: TextIO, stdout: TextIO, prompt: str) -> str:
    stdout.write(prompt)
    stdout.flush()
    line = stdin.readline()
    if not line:  # end of input behaves like quit
        raise _Quit
    return line.strip()


def _show(question: Question, number: int, stdout: TextIO) -> None:
    stdout.write(f"\n[{number}] {question.text}\n")
    if question.kind == "choice":
        for index, option in enumerate(question.options, start=1):
            stdout.write(f"    {index}) {option.label}\n")
    elif question.kind == "bool":
        stdout.write("    (yes / no)\n")
    else:
        stdout.write(f"    ({accepted(question)})\n")


def _resolve_choice(question: Question, text: str) -> str:
    """Let people type the option's number as well as its value or label."""
    if question.kind == "choice" and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(question.options):
            return question.options[index].value
    return text


def run_console(knowledge: Knowledge, stdin: TextIO, stdout: TextIO) -> int:
    consultation = Consultation(knowledge)
    stdout.write(INTRO)
    try:
        while (question := consultation.next_question()) is not None:
            _show(question, len(consultation.history) + 1, stdout)
            reply = _ask(stdin, stdout, "> ")
            lowered = reply.lower()
            if lowered in ("quit", "exit", "q"):
                raise _Quit
            if lowered in ("?", "help"):
                stdout.write(f"    {question.help}\n")
                continue
            if lowered == "back":
                undone = consultation.back()
                if undone is None:
                    stdout.write("    Nothing to go back to yet.\n")
                continue
            error = consultation.apply(question.id, _resolve_choice(question, reply))
            if error is not None:
                stdout.write(f"    Sorry, {error.reason}. Please try again.\n")
        decision = decide(knowledge, consultation.answers).to_dict()
        stdout.write("\n" + render_text(decision))
        target = _ask(
            stdin, stdout, "\nSave the decision record as Markdown? File name (Enter to skip): "
        )
        if target:
            path = Path(target).expanduser()
            try:
                path.write_text(render_markdown(decision, knowledge), encoding="utf-8")
            except OSError as error:
                stdout.write(f"Could not write {path}: {error.strerror}\n")
                return 1
            stdout.write(f"Saved {path}\n")
    except (_Quit, KeyboardInterrupt):
        stdout.write("\nStopped. Nothing was saved.\n")
    return 0
