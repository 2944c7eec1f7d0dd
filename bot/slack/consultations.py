"""Slack-side orchestration: what the listeners do after they ack.

The listeners (`bot.slack.listeners.*`) stay thin: they read the payload, ack, build a
`Deps` and call one function here. This module drives the shared flow
(`bot.engine.next_question` / `decide`), renders with the pure builders in
`bot.slack.blocks`, persists in the `Store`, and talks to the Web API.

Surfaces:

- modal (`/ptf`, App Home, "Adjust answers"): `open_modal`, `submit_modal` -> a result
  card in the channel (ephemeral when private; a DM when the bot cannot post there),
  the DM summary, and a consultation row stored as done.
- thread (@-mention, or a top-level message answered in a thread): `handle_mention`,
  `handle_thread_message` (typed numbers), `answer`, `skip`, `change`, `start_over`.
  One question message per consultation, updated in place (`message_ts` in the row);
  all state is in the row, so any process can continue it. Answers are written with
  the store's optimistic locking (`Store.update`), and after each write the message is
  re-rendered until it shows the latest version, so two fast clicks lose nothing and
  the message ends up showing both.
- DM summary (`send_summary`) with the chart upload, the Markdown record
  (`upload_markdown`), and App Home (`publish_home`).

Every Web API failure is logged (method and Slack's error code; never a token) and
turned into a message the user sees (ephemeral, or a DM) instead of silence.

The card's prose comes from one function, `card_explanation` (the template). With
`ANTHROPIC_API_KEY` set, `bot.slack.phrasing.improve` then phrases it with the LLM after the
card is posted, saves it in `meta["explanation"]` and replaces the card (`meta["card"]`) in
place; every later render goes through `phrasing.shown`, so it shows the same text.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.engine import AnswerError, decide, next_question, parse_value
from bot.engine.freetext import clean, number_in, parse_freetext
from bot.knowledge import Knowledge, Question, load_knowledge
from bot.slack import blocks, phrasing
from bot.slack.blocks.home import HistoryItem
from bot.slack.blocks.modal import Submission
from bot.slack.blocks.question import QuestionState, start_your_own
from bot.store import (
    Consultation,
    ConsultationClosed,
    ConsultationDraft,
    ConsultationExists,
    Store,
    StoreError,
)

log = logging.getLogger("bot.slack.consultations")

HISTORY_LIMIT = 10
REPLIES_PAGES = 5
#: Slack errors meaning "the bot cannot post in that conversation".
NOT_POSTABLE = frozenset({
    "not_in_channel", "channel_not_found", "is_archived", "restricted_action",
    "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "cannot_reply_to_message",
    "team_access_not_granted", "user_not_in_channel",
})
#: chat.update errors after which a fresh message is posted instead.
UPDATE_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})

GENERIC_FAILURE = (
    "Something went wrong on my side (not anything you did). Please try again in a minute."
)
STORE_FAILURE = (
    "I can't reach my database right now, so I could not save that. Please try again in a "
    "minute."
)


# ---------------------------------------------------------------- plumbing


@dataclass
class Deps:
    """What the orchestration needs: a Web API client, the store, settings, knowledge."""

    client: WebClient
    store: Store
    settings: Settings
    knowledge: Knowledge
    bot_user_id: str | None = None

    @property
    def command(self) -> str:
        return self.settings.bot_slash_command


def deps_from(context: Mapping[str, Any], client: WebClient | None = None) -> Deps:
    """`Deps` from a Bolt request context (set up by `bot.slack.app`'s middleware)."""
    settings: Settings = context["settings"]
    return Deps(
        client=client if client is not None else context["client"],
        store=context["store"],
        settings=settings,
        knowledge=load_knowledge(settings.knowledge_dir),
        bot_user_id=context.get("bot_user_id"),
    )


class SlackCallFailed(Exception):
    """A Web API call failed (after the client's retries). `error` is Slack's error code
    (`not_in_channel`, `ratelimited`, `http_500`) or the exception type for timeouts."""

    def __init__(self, method: str, error: str):
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error


def slack_error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        try:
            return str(exc.response.get("error") or f"http_{exc.response.status_code}")
        except Exception:  # a response without the usual shape
            return "slack_api_error"
    return type(exc).__name__


def call(deps: Deps, method: str, **kwargs: Any) -> Any:
    """`deps.client.<method>(**kwargs)`; failures are logged and raised as SlackCallFailed."""
    try:
        return getattr(deps.client, method)(**kwargs)
    except (SlackApiError, SlackClientError, OSError, ValueError) as exc:
        error = slack_error(exc)
        log.warning("Slack %s failed: %s", method, error)
        raise SlackCallFailed(method, error) from None


def tell_user(
    deps: Deps, user: str, text: str, *, channel: str | None = None, thread_ts: str | None = None
) -> bool:
    """Tell `user` something: ephemeral in `channel` (in the thread), else in a DM."""
    if channel:
        try:
            kwargs: dict[str, Any] = {"channel": channel, "user": user, "text": text}
            if thread_ts:
                kwargs["thread_ts"] = thread_ts
            call(deps, "chat_postEphemeral", **kwargs)
            return True
        except SlackCallFailed:
            pass
    try:
        call(deps, "chat_postMessage", channel=user, text=text)
        return True
    except SlackCallFailed:
        log.error("could not tell user %s anything (ephemeral and DM failed)", user)
        return False


def card_explanation(decision: Mapping[str, Any], knowledge: Knowledge) -> str:
    """The prose at the top of the result card and of the DM summary.

    The one place it is produced: the template summary of the decision. It is what the
    LLM may rephrase (`phrasing.improve`) and what is shown whenever it does not.
    """
    return str(decision.get("summary") or decision.get("verdict_label") or "")


def _prose(deps: Deps, c: Consultation, decision: Mapping[str, Any]) -> phrasing.Prose:
    """The prose shown for `decision`: its saved LLM phrasing, else the template."""
    return phrasing.shown(decision, c.meta, card_explanation(decision, deps.knowledge))


def _result_card(
    deps: Deps, c: Consultation, decision: Mapping[str, Any],
    prose: phrasing.Prose | None = None, *, thread: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    prose = prose or _prose(deps, c, decision)
    return blocks.result_card(
        decision, deps.knowledge, consultation_id=c.id, owner=c.user_id,
        explanation=prose.text, explanation_sources=prose.sources, thread=thread,
        adjustable=not thread,
    )


def _where(channel: str | None) -> str | None:
    if not channel:
        return None
    return "a DM" if channel.startswith("D") else f"<#{channel}>"


def _has_volume(decision: Mapping[str, Any]) -> bool:
    return (decision.get("costs") or {}).get("monthly_input_tokens") is not None


# ---------------------------------------------------------------- DM summary and records


def open_dm(deps: Deps, user: str) -> str:
    """The DM channel with `user`: remembered from their earlier consultations (a DM's id
    never changes), else `conversations.open`."""
    try:
        for earlier in deps.store.recent_for_user(user, 5):
            known = (earlier.meta.get("dm") or {}).get("channel")
            if isinstance(known, str) and known.startswith("D"):
                return known
    except StoreError:
        pass
    response = call(deps, "conversations_open", users=user)
    return str(response["channel"]["id"])


def _upload_chart(deps: Deps, dm: str, decision: Mapping[str, Any]) -> None:
    from bot.explain.chart import render_chart_png

    try:
        png = render_chart_png(dict(decision))
    except ValueError:
        return
    try:
        call(
            deps,
            "files_upload_v2",
            channel=dm,
            file=png,
            filename="break-even.png",
            title=f"Break-even: {decision.get('verdict_label', '')}",
            alt_txt="Cumulative cost of prompt engineering and of fine-tuning, month by month",
        )
    except SlackCallFailed as exc:
        with contextlib.suppress(SlackCallFailed):
            call(deps, "chat_postMessage", channel=dm,
                 text=f"I could not attach the break-even chart ({exc.error}); the cost table "
                      "above has the same figures.")


def send_summary(
    deps: Deps,
    consultation: Consultation,
    decision: Mapping[str, Any],
    *,
    recipient: str | None = None,
    permalink: str | None = None,
    where: str | None = None,
    note: str | None = None,
    prose: phrasing.Prose | None = None,
) -> str:
    """DM the full record (and the chart when there is volume) to `recipient` (default: the
    owner). Returns the DM channel id; raises SlackCallFailed if the DM could not be sent.
    `prose`: the paragraph at the top (default: what `consultation.meta` has for it)."""
    user = recipient or consultation.user_id
    dm = open_dm(deps, user)
    prose = prose or _prose(deps, consultation, decision)
    text, summary_blocks = blocks.dm_summary(
        decision,
        deps.knowledge,
        consultation_id=consultation.id,
        explanation=prose.text,
        explanation_sources=prose.sources,
        permalink=permalink,
        where=where,
        note=note,
    )
    posted = call(deps, "chat_postMessage", channel=dm, text=text, blocks=summary_blocks)
    if user == consultation.user_id:
        _remember(deps, consultation.id, dm={"channel": dm, "ts": posted.get("ts")})
    if _has_volume(decision):
        _upload_chart(deps, dm, decision)
    return dm


def _remember(deps: Deps, cid: str, **meta: Any) -> None:
    """Merge `meta` into the consultation's meta (any status). Best effort."""

    def apply(draft: ConsultationDraft) -> None:
        draft.meta.update(meta)

    try:
        deps.store.update(cid, apply, require_open=False)
    except StoreError as exc:
        log.warning("could not save %s for consultation %s: %s", sorted(meta), cid, exc)


def upload_markdown(deps: Deps, *, user: str, channel: str | None, cid: str) -> None:
    """Upload the Markdown decision record into `channel` (the DM the button is in)."""
    from bot.explain.markdown import render_markdown

    c = deps.store.get(cid)
    if c is None or not c.decision:
        tell_user(deps, user, "I can't find that decision any more, so there is no record to "
                  "send. Start a new consultation with " + f"`{deps.command}`.", channel=channel)
        return
    target = channel or open_dm(deps, user)
    markdown = render_markdown(c.decision, deps.knowledge,
                               phrasing.markdown_text(_prose(deps, c, c.decision)))
    day = c.created_at.strftime("%Y-%m-%d")
    try:
        call(
            deps,
            "files_upload_v2",
            channel=target,
            content=markdown,
            filename=f"decision-record-{day}-{c.id[:8]}.md",
            title=f"Decision record: {c.decision.get('verdict_label', '')} ({day})",
        )
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not upload the decision record ({exc.error}). Please "
                  "try the button again in a minute.", channel=target)


def send_record_dm(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Full record in my DMs" on a card: the owner gets a link to their DM summary (or a
    new one); anyone else gets their own copy of the summary."""
    c = deps.store.get(cid)
    if c is None or not c.decision:
        tell_user(deps, user, "I can't find that consultation any more.", channel=channel,
                  thread_ts=thread_ts)
        return
    dm_meta = c.meta.get("dm") or {}
    if user == c.user_id and dm_meta.get("channel") and dm_meta.get("ts"):
        try:
            link = call(deps, "chat_getPermalink", channel=dm_meta["channel"],
                        message_ts=dm_meta["ts"])["permalink"]
            tell_user(deps, user, f"Your full record is in our DM: <{link}|open it>.",
                      channel=channel, thread_ts=thread_ts)
            return
        except (SlackCallFailed, KeyError, TypeError):
            pass
    try:
        send_summary(deps, c, c.decision, recipient=user, permalink=c.meta.get("permalink"),
                     where=_where(c.channel))
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not send you the record ({exc.error}).", channel=channel,
                  thread_ts=thread_ts)
        return
    if user != c.user_id:
        tell_user(deps, user, "I sent you the full record in a DM.", channel=channel,
                  thread_ts=thread_ts)


# ---------------------------------------------------------------- history and App Home


def history_item(c: Consultation) -> HistoryItem:
    decision = c.decision or {}
    where = _where(c.channel) or "a DM"
    if c.meta.get("private") and c.channel:
        where += ", private"
    link = c.meta.get("permalink")
    if not link and (dm := c.meta.get("dm") or {}).get("channel"):
        link = f"https://slack.com/app_redirect?channel={dm['channel']}"
    return HistoryItem(
        verdict=decision.get("verdict"),
        verdict_label=decision.get("verdict_label"),
        status=c.status,
        created_at=c.created_at,
        where=where,
        link=link,
    )


def history_items(deps: Deps, user: str, team: str | None = None) -> list[HistoryItem]:
    return [history_item(c) for c in deps.store.recent_for_user(user, HISTORY_LIMIT,
                                                                 team_id=team)]


def publish_home(deps: Deps, user: str, team: str | None = None) -> None:
    try:
        items = history_items(deps, user, team)
    except StoreError:
        items = []
    view = blocks.home_view(
        items,
        knowledge_version=deps.knowledge.version,
        knowledge_as_of=deps.knowledge.manifest.as_of,
        command=deps.command,
        bot_user_id=deps.bot_user_id,
    )
    call(deps, "views_publish", user_id=user, view=view)


# ---------------------------------------------------------------- modal


def modal_metadata(channel: str | None, origin: str) -> str:
    """The modal's private_metadata: where the result card goes and what opened the modal."""
    return json.dumps({"channel": channel, "origin": origin}, separators=(",", ":"))


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
    prefill: Mapping[str, Any] | None = None,
    on_failure: Callable[[str], None] | None = None,
) -> bool:
    """Open the consultation modal; `text` is free text to prefill from (`/ptf 6k ...`)."""
    found = parse_freetext(text, deps.knowledge) if text else None
    values = dict(prefill or {})
    if found is not None:
        values.update(found.answers)
    view = blocks.consultation_modal(
        deps.knowledge,
        prefill=values,
        understood=found.understood if found else (),
        notes=found.notes if found else (),
        metadata=modal_metadata(channel, origin),
        parsed_text=text,
    )
    try:
        call(deps, "views_open", trigger_id=trigger_id, view=view)
        return True
    except SlackCallFailed as exc:
        message = (
            "Slack took too long to open the form, please run the command again."
            if exc.error in ("expired_trigger_id", "invalid_trigger_id", "exchanged_trigger_id")
            else f"I could not open the form ({exc.error}). Please try again in a minute."
        )
        if on_failure is not None:
            on_failure(message)
        return False


