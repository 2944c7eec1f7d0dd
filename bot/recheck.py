"""Recheck: re-decide every stored consultation with today's knowledge and date.

`run_recheck(store, knowledge, today, ...)`:

1. takes the run lock (one recheck at a time, across replicas); a run that does not get
   it does nothing and says so;
2. streams the decided, unmuted consultations (`decision_watch`) in batches, re-decides
   each (`bot.engine.drift.recheck`, remembered per distinct answers), reports every
   changed verdict to `emit` and, unless `dry_run`, records what each owner is owed
   (a verdict change, a heads-up before the route closes) once per change;
3. unless `dry_run`, delivers what is owed and not yet delivered (also what an earlier
   run could not deliver because Slack failed) through `deliver`.

`workers` > 1 re-decides on that many processes (the CLI uses every core; the server's
schedule one thread). A row whose answers no longer read with today's knowledge is
counted and skipped, never fatal. `deliver(notice, watched)` returns the DM's (channel,
ts), or raises `DeliveryFailed` (the notice stays owed) or `NotDeliverable` (given up, e.g. the user
left).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.engine.drift import DEFAULT_HEADS_UP_DAYS, Drift, Stored, Unreadable, recheck
from bot.store.drift import DriftLedger, Notice, NoticeDraft, Watched

if TYPE_CHECKING:
    from bot.knowledge import Knowledge
    from bot.store import Store

log = logging.getLogger("bot.recheck")

LAST_KNOWLEDGE = "recheck.knowledge_version"
RAN_AT = "recheck.ran_at"
#: Fewer rows than this are re-decided in this process (starting workers costs ~1 s).
PARALLEL_FROM = 5000


class DeliveryFailed(Exception):
    """Slack could not take the DM now (429, 5xx, unreachable): try on the next run."""


class NotDeliverable(Exception):
    """The DM can never be sent (the user is gone, the app was removed)."""


Deliver = Callable[[Notice, Watched], tuple[str, str]]


@dataclass
class Report:
    checked: int = 0
    changed: int = 0
    heads_up: int = 0
    recorded: int = 0
    sent: int = 0
    waiting: int = 0
    given_up: int = 0
    skipped_muted: int = 0
    unreadable: int = 0
    locked_out: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.locked_out:
            return "recheck: another recheck is running; nothing done"
        return (f"recheck: {self.checked} consultations in {self.seconds:.1f} s: "
                f"{self.changed} changed verdicts, {self.heads_up} heads-ups; "
                f"{self.recorded} newly owed, {self.sent} DMs sent, {self.waiting} waiting "
                f"for Slack, {self.given_up} undeliverable, {self.skipped_muted} muted, "
                f"{self.unreadable} unreadable")


def change_line(watched: Watched, drift: Drift) -> dict[str, Any]:
    """The contract's JSON line for one changed verdict."""
    return {"consultation": watched.consultation_id, "owner": watched.user_id,
            "old_verdict": drift.old_verdict, "new_verdict": drift.new_verdict,
            "why": drift.why}


def run_recheck(
    store: Store,
    knowledge: Knowledge,
    today: date,
    *,
    dry_run: bool = False,
    heads_up_days: int = DEFAULT_HEADS_UP_DAYS,
    deliver: Deliver | None = None,
    emit: Callable[[dict[str, Any]], None] | None = None,
    workers: int = 1,
) -> Report:
    started = time.perf_counter()
    ledger = DriftLedger(store)
    report = Report()
    with ledger.run_lock() as held:
        if not held:
            report.locked_out = True
            return report
        _scan(ledger, knowledge, today, heads_up_days, dry_run, emit, report, workers)
        if not dry_run:
            if deliver is not None:
                _deliver(ledger, deliver, report)
            ledger.set_state(RAN_AT, datetime.now(UTC).isoformat())
            ledger.set_state(LAST_KNOWLEDGE, knowledge.version)
    report.seconds = time.perf_counter() - started
    return report


