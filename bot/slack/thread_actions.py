"""Clicks on a thread consultation's message: an answer, "Not sure", "Back", "Change an
answer", "Start over". Each is one operation of the consultation object; only the owner
may use them, and anyone else is told whose it is and how to start their own."""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import Consultation
from bot.slack.blocks.limits import escape
from bot.slack.blocks.question import start_your_own
from bot.slack.state import edit, reopen
from bot.slack.thread_flow import advance, resume_finished, supersede
from bot.slack.web import Deps, about, not_found, tell_user
from bot.store import ConsultationClosed, ConsultationDraft, ConsultationExists, StoredConsultation

FINISHED = ("This consultation is finished: its verdict is in the thread. Use *Back*, "
            "*Change an answer* or *Start over* there.")
ABANDONED = "This consultation was closed when a newer one replaced it."


def _for_owner(
    deps: Deps, cid: str, *, user: str, channel: str | None, thread_ts: str | None
) -> StoredConsultation | None:
    """The consultation if `user` owns it; otherwise an ephemeral note and None."""
    c = deps.store.get(cid)
    if c is None:
        tell_user(deps, user, not_found(deps.command), channel=channel, thread_ts=thread_ts)
        return None
    if c.user_id != user:
        tell_user(
            deps, user,
            f"This is <@{c.user_id}>'s consultation, so only they can answer or change it. "
            + start_your_own(deps.bot_user_id, deps.command),
            channel=channel, thread_ts=thread_ts or c.thread_ts,
        )
        return None
    return c


def _closed(deps: Deps, c: StoredConsultation, *, user: str, channel: str | None) -> None:
    """A click on a question of a closed consultation: repair a finished one whose card
    or DM never went out; else say why nothing happened."""
    if resume_finished(deps, c):
        return
    text = ABANDONED if c.status == "abandoned" else FINISHED
    tell_user(deps, user, text, channel=channel, thread_ts=c.thread_ts)


def answer(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str,
    raw: str,
) -> None:
    """A click on an answer button/select."""
    _operate(deps, lambda s: s.answer(qid, raw), user=user, channel=channel,
             thread_ts=thread_ts, cid=cid)


def skip(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Not sure": go on with the question's assumption."""
    _operate(deps, lambda s: s.not_sure(qid), user=user, channel=channel,
             thread_ts=thread_ts, cid=cid)


def _operate(
    deps: Deps, operation: Callable[[Consultation], object], *, user: str,
    channel: str | None, thread_ts: str | None, cid: str,
) -> None:
    """Apply an answering operation to an open consultation and show what comes next; a
    value the question does not accept is said and nothing changes."""
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None:
            return
        try:
            row, error = edit(deps, c.id, operation)
        except ConsultationClosed as exc:
            _closed(deps, exc.consultation, user=user, channel=channel)
            return
        if error is not None:
            tell_user(deps, user, f"That answer did not work: {escape(error.reason)}.",
                      channel=channel, thread_ts=c.thread_ts)
            return
        advance(deps, row)


def back(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Back": the question asked before the one on screen (after the verdict: the last
    one), with its answer shown; reopens a finished consultation."""
    _reopen(deps, cid, lambda s: s.back(), user=user, channel=channel, thread_ts=thread_ts)


def change(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Change an answer": ask that question again (reopens a finished consultation)."""
    _reopen(deps, cid, lambda s: s.change(qid), user=user, channel=channel,
            thread_ts=thread_ts)


def start_over(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Start over": forget every answer and ask again from the first question."""
    _reopen(deps, cid, lambda s: s.start_over(), user=user, channel=channel,
            thread_ts=thread_ts)


def _reopen(
    deps: Deps, cid: str, operation: Callable[[Consultation], object], *, user: str,
    channel: str | None, thread_ts: str | None,
) -> None:
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None:
            return
        if c.status == "abandoned":
            _closed(deps, c, user=user, channel=channel)
            return

        changed: list[bool] = [False]
        reopened: list[bool] = [False]

        def changing(state: Consultation) -> None:  # may run again if a write races it
            reopened[0] = False
            changed[0] = state.changed(operation)

        def also(draft: ConsultationDraft) -> None:
            if draft.status == "done" and changed[0]:
                reopen(draft)
                reopened[0] = True

        try:
            row, _ = edit(deps, c.id, changing, require_open=False, also=also)
        except ConsultationExists:
            tell_user(deps, user, "Someone started another consultation in this thread, so "
                      f"this one can't be reopened here. Start a new one with "
                      f"`{deps.command}`.", channel=channel, thread_ts=c.thread_ts)
            return
        if reopened[0]:  # open again: in the bot's DM it replaces any other open one
            supersede(deps, row)
        advance(deps, row)
