"""The consultation modal (`/ptf`, App Home, "Adjust answers") and reading it back.

Every asked question is an optional input: a select for choices, radio buttons for
yes/no, a text input for numbers (human forms such as 6k or 20M; the accepted forms are
the placeholder). The hint under each input is the question's help plus what is assumed
when it is left empty. Cost parameters (`ask: false`) are behind "More assumptions..."
(a second modal pushed on top, `assumptions_modal`); the line beside it says which are
set. "Who sees the result" opens the form where the result card would be posted in a
channel ("Only me" unless the person picks the channel).

`read_submission` is the inverse: `view.state.values` -> the raw value of each field and
the private flag; the consultation object (`Consultation.submit`) turns them into answers,
and `field_errors` into `response_action: errors` for the fields it did not accept.

Every question offers "Not sure" (an option of each select and radio group; typed in a
text field), as on every other surface.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.answers import NOT_SURE, AnswerError, Value, accepted
from bot.engine.humanize import shown_value
from bot.slack.blocks import ids
from bot.slack.blocks.common import assumption, input_value
from bot.slack.blocks.limits import (
    MAX_HINT,
    MAX_LABEL,
    MAX_PLACEHOLDER,
    MAX_PRIVATE_METADATA,
    Block,
    button,
    clip,
    context,
    divider,
    escape,
    option,
    plain,
    section,
    static_select,
)

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Question

TITLE = "Prompt or fine-tune?"
SUBMIT = "Get the verdict"
INTRO = (
    "Answer what you know and leave the rest empty: I use the assumption shown under each "
    "field. Numbers take human forms like *6k*, *20M* or *1.5 million*."
)
PRIVATE_LABEL = "Only me"
PRIVATE_VALUE = "private"
CHANNEL_LABEL = "Everyone in the channel"
#: The option that clears an answer shown in a select or radio (an empty field).
CLEAR_LABEL = "No answer (clear it)"
CLEAR_VALUE = "ptf_clear"
CHANNEL_VALUE = "channel"


NOT_SURE_LABEL = "Not sure"


def _placeholder(question: Question) -> str:
    if question.kind in ("int", "float"):
        if question.unit == "share":
            return "e.g. 0.25 or 25% (a share from 0 to 1), or not sure"
        return clip(f"{accepted(question)}; or not sure", MAX_PLACEHOLDER)
    if question.kind == "model":
        return "Choose your model (or Not sure)"
    return clip(f"Assumed if empty: {question.label_of(question.assume)}", MAX_PLACEHOLDER)


def _choice_options(question: Question) -> list[dict[str, Any]]:
    """The question's options, then "Not sure" (unless one of them already means it)."""
    opts = [option(o.label, o.value) for o in question.options]
    if NOT_SURE not in question.option_values():
        opts.append(option(NOT_SURE_LABEL, NOT_SURE))
    return opts


def _model_groups(question: Question) -> list[str]:
    """The heading of each option of the model select (its provider); "Not sure" last."""
    return [o.group or "Other" for o in question.options] + [NOT_SURE_LABEL]


def _hint(knowledge: Knowledge, question: Question) -> str:
    return clip(f"{question.help} If empty or not sure: {assumption(knowledge, question)} "
                "(that may change the verdict).", MAX_HINT)


def _element(question: Question, prefill: Any) -> Block:
    has = prefill is not None
    # A chosen option cannot be unchosen in Slack: an answer shown can be cleared instead.
    clear = [option(CLEAR_LABEL, CLEAR_VALUE)] if has else []
    if question.kind in ("choice", "model"):
        groups = _model_groups(question) + ["Clear"] * len(clear)
        return static_select(
            ids.VALUE_ACTION, _placeholder(question), _choice_options(question) + clear,
            initial=str(prefill) if has else None,
            groups=groups if question.kind == "model" else None,
        )
    if question.kind == "bool":
        opts = [option("Yes", "yes"), option("No", "no"), option(NOT_SURE_LABEL, NOT_SURE),
                *clear]
        element: Block = {"type": "radio_buttons", "action_id": ids.VALUE_ACTION, "options": opts}
        if has:
            element["initial_option"] = opts[2] if prefill == NOT_SURE else (
                opts[0] if prefill else opts[1])
        return element
    element = {
        "type": "plain_text_input",
        "action_id": ids.VALUE_ACTION,
        "placeholder": plain(_placeholder(question), MAX_PLACEHOLDER),
    }
    if has:
        element["initial_value"] = input_value(question, prefill)
    return element


def question_input(knowledge: Knowledge, question: Question, prefill: Any = None) -> Block:
    return {
        "type": "input",
        "block_id": question.id,
        "optional": True,
        "label": plain(question.text, MAX_LABEL),
        "hint": plain(_hint(knowledge, question), MAX_HINT),
        "element": _element(question, prefill),
    }


