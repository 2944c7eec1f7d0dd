"""Thread consultations: an @-mention (or a message in the bot's DM) answered in a thread.

One question message per consultation, updated in place (`message_ts` in the row). The
consultation's state is the engine's consultation object, stored in the row, so any
process can continue it; this module only turns Slack messages into its operations
(`bot.slack.state.edit`, under the store's optimistic locking) and shows what it says.
After each write the message is re-rendered until it shows the latest version, so two
fast clicks lose nothing.

- `handle_mention`: start one (reading the asker's own messages in the thread), or add
  to the one going in that thread.
- `handle_thread_message`: the owner's replies in the thread: the free-text parser reads
  everything it can ("20M calls a month with a 6k token prompt") and says what it
  understood; otherwise a bare answer to the question on screen ("8k", "yes").
- `handle_direct_message`: a top-level message in the bot's DM goes to the user's open
  DM consultation; "new" starts another (the open one is abandoned); chit-chat without
  anything to read gets one short hint a day, never a consultation.
- `advance` / `finish_thread`: show the latest state; at the end the verdict card
  replaces the question message and the owner gets the DM summary, once per decision
  (`_claim_delivery`), even when a restart came between `Store.finish` and the card:
  the next click on the stale question repairs it (`resume_finished`).
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.engine import AnswerError, Consultation, Reply
from bot.engine.consultation import typed_answer
from bot.engine.freetext import clean, parse_freetext
from bot.knowledge import Question
from bot.slack import blocks, outbox
from bot.slack.assistant_status import clear_status, set_status
from bot.slack.blocks.limits import escape
from bot.slack.blocks.question import QuestionState, closed_message, start_your_own
from bot.slack.phrasing import fingerprint
from bot.slack.records import deliver, result_card
from bot.slack.state import decision_of, edit, finish, new_state, remember, state_of
from bot.slack.web import (
    Deps,
    SlackCallFailed,
    about,
    call,
    explain,
    guarded,
    is_dm,
    permalink,
    tell_user,
    where,
)
from bot.slack.work import HANDLED_MESSAGE_SUBTYPES
from bot.store import (
    ConsultationClosed,
    ConsultationDraft,
    ConsultationExists,
    StoredConsultation,
    StoreError,
)

log = logging.getLogger("bot.slack.thread_flow")

REPLIES_PAGES = 5
#: A delivery claimed this long ago without a DM recorded is taken over (the process
#: that claimed it died).
CLAIM_STALE_S = 120.0
#: The assistant thread's status while the verdict is written up (and phrased).
WRITING_UP = "is writing up the verdict..."
#: Top-level words in the bot's DM that start a new consultation.
NEW_WORDS = re.compile(
    r"^\s*(?:new|new one|new consultation|start|start over|restart|begin|again)\s*[.!]*\s*$",
    re.IGNORECASE,
)
#: A DM that talks about the subject is a request even when nothing in it can be read.
ON_TOPIC = re.compile(
    r"fine[- ]?tun|\bprompt|\blo?ra\b|\bqlora\b|\btrain|\bmodels?\b|\bllms?\b|\bconsult|"
    r"\badvi[cs]e\b|\bverdict\b|\bshould (?:we|i)\b",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- the question message


def current_question(deps: Deps, c: StoredConsultation) -> Question | None:
    """The question the message shows (the consultation object decides)."""
    return state_of(deps, c).next_question()


def _question_state(deps: Deps, c: StoredConsultation, state: Consultation,
                    q: Question) -> QuestionState:
    progress = state.progress()
    assert progress is not None
    return QuestionState(
        consultation_id=c.id,
        owner=c.user_id,
        question=q,
        progress=progress,
        answers=state.answers,
        read=dict(state.prefilled),
        notes=list(state.notes),
        bot_user_id=deps.bot_user_id,
        command=deps.command,
        can_go_back=state.can_go_back(),
    )


def render_thread_message(
    deps: Deps, c: StoredConsultation
) -> tuple[str, list[dict[str, Any]]] | None:
    """The thread message for `c`: the verdict card when done, the current question while
    open, a short note once abandoned. None when it is open but the flow has nothing left
    to ask."""
    decision = decision_of(c)
    if c.status == "done" and decision is not None:
        return result_card(deps, c, decision, thread=True)
    if c.status == "abandoned":
        return closed_message(deps.command)
    if c.status != "open":
        return None
    state = state_of(deps, c)
    q = state.next_question()
    if q is None:
        return None
    return blocks.question_message(deps.knowledge, _question_state(deps, c, state, q))


#: Meta keys of a consultation held in the bot's DM itself (not in a thread): its
#: message is top-level, and moves to the bottom each time the person types an answer.
TOP_LEVEL = "top_level"
MOVES = outbox.MOVES


def thread_message_key(c: StoredConsultation) -> str:
    """The outbox key of a consultation's one message (a DM consultation's message gets
    a new key each time it moves to the bottom of the DM)."""
    return outbox.thread_key(c.id, c.meta.get(MOVES))


def top_level(c: StoredConsultation) -> bool:
    return bool(c.meta.get(TOP_LEVEL)) and is_dm(c.channel)


def show(deps: Deps, c: StoredConsultation) -> StoredConsultation:
    """Owe the consultation's one message its latest content and send it (post once,
    then update: `bot.slack.outbox`); returns the row as it is now (a newly posted
    message's ts and permalink saved with it). While Slack is failing, the message waits
    in the outbox and is sent later; a refusal raises SlackCallFailed."""
    rendered = render_thread_message(deps, c)
    if rendered is None or not c.channel:
        return c
    text, message_blocks = rendered
    delivery = outbox.send(
        deps, thread_message_key(c), kind="thread", channel=c.channel,
        thread_ts=None if top_level(c) else c.thread_ts, text=text, blocks=message_blocks,
        consultation_id=c.id, owner=c.user_id, message_ts=c.message_ts,
    )
    delivery.raise_if_refused()
    return deps.store.get(c.id) or c


def advance(deps: Deps, c: StoredConsultation) -> None:
    """Show the latest state of a thread consultation; finish it when the flow is done.

    Re-reads the row after each update and renders again if another writer changed what
    the message shows meanwhile, so the message converges on the latest answers.
    """
    for _ in range(5):
        if c.status == "abandoned":
            return
        state = state_of(deps, c)
        if c.status == "open" and state.done:
            try:
                c = finish(deps, c.id)
            except ConsultationClosed as exc:  # another click finished it first
                c = exc.consultation
                continue
            finish_thread(deps, c)
            return
        shown = render_thread_message(deps, c)
        c = show(deps, c)
        if c.status == "open" and state_of(deps, c).done:
            continue
        if render_thread_message(deps, c) == shown:
            return


# ---------------------------------------------------------------- the end


def finish_thread(deps: Deps, c: StoredConsultation) -> None:
    """The verdict card replaces the question message; the owner gets the DM summary
    (once per decision: whoever claims the delivery first sends it)."""
    decision = decision_of(c)
    if decision is None or c.decision is None:
        return
    digest = fingerprint(c.decision)
    link = c.meta.get("permalink")
    try:
        c = show(deps, c)
        if c.message_ts:
            link = c.meta.get("permalink") or permalink(deps, c.channel, c.message_ts)
            remember(deps, c.id, card={"channel": c.channel, "ts": c.message_ts,
                                       "for_decision": digest,
                                       "key": thread_message_key(c)}, permalink=link)
    except SlackCallFailed as exc:
        tell_user(deps, c.user_id, f"I could not show the verdict in the thread: "
                  f"{explain(exc)}. It is in your DMs.", channel=c.channel, thread_ts=c.thread_ts)
    claimed = _claim_delivery(deps, c)
    if claimed is None:
        return
    in_assistant = c.surface == "assistant" and bool(c.channel and c.thread_ts)
    if in_assistant:
        set_status(deps, str(c.channel), str(c.thread_ts), WRITING_UP)

    def dm_failed(exc: SlackCallFailed) -> None:
        tell_user(deps, c.user_id, f"I could not send you the full record in a DM: "
                  f"{explain(exc)}.", channel=c.channel, thread_ts=c.thread_ts)

    deliver(deps, claimed, decision,
            card=lambda p: result_card(deps, claimed, decision, p, thread=True),
            link=link, place=where(c.channel), on_dm_failed=dm_failed,
            on_changed=lambda row: advance(deps, row),
            dm=not in_assistant)  # the assistant thread is the DM already
    if in_assistant:
        clear_status(deps, str(c.channel), str(c.thread_ts))


def _delivered(meta: Mapping[str, Any], digest: str) -> bool:
    """The owner's DM summary of this decision was sent (a `dm` saved before DMs were
    tied to their decision counts as sent)."""
    dm = meta.get("dm")
    if not isinstance(dm, Mapping) or not (dm.get("ts") or dm.get("in_thread")):
        return False
    return "for_decision" not in dm or dm.get("for_decision") == digest


def _claim_delivery(deps: Deps, c: StoredConsultation) -> StoredConsultation | None:
    """Claim the DM summary of `c`'s decision: the row if this caller should send it, None
    if it was sent or someone else is sending it (claims go stale after CLAIM_STALE_S)."""
    assert c.decision is not None
    digest = fingerprint(c.decision)
    token = uuid.uuid4().hex
    now = time.time()

    def apply(d: ConsultationDraft) -> None:
        if d.status != "done" or d.decision is None or fingerprint(d.decision) != digest:
            return
        if _delivered(d.meta, digest):
            return
        claim = d.meta.get("delivery")
        if (isinstance(claim, Mapping) and claim.get("for") == digest
                and now - float(claim.get("at") or 0) < CLAIM_STALE_S):
            return
        d.meta["delivery"] = {"for": digest, "at": now, "by": token}

    try:
        row = deps.store.update(c.id, apply, require_open=False)
    except StoreError as exc:  # better a DM than none
        log.warning("consultation %s: delivery not claimed (%s); sending anyway", c.id, exc)
        return c
    claim = row.meta.get("delivery")
    return row if isinstance(claim, Mapping) and claim.get("by") == token else None


def resume_finished(deps: Deps, c: StoredConsultation) -> bool:
    """A click or reply found `c` closed. If it is done but its card or DM never went out
    (a restart between `Store.finish` and the card), do that now; True if so."""
    if c.status != "done" or not c.decision:
        return False
    digest = fingerprint(c.decision)
    card = c.meta.get("card")
    shown = (isinstance(card, Mapping) and card.get("ts") == c.message_ts
             and card.get("for_decision", digest) == digest)
    if shown and _delivered(c.meta, digest):
        return False
    log.info("consultation %s: finished without its card or DM; delivering now", c.id)
    finish_thread(deps, c)
    return True


# ---------------------------------------------------------------- starting one


def people_messages(
    deps: Deps, *, channel: str, thread_ts: str, user: str | None = None, skip_ts: str = ""
) -> list[str]:
    """The text of people's messages in the thread, oldest first (`user`: only theirs),
    never bots'. Raises SlackCallFailed when the thread cannot be read."""
    texts: list[str] = []
    cursor = None
    for _ in range(REPLIES_PAGES):
        kwargs: dict[str, Any] = {"channel": channel, "ts": thread_ts, "limit": 200}
        if cursor:
            kwargs["cursor"] = cursor
        response = call(deps, "conversations_replies", **kwargs)
        for m in response.get("messages") or []:
            if (m.get("user") and (user is None or m.get("user") == user)
                    and not m.get("bot_id")
                    and m.get("subtype") in HANDLED_MESSAGE_SUBTYPES
                    and m.get("ts") != skip_ts and m.get("text")):
                texts.append(str(m["text"]))
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not response.get("has_more") or not cursor:
            break
    return texts


