"""Store: optimistic locking under concurrency, events dedup, restart, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.store import (
    ConsultationClosed,
    ConsultationExists,
    ConsultationNotFound,
    Store,
    StoreUnavailable,
    normalize_database_url,
)


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    s.create_schema()
    yield s
    s.dispose()


def _new(store: Store, answers=None, **kw):
    base = {"user_id": "U1", "surface": "thread", "channel": "C1", "thread_ts": "100.000001",
            "team_id": "T1", "state": {"schema": 1, "answers": dict(answers or {})}}
    base.update(kw)
    return store.create_consultation(**base)


def update_answers(store: Store, cid: str, mutate, **kw):
    """Read-modify-write the answers in the stored state (what every click does)."""

    def apply(draft) -> None:
        answers = dict(draft.state.get("answers") or {})
        result = mutate(answers)
        draft.state = {**draft.state, "answers": result if result is not None else answers}

    return store.update(cid, apply, **kw)


def test_concurrent_update_answers_lose_nothing(store: Store):
    c = _new(store)
    per_thread = 25
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):

                def mutate(answers: dict, i: int = i) -> None:
                    answers[f"{name}_{i}"] = i
                    answers["clicks"] = answers.get("clicks", 0) + 1

                update_answers(store, c.id, mutate)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    final = store.get(c.id)
    assert final is not None
    assert final.answers["clicks"] == 2 * per_thread  # no lost update
    assert {k for k in final.answers if k != "clicks"} == {
        f"{n}_{i}" for n in ("a", "b") for i in range(per_thread)
    }
    assert final.version == 1 + 2 * per_thread


def test_two_stores_same_database_both_clicks_land(db_url: str):
    """Two processes (two engines) clicking at once on the same consultation."""
    a, b = Store(db_url), Store(db_url)
    a.create_schema()
    b.create_schema()
    c = _new(a)
    barrier = threading.Barrier(2)

    def click(s: Store, key: str) -> None:
        barrier.wait()
        update_answers(s, c.id, lambda ans: {**ans, key: True})

    threads = [threading.Thread(target=click, args=(s, k)) for s, k in ((a, "x"), (b, "y"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert b.get(c.id).answers == {"x": True, "y": True}
    a.dispose()
    b.dispose()


def test_restart_sees_open_consultation(db_url: str):
    first = Store(db_url)
    first.create_schema()
    c = _new(first, answers={"deadline": "this_month"})
    first.set_message_ts(c.id, "100.000002")
    first.dispose()

    second = Store(db_url)
    second.create_schema()  # idempotent on an existing schema
    found = second.find_open_for_thread("C1", "100.000001")
    assert found is not None and found.id == c.id
    assert found.answers == {"deadline": "this_month"}
    assert found.message_ts == "100.000002"
    assert found.created_at.tzinfo is not None
    updated = update_answers(second, c.id, lambda a: {**a, "spec_stable": True})
    assert updated.answers == {"deadline": "this_month", "spec_stable": True}
    second.dispose()


def test_finish_once_and_closed_afterwards(store: Store):
    finished = []
    store.on_finish = finished.append
    c = _new(store)
    done = store.finish(c.id, {"verdict": "prompt_engineering", "reasons": []})
    assert done.status == "done" and done.decision["verdict"] == "prompt_engineering"
    assert [f.id for f in finished] == [c.id]
    with pytest.raises(ConsultationClosed) as info:
        store.finish(c.id, {"verdict": "fine_tuning"})
    assert info.value.consultation.decision["verdict"] == "prompt_engineering"
    with pytest.raises(ConsultationClosed):
        update_answers(store, c.id, lambda a: {**a, "late": 1})
    assert store.find_open_for_thread("C1", "100.000001") is None
    # The thread is free again for a new consultation.
    assert _new(store).status == "open"


def test_concurrent_finish_has_one_winner(store: Store):
    c = _new(store)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def finish(verdict: str) -> None:
        barrier.wait()
        try:
            store.finish(c.id, {"verdict": verdict})
            outcomes.append("won")
        except ConsultationClosed:
            outcomes.append("closed")

    threads = [threading.Thread(target=finish, args=(v,)) for v in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["closed", "won"]


def test_one_open_consultation_per_thread(store: Store):
    first = _new(store)
    with pytest.raises(ConsultationExists) as info:
        _new(store, user_id="U2")
    assert info.value.existing is not None and info.value.existing.id == first.id
    # modal/home consultations have no thread: any number of them
    _new(store, surface="modal", thread_ts=None)
    _new(store, surface="modal", thread_ts=None)


def test_recent_for_user_newest_first(store: Store):
    ids = [_new(store, surface="modal", thread_ts=None).id for _ in range(3)]
    _new(store, user_id="U2", surface="home", thread_ts=None, channel=None)
    recent = store.recent_for_user("U1", limit=2)
    assert [c.id for c in recent] == ids[::-1][:2]
    assert store.recent_for_user("U1", team_id="T-other") == []


def test_errors(store: Store):
    assert store.get("nope") is None
    with pytest.raises(ConsultationNotFound):
        update_answers(store, "nope", lambda a: a)
    with pytest.raises(ValueError):
        _new(store, surface="carrier-pigeon")
    c = _new(store)

    def boom(answers: dict) -> None:
        answers["half"] = 1
        raise RuntimeError("mutate failed")

    with pytest.raises(RuntimeError):
        update_answers(store, c.id, boom)
    assert store.get(c.id).answers == {}  # nothing written


def test_claim_event_keys_and_purge(store: Store):
    assert store.claim_event("Ev1", "C1", "1.000001") is True
    assert store.claim_event("Ev1", "C1", "1.000001") is False  # Slack retry
    assert store.claim_event("Ev1") is False
    # same message delivered under another event id (app_mention + message.channels)
    assert store.claim_event("Ev2", "C1", "1.000001") is False
    # events without channel/ts only use the event id
    assert store.claim_event("Ev3") is True
    assert store.claim_event("Ev4", "C1", None) is True
    assert store.claim_event("Ev5", "C1", None) is True
    assert store.purge_events(older_than=timedelta(hours=1)) == 0
    assert store.purge_events(older_than=timedelta(seconds=-1)) == 4
    assert store.claim_event("Ev1", "C1", "1.000001") is True


def test_claim_event_across_two_stores(db_url: str):
    a, b = Store(db_url), Store(db_url)
    a.create_schema()
    barrier = threading.Barrier(8)
    results: list[bool] = []
    lock = threading.Lock()

    def claim(s: Store) -> None:
        barrier.wait()
        r = s.claim_event("EvRace", "C9", "9.000001")
        with lock:
            results.append(r)

    threads = [threading.Thread(target=claim, args=((a, b)[i % 2],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [False] * 7 + [True]
    a.dispose()
    b.dispose()


def test_url_normalisation_and_unreachable_database():
    assert normalize_database_url("postgresql://u:p@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_database_url("sqlite:///x.db").drivername == "sqlite"
    s = Store("postgresql://ptf:hunter2secret@127.0.0.1:1/nothing", connect_timeout_s=2)
    assert "hunter2secret" not in s.safe_url and "***" in s.safe_url
    with pytest.raises(StoreUnavailable) as info:
        s.ping()
    assert "hunter2secret" not in str(info.value)
    s.dispose()
