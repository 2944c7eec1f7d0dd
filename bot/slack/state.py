"""A stored consultation as the engine's consultation object, for the Slack surfaces.

The row keeps the object's JSON (`state`) and, once decided, the decision's JSON; these
helpers are the only place the Slack code turns one into the other. Every change goes
through `edit`, which runs an operation of `bot.engine.Consultation` inside the store's
optimistic-locking update (so it may run again on fresh data after a conflict: keep the
operation a function of the state only).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from bot.engine import Consultation, Decision
from bot.slack.web import Deps
from bot.store import ConsultationDraft, StoredConsultation

T = TypeVar("T")


def state_of(deps: Deps, row: StoredConsultation) -> Consultation:
    return Consultation.from_json(deps.knowledge, row.state)


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
        state = Consultation.from_json(deps.knowledge, draft.state)
        returned[:] = [operation(state)]
        draft.state = state.to_json()
        if also is not None:
            also(draft)

    row = deps.store.update(cid, apply, require_open=require_open)
    return row, returned[0]


def reopen(draft: ConsultationDraft) -> None:
    """Open a finished consultation again (back, change, start over): its card and DM
    belong to the old decision."""
    draft.status = "open"
    draft.decision = None
    draft.meta.pop("delivery", None)
    for key in ("dm", "card"):
        if isinstance(draft.meta.get(key), dict):
            draft.meta[key]["for_decision"] = None
