"""What the Slack surfaces share for the life of an app: settings, store, knowledge.

`Services` is built once per process (`Services.build(settings, store)`) and handed to
`create_app`; the middleware puts it in every request's context (`SERVICES_KEY`), and
`bot.slack.web.Deps` adds a request's Web API client and the bot's user id to it.

The registry (`services_for(app)`, `work_executor_for(app)`, `identity_for(app)`) lets
a listener package's `register(app)` and the server reach them without importing the
factory module.
"""

from __future__ import annotations

import weakref
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.knowledge import Knowledge, load_knowledge
from bot.store import Store

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.slack.identity import BotIdentity

SERVICES_KEY = "services"
#: Threads that dispatch Events API deliveries after their ack (`bot.slack.server`).
EVENT_DISPATCH_THREADS = 4


@dataclass(frozen=True)
class Services:
    """Settings, the store and the knowledge: shared by every request, never copied."""

    settings: Settings
    store: Store
    knowledge: Knowledge

    @classmethod
    def build(cls, settings: Settings, store: Store) -> Services:
        return cls(settings, store, load_knowledge(settings.knowledge_dir))

    @property
    def command(self) -> str:
        return self.settings.bot_slash_command

    def today(self) -> date:
        """The date consultations are decided as of (BOT_TODAY, else the system date)."""
        return self.settings.today()

    def __deepcopy__(self, memo: dict[int, Any]) -> Services:
        return self  # Bolt deep-copies the context for lazy listeners: share, don't clone


def ack_threads(settings: Settings) -> int:
    """Size of Bolt's listener executor (the ack pool): every request thread and every
    event dispatcher may wait for a listener's ack at once."""
    return settings.web_threads + EVENT_DISPATCH_THREADS


def db_pool_sizes(settings: Settings) -> tuple[int, int]:
    """`(pool_size, max_overflow)` of the SQLAlchemy pool, from the thread counts.

    Threads of a process that may hold a database connection at the same time:
    - routinely: the work pool (`SLACK_LISTENER_THREADS`, consultations) and the event
      dispatchers (`EVENT_DISPATCH_THREADS`, the dedup claim): the pool proper;
    - in bursts: the ack pool (`ack_threads`, listeners before their hand-off) and the
      request threads (`WEB_THREADS`, `/readyz`): the overflow, closed when returned.
    So no thread ever waits for a connection. Per process at most
    pool_size + max_overflow connections (defaults: 20 + 20); with PostgreSQL keep
    `WEB_CONCURRENCY` x that (x replicas) below `max_connections` (default 100).
    """
    return (
        settings.slack_listener_threads + EVENT_DISPATCH_THREADS,
        ack_threads(settings) + settings.web_threads,
    )


_services: weakref.WeakKeyDictionary[App, Services] = weakref.WeakKeyDictionary()
_work_executors: weakref.WeakKeyDictionary[App, Executor] = weakref.WeakKeyDictionary()
_identities: weakref.WeakKeyDictionary[App, BotIdentity] = weakref.WeakKeyDictionary()


def register_app(
    app: App, services: Services, work_executor: Executor, identity: BotIdentity
) -> None:
    _services[app] = services
    _work_executors[app] = work_executor
    _identities[app] = identity


def services_for(app: App) -> Services:
    """The `Services` an app was created with (for `register(app)` functions)."""
    return _services[app]


def services_or_none(app: App) -> Services | None:
    """The app's `Services`, or None for a bare Bolt app."""
    return _services.get(app)


def work_executor_for(app: App) -> Executor | None:
    """The app's work pool (listener work after the ack), or None for a bare Bolt app."""
    return _work_executors.get(app)


def identity_for(app: App) -> BotIdentity | None:
    """The app's `BotIdentity` (auth.test cache), or None for a bare Bolt app."""
    return _identities.get(app)