def submit_modal(
    deps: Deps, *, user: str, team: str | None, submission: Submission, meta: Mapping[str, Any]
) -> Consultation | None:
    """After the modal's ack: decide, store as done, post the card, DM the summary."""
    k = deps.knowledge
    decision = decide(k, submission.answers).to_dict()
    channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
    origin = str(meta.get("origin") or "command")
    surface = "home" if origin == "home" or not channel else "modal"
    # In a DM (with the bot or between people) the DM summary is the result: no card.
    in_dm = bool(channel and channel.startswith("D"))
    try:
        c = deps.store.create_consultation(
            user_id=user, team_id=team, surface=surface, channel=channel,
            answers=submission.answers,
            meta={"origin": origin, "private": submission.private},
        )
        c = deps.store.finish(c.id, decision)
    except StoreError as exc:
        log.error("could not store a modal consultation: %s", exc)
        tell_user(deps, user, STORE_FAILURE, channel=channel)
        return None

    note = None
    permalink = None
    if channel and surface == "modal" and not in_dm:
        text, card = _result_card(deps, c, decision)
        try:
            if submission.private:
                call(deps, "chat_postEphemeral", channel=channel, user=user, text=text,
                     blocks=card)
                _remember(deps, c.id, card={"channel": channel, "ephemeral": True})
            else:
                posted = call(deps, "chat_postMessage", channel=channel, text=text, blocks=card)
                ts = posted.get("ts")
                try:
                    permalink = call(deps, "chat_getPermalink", channel=channel,
                                     message_ts=ts)["permalink"]
                except (SlackCallFailed, KeyError, TypeError):
                    permalink = None
                _remember(deps, c.id, card={"channel": channel, "ts": ts}, permalink=permalink)
        except SlackCallFailed as exc:
            if exc.error in NOT_POSTABLE:
                note = (f"I'm not a member of <#{channel}>, so I could not post your result "
                        "there; here it is. Add me to the channel (`/invite` and pick me) to get "
                        "results there.")
            else:
                note = (f"I could not post your result in <#{channel}> ({exc.error}), so here "
                        "it is.")
    prose = phrasing.improve(deps, c, decision, template=card_explanation(decision, k),
                             render=lambda p: _result_card(deps, c, decision, p))
    try:
        send_summary(deps, c, decision, permalink=permalink, where=_where(channel), note=note,
                     prose=prose)
    except SlackCallFailed as exc:
        if channel and note is None:
            tell_user(deps, user, f"I could not send you the full record in a DM ({exc.error}).",
                      channel=channel)
        else:
            log.error("modal consultation %s: result reached nobody", c.id)
    if origin == "home":
        with contextlib.suppress(SlackCallFailed):
            publish_home(deps, user, team)
    return c