def _scan(ledger: DriftLedger, knowledge: Knowledge, today: date, heads_up_days: int,
          dry_run: bool, emit: Callable[[dict[str, Any]], None] | None, report: Report,
          workers: int) -> None:
    def settle(batch: list[Watched], drifts: list[Drift | None | Unreadable]) -> None:
        owed: list[NoticeDraft] = []
        for watched, drift in zip(batch, drifts, strict=True):
            report.checked += 1
            if isinstance(drift, Unreadable):
                report.unreadable += 1
                continue
            if drift is None:
                continue
            if drift.kind == "verdict_changed":
                report.changed += 1
                if emit is not None:
                    emit(change_line(watched, drift))
            else:
                report.heads_up += 1
            owed.append(NoticeDraft(watched.consultation_id, watched.team_id, watched.user_id,
                                    drift.kind, drift.key, drift.old_verdict,
                                    drift.new_verdict, drift.why, today))
        if not dry_run:
            report.recorded += ledger.record(owed)

    batches = ledger.watched()
    if workers > 1 and knowledge.directory is not None and (
            ledger.count_watched() >= PARALLEL_FROM):
        _scan_in_processes(batches, knowledge, today, heads_up_days, workers, settle)
        return
    memo: dict[str, Drift | None | Unreadable] = {}
    for batch in batches:
        settle(batch, [_rechecked(knowledge, w, today, heads_up_days, memo) for w in batch])


def _scan_in_processes(batches: Iterator[list[Watched]], knowledge: Knowledge, today: date,
                       days: int, workers: int,
                       settle: Callable[[list[Watched], list[Any]], None]) -> None:
    """Re-decide batches on `workers` processes (deciding is CPU-bound), in order, with at
    most two batches per worker in flight: memory stays bounded however many rows."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(str(knowledge.directory),)) as pool:
        flight: deque[tuple[list[Watched], Future[list[Any]]]] = deque()
        for batch in batches:
            flight.append((batch, pool.submit(_recheck_batch, batch, today, days)))
            if len(flight) >= 2 * workers:
                done, future = flight.popleft()
                settle(done, future.result())
        while flight:
            done, future = flight.popleft()
            settle(done, future.result())


_WORKER: dict[str, Any] = {}


def _start_worker(directory: str) -> None:
    from pathlib import Path

    from bot.knowledge import load_knowledge

    _WORKER["knowledge"] = load_knowledge(Path(directory))
    _WORKER["memo"] = {}


def _recheck_batch(batch: list[Watched], today: date, days: int) -> list[Any]:
    knowledge = _WORKER["knowledge"]
    return [_rechecked(knowledge, w, today, days, _WORKER["memo"]) for w in batch]


def _rechecked(knowledge: Knowledge, watched: Watched, today: date, days: int,
               memo: dict[str, Drift | None | Unreadable]) -> Drift | None | Unreadable:
    """recheck, remembered per (verdict, route, answers): many teams answer alike."""
    key = json.dumps([watched.verdict, watched.route_model, watched.answers],
                     sort_keys=True, default=str)
    if key in memo:
        return memo[key]
    try:
        found: Drift | None | Unreadable = recheck(
            knowledge, Stored(watched.verdict, watched.answers, watched.route_model),
            today, days)
    except Unreadable as exc:
        log.warning("recheck: consultation %s: stored answers no longer read: %s",
                    watched.consultation_id, exc)
        found = exc
    except Exception as exc:  # one odd row must not stop the run for everyone else
        log.exception("recheck: consultation %s could not be re-decided",
                      watched.consultation_id)
        found = Unreadable(str(exc))
    if len(memo) > 50_000:
        memo.clear()
    memo[key] = found
    return found


def _deliver(ledger: DriftLedger, deliver: Deliver, report: Report) -> None:
    seen: set[int] = set()
    while True:
        batch = [n for n in ledger.pending() if n.id not in seen]
        if not batch:
            return
        for notice in batch:
            seen.add(notice.id)
            watched = ledger.watch_of(notice.consultation_id)
            if watched is None or watched.verdict != notice.old_verdict:
                # reopened, or decided again since: the notice is about a verdict gone
                ledger.delivered(notice.id, "superseded")
                continue
            if watched.muted:
                report.skipped_muted += 1
                ledger.delivered(notice.id, "muted")
                continue
            if not ledger.claim(notice.id):
                continue  # another replica is delivering it
            try:
                channel, ts = deliver(notice, watched)
            except DeliveryFailed as exc:
                report.waiting += 1
                ledger.release(notice.id, str(exc))
                continue
            except NotDeliverable as exc:
                report.given_up += 1
                log.warning("recheck: notice %s for %s cannot be delivered: %s",
                            notice.id, notice.user_id, exc)
                ledger.delivered(notice.id, "undeliverable")
                continue
            ledger.delivered(notice.id, "sent", channel, ts)
            report.sent += 1