def thread_texts(
    deps: Deps, *, user: str, channel: str, thread_ts: str, ts: str, text: str
) -> tuple[list[str], str | None]:
    """The owner's messages in the thread (oldest first) and a note if it could not be read.

    Only the asker's own messages are used, never other people's."""
    try:
        texts = people_messages(deps, channel=channel, thread_ts=thread_ts, user=user,
                                skip_ts=ts)
        note = None
    except SlackCallFailed as exc:
        texts, note = [], f"I only used your message: {explain(exc)}."
    return [*texts, text], note


def handle_mention(
    deps: Deps,
    *,
    user: str,
    team: str | None,
    channel: str,
    ts: str,
    thread_ts: str | None,
    text: str,
    surface: str = "thread",
    origin: str = "mention",
    meta: Mapping[str, Any] | None = None,
    read_thread: bool = True,
    texts: list[str] | None = None,
) -> StoredConsultation | None:
    """Someone mentioned the bot (or wrote to it in a DM): start or continue a thread
    consultation in that thread (a top-level message becomes the thread's root).

    The other surfaces that consult in a thread come here too: the assistant thread
    (`surface="assistant"`, whose earlier messages are the bot's greeting:
    `read_thread=False`) and the message shortcut (`texts`: the thread as it read it).
    Returns the consultation started, None when the thread had one already."""
    root = thread_ts or ts
    existing = deps.store.find_open_for_thread(channel, root)
    if existing is not None:
        with about(existing.id):
            _mention_in_busy_thread(deps, existing, user=user, channel=channel, text=text)
        return None
    note = None
    if texts is None:
        texts, note = (
            thread_texts(deps, user=user, channel=channel, thread_ts=root, ts=ts, text=text)
            if read_thread and thread_ts and thread_ts != ts
            else ([text], None)
        )
    state = new_state(deps)
    state.read("\n".join(texts))
    if note:
        state.note(note)
    try:
        c = deps.store.create_consultation(
            user_id=user, team_id=team, surface=surface, channel=channel, thread_ts=root,
            state=state.to_json(), meta={"origin": origin, **(meta or {})},
        )
    except ConsultationExists as exc:  # created meanwhile (another delivery/replica)
        if exc.existing is not None:
            with about(exc.existing.id):
                _mention_in_busy_thread(deps, exc.existing, user=user, channel=channel,
                                        text=text)
        return None
    with about(c.id):
        try:
            advance(deps, c)
        except SlackCallFailed as exc:
            tell_user(deps, user, f"I could not reply in the thread: {explain(exc)}. Try "
                      f"`{deps.command}` instead: it works in any channel.", channel=channel,
                      thread_ts=root)
    return c


