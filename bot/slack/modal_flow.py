"""The modal surface: `/ptf`, App Home's "New consultation" and "Adjust answers".

The form is a view of the engine's consultation object: `open_modal` builds one (read
from `/ptf <free text>`, or the stored one for "Adjust answers") and shows its answers;
the submission goes through `Consultation.submit` (before the ack, so a value it does not
accept comes back on its field with every other field kept). After the ack
`submit_modal` decides, stores the consultation as done, posts the card in the channel
(ephemeral when private; a note in the DM when the bot cannot post there; no card in a
DM, where the DM summary is the result), and delivers the DM.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.engine import Consultation, Decision
from bot.slack import blocks, outbox
from bot.slack.blocks.common import input_value
from bot.slack.blocks.limits import MAX_PRIVATE_METADATA
from bot.slack.blocks.modal import Submission, field_errors
from bot.slack.phrasing import fingerprint
from bot.slack.records import deliver, prose_for, publish_home, result_card
from bot.slack.state import decision_of, new_state, remember
from bot.slack.web import (
    STORE_FAILURE,
    TRIGGER_GONE,
    Deps,
    SlackCallFailed,
    about,
    call,
    explain,
    is_dm,
    tell_user,
    where,
)
from bot.store import StoredConsultation, StoreError

log = logging.getLogger("bot.slack.modal_flow")

#: What to do again when Slack's trigger expired, by what opened the modal.
_AGAIN = {
    "adjust": "click *Adjust answers* again",
    "again": "click *Start over* again",
    "home": "click *New consultation* again",
}


def modal_metadata(channel: str | None, origin: str,
                   state: Consultation | None = None, read: Sequence[str] = ()) -> str:
    """The modal's private_metadata: where the result card goes, what opened the modal,
    the consultation the form was filled from (so its submission goes on from the same
    object: what was read from free text stays "read"), the "I read" line, and the cost
    assumptions set behind "More assumptions..." (as typed: they are not fields of this
    view). Within Slack's 3,000 characters: the notes go first, then the whole state,
    then the "I read" line; the costs always stay."""
    data: dict[str, Any] = {"channel": channel, "origin": origin}
    if state is not None:
        costs = {q.id: input_value(q, state.answers[q.id]) for q in state.knowledge.questions
                 if not q.ask and state.answers.get(q.id) is not None}
        if costs:
            data["costs"] = costs
    if read:
        data["read"] = [str(line)[:200] for line in read][:12]
    if state is not None and (state.answers or state.set_aside):
        saved = state.to_json()
        saved.pop("notes", None)
        data["state"] = saved
    text = json.dumps(data, separators=(",", ":"))
    for dropped in ("state", "read"):
        if len(text) <= MAX_PRIVATE_METADATA:
            break
        data.pop(dropped, None)
        text = json.dumps(data, separators=(",", ":"))
    return text


def read_metadata(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def open_modal(
    deps: Deps,
    trigger_id: str,
    *,
    channel: str | None,
    origin: str,
    text: str | None = None,
    private: bool = True,
    on_failure: Callable[[str], None] | None = None,
) -> bool:
    """Open the consultation modal; `text` is free text to prefill from (`/ptf 6k ...`),
    `private` chooses "Only me" for who sees the result (asked only where the card would
    go to a channel; private unless the person picks the channel). `origin`: command,
    home, adjust ("Adjust answers") or again ("Start over")."""
    view = modal_view(deps, channel=channel, origin=origin, text=text, private=private)
    return open_view(deps, trigger_id, view, origin=origin, on_failure=on_failure) is not None


def modal_view(
    deps: Deps,
    *,
    channel: str | None,
    origin: str,
    text: str | None = None,
    state: Consultation | None = None,
    private: bool = True,
    read: Sequence[str] = (),
) -> dict[str, Any]:
    """The consultation modal's view of `state` (default: a new consultation), after
    reading `text` into it (see `open_modal`)."""
    state = state if state is not None else new_state(deps)
    found = state.read(text) if text else None
    understood = list(found.understood) if found else list(read)
    to_channel = bool(channel) and not is_dm(channel)
    return blocks.consultation_modal(
        deps.knowledge,
        prefill=state.answers,
        understood=understood,
        notes=state.notes,
        metadata=modal_metadata(channel, origin, state, understood),
        private=private and to_channel,
        offer_private=to_channel,
        parsed_text=text,
    )


def _state_from(deps: Deps, meta: Mapping[str, Any]) -> Consultation:
    """The consultation a modal was filled from (its metadata), with the cost assumptions
    it carries."""
    saved = meta.get("state")
    state = new_state(deps)
    if isinstance(saved, Mapping):
        with contextlib.suppress(ValueError):
            state = Consultation.from_json(deps.knowledge, saved, deps.today())
    costs = meta.get("costs")
    if isinstance(costs, Mapping):
        state.submit({k: v for k, v in costs.items() if isinstance(v, str)
                      and k not in state.answers})
    return state


def assumptions_view(deps: Deps, parent: Mapping[str, Any]) -> dict[str, Any]:
    """The cost assumptions modal pushed over the consultation modal `parent` (the view
    of the click): filled with what is set; its metadata names the parent view."""
    meta = read_metadata(parent.get("private_metadata"))
    state = _state_from(deps, meta)
    pushed: dict[str, Any] = {"parent": parent.get("id"), "meta": meta}
    for dropped in ("state", "read"):  # never cut the JSON: drop what the parent still has
        if len(json.dumps(pushed, separators=(",", ":"))) <= MAX_PRIVATE_METADATA:
            break
        pushed["meta"] = {k: v for k, v in pushed["meta"].items() if k != dropped}
    return blocks.assumptions_modal(deps.knowledge, state.answers,
                                    json.dumps(pushed, separators=(",", ":")))


def check_assumptions(
    deps: Deps, submission: Submission, pushed: Mapping[str, Any]
) -> tuple[str | None, dict[str, Any] | None, dict[str, str]]:
    """The cost assumptions modal was submitted: (the parent view's id, the parent view
    redrawn with them, the errors to show). Before the ack: no I/O."""
    meta = pushed.get("meta") if isinstance(pushed.get("meta"), Mapping) else {}
    assert isinstance(meta, Mapping)
    state = _state_from(deps, meta)
    errors = state.submit(submission.raw)
    mine = {k: v for k, v in errors.items() if k in submission.raw}  # fields of this form
    if mine:
        return None, None, field_errors(mine)
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    read = [str(x) for x in meta.get("read") or [] if isinstance(x, str)]
    view = modal_view(deps, channel=channel, origin=str(meta.get("origin") or "command"),
                      state=state, read=read)
    parent = pushed.get("parent")
    return (str(parent) if isinstance(parent, str) and parent else None), view, {}


def loading_view() -> dict[str, Any]:
    """A placeholder opened at once when the real modal needs a database read first."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Prompt or fine-tune?"},
        "blocks": [{"type": "section",
                    "text": {"type": "mrkdwn", "text": ":hourglass: Loading your answers…"}}],
    }