# ---------------------------------------------------------------- thread consultations


def flow_answers(knowledge: Knowledge, c: Consultation) -> dict[str, Any]:
    """Answers for the flow: the given ones plus "Not sure" ones as their assumption."""
    answers = dict(c.answers)
    for qid in c.meta.get("skipped") or []:
        if qid not in answers and knowledge.has_question(qid):
            answers[qid] = knowledge.question(qid).assume
    return answers


def current_question(deps: Deps, c: Consultation) -> Question | None:
    """The question the message shows: one being changed, else the flow's next one."""
    k = deps.knowledge
    wanted = c.meta.get("current")
    if isinstance(wanted, str) and k.has_question(wanted):
        return k.question(wanted)
    return next_question(k, flow_answers(k, c))


def _question_state(deps: Deps, c: Consultation, q: Question) -> QuestionState:
    skipped = set(c.meta.get("skipped") or [])
    prefilled = set(c.meta.get("prefilled") or [])
    done = sum(1 for x in deps.knowledge.questions
               if x.ask and x.id not in prefilled and (x.id in c.answers or x.id in skipped))
    pending = q.id not in c.answers and q.id not in skipped
    return QuestionState(
        consultation_id=c.id,
        owner=c.user_id,
        question=q,
        number=max(1, done + (1 if pending else 0)),
        answers=c.answers,
        understood=list(c.meta.get("understood") or []),
        notes=list(c.meta.get("notes") or []),
        bot_user_id=deps.bot_user_id,
        command=deps.command,
    )