def _mention_in_busy_thread(
    deps: Deps, c: StoredConsultation, *, user: str, channel: str, text: str
) -> None:
    if user != c.user_id:
        tell_user(
            deps, user,
            f"<@{c.user_id}> has a consultation going in this thread (one per thread). "
            + start_your_own(deps.bot_user_id, deps.command),
            channel=channel, thread_ts=c.thread_ts,
        )
        return
    reply = read_reply(deps, c, text)
    if reply.answers:
        if take_reply(deps, c, text) and reply.from_text:
            tell_user(deps, user, noted(reply), channel=channel, thread_ts=c.thread_ts)
        return
    if c.message_ts is None:
        advance(deps, c)
        return
    tell_user(deps, user, "You already have a consultation going in this thread: answer the "
              "question above, or use Start over there.", channel=channel, thread_ts=c.thread_ts)


# ---------------------------------------------------------------- typed replies


def _not_accepted(question: Question, text: str, error: AnswerError) -> str:
    given = clean(text)
    reason = error.reason
    quoted = repr(error.given)
    if reason.startswith(quoted):  # "'lots' is not a number; ..." - the text is quoted once
        reason = "it" + reason[len(quoted):]
    return (f"I could not read \u201c{escape(given[:200])}\u201d as {escape(question.short)}: "
            f"{escape(reason)}. The question above is still open and your other answers are "
            "kept.")


