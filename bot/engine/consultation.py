"""One consultation: its state and everything a person can do to it.

Every surface (the Slack thread, DM and modal, App Home, the console, `python -m bot
next`) drives this object and keeps no flow state of its own: it only turns clicks and
typed text into these operations and renders what the object says.

State (all plain data, stored as JSON with a schema version):
- `answers`: question id -> typed value, or `NOT_SURE` ("asked, and I don't know");
- `history`: the questions asked one at a time, in the order they were asked, which
  numbers them ("question 3 of at most 7") and lets `back` walk back through them;
- `current`: a question asked again (`back`, `change`), shown before the flow's next one;
- `prefilled`: question id -> what was read from free text ("I read: ...");
- `notes`: what the free-text reader deliberately did not assume.

Operations: `answer`, `not_sure` (also `skip`), `change`, `back`, `start_over`, `read`
(prefill from free text), `reply` (what someone typed while a question was on screen),
`submit` (a whole form at once). Questions: `next_question`, `progress`, `done`,
`can_go_back`, `verdict`, `decide`. `changed(operation)` says whether one changed it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE, AnswerError, Value, is_given, parse_value
from bot.engine.catalogue import check_answers, model_window
from bot.engine.decide import decide
from bot.engine.flow import next_question, questions_that_matter
from bot.engine.freetext import FreeText, clean, number_in, parse_freetext
from bot.engine.humanize import shown_value
from bot.engine.rules import verdict_only

if TYPE_CHECKING:
    from bot.engine.decision import Decision
    from bot.knowledge import Knowledge, Question

#: Version of the JSON written by `to_json`. 0 is the shape stored before this object
#: existed (answers plus loose flow keys in the row's meta); `from_json` reads both.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Progress:
    """Where the consultation is: the shown question's number, and an upper bound on how
    many questions it takes in all (it goes down as questions are answered; changing an
    earlier answer may raise it again)."""

    number: int
    at_most: int

    def __str__(self) -> str:
        if self.at_most <= self.number:
            return f"question {self.number} of {self.number}"
        return f"question {self.number} of at most {self.at_most}"


@dataclass(frozen=True)
class Reply:
    """What a typed reply did: the answers it gave (with the phrases read), or the error
    for the question on screen."""

    answers: dict[str, Any] = field(default_factory=dict)
    understood: list[str] = field(default_factory=list)
    from_text: bool = False  # read by the free-text reader, not a bare answer
    question: Question | None = None
    error: AnswerError | None = None


def typed_answer(question: Question, text: str) -> Value:
    """A bare typed reply as an answer to `question` ("about 6k tokens" is 6000 for a number
    question); raises AnswerError saying what is accepted."""
    body = clean(text).strip().rstrip(".!")
    try:
        return parse_value(question, body)
    except AnswerError:
        if question.kind not in ("int", "float"):
            raise
        number = number_in(body)
        if number is None:
            raise
        return parse_value(question, number)


@dataclass
class Consultation:
    """See the module docstring. `today` is the date it is decided as of (an input: the
    engine never reads the clock); it is not stored, a stored consultation is read back
    as of the day it is read."""

    knowledge: Knowledge = field(repr=False, compare=False)
    today: date = field(compare=False)
    answers: dict[str, Value] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    current: str | None = None
    prefilled: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Stored answers this knowledge no longer accepts (a question removed, a model gone
    #: from the catalogue): kept as saved, never used, and the question is asked again.
    set_aside: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ reading

    def next_question(self) -> Question | None:
        """The question to show now: one asked again, else the flow's next; None when no
        remaining answer could change the verdict."""
        if self.current is not None and self._askable(self.current):
            return self.knowledge.question(self.current)
        return next_question(self.knowledge, self.answers, self.today)

    @property
    def done(self) -> bool:
        return self.next_question() is None

    def number_of(self, question_id: str) -> int:
        """A question's number: its place among the questions asked, stable across
        answers, changes and back."""
        if question_id in self.history:
            return self.history.index(question_id) + 1
        return len(self.history) + 1

    def progress(self) -> Progress | None:
        """"Question 3 of at most 7" for the question shown now; None when done."""
        shown = self.next_question()
        if shown is None:
            return None
        pending = [q for q in questions_that_matter(self.knowledge, self.answers, self.today)
                   if q not in self.history]
        extra = 0 if shown.id in self.history or shown.id in pending else 1
        total = len(self.history) + len(pending) + extra
        number = self.number_of(shown.id)
        return Progress(number, max(total, number))

    @property
    def not_sure_ids(self) -> list[str]:
        return [q.id for q in self.knowledge.questions if self.answers.get(q.id) == NOT_SURE]

    def has_answer(self, question_id: str) -> bool:
        """Answered with a value (not "not sure")."""
        return is_given(self.answers, question_id)

    def verdict(self) -> str:
        return verdict_only(self.knowledge, self.answers, self.today)

    def decide(self) -> Decision:
        return decide(self.knowledge, self.answers, self.today)

    # ------------------------------------------------------------------ operations

    def answer(self, question_id: str, raw: Any) -> AnswerError | None:
        """Record one answer to a question asked; a bad value changes nothing and comes
        back as the error (what is accepted), every other answer kept."""
        if not self.knowledge.has_question(question_id):
            return AnswerError(question_id, str(raw), "unknown question id")
        try:
            value = parse_value(self.knowledge.question(question_id), raw)
        except AnswerError as error:
            return error
        trial = {**self.answers, question_id: value}
        clashes = check_answers(self.knowledge, trial, self.today)
        if question_id == "model" and any(c.question == "model_access" for c in clashes):
            # the model is the more precise answer: its access replaces the one given
            self._forget("model_access")
            self.note("Model access now comes from the model you named.")
            clashes = [c for c in clashes if c.question != "model_access"]
        if clashes:
            return AnswerError(question_id, str(raw), clashes[0].reason)
        self._record(question_id, value)
        if question_id == "model":
            self._note_model()
        return None

    def not_sure(self, question_id: str) -> AnswerError | None:
        """"Not sure": the rules take the question's stated assumption, and the flow does
        not ask it again."""
        return self.answer(question_id, NOT_SURE)

    skip = not_sure

    def change(self, question_id: str) -> AnswerError | None:
        """Ask `question_id` again (its current answer is kept until a new one comes)."""
        if not self.knowledge.has_question(question_id):
            return AnswerError(question_id, "", "unknown question id")
        self.current = question_id
        return None

    def can_go_back(self) -> bool:
        """Whether `back` would show an earlier question."""
        if self.current is not None and self.current in self.history:
            return self.history.index(self.current) > 0
        return bool(self.history)

    def changed(self, operation: Callable[[Consultation], object]) -> bool:
        """Run `operation` on this consultation; whether it changed anything."""
        before = self.to_json()
        operation(self)
        return self.to_json() != before

    def back(self) -> str | None:
        """Show the question asked before the one shown now (its answer kept and shown);
        the question id, or None when there is nothing earlier."""
        if self.current is not None and self.current in self.history:
            index = self.history.index(self.current)
            if index == 0:
                return None
            self.current = self.history[index - 1]
        elif self.history:
            self.current = self.history[-1]
        else:
            return None
        return self.current

    def start_over(self) -> None:
        """Forget everything: answers, what was read, history."""
        self.answers.clear()
        self.history.clear()
        self.prefilled.clear()
        self.notes.clear()
        self.current = None

    def read(self, text: str) -> FreeText:
        """Prefill from free text (a mention, `/ptf <text>`): every answer the reader is
        sure of, noted as read so the person can correct it."""
        found = parse_freetext(text, self.knowledge)
        for finding in found.findings:
            self.answers[finding.question] = finding.value
            self.prefilled[finding.question] = finding.phrase
            if self.current == finding.question:
                self.current = None
        self.note(*found.notes)
        self._note_model(found)
        return found

    def note(self, *notes: str) -> None:
        """Something the person should know about what was (not) read."""
        for note in notes:
            if note not in self.notes:
                self.notes.append(note)

    def reply(self, text: str) -> Reply:
        """What someone typed while a question was on screen: a sentence the free-text
        reader understands (its answer to the question on screen counts as asked, the
        rest as read), else the answer to that question ("8k", "yes", "not sure")."""
        shown = self.next_question()
        found = parse_freetext(text, self.knowledge)
        if found.answers:
            for finding in found.findings:
                if shown is not None and finding.question == shown.id:
                    self._record(finding.question, finding.value)
                else:
                    self.answers[finding.question] = finding.value
                    self.prefilled[finding.question] = finding.phrase
            self.note(*found.notes)
            self._note_model(found)
            return Reply(dict(found.answers), list(found.understood), from_text=True)
        if shown is None:
            return Reply()
        try:
            value = typed_answer(shown, text)
        except AnswerError as error:
            return Reply(question=shown, error=error)
        self._record(shown.id, value)
        return Reply({shown.id: value}, [f"{shown.short}: {shown_value(shown, value)}"],
                     question=shown)

    def submit(self, raw: Mapping[str, Any]) -> dict[str, AnswerError]:
        """A whole form at once (the modal): every field given is answered; an empty field
        means no answer (a field emptied clears its earlier answer). Errors by question id;
        the fields without errors are kept."""
        errors: dict[str, AnswerError] = {}
        for question in self.knowledge.questions:
            if question.id not in raw:
                continue
            value = raw[question.id]
            if value is None or (isinstance(value, str) and not value.strip()):
                self._forget(question.id)
                continue
            try:
                parsed = parse_value(question, value)
            except AnswerError as error:
                errors[question.id] = error
                continue
            if question.id in self.prefilled and self.answers.get(question.id) == parsed:
                continue  # left as read from the free text: still "read", not asked
            self._record(question.id, parsed)
        for clash in check_answers(self.knowledge, self.answers, self.today):
            errors[clash.question] = clash
            self._forget(clash.question)
        return errors

    # ------------------------------------------------------------------ storage

    def to_json(self) -> dict[str, Any]:
        """The state as JSON (with `schema`): exactly what `from_json` reads back."""
        return {
            "schema": SCHEMA_VERSION,
            "answers": dict(self.answers),
            "history": list(self.history),
            "current": self.current,
            "prefilled": dict(self.prefilled),
            "notes": list(self.notes),
            **({"set_aside": dict(self.set_aside)} if self.set_aside else {}),
        }

    @classmethod
    def from_json(
        cls, knowledge: Knowledge, data: Mapping[str, Any] | None, today: date
    ) -> Consultation:
        """Read a stored state, as of `today`: this schema, or schema 0 (`{"schema": 0,
        "answers": ..., "meta": {...}}`: a row written before this object existed)."""
        data = data if isinstance(data, Mapping) else {}
        schema = data.get("schema", 0)
        if schema == 0:
            state = cls._from_legacy(knowledge, today, _mapping(data.get("answers")),
                                     _mapping(data.get("meta")))
        elif not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise ValueError(f"consultation state schema {schema!r} is newer than this code")
        else:
            state = cls(
                knowledge,
                today,
                answers=dict(_mapping(data.get("answers"))),
                history=_strings(data.get("history")),
                current=data.get("current") if isinstance(data.get("current"), str) else None,
                prefilled={str(k): str(v) for k, v in _mapping(data.get("prefilled")).items()},
                notes=_strings(data.get("notes")),
                set_aside=dict(_mapping(data.get("set_aside"))),
            )
        state._set_aside_what_knowledge_refuses()
        return state

    @classmethod
    def _from_legacy(
        cls, knowledge: Knowledge, today: date, answers: Mapping[str, Any],
        meta: Mapping[str, Any],
    ) -> Consultation:
        """Schema 0: answers, with `skipped` ("Not sure"), `current`, `prefilled` (ids, in
        the order of the `understood` phrases) and `notes` in the row's meta."""
        state = cls(knowledge, today, answers=dict(_mapping(answers)))
        for qid in _strings(meta.get("skipped")):
            state.answers.setdefault(qid, NOT_SURE)
        phrases = _strings(meta.get("understood"))
        prefilled = _strings(meta.get("prefilled"))
        for index, qid in enumerate(prefilled):
            if qid in state.answers:
                state.prefilled[qid] = phrases[index] if index < len(phrases) else qid
        state.history = [q.id for q in knowledge.questions
                         if q.id in state.answers and q.id not in state.prefilled and q.ask]
        current = meta.get("current")
        state.current = current if isinstance(current, str) else None
        state.notes = _strings(meta.get("notes"))
        return state

    # ------------------------------------------------------------------ internals

    def _set_aside_what_knowledge_refuses(self) -> None:
        """A stored answer the knowledge no longer accepts is set aside (kept as saved),
        with a note, instead of breaking the consultation; the flow asks it again."""
        for qid, value in list(self.answers.items()):
            if not self.knowledge.has_question(qid):
                reason = "that question is no longer asked"
            else:
                try:
                    parsed = parse_value(self.knowledge.question(qid), value)
                except AnswerError as error:
                    reason = error.reason
                else:
                    self.answers[qid] = parsed
                    continue
            self.set_aside[qid] = self.answers.pop(qid)
            self.prefilled.pop(qid, None)
            if qid in self.history:
                self.history.remove(qid)
            if self.current == qid:
                self.current = None
            name = (self.knowledge.question(qid).short if self.knowledge.has_question(qid)
                    else qid)
            self.note(f"I set aside your earlier answer to {name} ({value!r}): {reason}.")
        if self.current is not None and not self._askable(self.current):
            self.current = None

    def _note_model(self, found: FreeText | None = None) -> None:
        """A named model comes with its dated tuning window, so the person sees at once
        what the bot takes of it (and can correct it); one such note, the latest model's."""
        if found is not None and "model" not in found.answers:
            return
        windows = {model_window(self.knowledge, row, self.today)
                   for row in self.knowledge.catalogue.models}
        self.notes[:] = [n for n in self.notes if n not in windows]
        if is_given(self.answers, "model") and self.knowledge.has_model(str(self.answers["model"])):
            row = self.knowledge.model(str(self.answers["model"]))
            self.note(model_window(self.knowledge, row, self.today))

    def _askable(self, question_id: str) -> bool:
        return self.knowledge.has_question(question_id)

    def _record(self, question_id: str, value: Value) -> None:
        self.answers[question_id] = value
        self.prefilled.pop(question_id, None)
        if question_id not in self.history and self.knowledge.question(question_id).ask:
            self.history.append(question_id)
        if self.current == question_id:
            self.current = None

    def _forget(self, question_id: str) -> None:
        self.answers.pop(question_id, None)
        self.prefilled.pop(question_id, None)
        if question_id in self.history:
            self.history.remove(question_id)
        if self.current == question_id:
            self.current = None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list | tuple) else []
