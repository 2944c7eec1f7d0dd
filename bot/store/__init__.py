"""Persistence: consultations and processed Slack events (SQLAlchemy 2; SQLite or PostgreSQL).

Public API: `Store` and its snapshots/errors. See `bot.store.repository` for details.
"""

from bot.store.repository import (
    ConcurrentUpdateError,
    Consultation,
    ConsultationClosed,
    ConsultationDraft,
    ConsultationExists,
    ConsultationNotFound,
    Store,
    StoreError,
    StoreUnavailable,
    describe_db_error,
    normalize_database_url,
)

__all__ = [
    "ConcurrentUpdateError",
    "Consultation",
    "ConsultationClosed",
    "ConsultationDraft",
    "ConsultationExists",
    "ConsultationNotFound",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "describe_db_error",
    "normalize_database_url",
]
