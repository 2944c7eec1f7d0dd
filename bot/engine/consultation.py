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
(prefill from free text), `submit` (a whole form at once). Questions: `next_question`,
`progress`, `done`, `verdict`, `decide`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE, AnswerError, Value, is_given, parse_value
from bot.engine.decide import decide
from bot.engine.flow import next_question, questions_that_matter
from bot.engine.freetext import FreeText, parse_freetext
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
    many questions it takes in all (`at_most` only ever goes down)."""

    number: int
    at_most: int

    def __str__(self) -> str:
        if self.at_most <= self.number:
            return f"question {self.number} of {self.number}"
        return f"question {self.number} of at most {self.at_most}"


@dataclass
class Consultation:
    knowledge: Knowledge = field(repr=False, compare=False)
    answers: dict[str, Value] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    current: str | None = None
    prefilled: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ reading

    def next_question(self) -> Question | None:
        """The question to show now: one asked again, else the flow's next; None when no
        remaining answer could change the verdict."""
        if self.current is not None and self._askable(self.current):
            return self.knowledge.question(self.current)
        return next_question(self.knowledge, self.answers)

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
        pending = [q for q in questions_that_matter(self.knowledge, self.answers)
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
        return verdict_only(self.knowledge, self.answers)

    def decide(self) -> Decision:
        return decide(self.knowledge, self.answers)

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
        self._record(question_id, value)
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
        """Prefill from free text (a mention, `/ptf <text>`, a thread reply): every answer
        the reader is sure of, noted as read so the person can correct it."""
        found = parse_freetext(text, self.knowledge)
        for finding in found.findings:
            self.answers[finding.question] = finding.value
            self.prefilled[finding.question] = finding.phrase
            if self.current == finding.question:
                self.current = None
        for note in found.notes:
            if note not in self.notes:
                self.notes.append(note)
        return found

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
            error = self.answer(question.id, value)
            if error is not None:
                errors[question.id] = error
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
        }

    @classmethod
    def from_json(cls, knowledge: Knowledge, data: Mapping[str, Any] | None) -> Consultation:
        """Read a stored state: this schema, or schema 0 (`{"schema": 0, "answers": ...,
        "meta": {...}}`: a row written before this object existed)."""
        data = data if isinstance(data, Mapping) else {}
        schema = data.get("schema", 0)
        if schema == 0:
            return cls._from_legacy(knowledge, _mapping(data.get("answers")),
                                    _mapping(data.get("meta")))
        if not isinstance(schema, int) or schema > SCHEMA_VERSION:
            raise ValueError(f"consultation state schema {schema!r} is newer than this code")
        return cls(
            knowledge,
            answers=dict(_mapping(data.get("answers"))),
            history=_strings(data.get("history")),
            current=data.get("current") if isinstance(data.get("current"), str) else None,
            prefilled={str(k): str(v) for k, v in _mapping(data.get("prefilled")).items()},
            notes=_strings(data.get("notes")),
        )

    @classmethod
    def _from_legacy(
        cls, knowledge: Knowledge, answers: Mapping[str, Any], meta: Mapping[str, Any]
    ) -> Consultation:
        """Schema 0: answers, with `skipped` ("Not sure"), `current`, `prefilled` (ids, in
        the order of the `understood` phrases) and `notes` in the row's meta."""
        state = cls(knowledge, answers=dict(_mapping(answers)))
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