def render_thread_message(deps: Deps, c: Consultation) -> tuple[str, list[dict[str, Any]]] | None:
    """The thread message for `c`: the verdict card when done, else the current question.
    None when the consultation is open but the flow has nothing left to ask."""
    if c.status == "done" and c.decision:
        return _result_card(deps, c, c.decision, thread=True)
    if c.status != "open":
        return None
    q = current_question(deps, c)
    if q is None:
        return None
    return blocks.question_message(deps.knowledge, _question_state(deps, c, q))


def _show(deps: Deps, c: Consultation) -> Consultation:
    """Post or update the consultation's one message; returns the (maybe updated) row."""
    rendered = render_thread_message(deps, c)
    if rendered is None or not c.channel:
        return c
    text, message_blocks = rendered
    if c.message_ts:
        try:
            call(deps, "chat_update", channel=c.channel, ts=c.message_ts, text=text,
                 blocks=message_blocks)
            return c
        except SlackCallFailed as exc:
            if exc.error not in UPDATE_GONE:
                raise
    posted = call(deps, "chat_postMessage", channel=c.channel, thread_ts=c.thread_ts, text=text,
                  blocks=message_blocks)
    return deps.store.set_message_ts(c.id, posted.get("ts"))


def advance(deps: Deps, c: Consultation) -> None:
    """Show the latest state of a thread consultation; finish it when the flow is done.

    Re-reads the row after each update and renders again if another writer got in
    between, so the message converges on the latest answers.
    """
    for _ in range(5):
        if c.status == "abandoned":
            return
        if c.status == "open" and current_question(deps, c) is None:
            decision = decide(deps.knowledge, c.answers).to_dict()
            try:
                c = deps.store.finish(c.id, decision)
            except ConsultationClosed as exc:  # another click finished it first
                c = exc.consultation
                continue
            _finish_thread(deps, c)
            return
        shown = _show(deps, c)
        fresh = deps.store.get(c.id)
        if fresh is None or fresh.version == shown.version:
            return
        c = fresh


