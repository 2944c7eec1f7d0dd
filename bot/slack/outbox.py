"""Sending the messages a person is owed, through the outbox (`bot.store.outbox`).

`send(deps, key, ...)` writes the message's newest content to the database, then tries
to deliver it at once. Delivery posts the message once (its key in the message's
`metadata`) and after that only updates it. When Slack fails:

- a rate limit or an outage (after the client's own retries): the message waits in the
  outbox for Retry-After, else a back-off (1, 2, 4 ... up to 120 s), and the outbox
  drainer of any process sends it when it is due, also after a restart;
- a failure after which the post may have arrived (a 5xx, a lost connection, a
  process killed mid-post): before posting again, the conversation is searched for a
  message carrying the key, so it is never posted twice;
- a refusal (not in the channel, bad blocks): the message is given up and the caller
  (or, for the drainer, the person) is told why.

A person who waits is told once that Slack is slow (`BOT_SLOW_NOTICE_S`).

What happens once a message is posted depends on its kind (`payload["after"]`):
the consultation's thread message saves its ts and permalink in the consultation; a
card or DM summary is remembered in the consultation's meta (`card`/`dm`, with the
key, so later changes such as LLM phrasing go through the outbox too), and a DM
summary with volume gets its break-even chart.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.slack.client import OUTBOX_EVENT_TYPE
from bot.slack.state import remember
from bot.slack.web import (
    UPDATE_GONE,
    Deps,
    SlackCallFailed,
    call,
    explain,
    permalink,
    tell_user,
)
from bot.store import ConsultationDraft, StoreError
from bot.store.models import utcnow
from bot.store.outbox import Outbox, OutboxItem

log = logging.getLogger("bot.slack.outbox")

#: The message metadata event type that carries a message's outbox key (the client
#: knows it too: it does not repeat such a post after a 5xx).
EVENT_TYPE = OUTBOX_EVENT_TYPE
MAX_BACKOFF_S = 120.0
#: A message still failing after this many tries in a row (about a day) is given up.
MAX_FAILURES = 720
#: How far back (s) before the row was made a top-level message is looked for.
LOOKBACK_S = 120


@dataclass(frozen=True)
class Delivery:
    """What became of a message: `sent` (Slack shows its newest content), `pending`
    (waiting in the outbox; it will be sent), `failed` (refused: `error` says why)."""

    status: str
    message_ts: str | None = None
    channel: str | None = None
    error: SlackCallFailed | None = None

    def raise_if_refused(self) -> Delivery:
        """Raise the refusal (SlackCallFailed) of a failed delivery; else return self."""
        if self.status == "failed" and self.error is not None:
            raise self.error
        return self


def outbox_of(deps: Deps) -> Outbox:
    return Outbox(deps.services.store,
                  timedelta(seconds=deps.settings.bot_outbox_lease_s))


def send(
    deps: Deps, key: str, *, kind: str, channel: str, text: str,
    blocks: list[dict[str, Any]] | None = None, thread_ts: str | None = None,
    consultation_id: str | None = None, owner: str | None = None,
    message_ts: str | None = None, after: Mapping[str, Any] | None = None,
) -> Delivery:
    """Owe `owner` this content of message `key`, and try to deliver it now.

    Raises StoreError when the database cannot take it (nothing was sent then)."""
    payload: dict[str, Any] = {"text": text, "blocks": blocks or [], "after": dict(after or {})}
    outbox_of(deps).put(key, kind=kind, channel=channel, payload=payload,
                        thread_ts=thread_ts, team_id=deps.team_id,
                        consultation_id=consultation_id, owner=owner, message_ts=message_ts)
    return deliver(deps, key)


def _state(item: OutboxItem | None) -> Delivery:
    if item is None:
        return Delivery("failed")
    status = "sent" if item.status == "sent" else "failed" if item.status == "failed" \
        else "pending"
    return Delivery(status, item.message_ts, item.channel)


_in_flight: dict[str, str] = {}
_in_flight_lock = threading.Lock()


def leases_in_flight() -> dict[str, str]:
    """`{key: lease holder}` of the deliveries running in this process (renewed by the
    drainer's lease keeper, so a slow Slack call never lets another process re-send)."""
    with _in_flight_lock:
        return dict(_in_flight)


def deliver(deps: Deps, key: str, *, tell_refusal: bool = False) -> Delivery:
    """Send message `key`'s newest content if nobody else is (see the module docstring).
    `tell_refusal`: when Slack refuses it for good, tell its owner why (the drainer; an
    inline caller gets the error back and says it in its own words)."""
    outbox = outbox_of(deps)
    by = uuid.uuid4().hex
    item = outbox.claim(key, by)
    if item is None:  # sent already, being sent, or waiting for its next try
        return _state(outbox.get(key))
    with _in_flight_lock:
        _in_flight[key] = by
    try:
        return _deliver_claimed(deps, outbox, item, by, tell_refusal)
    except StoreError:
        log.warning("outbox %s: the database failed mid-delivery; it is retried when "
                    "the lease runs out", key)
        raise
    finally:
        with _in_flight_lock:
            if _in_flight.get(key) == by:
                del _in_flight[key]


def _deliver_claimed(deps: Deps, outbox: Outbox, item: OutboxItem, by: str,
                     tell_refusal: bool) -> Delivery:
    key = item.key
    while True:
        if item.up_to_date:
            if outbox.finish(key, by):
                return Delivery("sent", item.message_ts, item.channel)
            fresh = outbox.get(key)  # newer content came in meanwhile: send that too
            if fresh is None:
                return Delivery("failed")
            if fresh.lease_by != by:  # the lease ran out and another sender took it
                return _state(fresh)
            item = fresh
            continue
        version = item.content_version
        text = str(item.payload.get("text") or "")
        blocks = item.payload.get("blocks") or None
        try:
            if item.message_ts is None and item.unclear:
                found = _look_for_posted(deps, item)
                if found is not None:
                    log.info("outbox %s: the earlier post did arrive; updating it", key)
                    if not outbox.found(key, by, message_ts=found[0], channel=found[1]):
                        return _lost(outbox, key)
                    _after_posted(deps, item, found[0], found[1])
                    item = _reread(outbox, key)
                    continue
            if item.message_ts is None:
                if not outbox.attempting(key, by):
                    return _lost(outbox, key)
                posted = call(deps, "chat_postMessage", channel=item.channel,
                              thread_ts=item.thread_ts, text=text, blocks=blocks,
                              metadata={"event_type": EVENT_TYPE,
                                        "event_payload": {"key": key}})
                ts, channel = str(posted["ts"]), str(posted.get("channel") or item.channel)
                outbox.posted(key, by, message_ts=ts, channel=channel, version=version)
                _after_posted(deps, item, ts, channel)  # posted: tie it, lease or not
            else:
                try:
                    call(deps, "chat_update", channel=item.channel, ts=item.message_ts,
                         text=text, blocks=blocks)
                except SlackCallFailed as exc:
                    if exc.error not in UPDATE_GONE:
                        raise
                    if not outbox.gone(key, by):  # deleted in Slack: post the newest anew
                        return _lost(outbox, key)
                else:
                    if not outbox.updated(key, by, version):
                        return _lost(outbox, key)
        except SlackCallFailed as exc:
            return _failed(deps, outbox, item, by, exc, tell_refusal)
        item = _reread(outbox, key)


def _lost(outbox: Outbox, key: str) -> Delivery:
    """This sender's lease ran out (another took the message over): stop, send nothing."""
    log.warning("outbox %s: lease lost mid-delivery; another sender has it", key)
    return _state(outbox.get(key))


def _reread(outbox: Outbox, key: str) -> OutboxItem:
    item = outbox.get(key)
    if item is None:
        raise StoreError(f"outbox row {key} disappeared")
    return item


def _backoff_s(item: OutboxItem, exc: SlackCallFailed) -> float:
    if exc.retry_after is not None:
        return exc.retry_after + random.uniform(0, 0.25)
    return min(MAX_BACKOFF_S, 2.0 ** min(item.failures, 7)) * random.uniform(0.8, 1.0)


def _failed(deps: Deps, outbox: Outbox, item: OutboxItem, by: str,
            exc: SlackCallFailed, tell_refusal: bool) -> Delivery:
    if not exc.transient or item.failures + 1 >= MAX_FAILURES:
        outbox.give_up(item.key, by, exc.error)
        log.error("outbox %s: given up (%s)", item.key, exc.error)
        if tell_refusal and item.owner:
            tell_user(deps, item.owner, f"I could not post {SLOW_WORDS.get(item.kind, 'my reply')}"
                      f" after all: {explain(exc)}.")
        return Delivery("failed", item.message_ts, item.channel, exc)
    unclear = exc.unclear if exc.method == "chat_postMessage" else item.unclear
    delay = _backoff_s(item, exc)
    outbox.retry_later(item.key, by, delay_s=delay, error=exc.error, unclear=unclear)
    log.warning("outbox %s: %s failed (%s); next try in %.1f s", item.key, exc.method,
                exc.error, delay)
    _maybe_tell_slow(deps, outbox, item)
    return Delivery("pending", item.message_ts, item.channel, exc)


SLOW_WORDS = {
    "thread": "your next step here",
    "card": "your result",
    "dm": "the full record in our DM",
}


def _maybe_tell_slow(deps: Deps, outbox: Outbox, item: OutboxItem) -> None:
    """Once per message: tell its owner that Slack is slow and nothing is lost."""
    waited = (utcnow() - item.created_at).total_seconds()
    late = item.failures >= 1 or waited >= deps.settings.bot_slow_notice_s
    if not item.owner or item.slow_notice_at is not None or not late:
        return
    try:
        if not outbox.claim_slow_notice(item.key):
            return
    except StoreError:
        return
    what = SLOW_WORDS.get(item.kind, "my reply")
    told = tell_user(
        deps, item.owner,
        f"Slack is slow to take my messages right now, so {what} will show up a little "
        "late. Nothing you did is lost; I keep trying.",
        channel=None if _to_person(item.channel) else item.channel,
        thread_ts=item.thread_ts,
    )
    if not told:
        with contextlib.suppress(StoreError):  # try again on the next failure
            outbox.unclaim_slow_notice(item.key)


def _to_person(channel: str) -> bool:
    """A DM addressed by the person's id (Slack posts it in the app's DM with them)."""
    return channel.startswith(("U", "W"))


def _look_for_posted(deps: Deps, item: OutboxItem) -> tuple[str, str] | None:
    """`_find_posted`, except that a conversation the bot may not read (a refusal, not
    Slack being busy) counts as not found: better a rare second post than none."""
    try:
        return _find_posted(deps, item)
    except SlackCallFailed as exc:
        if exc.transient:
            raise
        log.warning("outbox %s: could not look for an earlier post (%s); posting",
                    item.key, exc.error)
        return None


def _find_posted(deps: Deps, item: OutboxItem) -> tuple[str, str] | None:
    """The message carrying `item`'s key if an earlier post did arrive: (ts, channel)."""
    channel = item.channel
    if _to_person(channel):
        channel = str(call(deps, "conversations_open", users=channel)["channel"]["id"])
    if item.thread_ts:
        answer = call(deps, "conversations_replies", channel=channel, ts=item.thread_ts,
                      include_all_metadata=True, limit=200)
    else:
        oldest = item.created_at.timestamp() - LOOKBACK_S
        answer = call(deps, "conversations_history", channel=channel, oldest=f"{oldest:.6f}",
                      include_all_metadata=True, limit=200)
    for message in answer.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == EVENT_TYPE and payload.get("key") == item.key:
            return str(message["ts"]), channel
    return None


# ---------------------------------------------------------------- once posted


def _after_posted(deps: Deps, item: OutboxItem, ts: str, channel: str) -> None:
    """Tie the posted message to its consultation (best effort: the message is out)."""
    after = item.payload.get("after") or {}
    cid = item.consultation_id
    if not cid:
        return
    try:
        if item.kind == "thread":
            _save_thread_message(deps, item, ts, channel)
        elif item.kind in ("card", "dm"):
            entry = {"channel": channel, "ts": ts, "key": item.key,
                     "for_decision": after.get("for_decision")}
            if after.get("remember", True):
                remember(deps, cid, **{item.kind: entry})
            if item.kind == "card":
                link = permalink(deps, channel, ts)
                if link:
                    remember(deps, cid, permalink=link)
            if item.kind == "dm" and after.get("chart"):
                _chart_for(deps, cid, channel)
    except StoreError as exc:
        log.warning("outbox %s: posted, but not recorded on its consultation (%s)",
                    item.key, exc)


#: Consultation meta: how often a DM consultation's question moved below a typed answer.
MOVES = "moves"


def thread_key(cid: str, moves: Any = 0) -> str:
    """The outbox key of a consultation's one message; a DM consultation's message gets a
    new key each time it moves below a typed answer (`moves`)."""
    return f"thread:{cid}" + (f":{moves}" if moves else "")


#: Consultation meta: the ts of the message a moved DM question replaces (deleted once the
#: new one is posted).
REPLACED = "replaced_ts"


def _save_thread_message(deps: Deps, item: OutboxItem, ts: str, channel: str) -> None:
    """The consultation's message is `ts` (saved before anything slow, so a click that
    comes now updates it rather than posting another); then its permalink. A post under
    an older key of a moved DM question changes nothing (it is not the current one)."""
    cid = str(item.consultation_id)
    replaced: list[str] = []

    def apply(d: ConsultationDraft) -> None:
        replaced.clear()
        if thread_key(cid, d.meta.get(MOVES)) != item.key:
            return
        d.message_ts = ts
        old = d.meta.pop(REPLACED, None)
        if isinstance(old, str) and old != ts:
            replaced.append(old)

    deps.store.update(cid, apply, require_open=False)
    for old in replaced:  # the question moved below: the old one goes
        with contextlib.suppress(SlackCallFailed):
            call(deps, "chat_delete", channel=channel, ts=old)
    link = permalink(deps, channel, ts)
    if link:
        remember(deps, cid, permalink=link)


def _chart_for(deps: Deps, cid: str, channel: str) -> None:
    from bot.slack.chart_upload import upload_chart
    from bot.slack.state import decision_of

    c = deps.store.get(cid)
    decision = decision_of(c) if c is not None else None
    if decision is not None and decision.has_volume:
        upload_chart(deps, channel, decision)