def read_reply(deps: Deps, c: StoredConsultation, text: str) -> Reply:
    """What `text` would do to the consultation (nothing is written: see `take_reply`)."""
    return state_of(deps, c).reply(text)


def problem_of(reply: Reply, text: str) -> str | None:
    """mrkdwn: why a typed number was not accepted (None for anything else)."""
    question, error = reply.question, reply.error
    if question is None or error is None or question.kind not in ("int", "float"):
        return None
    return _not_accepted(question, text, error)


def noted(reply: Reply) -> str:
    return "Noted: " + escape("; ".join(reply.understood)) + "."


def take_reply(deps: Deps, c: StoredConsultation, text: str) -> bool:
    """Write the reply and show the next state; False if the consultation was closed."""
    try:
        c, _ = edit(deps, c.id, lambda state: state.reply(text))
    except ConsultationClosed as exc:
        return resume_finished(deps, exc.consultation)
    advance(deps, c)
    return True


def handle_thread_message(
    deps: Deps, *, user: str, channel: str, thread_ts: str, text: str
) -> None:
    """A message in a thread. Most threads have nothing to do with the bot: if the store
    cannot be asked, that is logged and nobody is bothered. In a thread with an open
    consultation, the owner's reply may answer it."""
    try:
        c = deps.store.find_open_for_thread(channel, thread_ts)
    except StoreError as exc:
        log.warning("thread reply in %s not checked for a consultation: %s", channel, exc)
        return
    if c is None:
        return
    with about(c.id):
        if user != c.user_id:
            q = current_question(deps, c)
            if q is not None and q.kind in ("int", "float"):
                try:
                    typed_answer(q, text)
                except AnswerError:
                    return  # just conversation
                tell_user(deps, user, f"Only <@{c.user_id}> can answer this consultation. "
                          + start_your_own(deps.bot_user_id, deps.command),
                          channel=channel, thread_ts=thread_ts)
            return
        reply = read_reply(deps, c, text)
        if reply.answers:
            if take_reply(deps, c, text) and reply.from_text:
                tell_user(deps, user, noted(reply), channel=channel, thread_ts=thread_ts)
        elif (problem := problem_of(reply, text)) is not None:
            tell_user(deps, user, problem, channel=channel, thread_ts=thread_ts)


