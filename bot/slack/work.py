"""Slow listener work, handed off after the ack.

Bolt runs every listener in its `listener_executor`; with `process_before_response=False`
it answers Slack when `ack()` is called. If that same pool also runs the slow part of the
listeners (an LLM call of up to 8 s, chart rendering, Web API retries sleeping
Retry-After), a burst of slow work fills it and the next request's `ack()` waits in the
queue behind it: Slack gives up after 3 s (the user sees "dispatch_failed"/404) and a
`trigger_id` expires before `views.open` runs.

So listeners keep Bolt's executor for `ack()` and the hand-off only::

    from bot.slack.work import after_ack

    def on_click(ack, body, client, context):
        ack()
        after_ack(context, handle_click, client, body, context)

`after_ack` runs `fn(*args, **kwargs)` on the app's dedicated "work" pool
(`context["work_executor"]`, `SLACK_LISTENER_THREADS` threads, created once per app by
`create_app`), logging any exception. Work that must happen within seconds of the ack
(`views.open` with a `trigger_id`, valid for 3 s) is NOT handed off: do it on the
listener thread right after `ack()`, then hand off the rest.

`HANDLED_MESSAGE_SUBTYPES`: the `message` event subtypes a listener acts on (None is a
plain user message). The dedup middleware claims `(channel, ts)` only for those (and for
`app_mention`), so a mention that arrives first as a `message` with a subtype the bot
ignores does not swallow the `app_mention`. The message listener imports this constant
to decide what it drops.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from bot import metrics

log = logging.getLogger("bot.slack.work")

HANDLED_MESSAGE_SUBTYPES: frozenset[str | None] = frozenset(
    {None, "file_share", "thread_broadcast"}
)

WORK_EXECUTOR_KEY = "work_executor"
#: Context key: the app's `bot.slack.identity.BotIdentity` (auth.test cache).
IDENTITY_KEY = "ptf.identity"
#: Context key set on requests whose ack was already sent (Events API in HTTP mode).
ACKED_KEY = "ptf.acked"


class WorkExecutor(ThreadPoolExecutor):
    """A bounded thread pool for listener work after the ack; counts queued/running jobs."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "slack-work"):
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.max_workers = max_workers
        self._lock = threading.Lock()
        self.pending = 0  # submitted and not finished (queued + running)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self.pending += 1
            metrics.WORK_PENDING.set(self.pending)
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._done(None)
            raise
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any] | None) -> None:
        with self._lock:
            self.pending -= 1
            metrics.WORK_PENDING.set(self.pending)


def _run(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # never let a worker die silently; never log payloads/secrets
        metrics.WORK_ERRORS.labels(fn=name).inc()
        log.exception("listener work %s failed: %s", name, type(exc).__name__)


def _fill_identity(context: Mapping[str, Any]) -> None:
    identity = context.get(IDENTITY_KEY)
    if identity is None:
        return
    try:
        identity.fill(context)
    except Exception as exc:  # never let the lookup stop the work
        log.warning("bot identity lookup failed: %s", type(exc).__name__)


def _run_after_ack(
    context: Mapping[str, Any],
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    _fill_identity(context)
    _run(fn, args, kwargs)


def after_ack(
    context: Mapping[str, Any], fn: Callable[..., Any], /, *args: Any, **kwargs: Any
) -> None:
    """Run `fn(*args, **kwargs)` on the app's work pool (`context["work_executor"]`).

    Call it after `ack()`. Before `fn` runs, the bot identity is made sure of: if
    `auth.test` has not answered yet, the work thread waits for it (bounded) and puts
    `bot_user_id` etc. in `context`; so read `context["bot_user_id"]` (e.g. build
    `deps_from(context, ...)`) inside `fn`, not before the hand-off. Exceptions are
    logged (type and traceback, not the payload) and counted in `/metrics`
    (`ptf_listener_work_errors_total`). When the context has no work executor (a bare
    Bolt app in a test), `fn` runs inline on the caller's thread.
    """
    executor: Executor | None = context.get(WORK_EXECUTOR_KEY)
    if executor is None:
        _run_after_ack(context, fn, args, kwargs)
        return
    try:
        executor.submit(_run_after_ack, context, fn, args, kwargs)
    except RuntimeError:  # shut down (process exiting): do it here rather than lose it
        log.warning("work executor shut down; running %s inline", getattr(fn, "__name__", fn))
        _run_after_ack(context, fn, args, kwargs)