def _finish_thread(deps: Deps, c: Consultation) -> None:
    """The verdict card replaces the question message; the owner gets the DM summary."""
    assert c.decision is not None
    permalink = None
    try:
        c = _show(deps, c)
        if c.message_ts:
            try:
                permalink = call(deps, "chat_getPermalink", channel=c.channel,
                                 message_ts=c.message_ts)["permalink"]
            except (SlackCallFailed, KeyError, TypeError):
                permalink = None
            _remember(deps, c.id, card={"channel": c.channel, "ts": c.message_ts},
                      permalink=permalink)
    except SlackCallFailed as exc:
        tell_user(deps, c.user_id, f"I could not show the verdict in the thread ({exc.error}); "
                  "it is in your DMs.", channel=c.channel, thread_ts=c.thread_ts)
    decision = c.decision
    prose = phrasing.improve(deps, c, decision, template=card_explanation(decision, deps.knowledge),
                             render=lambda p: _result_card(deps, c, decision, p, thread=True),
                             on_changed=lambda row: advance(deps, row))
    try:
        send_summary(deps, c, decision, permalink=permalink, where=_where(c.channel), prose=prose)
    except SlackCallFailed as exc:
        tell_user(deps, c.user_id, f"I could not send you the full record in a DM ({exc.error}).",
                  channel=c.channel, thread_ts=c.thread_ts)


