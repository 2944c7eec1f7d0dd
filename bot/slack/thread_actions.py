"""Clicks on a thread consultation's message: an answer, "Not sure", "Change an answer",
"Start over". Only the owner may use them; anyone else is told whose it is and how to
start their own."""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import AnswerError, parse_value
from bot.slack.blocks.limits import escape
from bot.slack.blocks.question import start_your_own
from bot.slack.thread_flow import advance, apply_answers, reopen, resume_finished, supersede
from bot.slack.web import Deps, about, not_found, tell_user
from bot.store import Consultation, ConsultationClosed, ConsultationDraft, ConsultationExists

FINISHED = ("This consultation is finished: its verdict is in the thread. Use *Change an "
            "answer* or *Start over* there.")
ABANDONED = "This consultation was closed when a newer one replaced it."


def _for_owner(
    deps: Deps, cid: str, *, user: str, channel: str | None, thread_ts: str | None
) -> Consultation | None:
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


def _closed(deps: Deps, c: Consultation, *, user: str, channel: str | None) -> None:
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
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None or not deps.knowledge.has_question(qid):
            return
        try:
            value = parse_value(deps.knowledge.question(qid), raw)
        except AnswerError as error:
            tell_user(deps, user, f"That answer did not work: {escape(error.reason)}.",
                      channel=channel, thread_ts=c.thread_ts)
            return
        _update_then_advance(
            deps, lambda: apply_answers(deps, c.id, {qid: value}), user=user, channel=channel
        )


def _update_then_advance(
    deps: Deps, update: Callable[[], Consultation], *, user: str, channel: str | None
) -> None:
    """Store the change and show what comes next; a consultation closed meanwhile is
    shown as closed instead."""
    try:
        c = update()
    except ConsultationClosed as exc:
        _closed(deps, exc.consultation, user=user, channel=channel)
        return
    advance(deps, c)


def skip(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Not sure": go on with the question's assumption."""
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None:
            return

        def apply(d: ConsultationDraft) -> None:
            skipped = list(d.meta.get("skipped") or [])
            if qid not in skipped:
                skipped.append(qid)
            d.meta["skipped"] = skipped
            d.answers.pop(qid, None)
            if d.meta.get("current") == qid:
                d.meta["current"] = None

        _update_then_advance(
            deps, lambda: deps.store.update(c.id, apply), user=user, channel=channel
        )


def change(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Change an answer": ask that question again (reopens a finished consultation)."""
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None or not deps.knowledge.has_question(qid):
            return

        def apply(d: ConsultationDraft) -> None:
            reopen(d)
            d.meta["current"] = qid

        _reopen(deps, c, apply, user=user, channel=channel)


def start_over(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Start over": forget every answer and ask again from the first question."""
    with about(cid):
        c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
        if c is None:
            return

        def apply(d: ConsultationDraft) -> None:
            reopen(d)
            d.answers = {}
            d.meta.update(skipped=[], current=None, understood=[], notes=[], prefilled=[])

        _reopen(deps, c, apply, user=user, channel=channel)


def _reopen(
    deps: Deps, c: Consultation, apply: Callable[[ConsultationDraft], None], *, user: str,
    channel: str | None,
) -> None:
    try:
        row = deps.store.update(c.id, apply, require_open=False)
    except ConsultationExists:
        tell_user(deps, user, "Someone started another consultation in this thread, so this "
                  f"one can't be reopened here. Start a new one with `{deps.command}`.",
                  channel=channel, thread_ts=c.thread_ts)
        return
    supersede(deps, row)
    advance(deps, row)
