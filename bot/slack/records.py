"""What a finished consultation leaves behind: the card's prose, the DM summary with the
chart, the Markdown record, the history (`/ptf history`, App Home).

- `card_explanation` is the one place the template prose comes from; `prose_for` is what
  is shown (the saved LLM phrasing for this very decision, else the template).
- `deliver(...)` is the end of every consultation: the DM summary at once (template
  prose), the break-even chart, then `phrasing.improve`, which replaces the card and the
  DM in place (`chat.update`) when checked LLM phrasing arrives.
- `remember` merges keys into a consultation's meta (best effort). Meta keys written
  here: `dm` (`channel`, `ts`, `for_decision`), `card` (`channel`, `ts` or `ephemeral`,
  `for_decision`), `permalink`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from bot.engine.decision import Decision
from bot.engine.verdicts import VERDICT_LABELS
from bot.slack import blocks, outbox, phrasing
from bot.slack.blocks.home import HistoryItem
from bot.slack.blocks.limits import link as mrkdwn_link
from bot.slack.chart_upload import upload_chart
from bot.slack.state import decision_of, remember, state_of
from bot.slack.web import (
    Deps,
    SlackCallFailed,
    call,
    explain,
    is_dm,
    not_found,
    permalink,
    tell_user,
    where,
)
from bot.store import ConsultationDraft, StoredConsultation, StoreError
from bot.store.drift import DriftLedger, Notice
from bot.store.models import utcnow
from bot.store.watch import MUTED_KEY

log = logging.getLogger("bot.slack.records")

HISTORY_LIMIT = 10

Rendered = tuple[str, list[dict[str, Any]]]


# ---------------------------------------------------------------- prose and card


def card_explanation(decision: Decision) -> str:
    """The prose at the top of the result card and of the DM summary.

    The one place it is produced: the template summary of the decision. It is what the
    LLM may rephrase (`phrasing.improve`) and what is shown whenever it does not.
    """
    return decision.summary or decision.verdict_label


def prose_for(deps: Deps, c: StoredConsultation, decision: Decision) -> phrasing.Prose:
    """The prose shown for `decision`: its saved LLM phrasing, else the template."""
    return phrasing.shown(decision, c.meta, card_explanation(decision))


def result_card(
    deps: Deps, c: StoredConsultation, decision: Decision,
    prose: phrasing.Prose | None = None, *, thread: bool = False,
) -> Rendered:
    """The result card of `c` (in a thread with Change an answer / Start over; after the
    modal with Adjust answers)."""
    prose = prose or prose_for(deps, c, decision)
    return blocks.result_card(
        decision, deps.knowledge, consultation_id=c.id, owner=c.user_id,
        explanation=prose.text, explanation_sources=prose.sources, thread=thread,
        adjustable=not thread, can_go_back=thread and state_of(deps, c).can_go_back(),
    )


# ---------------------------------------------------------------- DM summary


def open_dm(deps: Deps, user: str) -> str:
    """The DM channel with `user`: remembered from their earlier consultations (a DM's id
    never changes), else `conversations.open`."""
    try:
        for earlier in deps.store.recent_for_user(user, 5):
            known = (earlier.meta.get("dm") or {}).get("channel")
            if isinstance(known, str) and is_dm(known):
                return known
    except StoreError:
        pass
    response = call(deps, "conversations_open", users=user)
    return str(response["channel"]["id"])


def _summary(
    deps: Deps, c: StoredConsultation, decision: Decision, prose: phrasing.Prose, *,
    link: str | None, place: str | None, note: str | None,
) -> Rendered:
    return blocks.dm_summary(
        decision, deps.knowledge, consultation_id=c.id, explanation=prose.text,
        explanation_sources=prose.sources, permalink=link, where=place, note=note,
    )


def summary_key(c: StoredConsultation, decision: Decision, recipient: str | None = None,
                copy: str | None = None) -> str:
    """The outbox key of the DM summary of `decision` (one per decision for its owner;
    `copy` names an extra copy, e.g. asked for with "Full record in my DMs")."""
    key = f"dm:{c.id}:{phrasing.fingerprint(decision)[:16]}"
    if recipient and recipient != c.user_id:
        key += f":{recipient}"
    return f"{key}:{copy}" if copy else key


def send_summary(
    deps: Deps,
    consultation: StoredConsultation,
    decision: Decision,
    *,
    recipient: str | None = None,
    link: str | None = None,
    place: str | None = None,
    note: str | None = None,
    prose: phrasing.Prose | None = None,
    copy: str | None = None,
) -> str:
    """DM the full record (and the chart when there is volume) to `recipient` (default: the
    owner), through the outbox: while Slack fails it is sent later, and never twice.
    Returns the DM channel id (the person's id while the DM is not open yet); raises
    SlackCallFailed if Slack refused it. `link`/`place`: the way back (permalink,
    `<#C123>`); `note`: mrkdwn shown first; `prose`: the paragraph at the top (default:
    what `consultation.meta` has for it); `copy`: see `summary_key`."""
    user = recipient or consultation.user_id
    try:
        dm = open_dm(deps, user)
    except SlackCallFailed as exc:
        if not exc.transient:
            raise
        dm = user  # a post to the person's id lands in our DM with them
    prose = prose or prose_for(deps, consultation, decision)
    text, summary_blocks = _summary(deps, consultation, decision, prose, link=link,
                                    place=place, note=note)
    delivery = outbox.send(
        deps, summary_key(consultation, decision, user, copy), kind="dm", channel=dm,
        text=text, blocks=summary_blocks, consultation_id=consultation.id, owner=user,
        after={"for_decision": phrasing.fingerprint(decision), "chart": decision.has_volume,
               "remember": user == consultation.user_id and copy is None},
    )
    return delivery.raise_if_refused().channel or dm


def deliver(
    deps: Deps,
    c: StoredConsultation,
    decision: Decision,
    *,
    card: Callable[[phrasing.Prose], Rendered] | None,
    link: str | None,
    place: str | None,
    note: str | None = None,
    on_dm_failed: Callable[[SlackCallFailed], None],
    on_changed: Callable[[StoredConsultation], None] | None = None,
    dm: bool = True,
) -> None:
    """The end of a consultation, after its card: the owner's DM summary at once (with the
    chart), then the LLM phrasing (when on), which replaces the card (`card(prose)` gives
    it; None when there is none to update) and the DM in place.

    `dm=False` (the assistant thread, which is a DM already): no summary; the chart goes
    in the card's thread, and the delivery is recorded as done there."""
    prose = prose_for(deps, c, decision)
    if dm:
        try:
            send_summary(deps, c, decision, link=link, place=place, note=note, prose=prose)
        except SlackCallFailed as exc:
            on_dm_failed(exc)
    elif c.channel:
        remember(deps, c.id, dm={"channel": c.channel, "in_thread": True,
                                 "for_decision": phrasing.fingerprint(decision)})
        if decision.has_volume:
            upload_chart(deps, c.channel, decision, thread_ts=c.thread_ts)
    phrasing.improve(
        deps, c, decision,
        template=card_explanation(decision),
        render=card,
        render_dm=(lambda p: _summary(deps, c, decision, p, link=link, place=place, note=note))
        if dm else None,
        on_changed=on_changed,
    )


