"""The database schema's revision: check it at start-up, bring it up to date on request.

Migrations are Alembic revisions under `bot/store/migrations/versions`, run on our own
engine (no alembic.ini). What each state of a database means:

- empty: the tables are created at the newest revision (`create_all`, then stamped), so a
  fresh install needs no step of its own;
- at the newest revision: ready;
- behind (an older revision, or the tables of the code from before migrations, which have
  no `alembic_version`): `SchemaBehind`, which says to run `python -m bot db upgrade`;
- ahead (a revision this code does not know: newer code migrated it): `SchemaAhead`; the
  code refuses to touch it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from bot.store.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
#: The revision the tables made before migrations existed correspond to.
BASELINE = "0001"
UPGRADE_COMMAND = "python -m bot db upgrade"


class SchemaError(Exception):
    """The database's schema is not the one this code needs."""


class SchemaBehind(SchemaError):
    def __init__(self, current: str | None, head: str):
        self.current, self.head = current, head
        super().__init__(
            f"the database schema is at revision {current or 'none (made before migrations)'}"
            f" and this code needs {head}: run `{UPGRADE_COMMAND}` (with the same "
            "DATABASE_URL), then start again"
        )


class SchemaAhead(SchemaError):
    def __init__(self, current: str, head: str):
        self.current, self.head = current, head
        super().__init__(
            f"the database schema is at revision {current}, which this code does not know "
            f"(its newest is {head}): it was upgraded by a newer version of the bot; run that "
            "version, or restore a backup made before the upgrade"
        )


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _has_tables(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return bool(names & set(Base.metadata.tables))


def check(engine: Engine, *, create_if_empty: bool = True) -> None:
    """Make sure the schema is the code's: create it on an empty database, else raise
    `SchemaBehind` / `SchemaAhead` (see the module docstring)."""
    head = head_revision()
    with engine.begin() as connection:
        current = current_revision(connection)
        if current == head:
            return
        if current is None and not _has_tables(connection):
            if not create_if_empty:
                raise SchemaBehind(None, head)
            Base.metadata.create_all(connection)
            command.stamp(_config(connection), head)
            return
    if current is not None and current not in known_revisions():
        raise SchemaAhead(current, head)
    raise SchemaBehind(current, head)


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revision before (None: no migrations had run), the
    revision now, and whether the database was empty (so it was created)."""

    before: str | None
    after: str
    created: bool

    def __str__(self) -> str:
        if self.created:
            return f"created at revision {self.after}"
        if self.before == self.after:
            return f"up to date (revision {self.after})"
        was = self.before or "the tables made before migrations"
        return f"upgraded from {was} to revision {self.after}"


#: The PostgreSQL advisory lock key that serialises `upgrade` (any fixed 64-bit number).
MIGRATION_LOCK_KEY = 0x7074_665F_6462


def _one_migration_at_a_time(connection: Connection) -> None:
    """On PostgreSQL, wait for any other `upgrade` (replicas starting together, each with
    its initContainer): the lock lasts as long as this transaction, and the DDL is in it,
    so the second sees the first one's result and has nothing left to do. SQLite locks
    the whole file for a write anyway."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                           {"key": MIGRATION_LOCK_KEY})


def upgrade(engine: Engine) -> Upgrade:
    """Bring the schema to the newest revision, keeping every row.

    Tables from before migrations are first stamped at the baseline."""
    head = head_revision()
    with engine.begin() as connection:
        _one_migration_at_a_time(connection)
        before = current_revision(connection)
        if before is not None and before not in known_revisions():
            raise SchemaAhead(before, head)
        empty = before is None and not _has_tables(connection)
        if before is None and not empty:
            command.stamp(_config(connection), BASELINE)
        command.upgrade(_config(connection), "head")
    return Upgrade(before, head, empty)


def downgrade(engine: Engine, revision: str) -> str:
    """Take the schema back to `revision` (to run an older version of the bot), keeping
    every row in the older shape; the revision it was at."""
    if revision not in known_revisions() and revision != "base":
        raise SchemaError(f"unknown revision {revision!r}; known: "
                          f"{', '.join(sorted(known_revisions()))}")
    with engine.begin() as connection:
        before = current_revision(connection)
        if before is None:
            raise SchemaError("the database has no revision to go back from")
        command.downgrade(_config(connection), revision)
    return before