def _thread_texts(
    deps: Deps, *, user: str, channel: str, thread_ts: str, ts: str, text: str
) -> tuple[list[str], str | None]:
    """The owner's messages in the thread (oldest first) and a note if it could not be read.

    Only the asker's own messages are used, never other people's."""
    texts: list[str] = []
    cursor = None
    note = None
    try:
        for _ in range(REPLIES_PAGES):
            kwargs: dict[str, Any] = {"channel": channel, "ts": thread_ts, "limit": 200}
            if cursor:
                kwargs["cursor"] = cursor
            response = call(deps, "conversations_replies", **kwargs)
            for m in response.get("messages") or []:
                if (m.get("user") == user and not m.get("bot_id") and not m.get("subtype")
                        and m.get("ts") != ts and m.get("text")):
                    texts.append(str(m["text"]))
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
    except SlackCallFailed as exc:
        note = f"I could not read the thread ({exc.error}), so I only used your message."
    texts.append(text)
    return texts, note


def _apply_answers(
    deps: Deps, cid: str, answers: Mapping[str, Any], *, understood: list[str] | None = None
) -> Consultation:
    def apply(d: ConsultationDraft) -> None:
        d.answers.update(answers)
        d.meta["skipped"] = [q for q in d.meta.get("skipped") or [] if q not in answers]
        if d.meta.get("current") in answers:
            d.meta["current"] = None
        if understood:
            d.meta["understood"] = list(d.meta.get("understood") or []) + understood
            d.meta["prefilled"] = list(d.meta.get("prefilled") or []) + list(answers)

    return deps.store.update(cid, apply)


