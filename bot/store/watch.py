"""Keeping `decision_watch` in step with the consultations (see `DecisionWatchRow`).

`sync(session, row)` runs inside every `Store.update` write: a finished consultation gets
(or refreshes) its watch row from its decision; one that is reopened loses it, until it
is finished again. Muting lives in the consultation's meta (`drift_muted_at`), so it
survives a reopen, and is copied here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.store.models import ConsultationRow, DecisionWatchRow

MUTED_KEY = "drift_muted_at"


def basis(decision: dict[str, Any] | None,
          state: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The fields recheck needs from a stored decision (None when it has no verdict); the
    answers are the decision's own, else (decisions stored before they kept them) the
    consultation's."""
    if not isinstance(decision, dict) or not isinstance(decision.get("verdict"), str):
        return None
    costs = decision.get("costs") if isinstance(decision.get("costs"), dict) else {}
    route = costs.get("route") if isinstance(costs.get("route"), dict) else {}
    model = route.get("model")
    return {
        "verdict": decision["verdict"][:32],
        "decided_on": _date(decision.get("today")),
        "knowledge_version": str(decision.get("knowledge_version") or "")[:64] or None,
        "route_model": model[:64] if isinstance(model, str) else None,
        "answers": dict(decision.get("answers") or (state or {}).get("answers") or {}),
    }


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None


def _muted(meta: dict[str, Any] | None) -> datetime | None:
    value = (meta or {}).get(MUTED_KEY)
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def sync(session: Session, row: ConsultationRow) -> None:
    found = session.get(DecisionWatchRow, row.id)
    fields = basis(row.decision, row.state) if row.status == "done" else None
    if fields is None:
        if found is not None:
            session.delete(found)
        return
    values = {**fields, "team_id": row.team_id, "user_id": row.user_id,
              "channel": row.channel, "thread_ts": row.thread_ts,
              "muted_at": _muted(row.meta)}
    if found is None:
        session.add(DecisionWatchRow(consultation_id=row.id, **values))
    else:
        for name, value in values.items():
            setattr(found, name, value)
