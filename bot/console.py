"""The guided consultation in a terminal: the same consultation object as Slack, plain text.

The console only reads lines and prints; every step (answer, not sure, back, change,
start over) is an operation of `bot.engine.Consultation`. The answers so far can be kept
as an answers file (`save`, and offered on quit, end of input and Ctrl-C) that
`python -m bot decide --answers FILE` and `next` read back exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.engine import Consultation
from bot.engine.answers import NOT_SURE, accepted, is_not_sure
from bot.engine.assumed import assumption_text
from bot.engine.humanize import shown_value
from bot.explain.markdown import render_markdown
from bot.explain.text import render_text

if TYPE_CHECKING:
    from bot.engine.decision import Decision
    from bot.knowledge import Knowledge, Question

INTRO = (
    "Prompt engineering or fine-tuning? I will ask only what can change the answer.\n"
    "Answer each question, or describe your task in a sentence at any of them (\"we use\n"
    "gpt-4.1 mini, 5k examples, ship Friday\"): what I can read from it counts as answered.\n"
    "Type ? for help on a question, not sure if you don't know, back to go to the previous\n"
    "question, change to change an earlier answer, start over to begin again, save to keep\n"
    "your answers in a file (decide --answers FILE reads it), quit to stop.\n"
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
        if NOT_SURE not in question.option_values():  # else it is one of the options
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
QUIT_WORDS = {"quit", "exit", "q"}
SAVE_WORDS = {"save", "save answers", "answers"}
DEFAULT_RECORD = "decision-record.md"
DEFAULT_ANSWERS = "answers.yaml"


@dataclass
class _Kept:
    """Where the answers were last saved, and what they were then (so quitting offers to
    save only what is not in a file yet)."""

    path: Path | None = None
    answers: dict[str, Any] | None = None

    def is_current(self, consultation: Consultation) -> bool:
        return self.answers == dict(consultation.answers)


def _ask_questions(consultation: Consultation, stdin: TextIO, stdout: TextIO,
                   kept: _Kept) -> None:
    while (question := consultation.next_question()) is not None:
        _show(consultation, question, stdout)
        reply = _ask(stdin, stdout, "> ")
        lowered = reply.lower()
        if lowered in QUIT_WORDS:
            raise _Quit
        if lowered == "" and question.id in consultation.answers:
            consultation.answer(question.id, consultation.answers[question.id])  # keep it
            continue
        if lowered == "":
            stdout.write("    (type an answer, ? for help, not sure, back, save or quit)\n")
            continue
        if lowered in SAVE_WORDS:
            _save_answers(consultation, stdin, stdout, kept)
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
        if error is None:
            continue
        read = consultation.reply(reply)  # a sentence: "we use gpt-4.1 mini, 5k examples"
        if read.from_text:
            stdout.write(f"    I read: {'; '.join(read.understood)}. (Type change to correct "
                         "any of it.)\n")
            continue
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


def _write(path: Path, text: str, stdin: TextIO, stdout: TextIO) -> bool:
    """Write `text` to `path`, asking before overwriting; False when nothing was written."""
    if path.exists():
        answer = _ask(stdin, stdout, f"{path} exists. Overwrite it? (yes/no) ")
        if answer.lower() not in ("y", "yes"):
            return False
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        stdout.write(f"Could not write {path}: {error.strerror}.\n")
        return False
    return True


def _save(knowledge: Knowledge, decision: Decision, target: str, stdin: TextIO,
          stdout: TextIO) -> bool:
    """Write the record; False when the person should be asked for another name."""
    path = Path(target).expanduser()
    if not _write(path, render_markdown(decision, knowledge), stdin, stdout):
        return False
    stdout.write(f"Saved {path}\n")
    return True


def answers_file_text(consultation: Consultation, path: Path) -> str:
    """The answers so far as an answers file, in the knowledge's question order: JSON for a
    `.json` name, else YAML with a comment saying how to use it. Values are the typed ones
    (`not_sure` included), so `decide --answers` reads back exactly these answers."""
    import yaml

    answers = {q.id: consultation.answers[q.id] for q in consultation.knowledge.questions
               if q.id in consultation.answers}
    if path.suffix.lower() == ".json":
        return json.dumps(answers, indent=2, ensure_ascii=False) + "\n"
    today = consultation.today.isoformat()
    header = (f"# Answers saved by the ptf-bot console, as of {today}.\n"
              f"# Go on with: python -m bot decide --answers {path} --today {today}"
              " (or next)\n")
    return header + yaml.safe_dump(answers, sort_keys=False, allow_unicode=True,
                                   default_flow_style=False)


def _save_answers(consultation: Consultation, stdin: TextIO, stdout: TextIO, kept: _Kept,
                  target: str | None = None) -> bool:
    """Save the answers so far (asking for a file name unless given); whether it did."""
    if not consultation.answers:
        stdout.write("    Nothing answered yet.\n")
        return False
    if target is None or target.lower() in ("y", "yes"):
        named = _ask(stdin, stdout, f"    File name for your answers [{DEFAULT_ANSWERS}]: ")
        target = named or DEFAULT_ANSWERS
    path = Path(target).expanduser()
    if not _write(path, answers_file_text(consultation, path), stdin, stdout):
        stdout.write("    Not saved.\n")
        return False
    kept.path, kept.answers = path, dict(consultation.answers)
    stdout.write(f"Saved your answers in {path} (decide --answers {path} reads them)\n")
    return True


def _offer_to_save(consultation: Consultation, stdin: TextIO, stdout: TextIO,
                   kept: _Kept) -> bool:
    """On quit, end of input or Ctrl-C: offer to keep answers not in a file yet. Another
    end of input or Ctrl-C here means no."""
    if not consultation.answers or kept.is_current(consultation):
        return False
    try:
        target = _ask(stdin, stdout, "\nSave your answers so far as an answers file? "
                                     "Type a file name, yes for the default, or Enter to skip: ")
        if target.lower() not in ("y", "yes") and target.lower() in SKIP_WORDS:
            return False
        return _save_answers(consultation, stdin, stdout, kept, target)
    except (_Quit, KeyboardInterrupt):
        return False


def _stopped(consultation: Consultation, stdin: TextIO, stdout: TextIO, kept: _Kept) -> None:
    if _offer_to_save(consultation, stdin, stdout, kept):
        stdout.write("\nStopped.\n")
    elif kept.path is not None:
        stdout.write(f"\nStopped. Your answers as last saved are in {kept.path}.\n")
    else:
        stdout.write("\nStopped. Nothing was saved.\n")


RECORD_PROMPT = ("\nSave the decision record as Markdown? Type a file name, Enter to skip, "
                 "save to keep your answers as an answers file, or back to change your last "
                 "answer: ")


def run_console(knowledge: Knowledge, stdin: TextIO, stdout: TextIO, today: date) -> int:
    consultation = Consultation(knowledge, today)
    kept = _Kept()
    stdout.write(INTRO)
    try:
        while True:
            _ask_questions(consultation, stdin, stdout, kept)
            decision = consultation.decide()
            stdout.write("\n" + render_text(decision))
            target = _after_verdict(knowledge, consultation, decision, stdin, stdout, kept)
            if target != "back":
                return 0
            consultation.back()
    except _Quit:
        _stopped(consultation, stdin, stdout, kept)
        return 0
    except KeyboardInterrupt:
        _stopped(consultation, stdin, stdout, kept)
        return 130


def _after_verdict(knowledge: Knowledge, consultation: Consultation, decision: Decision,
                   stdin: TextIO, stdout: TextIO, kept: _Kept) -> str:
    """Offer the record (or the answers file) until one is saved or skipped; what was
    typed last (`back` to change the last answer). Quitting here raises _Quit."""
    while True:
        target = _ask(stdin, stdout, RECORD_PROMPT)
        lowered = target.lower()
        if lowered in QUIT_WORDS:
            raise _Quit
        if lowered == "back" or lowered in SKIP_WORDS:
            return lowered
        if lowered in SAVE_WORDS:
            _save_answers(consultation, stdin, stdout, kept)
            continue
        if lowered in ("y", "yes"):
            named = _ask(stdin, stdout, f"File name [{DEFAULT_RECORD}]: ")
            target = named or DEFAULT_RECORD
        if _save(knowledge, decision, target, stdin, stdout):
            return target
