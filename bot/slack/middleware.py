"""Global middleware: services in every request's context, and events deduplication.

- puts `context["services"]` (`bot.slack.services.Services`) and
  `context["work_executor"]` (the app's work pool, see `bot.slack.work`) in every
  request's context, and swaps `context["client"]` for an instrumented `WebClient`
  (same token, `SLACK_API_URL`, retries) that counts calls and errors in `/metrics`;
- deduplicates Events API deliveries: `store.claim_event(event_id, event.channel,
  event.ts)`; a delivery already seen (a Slack retry, `X-Slack-Retry-Num`, or the
  same message seen by another replica) is acked with 200 and no listener runs.
  Only events a listener acts on are claimed (`claims_event`): `app_mention` always;
  `message` only with a subtype in `HANDLED_MESSAGE_SUBTYPES` (None, `file_share`,
  `thread_broadcast`), not from a bot, and either mentioning the bot, in a thread,
  or in a DM. Plain channel chatter is not written to the database, and a mention
  whose `message` copy has a subtype the bot ignores (e.g. `me_message`) does not
  swallow its `app_mention`.
  NOTE for listeners: `(channel, ts)` is a second key, so a message that mentions
  the bot, which Slack delivers both as `app_mention` and as `message.*`, reaches
  the listeners ONCE, as whichever event came first. A `message` listener must
  therefore treat a message (subtype in `HANDLED_MESSAGE_SUBTYPES`) containing
  `<@BOT_USER_ID>` (`context.bot_user_id`) as a mention. If the database is down
  the event is let through (logged, counted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot import metrics
from bot.slack.client import InstrumentedWebClient
from bot.slack.identity import BotIdentity
from bot.slack.services import SERVICES_KEY, Services
from bot.slack.work import HANDLED_MESSAGE_SUBTYPES, IDENTITY_KEY, WORK_EXECUTOR_KEY
from bot.store import StoreError

log = logging.getLogger("bot.slack.middleware")


def _event_keys(body: dict[str, Any]) -> tuple[str, str | None, str | None] | None:
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        return None
    event = body.get("event")
    event = event if isinstance(event, dict) else {}
    channel = event.get("channel")
    ts = event.get("ts")
    return (
        event_id,
        channel if isinstance(channel, str) and channel else None,
        ts if isinstance(ts, str) and ts else None,
    )


def claims_event(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Whether a listener may act on this event, so that it must be deduplicated.

    `app_mention`: always; `app_home_opened`: never (publishing twice is harmless).
    `message`: a subtype in `HANDLED_MESSAGE_SUBTYPES`, not
    from a bot, and mentioning the bot (any mention while the bot's id is unknown), in
    a thread, or in a DM. Everything else is not written to the database: plain channel
    chatter the bot ignores, and message subtypes the message listener drops (a mention
    sent as, e.g., `me_message` then still reaches the listeners as `app_mention`)."""
    kind = event.get("type")
    if kind == "app_home_opened":
        return False  # publishing the tab twice is harmless: no database write per open
    if kind != "message":
        return True  # app_mention, ...: handled when delivered
    if event.get("subtype") not in HANDLED_MESSAGE_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    if not user or (bot_user_id and user == bot_user_id):
        return False
    if event.get("channel_type") == "im":
        return True
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if thread_ts and thread_ts != ts:
        return True
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    return f"<@{bot_user_id}" in text if bot_user_id else "<@" in text


class ServicesAndDedup(Middleware):
    """Global middleware: services in the context, instrumented client, events dedup.

    A `Middleware` subclass rather than a function: Bolt then skips its per-request
    argument injection, which matters in the ack path.
    """

    def __init__(
        self,
        services: Services,
        base_client: WebClient,
        work_executor: Executor | None = None,
        identity: BotIdentity | None = None,
    ):
        self.services = services
        self.store = services.store
        self.base_client = base_client
        self.work_executor = work_executor
        self.identity = identity

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        ctx = req.context
        ctx[SERVICES_KEY] = self.services
        if self.work_executor is not None:
            ctx[WORK_EXECUTOR_KEY] = self.work_executor
        if self.identity is not None:
            ctx[IDENTITY_KEY] = self.identity
        base = self.base_client
        current = ctx.get("client")
        ctx["client"] = InstrumentedWebClient(
            token=current.token if current is not None else base.token,
            base_url=base.base_url,
            timeout=base.timeout,
            headers=base.headers,
            team_id=ctx.team_id,
            logger=base.logger,
            retry_handlers=list(base.retry_handlers or []),
        )

        keys = _event_keys(req.body)
        if keys is not None and claims_event(req.body.get("event") or {}, ctx.bot_user_id):
            retry_num = (req.headers.get("x-slack-retry-num") or [None])[0]
            if retry_num is not None:
                metrics.RETRIES_RECEIVED.inc()
            try:
                first = self.store.claim_event(*keys)
            except StoreError:
                metrics.DEDUP_STORE_ERRORS.inc()
                log.warning("event %s handled without dedup: database unavailable", keys[0])
                first = True
            if not first:
                metrics.DUPLICATE_EVENTS.inc()
                reason = (req.headers.get("x-slack-retry-reason") or [""])[0]
                log.info(
                    "duplicate event %s dropped (retry %s %s)", keys[0], retry_num or "-", reason
                )
                return BoltResponse(status=200, body="")
        return next()
