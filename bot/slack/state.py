"""A stored consultation as the engine's consultation object, for the Slack surfaces.

The row keeps the object's JSON (`state`) and, once decided, the decision's JSON; the
Slack code turns one into the other only through these helpers. Every change goes
through `edit`, which runs an operation of `bot.engine.Consultation` inside the store's
optimistic-locking update (so it may run again on fresh data after a conflict: keep the
operation a function of the state only).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from bot.engine import Consultation, Decision
from bot.slack.web import Deps
from bot.store import ConsultationDraft, StoredConsultation, StoreError

log = logging.getLogger("bot.slack.state")

T = TypeVar("T")


def state_of(deps: Deps, row: StoredConsultation) -> Consultation:
    return Consultation.from_json(deps.knowledge, row.state, deps.today())


def new_state(deps: Deps) -> Consultation:
    return Consultation(deps.knowledge, deps.today())


def decision_of(row: StoredConsultation) -> Decision | None:
    return Decision.from_dict(row.decision) if row.decision else None


def edit(
    deps: Deps,
    cid: str,
    operation: Callable[[Consultation], T],
    *,
    require_open: bool = True,
    also: Callable[[ConsultationDraft], None] | None = None,
) -> tuple[StoredConsultation, T]:
    """Apply `operation` to the consultation's state and store the result; (row, what the
    operation returned). `also(draft)` edits the row's other fields in the same write."""
    returned: list[T] = []

    def apply(draft: ConsultationDraft) -> None:
        state = Consultation.from_json(deps.knowledge, draft.state, deps.today())
        returned[:] = [operation(state)]
        draft.state = state.to_json()
        if also is not None:
            also(draft)

    row = deps.store.update(cid, apply, require_open=require_open)
    return row, returned[0]


def finish(deps: Deps, cid: str) -> StoredConsultation:
    """Mark the consultation done with the decision of its answers as stored now (the
    decision is made inside the write, so a change that lands first is in it); returns
    the row, still open if a change means more to ask. Raises ConsultationClosed when
    another writer finished it first."""

    def decision(draft: ConsultationDraft) -> dict[str, Any] | None:
        state = Consultation.from_json(deps.knowledge, draft.state, deps.today())
        return state.decide().to_dict() if state.done else None

    return deps.store.finish(cid, decision)


def reopen(draft: ConsultationDraft) -> None:
    """Open a finished consultation again (back, change, start over). Its card belongs to
    the old decision; its DM summary stays marked with the decision it was for, so the
    same decision reached again is not sent twice."""
    draft.status = "open"
    draft.decision = None
    draft.meta.pop("delivery", None)
    if isinstance(draft.meta.get("card"), dict):
        draft.meta["card"]["for_decision"] = None


def remember(deps: Deps, cid: str, **meta: Any) -> None:
    """Merge `meta` into the consultation's meta (any status). Best effort."""

    def apply(draft: ConsultationDraft) -> None:
        draft.meta.update(meta)

    try:
        deps.store.update(cid, apply, require_open=False)
    except StoreError as exc:
        log.warning("could not save %s for consultation %s: %s", sorted(meta), cid, exc)
