"""Persistence: consultations and processed Slack events (SQLAlchemy 2; SQLite or PostgreSQL).

Public API: `Store`, its snapshots (`StoredConsultation`) and errors. See
`bot.store.repository` for the store and `bot.store.schema` for migrations.
"""

from bot.store.errors import (
    ConcurrentUpdateError,
    ConsultationClosed,
    ConsultationExists,
    ConsultationNotFound,
    SchemaMismatch,
    StoreError,
    StoreUnavailable,
)
from bot.store.repository import (
    ConsultationDraft,
    Store,
    StoredConsultation,
    describe_db_error,
    normalize_database_url,
)

__all__ = [
    "ConcurrentUpdateError",
    "ConsultationClosed",
    "ConsultationDraft",
    "ConsultationExists",
    "ConsultationNotFound",
    "SchemaMismatch",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "StoredConsultation",
    "describe_db_error",
    "normalize_database_url",
]