def handle_mention(
    deps: Deps,
    *,
    user: str,
    team: str | None,
    channel: str,
    ts: str,
    thread_ts: str | None,
    text: str,
) -> None:
    """Someone mentioned the bot (or wrote to it in a DM): start or continue a thread
    consultation in that thread (a top-level message becomes the thread's root)."""
    root = thread_ts or ts
    existing = deps.store.find_open_for_thread(channel, root)
    if existing is not None:
        _mention_in_busy_thread(deps, existing, user=user, channel=channel, text=text)
        return
    texts, note = (
        _thread_texts(deps, user=user, channel=channel, thread_ts=root, ts=ts, text=text)
        if thread_ts and thread_ts != ts
        else ([text], None)
    )
    found = parse_freetext("\n".join(texts), deps.knowledge)
    notes = list(found.notes) + ([note] if note else [])
    try:
        c = deps.store.create_consultation(
            user_id=user, team_id=team, surface="thread", channel=channel, thread_ts=root,
            answers=found.answers,
            meta={"origin": "mention", "understood": found.understood, "notes": notes,
                  "prefilled": list(found.answers)},
        )
    except ConsultationExists as exc:  # created meanwhile (another delivery/replica)
        if exc.existing is not None:
            _mention_in_busy_thread(deps, exc.existing, user=user, channel=channel, text=text)
        return
    try:
        advance(deps, c)
    except SlackCallFailed as exc:
        tell_user(deps, user, f"I could not reply in the thread ({exc.error}). Try `{deps.command}`"
                  " instead: it works in any channel.", channel=channel, thread_ts=root)


def _mention_in_busy_thread(
    deps: Deps, c: Consultation, *, user: str, channel: str, text: str
) -> None:
    if user != c.user_id:
        tell_user(
            deps, user,
            f"<@{c.user_id}> has a consultation going in this thread (one per thread). "
            + start_your_own(deps.bot_user_id, deps.command),
            channel=channel, thread_ts=c.thread_ts,
        )
        return
    found = parse_freetext(text, deps.knowledge)
    if found.answers:
        c = _apply_answers(deps, c.id, found.answers, understood=found.understood)
        advance(deps, c)
        tell_user(deps, user, "Noted: " + "; ".join(found.understood) + ".", channel=channel,
                  thread_ts=c.thread_ts)
        return
    if _typed_answer(deps, c, user=user, text=text, quiet=True):
        return
    if c.message_ts is None:
        advance(deps, c)
        return
    tell_user(deps, user, "You already have a consultation going in this thread: answer the "
              "question above, or use Start over there.", channel=channel, thread_ts=c.thread_ts)


def _parse_typed(question: Question, text: str) -> Any:
    """A typed reply as an answer to `question`; raises AnswerError."""
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


def _typed_answer(deps: Deps, c: Consultation, *, user: str, text: str, quiet: bool) -> bool:
    """Apply a typed reply to the question on screen. A bad number gets a thread reply
    saying what is accepted (unless `quiet`); chatter on other questions is ignored."""
    q = current_question(deps, c)
    if q is None:
        return False
    try:
        value = _parse_typed(q, text)
    except AnswerError as error:
        if q.kind in ("int", "float") and not quiet:
            given = clean(text)
            call(deps, "chat_postMessage", channel=c.channel, thread_ts=c.thread_ts,
                 text=(f"<@{user}> I could not read \u201c{given[:200]}\u201d as {q.short}: "
                       f"{error.reason}. The question above is still open and your other "
                       "answers are kept."))
            return True
        return False
    try:
        c = _apply_answers(deps, c.id, {q.id: value})
    except ConsultationClosed:
        return False
    advance(deps, c)
    return True


def handle_thread_message(
    deps: Deps, *, user: str, channel: str, thread_ts: str, text: str
) -> None:
    """A message in a thread: if it is the owner's and the thread has an open consultation,
    it may answer the question on screen (numbers are typed)."""
    c = deps.store.find_open_for_thread(channel, thread_ts)
    if c is None:
        return
    if user != c.user_id:
        q = current_question(deps, c)
        if q is not None and q.kind in ("int", "float"):
            try:
                _parse_typed(q, text)
            except AnswerError:
                return  # just conversation
            tell_user(deps, user, f"Only <@{c.user_id}> can answer this consultation. "
                      + start_your_own(deps.bot_user_id, deps.command),
                      channel=channel, thread_ts=thread_ts)
        return
    _typed_answer(deps, c, user=user, text=text, quiet=False)


# ---------------------------------------------------------------- button clicks