def open_view(
    deps: Deps,
    trigger_id: str,
    view: dict[str, Any],
    *,
    origin: str,
    on_failure: Callable[[str], None] | None = None,
) -> str | None:
    """views.open; the opened view's id, or None after telling `on_failure` why."""
    try:
        response = call(deps, "views_open", trigger_id=trigger_id, view=view)
        return str((response.get("view") or {}).get("id") or "")
    except SlackCallFailed as exc:
        if exc.error in TRIGGER_GONE:
            again = _AGAIN.get(origin, f"run `{deps.command}` again")
            message = f"Slack took too long to open the form; please {again}."
        else:
            message = f"I could not open the form: {explain(exc)}."
        if on_failure is not None:
            on_failure(message)
        return None


def check_submission(
    deps: Deps, submission: Submission, metadata: Mapping[str, Any] | None = None
) -> tuple[Consultation, dict[str, str]]:
    """The submitted form as a consultation (the one the form was filled from, when the
    metadata carries it), and the errors to show on its fields (empty when every field was
    accepted). Runs before the ack: no I/O."""
    state = _state_from(deps, metadata or {})
    errors = state.submit(submission.raw)
    return state, field_errors(errors)


def submit_modal(
    deps: Deps, *, user: str, team: str | None, state: Consultation, private: bool,
    meta: Mapping[str, Any],
) -> StoredConsultation | None:
    """After the modal's ack: decide, store as done, post the card, DM the summary."""
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    origin = str(meta.get("origin") or "command")
    surface = "home" if origin == "home" or not channel else "modal"
    try:
        c = deps.store.create_consultation(
            user_id=user, team_id=team, surface=surface, channel=channel,
            state=state.to_json(), meta={"origin": origin, "private": private},
        )
        c = deps.store.finish(c.id, state.decide().to_dict())
    except StoreError as exc:
        log.error("could not store a modal consultation (channel %s): %s", channel or "-", exc)
        tell_user(deps, user, STORE_FAILURE, channel=channel)
        return None
    decision = decision_of(c)
    assert decision is not None
    with about(c.id):
        _result(deps, c, decision, channel=channel, surface=surface, private=private)
        if origin == "home":
            with contextlib.suppress(SlackCallFailed):
                publish_home(deps, user, team)
    return c


def _result(
    deps: Deps, c: StoredConsultation, decision: Decision, *, channel: str | None,
    surface: str, private: bool,
) -> None:
    """The card where the modal was opened (none in a DM: the DM summary is the result),
    then the DM summary."""
    note = link = None
    card = None
    if channel and surface == "modal" and not is_dm(channel):
        card = lambda p: result_card(deps, c, decision, p)  # noqa: E731
        text, card_blocks = card(prose_for(deps, c, decision))
        digest = fingerprint(decision)
        try:
            if private:
                call(deps, "chat_postEphemeral", channel=channel, user=c.user_id, text=text,
                     blocks=card_blocks)
                remember(deps, c.id, card={"channel": channel, "ephemeral": True,
                                           "for_decision": digest})
            else:
                delivery = outbox.send(
                    deps, f"card:{c.id}", kind="card", channel=channel, text=text,
                    blocks=card_blocks, consultation_id=c.id, owner=c.user_id,
                    after={"for_decision": digest})
                delivery.raise_if_refused()
                fresh = deps.store.get(c.id)
                link = fresh.meta.get("permalink") if fresh is not None else None
        except SlackCallFailed as exc:
            card = None
            if exc.error in ("not_in_channel", "channel_not_found"):
                note = (f"I'm not a member of <#{channel}>, so I could not post your result "
                        "there; here it is. Add me to the channel (`/invite` and pick me) to get "
                        "results there.")
            else:
                note = f"I could not post your result in <#{channel}>: {explain(exc)}. Here it is."

    def dm_failed(exc: SlackCallFailed) -> None:
        if channel and note is None:
            tell_user(deps, c.user_id, f"I could not send you the full record in a DM: "
                      f"{explain(exc)}.", channel=channel)
        else:
            log.error("modal consultation %s: the result reached nobody (%s)", c.id, exc.error)

    deliver(deps, c, decision, card=card, link=link, place=where(channel), note=note,
            on_dm_failed=dm_failed)