# ---------------------------------------------------------------- the bot's DM


def open_in_dm(deps: Deps, user: str, channel: str) -> StoredConsultation | None:
    """The user's open consultation in the DM `channel` (the newest; older open ones, left
    from before one DM meant one consultation, are abandoned)."""
    rows = [r for r in deps.store.recent_for_user(user, 20)
            if r.channel == channel and r.status == "open" and r.thread_ts
            and r.surface != "assistant"]  # each assistant thread keeps its own
    if not rows:
        return None
    for older in rows[1:]:
        abandon(deps, older)
    return rows[0]


def abandon(deps: Deps, c: StoredConsultation) -> None:
    """Close an open consultation that a newer one replaces; its message says so."""
    try:
        c = deps.store.abandon(c.id)
    except ConsultationClosed:
        return
    if c.message_ts:
        with about(c.id), contextlib.suppress(SlackCallFailed):
            show(deps, c)  # if this fails, its buttons say "closed" when clicked


def supersede(deps: Deps, keep: StoredConsultation) -> None:
    """In the bot's DM one consultation is open at a time: abandon the others."""
    if not (keep.channel and is_dm(keep.channel)) or keep.surface == "assistant":
        return
    for r in deps.store.recent_for_user(keep.user_id, 20):
        if (r.id != keep.id and r.channel == keep.channel and r.status == "open"
                and r.surface != "assistant"):
            abandon(deps, r)


def _hint_once(deps: Deps, key: str, channel: str, text: str) -> None:
    """Post `text` in `channel` unless `key` was hinted already today (kept in the store's
    processed-events table, so it holds across replicas and restarts)."""
    day = datetime.now(UTC).strftime("%Y%m%d")
    try:
        first = deps.store.claim_event(f"hint:{key}:{day}")
    except StoreError:
        return
    if first:
        call(deps, "chat_postMessage", channel=channel, text=text)