def _for_owner(
    deps: Deps, cid: str, *, user: str, channel: str | None, thread_ts: str | None
) -> Consultation | None:
    """The consultation if `user` owns it; otherwise an ephemeral note and None."""
    c = deps.store.get(cid)
    if c is None:
        tell_user(deps, user, f"I can't find that consultation any more. Start a new one with "
                  f"`{deps.command}`.", channel=channel, thread_ts=thread_ts)
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


def answer(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str,
    raw: str,
) -> None:
    """A click on an answer button/select."""
    c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
    if c is None:
        return
    if not deps.knowledge.has_question(qid):
        return
    try:
        value = parse_value(deps.knowledge.question(qid), raw)
    except AnswerError as error:
        tell_user(deps, user, f"That answer did not work: {error.reason}.", channel=channel,
                  thread_ts=c.thread_ts)
        return
    try:
        c = _apply_answers(deps, c.id, {qid: value})
    except ConsultationClosed:
        tell_user(deps, user, "This consultation is finished. Use *Change an answer* or *Start "
                  "over* on the verdict.", channel=channel, thread_ts=c.thread_ts)
        return
    advance(deps, c)


def skip(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Not sure": go on with the question's assumption."""
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

    try:
        c = deps.store.update(c.id, apply)
    except ConsultationClosed:
        return
    advance(deps, c)


def change(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str, qid: str
) -> None:
    """"Change an answer": ask that question again (reopens a finished consultation)."""
    c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
    if c is None or not deps.knowledge.has_question(qid):
        return

    def apply(d: ConsultationDraft) -> None:
        d.meta["current"] = qid
        d.status = "open"
        d.decision = None

    try:
        c = deps.store.update(c.id, apply, require_open=False)
    except ConsultationExists:
        tell_user(deps, user, "Someone started another consultation in this thread, so this "
                  "one can't be reopened here. Start a new one with " + f"`{deps.command}`.",
                  channel=channel, thread_ts=c.thread_ts)
        return
    advance(deps, c)


def start_over(
    deps: Deps, *, user: str, channel: str | None, thread_ts: str | None, cid: str
) -> None:
    """"Start over": forget every answer and ask again from the first question."""
    c = _for_owner(deps, cid, user=user, channel=channel, thread_ts=thread_ts)
    if c is None:
        return

    def apply(d: ConsultationDraft) -> None:
        d.answers = {}
        d.meta.update(skipped=[], current=None, understood=[], notes=[], prefilled=[])
        d.status = "open"
        d.decision = None

    try:
        c = deps.store.update(c.id, apply, require_open=False)
    except ConsultationExists:
        tell_user(deps, user, "Someone started another consultation in this thread, so this "
                  "one can't start over here.", channel=channel, thread_ts=c.thread_ts)
        return
    advance(deps, c)


def guarded(
    deps: Deps,
    user: str,
    *,
    channel: str | None = None,
    thread_ts: str | None = None,
    notify: Callable[[str], None] | None = None,
) -> Any:
    """Context manager for listeners: any failure is logged and the user is told (with
    `notify(text)` when given, e.g. a slash command's `respond`; else ephemeral or DM)."""
    return _Guard(deps, user, channel, thread_ts, notify)


class _Guard:
    def __init__(
        self,
        deps: Deps,
        user: str,
        channel: str | None,
        thread_ts: str | None,
        notify: Callable[[str], None] | None,
    ):
        self.deps, self.user, self.channel, self.thread_ts = deps, user, channel, thread_ts
        self.notify = notify

    def __enter__(self) -> _Guard:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, StoreError):
            log.error("store failure: %s", exc)
            text = STORE_FAILURE
        elif isinstance(exc, SlackCallFailed):
            text = f"I could not finish that: Slack said {exc.error}. Please try again."
        elif isinstance(exc, Exception):
            log.exception("listener failed")
            text = GENERIC_FAILURE
        else:
            return False
        if self.notify is not None:
            try:
                self.notify(text)
                return True
            except Exception:
                log.warning("could not notify user %s through the response URL", self.user)
        if self.user:
            tell_user(self.deps, self.user, text, channel=self.channel, thread_ts=self.thread_ts)
        return True
