"""The guided consultation in a terminal: the same consultation object as Slack, plain text.

The console only reads lines and prints; every step (answer, not sure, back, change,
start over) is an operation of `bot.engine.Consultation`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.engine import Consultation
from bot.engine.answers import accepted, is_not_sure
from bot.engine.assumed import assumption_text
from bot.engine.humanize import shown_value
from bot.explain.markdown import render_markdown
from bot.explain.text import render_text

if TYPE_CHECKING:
    from bot.engine.decision import Decision
    from bot.knowledge import Knowledge, Question

INTRO = (
    "Prompt engineering or fine-tuning? I will ask only what can change the answer.\n"
    "Type ? for help on a question, not sure if you don't know, back to go to the previous\n"
    "question, change to change an earlier answer, start over to begin again, quit to stop.\n"
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


def _show(consultation: Consultation, question: Question, stdout: TextIO) -> None:
    progress = consultation.progress()
    stdout.write(f"\n[{progress}] {question.text}\n")
    if question.kind in ("choice", "model"):
        group = None
        for index, option in enumerate(question.options, start=1):
            if option.group and option.group != group:
                group = option.group
                stdout.write(f"  {group}\n")
            stdout.write(f"    {index}) {option.label}\n")
        stdout.write(f"    (or not sure: {_assumed(consultation, question)})\n")
    elif question.kind == "bool":
        stdout.write(f"    (yes / no / not sure: {_assumed(consultation, question)})\n")
    else:
        stdout.write(f"    ({accepted(question)}; or not sure: "
                     f"{_assumed(consultation, question)})\n")
    if question.id in consultation.answers:
        earlier = shown_value(question, consultation.answers[question.id])
        stdout.write(f"    Your earlier answer: {earlier}. Type a new one, or Enter to keep it.\n")


def _assumed(consultation: Consultation, question: Question) -> str:
    """What "not sure" stands for, and that it may change the verdict."""
    assumed = assumption_text(consultation.knowledge, question, consultation.answers)
    return f"I would assume {assumed}, which may change the verdict"


def _resolve_choice(question: Question, text: str) -> str:
    """Let people type the option's number as well as its value or label."""
    if question.kind in ("choice", "model") and text.isdigit():
        index = int(text) - 1
        if 0 <= index < len(question.options):
            return question.options[index].value
    return text


def _sorry(question: Question, reply: str, reason: str) -> str:
    if question.kind == "model":
        return f"    Sorry, {reason}. Type a number from 1 to {len(question.options)}.\n"
    if question.kind == "choice":
        return (f"    Sorry, {reply!r} is not one of the options: type a number from 1 to "
                f"{len(question.options)}, the option's name, or not sure.\n")
    if question.kind == "bool":
        return "    Sorry, please answer yes or no (or not sure).\n"
    return f"    Sorry, {reason}. Please try again.\n"


SKIP_WORDS = {"", "no", "n", "skip", "quit", "exit", "q"}
DEFAULT_RECORD = "decision-record.md"


def _ask_questions(consultation: Consultation, stdin: TextIO, stdout: TextIO) -> None:
    while (question := consultation.next_question()) is not None:
        _show(consultation, question, stdout)
        reply = _ask(stdin, stdout, "> ")
        lowered = reply.lower()
        if lowered in ("quit", "exit", "q"):
            raise _Quit
        if lowered == "" and question.id in consultation.answers:
            consultation.answer(question.id, consultation.answers[question.id])  # keep it
            continue
        if lowered == "":
            stdout.write("    (type an answer, ? for help, not sure, back or quit)\n")
            continue
        if lowered in ("?", "help"):
            stdout.write(f"    {question.help}\n")
            continue
        if lowered == "back":
            if consultation.back() is None:
                stdout.write("    Nothing to go back to yet.\n")
            continue
        if lowered == "change":
            _change(consultation, stdin, stdout)
            continue
        if lowered in ("start over", "restart"):
            consultation.start_over()
            stdout.write("    Every answer forgotten: from the first question again.\n")
            continue
        if is_not_sure(reply):
            consultation.not_sure(question.id)
            continue
        error = consultation.answer(question.id, _resolve_choice(question, reply))
        if error is not None:
            stdout.write(_sorry(question, reply, error.reason))


def _change(consultation: Consultation, stdin: TextIO, stdout: TextIO) -> None:
    """List the answers so far; the one picked is asked again (its answer kept until a
    new one comes)."""
    knowledge = consultation.knowledge
    answered = [q for q in knowledge.questions if q.id in consultation.answers]
    if not answered:
        stdout.write("    Nothing answered yet.\n")
        return
    for index, question in enumerate(answered, start=1):
        shown = shown_value(question, consultation.answers[question.id])
        stdout.write(f"    {index}) {question.short}: {shown}\n")
    pick = _ask(stdin, stdout, "    Which one? (its number, or Enter to go on) ")
    if pick.isdigit() and 1 <= int(pick) <= len(answered):
        consultation.change(answered[int(pick) - 1].id)
    elif pick:
        stdout.write(f"    Sorry, type a number from 1 to {len(answered)}.\n")


def _save(knowledge: Knowledge, decision: Decision, target: str, stdin: TextIO,
          stdout: TextIO) -> bool:
    """Write the record; False when the person should be asked for another name."""
    path = Path(target).expanduser()
    if path.exists():
        answer = _ask(stdin, stdout, f"{path} exists. Overwrite it? (yes/no) ")
        if answer.lower() not in ("y", "yes"):
            return False
    try:
        path.write_text(render_markdown(decision, knowledge), encoding="utf-8")
    except OSError as error:
        stdout.write(f"Could not write {path}: {error.strerror}.\n")
        return False
    stdout.write(f"Saved {path}\n")
    return True


def run_console(knowledge: Knowledge, stdin: TextIO, stdout: TextIO, today: date) -> int:
    consultation = Consultation(knowledge, today)
    stdout.write(INTRO)
    try:
        while True:
            _ask_questions(consultation, stdin, stdout)
            decision = consultation.decide()
            stdout.write("\n" + render_text(decision))
            while True:
                target = _ask(
                    stdin, stdout,
                    "\nSave the decision record as Markdown? Type a file name, Enter to skip, "
                    "or back to change your last answer: ",
                )
                if target.lower() == "back" or target.lower() in SKIP_WORDS:
                    break
                if target.lower() in ("y", "yes"):
                    named = _ask(stdin, stdout, f"File name [{DEFAULT_RECORD}]: ")
                    target = named or DEFAULT_RECORD
                if _save(knowledge, decision, target, stdin, stdout):
                    return 0
            if target.lower() != "back":
                return 0
            consultation.back()
    except _Quit:
        stdout.write("\nStopped. Nothing was saved.\n")
        return 0
    except KeyboardInterrupt:
        stdout.write("\nStopped. Nothing was saved.\n")
        return 130
