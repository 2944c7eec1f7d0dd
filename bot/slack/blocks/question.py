"""The one thread message that asks the questions, updated in place after each answer.

Layout: what the bot read from the thread ("I read: ...", with a "Change" select); the
question ("Question 3 of at most 7") with
its help and what "Not sure" assumes; the answer buttons (a select for long option lists;
numbers are typed as a thread reply) and "Not sure"; the answers so far; "Back", "Change
an answer" (a select of the answered questions) and "Start over"; and who may answer.
Everything shown comes from the engine's consultation object (`bot.engine.Consultation`).
`closed_message` replaces it when a newer consultation took its place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE, accepted
from bot.engine.consultation import Progress
from bot.engine.humanize import shown_value
from bot.slack.blocks import ids
from bot.slack.blocks.common import answered_pairs, assumption
from bot.slack.blocks.limits import (
    MAX_BUTTON_TEXT,
    Block,
    actions,
    button,
    clip,
    confirm_dialog,
    context,
    escape,
    option,
    section,
    static_select,
)

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question

MAX_BUTTONS = 5  # more options than this: a select


@dataclass(frozen=True)
class QuestionState:
    """Everything the question message shows (plain data, no store objects)."""

    consultation_id: str
    owner: str
    question: Question
    progress: Progress
    answers: Mapping[str, Any] = field(default_factory=dict)
    read: Mapping[str, str] = field(default_factory=dict)  # question id -> what was read
    notes: Sequence[str] = ()
    bot_user_id: str | None = None
    command: str = "/ptf"
    can_go_back: bool = False


def nav_elements(
    knowledge: Knowledge, cid: str, answers: Mapping[str, Any], *, back: bool = False
) -> list[Block]:
    """ "Back" (the question before), "Change an answer" (select of answered questions)
    and "Start over" (with confirm)."""
    pairs = answered_pairs(knowledge, answers)
    if not pairs:
        return []
    back_button = [button("Back", ids.BACK, cid)] if back else []
    change = static_select(
        ids.CHANGE,
        "Change an answer",
        [option(label, ids.pack(cid, qid)) for qid, label in pairs],
    )
    start_over = button(
        "Start over",
        ids.START_OVER,
        cid,
        confirm=confirm_dialog("Start over?", "This forgets every answer so far.", "Start over"),
    )
    return [*back_button, change, start_over]


def start_your_own(bot_user_id: str | None, command: str) -> str:
    bot = f"<@{bot_user_id}>" if bot_user_id else "me"
    return f"Want your own verdict? Mention {bot} in a new thread or use `{command}`."


def owner_line(owner: str, bot_user_id: str | None, command: str) -> str:
    return f"Only <@{owner}> can answer here. {start_your_own(bot_user_id, command)}"


def _answer_elements(state: QuestionState) -> list[Block]:
    q, cid = state.question, state.consultation_id
    current = state.answers.get(q.id)
    if current == NOT_SURE:
        current = None
    elements: list[Block] = []
    if q.kind == "model" or (q.kind == "choice" and len(q.options) > MAX_BUTTONS):
        opts = [option(o.label, ids.pack(cid, q.id, o.value)) for o in q.options]
        initial = ids.pack(cid, q.id, current) if current is not None else None
        groups = [o.group or "" for o in q.options] if q.kind == "model" else None
        placeholder = "Choose your model" if q.kind == "model" else "Choose an answer"
        elements.append(
            static_select(f"{ids.ANSWER_PREFIX}_select", placeholder, opts, initial=initial,
                          groups=groups)
        )
    elif q.kind in ("choice", "bool"):
        choices = (
            [(o.label, o.value) for o in q.options]
            if q.kind == "choice"
            else [("Yes", "yes"), ("No", "no")]
        )
        for i, (label, value) in enumerate(choices):
            chosen = current is not None and (
                value == current if q.kind == "choice" else (value == "yes") == current
            )
            elements.append(
                button(label, f"{ids.ANSWER_PREFIX}_{i}", ids.pack(cid, q.id, value),
                       style="primary" if chosen else None)
            )
    if not any(o.label.lower().startswith("not sure") for o in q.options):
        guess = assumption_short(state)
        elements.append(button(clip(f"Not sure ({guess})", MAX_BUTTON_TEXT), ids.SKIP,
                               ids.pack(cid, q.id)))
    return elements


def assumption_short(state: QuestionState) -> str:
    """The "Not sure (...)" button's words: the value when it is a fixed one."""
    q = state.question
    if q.kind == "model":
        return "a reference model"
    if q.assume_from is not None:
        return "use the usual figure"
    if q.assume is None:
        return "skip the comparison"
    return f"assume {shown_value(q, q.assume)}"


def read_block(cid: str, read: Mapping[str, str], block_id: str = "ptf_read") -> Block:
    """ "I read: ..." with a "Change" select of what was read (asks that question again)."""
    change = static_select(ids.CHANGE_READ, "Change",
                           [option(phrase, ids.pack(cid, qid)) for qid, phrase in read.items()])
    return section(":mag: *I read:* " + escape("; ".join(read.values())), block_id=block_id,
                   accessory=change)


def question_message(knowledge: Knowledge, state: QuestionState) -> tuple[str, list[Block]]:
    """(notification text, blocks) of the question message."""
    q = state.question
    label = str(state.progress)
    shown = (q.id, label, sorted(state.answers.items(), key=str), sorted(state.read.items()),
             tuple(state.notes), state.can_go_back)

    def block(name: str) -> str:
        return ids.versioned(name, *shown)

    title = f"*{label[:1].upper()}{label[1:]}.* {escape(q.text)}"
    current = state.answers.get(q.id)
    blocks: list[Block] = []
    if state.read:
        blocks.append(read_block(state.consultation_id, state.read, block_id=block("ptf_read")))
    if state.notes:
        blocks.append(context(*[":information_source: " + escape(n) for n in state.notes]))
    if q.kind in ("int", "float"):
        title += (f"\nType your answer as a reply in this thread \u2014 {escape(accepted(q))}.")
    if q.kind == "model":
        title += "\nPick it below, or type its name as a reply in this thread."
    blocks.append(section(title, block_id=block("ptf_question")))
    hint = f"{escape(q.help)} Not sure? I will assume "
    hint += (f"{escape(assumption(knowledge, q, state.answers))}, and that may change the "
             "verdict.")
    if current is not None:
        hint += f" *Current answer:* {escape(shown_value(q, current))}."
    blocks.append(context(hint))
    blocks.append(actions(block(ids.QUESTION_BLOCK), _answer_elements(state)))
    pairs = answered_pairs(knowledge, state.answers)
    if pairs:
        blocks.append(context("*So far:* " + escape(" \u00b7 ".join(label for _, label in pairs))))
    nav = nav_elements(knowledge, state.consultation_id, state.answers, back=state.can_go_back)
    if nav:
        blocks.append(actions(block(ids.NAV_BLOCK), nav))
    blocks.append(context(owner_line(state.owner, state.bot_user_id, state.command)))
    text = clip(escape(f"{label[:1].upper()}{label[1:]}: {q.text}"), 300)
    return text, blocks


def closed_message(command: str = "/ptf") -> tuple[str, list[Block]]:
    """(notification text, blocks) of a question message whose consultation was replaced
    by a newer one (in the bot's DM, one is open at a time)."""
    text = "This consultation was closed: a newer one replaced it."
    return text, [section(text), context(f"Start another with `{command}` or write *new* "
                                         "to me.")]