# ---------------------------------------------------------------- records on request


def upload_markdown(deps: Deps, *, user: str, channel: str | None, cid: str) -> None:
    """Upload the Markdown decision record into `channel` (the DM the button is in)."""
    from bot.explain.markdown import render_markdown

    c = deps.store.get(cid)
    decision = decision_of(c) if c is not None else None
    if c is None or decision is None:
        tell_user(deps, user, not_found(deps.command), channel=channel)
        return
    target = channel or open_dm(deps, user)
    markdown = render_markdown(decision, deps.knowledge,
                               phrasing.markdown_text(prose_for(deps, c, decision)))
    day = c.created_at.strftime("%Y-%m-%d")
    try:
        call(
            deps,
            "files_upload_v2",
            channel=target,
            content=markdown,
            filename=f"decision-record-{day}-{c.id[:8]}.md",
            title=f"Decision record: {decision.verdict_label} ({day})",
        )
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not upload the decision record: {explain(exc)}.",
                  channel=target)


def send_record_dm(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Full record in my DMs" on a card: the owner gets a link to their DM summary (or a
    new one); anyone else gets their own copy of the summary."""
    c = deps.store.get(cid)
    decision = decision_of(c) if c is not None else None
    if c is None or decision is None:
        tell_user(deps, user, not_found(deps.command), channel=channel, thread_ts=thread_ts)
        return
    dm_meta = c.meta.get("dm") or {}
    if user == c.user_id and not dm_meta.get("in_thread"):
        link = permalink(deps, dm_meta.get("channel"), dm_meta.get("ts"))
        if link:
            tell_user(deps, user, f"Your full record is in our DM: {mrkdwn_link(link, 'open it')}.",
                      channel=channel, thread_ts=thread_ts)
            return
    try:
        send_summary(deps, c, decision, recipient=user, link=c.meta.get("permalink"),
                     place=where(c.channel), copy=uuid.uuid4().hex[:8])
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not send you the record: {explain(exc)}.",
                  channel=channel, thread_ts=thread_ts)
        return
    if user != c.user_id:
        tell_user(deps, user, "I sent you the full record in a DM.", channel=channel,
                  thread_ts=thread_ts)


# ---------------------------------------------------------------- history and App Home


def history_item(c: StoredConsultation, changed: Notice | None = None) -> HistoryItem:
    """How `c` is listed: its verdict, where, and a link to its card (or, while it is in
    progress, to its thread; else to the DM with its summary)."""
    verdict = (c.decision or {}).get("verdict") if c.status == "done" else None
    place = where(c.channel) or "a DM"
    if c.meta.get("private") and c.channel and not is_dm(c.channel):
        place += ", private"
    link = c.meta.get("permalink")
    if not link and (dm := c.meta.get("dm") or {}).get("channel"):
        link = f"https://slack.com/app_redirect?channel={dm['channel']}"
    if not link and c.status == "open" and c.channel and c.thread_ts:
        link = f"https://slack.com/app_redirect?channel={c.channel}"
    return HistoryItem(
        verdict=verdict,
        verdict_label=VERDICT_LABELS.get(str(verdict)) if verdict else None,
        status=c.status,
        created_at=c.created_at,
        where=place,
        link=link,
        drift=(f"now {VERDICT_LABELS.get(changed.new_verdict, changed.new_verdict)} "
               f"({changed.detected_on.isoformat()}): {changed.why}")
        if changed is not None and verdict == changed.old_verdict else None,
        muted=bool(c.meta.get(MUTED_KEY)),
    )


def history_items(deps: Deps, user: str, team: str | None = None) -> list[HistoryItem]:
    rows = deps.store.recent_for_user(user, HISTORY_LIMIT, team_id=team)
    changed = DriftLedger(deps.store).notices_for(r.id for r in rows if r.status == "done")
    return [history_item(c, changed.get(c.id)) for c in rows]


def publish_home(deps: Deps, user: str, team: str | None = None) -> None:
    unavailable = False
    try:
        items = history_items(deps, user, team)
    except StoreError:
        items, unavailable = [], True
    view = blocks.home_view(
        items,
        history_unavailable=unavailable,
        knowledge_version=deps.knowledge.version,
        knowledge_as_of=deps.knowledge.manifest.as_of,
        command=deps.command,
        bot_user_id=deps.bot_user_id,
    )
    call(deps, "views_publish", user_id=user, view=view)


# ---------------------------------------------------------------- recheck


def mute_consultation(deps: Deps, *, user: str, channel: str | None, cid: str) -> None:
    """Stop recheck telling `user` about consultation `cid` (theirs only)."""
    c = deps.store.get(cid)
    if c is None:
        tell_user(deps, user, not_found(deps.command), channel=channel)
        return
    if c.user_id != user:
        tell_user(deps, user, f"Only <@{c.user_id}> can mute this consultation.",
                  channel=channel)
        return

    def apply(draft: ConsultationDraft) -> None:
        draft.meta.setdefault(MUTED_KEY, utcnow().isoformat())

    deps.store.update(cid, apply, require_open=False)
    tell_user(deps, user, "Muted: I will not message you about this consultation again. "
              "Its verdict stays in your App Home.", channel=channel)