def handle_direct_message(
    deps: Deps, *, user: str, team: str | None, channel: str, ts: str, text: str
) -> None:
    """A top-level message in the bot's DM (replies in a thread there are typed answers)."""
    body = clean(text)
    current = open_in_dm(deps, user, channel)
    in_dm = {TOP_LEVEL: True}
    if NEW_WORDS.match(body):
        if current is not None:
            abandon(deps, current)
        handle_mention(deps, user=user, team=team, channel=channel, ts=ts, thread_ts=None,
                       text="", origin="dm", meta=in_dm)
        return
    if current is not None:
        with about(current.id):
            _continue_in_dm(deps, current, channel=channel, text=text)
        return
    if parse_freetext(text, deps.knowledge).answers or ON_TOPIC.search(body):
        handle_mention(deps, user=user, team=team, channel=channel, ts=ts, thread_ts=None,
                       text=text, origin="dm", meta=in_dm)
        return
    _hint_once(deps, channel, channel, (
        "Hi! Tell me about your LLM task and I'll say whether to prompt-engineer or "
        "fine-tune, e.g. _6k token prompt, 20M calls a month, 8000 examples, llama_. Or "
        f"write *new* to answer my questions one at a time; `{deps.command}` opens a form."
    ))


def _continue_in_dm(deps: Deps, c: StoredConsultation, *, channel: str, text: str) -> None:
    """A top-level message in the DM while a consultation is open there: it answers it.

    A consultation held in the DM itself moves its message to the bottom (the old one is
    deleted), so the conversation reads top to bottom in one place. One started in a
    thread before DMs were top-level goes on in its thread, and the reply says so."""
    reply = read_reply(deps, c, text)
    if not reply.answers:
        if (problem := problem_of(reply, text)) is not None and top_level(c):
            call(deps, "chat_postMessage", channel=channel, text=problem)
            return
        _hint_once(deps, c.id, channel, (
            f"Your consultation is still open: answer {_there(c)}, or write *new* to start "
            "another one."
        ))
        return
    if not top_level(c):
        if take_reply(deps, c, text):
            call(deps, "chat_postMessage", channel=channel,
                 text=f"{noted(reply)} Your consultation goes on {_there(c)}.")
        return
    old_key = thread_message_key(c)

    def move(d: ConsultationDraft) -> None:
        if d.message_ts:  # deleted once the question is posted below (bot.slack.outbox)
            d.meta[outbox.REPLACED] = d.message_ts
        d.meta[MOVES] = int(d.meta.get(MOVES) or 0) + 1
        d.message_ts = None

    try:
        c, _ = edit(deps, c.id, lambda state: state.reply(text), also=move)
    except ConsultationClosed as exc:
        resume_finished(deps, exc.consultation)
        return
    with contextlib.suppress(StoreError):  # nothing more is owed under the old key
        outbox.outbox_of(deps).cancel(old_key)
    if reply.from_text:
        with contextlib.suppress(SlackCallFailed):  # the question below says it too
            call(deps, "chat_postMessage", channel=channel, text=noted(reply))
    advance(deps, c)


def _there(c: StoredConsultation) -> str:
    if top_level(c):
        return "the question above"
    link = c.meta.get("permalink")
    return f"<{link}|in its thread>" if isinstance(link, str) and link else "in its thread"


# ---------------------------------------------------------------- any message event


def handle_message(deps: Deps, event: Mapping[str, Any], *, team: str | None) -> None:
    """A person's `message` event (work pool): a mention, a top-level message in the bot's
    DM, or a reply in a thread. Anything else is not for the bot."""
    user, channel, ts = str(event["user"]), str(event["channel"]), str(event["ts"])
    if deps.bot_user_id and user == deps.bot_user_id:
        return
    text = str(event.get("text") or "")
    thread_ts = event.get("thread_ts")
    in_thread = bool(thread_ts) and thread_ts != ts
    mentioned = bool(deps.bot_user_id) and f"<@{deps.bot_user_id}>" in text
    direct = event.get("channel_type") == "im" and not in_thread
    if not (mentioned or in_thread or direct):
        return
    with guarded(deps, user, channel=channel, thread_ts=thread_ts or ts):
        if direct:
            handle_direct_message(deps, user=user, team=team, channel=channel, ts=ts, text=text)
        elif mentioned:
            handle_mention(deps, user=user, team=team, channel=channel, ts=ts,
                           thread_ts=thread_ts, text=text)
        else:
            handle_thread_message(deps, user=user, channel=channel, thread_ts=str(thread_ts),
                                  text=text)
