"""Every error the store raises (a `StoreError`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.store.repository import StoredConsultation


class StoreError(Exception):
    """Base class of every error the store raises."""


class StoreUnavailable(StoreError):
    """The database could not be reached or refused the operation."""


class ConsultationNotFound(StoreError, LookupError):
    """No consultation with that id."""


class ConsultationClosed(StoreError):
    """The consultation is not open any more (done or abandoned): nothing was written."""

    def __init__(self, consultation: StoredConsultation):
        super().__init__(f"consultation {consultation.id} is {consultation.status}")
        self.consultation = consultation


class ConsultationExists(StoreError):
    """There is already an open consultation in that thread (one per thread)."""

    def __init__(self, existing: StoredConsultation | None):
        super().__init__("an open consultation already exists in this thread")
        self.existing = existing


class ConcurrentUpdateError(StoreError):
    """Gave up after too many optimistic-locking conflicts in a row."""


class SchemaMismatch(StoreError):
    """The database's schema revision is not this code's (see `bot.store.schema`)."""