def consultation_modal(
    knowledge: Knowledge,
    *,
    prefill: Mapping[str, Value] | None = None,
    understood: Sequence[str] = (),
    notes: Sequence[str] = (),
    metadata: str = "",
    private: bool = False,
    offer_private: bool = True,
    parsed_text: str | None = None,
) -> dict[str, Any]:
    """The modal view. `prefill` sets initial values; `understood`/`notes` come from the
    free-text parser and are shown on top ("I read: ...", to change in the fields below).
    `offer_private`: ask "Who sees the result" first ("Only me" chosen when `private`,
    else "Everyone in the channel"); left out where the result only goes to the asker's
    DM anyway (App Home, a DM)."""
    prefill = prefill or {}
    blocks: list[Block] = [section(INTRO)]
    if offer_private:  # first: who will see this decides how much people write
        blocks.append(_private_input(private))
    if understood:
        blocks.append(context(":mag: *I read:* " + escape("; ".join(understood))
                              + " \u2014 change any of it in the fields below."))
    elif parsed_text:
        blocks.append(context(
            f":mag: I could not pick out any answers from \u201c{escape(clip(parsed_text, 200))}"
            "\u201d; please fill in what you know."
        ))
    if notes:
        blocks.append(context(*[":information_source: " + escape(n) for n in notes]))
    asked = [q for q in knowledge.questions if q.ask]
    costs = [q for q in knowledge.questions if not q.ask]
    blocks += [question_input(knowledge, q, prefill.get(q.id)) for q in asked]
    if costs:  # behind a button: the form stays short
        blocks += [divider(), section(
            costs_summary(knowledge, prefill), block_id="ptf_costs",
            accessory=button(MORE_LABEL, ids.MORE_ASSUMPTIONS, "costs"))]
    return {
        "type": "modal",
        "callback_id": ids.MODAL_CALLBACK,
        "title": plain(TITLE, 24),
        "submit": plain(SUBMIT, 24),
        "close": plain("Cancel", 24),
        "private_metadata": metadata[:MAX_PRIVATE_METADATA],
        "blocks": blocks,
    }


MORE_LABEL = "More assumptions…"


def costs_summary(knowledge: Knowledge, answers: Mapping[str, Value]) -> str:
    """The line beside "More assumptions...": the cost assumptions set, else that the
    defaults in the knowledge are used."""
    costs = [q for q in knowledge.questions if not q.ask]
    chosen = [f"{q.short}: {shown_value(q, answers[q.id])}" for q in costs
              if answers.get(q.id) is not None and answers.get(q.id) != NOT_SURE]
    if not chosen:
        return ("*Cost assumptions:* the usual ones (prices from the model catalogue, "
                "hosting and training as the knowledge says). Change them with *More "
                "assumptions…*")
    return clip("*Cost assumptions you set:* " + escape("; ".join(chosen)), 2900)


def assumptions_modal(
    knowledge: Knowledge, answers: Mapping[str, Value], metadata: str
) -> dict[str, Any]:
    """The pushed modal of cost assumptions (`views.push`), filled with what is set.
    Submitting it returns to the consultation modal with them kept."""
    costs = [q for q in knowledge.questions if not q.ask]
    return {
        "type": "modal",
        "callback_id": ids.ASSUMPTIONS_CALLBACK,
        "title": plain("Cost assumptions", 24),
        "submit": plain("Keep these", 24),
        "close": plain("Back", 24),
        "private_metadata": metadata[:MAX_PRIVATE_METADATA],
        "blocks": [context("Used for the monthly cost and the break-even. An empty field "
                           "uses the assumption in its hint."),
                   *[question_input(knowledge, q, answers.get(q.id)) for q in costs]],
    }


def _private_input(private: bool) -> Block:
    only_me = option(PRIVATE_LABEL, PRIVATE_VALUE,
                     "The result card only you can see; the full record in your DMs")
    channel = option(CHANNEL_LABEL, CHANNEL_VALUE,
                     "The result card in the channel; the full record in your DMs")
    return {
        "type": "input",
        "block_id": ids.PRIVATE_BLOCK,
        "label": plain("Who sees the result"),
        "element": {"type": "radio_buttons", "action_id": ids.PRIVATE_ACTION,
                    "options": [only_me, channel],
                    "initial_option": only_me if private else channel},
    }


@dataclass
class Submission:
    """What the user submitted: the raw value of each field (question id -> text or
    option value; an emptied field is ""), and the private flag."""

    raw: dict[str, str] = field(default_factory=dict)
    private: bool = False


def _raw(state: Mapping[str, Any]) -> str | None:
    """The submitted value of one input's state (None when empty)."""
    if not isinstance(state, Mapping):
        return None
    if "selected_option" in state:
        selected = state.get("selected_option")
        value = selected.get("value") if isinstance(selected, Mapping) else None
        return None if value == CLEAR_VALUE else value
    value = state.get("value")
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _private(block: Any) -> bool:
    """The "Who sees the result" choice: private unless the channel was chosen; no such
    field (the result only goes to a DM): not private. (A form opened before the choice
    was a radio sends a checkbox: ticked means private.)"""
    if not isinstance(block, Mapping):
        return False
    state = block.get(ids.PRIVATE_ACTION)
    if not isinstance(state, Mapping):
        return True
    if "selected_options" in state:
        chosen = state.get("selected_options") or []
        return any(isinstance(o, Mapping) and o.get("value") == PRIVATE_VALUE for o in chosen)
    selected = state.get("selected_option")
    return not (isinstance(selected, Mapping) and selected.get("value") == CHANNEL_VALUE)


def read_submission(knowledge: Knowledge, values: Mapping[str, Any]) -> Submission:
    """Read `view.state.values`: each question's field as it was submitted. Unknown
    blocks are ignored; nothing is parsed here (see `Consultation.submit`)."""
    result = Submission()
    result.private = _private(values.get(ids.PRIVATE_BLOCK))
    for question in knowledge.questions:
        block = values.get(question.id)
        if not isinstance(block, Mapping):
            continue
        raw = _raw(block.get(ids.VALUE_ACTION) or next(iter(block.values()), {}))
        result.raw[question.id] = raw or ""
    return result


def field_errors(errors: Mapping[str, AnswerError]) -> dict[str, str]:
    """`response_action: errors` for the fields the consultation did not accept: each
    says why and what is accepted, on its own block (Slack keeps every other field)."""
    return {qid: clip(_error_text(error), 150 * 2) for qid, error in errors.items()}


def _error_text(error: AnswerError) -> str:
    reason = error.reason
    return reason[:1].upper() + reason[1:] + "."
