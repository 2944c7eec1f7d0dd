"""Migrations: a database made by the code before migrations is refused at start-up with
what to do, upgraded by `python -m bot db upgrade` with every row kept, and its
consultations load into the consultation object; a newer schema is refused."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, text

from bot.engine import NOT_SURE, Consultation
from bot.knowledge import load_knowledge
from bot.store import SchemaMismatch, Store
from bot.store.drift import DriftLedger
from bot.store.models import Base
from bot.store.schema import head_revision
from tests.conftest import ROOT, TODAY, run_bot
from tests.support import models_before_migrations as old

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = [
    {  # a thread consultation in progress, as the previous code stored it
        "id": "a" * 32, "team_id": "T1", "user_id": "U1", "channel": "C1", "thread_ts": "1.1",
        "surface": "thread", "status": "open", "message_ts": "1.2", "decision": None,
        "answers": {"model_access": "open_weights", "prompt_tokens": 6000},
        "meta": {"origin": "mention", "skipped": ["gap"], "prefilled": ["prompt_tokens"],
                 "understood": ['prompt length: 6,000 tokens ("6k token prompt")'],
                 "notes": ["a note"], "permalink": "https://x.example/p"},
    },
    {  # a finished modal consultation
        "id": "b" * 32, "team_id": "T1", "user_id": "U2", "channel": "C2", "thread_ts": None,
        "surface": "modal", "status": "done", "message_ts": None,
        "decision": {"verdict": "fine_tuning", "reasons": []},
        "answers": {"model_access": "closed_with_fine_tuning", "monthly_calls": 20_000_000},
        "meta": {"origin": "command", "private": True, "card": {"channel": "C2", "ts": "2.1"}},
    },
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _old_database(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    old.Base.metadata.create_all(engine)
    with engine.begin() as connection:
        for row in ROWS:
            connection.execute(insert(old.ConsultationRow.__table__).values(
                **row, created_at=WHEN, updated_at=WHEN, version=1))
        connection.execute(insert(old.ProcessedEventRow.__table__).values(
            event_id="Ev1", channel="C1", ts="1.1", received_at=WHEN))
    engine.dispose()


def test_a_database_from_before_migrations_is_refused_then_upgraded(db_url, tmp_path):
    _old_database(db_url)
    store = Store(db_url)
    with pytest.raises(SchemaMismatch, match="python -m bot db upgrade"):
        store.create_schema()
    store.dispose()
    # `serve` refuses it too, saying what to do (before anything listens)
    refused = run_bot("serve", env={"DATABASE_URL": db_url, "PORT": str(_free_port())})
    assert refused.returncode == 2
    assert "python -m bot db upgrade" in refused.stderr and "Traceback" not in refused.stderr

    upgraded = run_bot("db", "upgrade", env={"DATABASE_URL": db_url})
    assert upgraded.returncode == 0, upgraded.stderr
    assert "upgraded from the tables made before migrations" in upgraded.stdout
    assert "up to date" in run_bot("db", "upgrade", env={"DATABASE_URL": db_url}).stdout

    store = Store(db_url)
    store.create_schema()  # accepted now
    knowledge = load_knowledge()
    thread = store.get("a" * 32)
    assert thread.status == "open" and thread.message_ts == "1.2"
    assert thread.meta["permalink"] == "https://x.example/p"  # delivery keys are kept
    assert not {"skipped", "prefilled", "understood", "notes"} & set(thread.meta)  # in state
    state = Consultation.from_json(knowledge, thread.state, TODAY)
    assert state.answers == {"model_access": "open_weights", "prompt_tokens": 6000,
                             "gap": NOT_SURE}
    assert state.prefilled["prompt_tokens"].startswith("prompt length")
    assert state.notes == ["a note"]
    modal = store.get("b" * 32)
    assert modal.decision == {"verdict": "fine_tuning", "reasons": []}
    assert modal.answers == ROWS[1]["answers"] and modal.meta["private"] is True
    assert modal.created_at == WHEN
    assert store.claim_event("Ev1", "C1", "1.1") is False  # the events table came along
    # the finished one is watched for drift from its stored decision
    watched = [w for batch in DriftLedger(store).watched() for w in batch]
    assert [(w.consultation_id, w.verdict, w.answers) for w in watched] == [
        ("b" * 32, "fine_tuning", ROWS[1]["answers"])]
    store.dispose()
    # the upgraded schema is exactly the one the code's models describe
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_downgrade_gives_the_older_code_its_rows_back(db_url):
    """`db downgrade 0001` for running the previous version: "not sure" answers go back to
    its `skipped` list and every other answer to the answers column; upgrading again
    brings back the same consultation."""
    _old_database(db_url)
    assert run_bot("db", "upgrade", env={"DATABASE_URL": db_url}).returncode == 0
    knowledge = load_knowledge()
    store = Store(db_url)
    store.create_schema()

    def take_reply(draft):
        state = Consultation.from_json(knowledge, draft.state, TODAY)
        state.not_sure("has_eval_set")
        draft.state = state.to_json()

    store.update("a" * 32, take_reply)  # rewritten by the new code: schema 1
    store.dispose()

    down = run_bot("db", "downgrade", "0001", env={"DATABASE_URL": db_url})
    assert down.returncode == 0, down.stderr
    assert f"downgraded from revision {head_revision()} to 0001" in down.stdout
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        rows = {r.id: r for r in connection.execute(
            text("SELECT id, answers, meta FROM consultations")).all()}
    engine.dispose()

    def as_json(value):
        return json.loads(value) if isinstance(value, str) else value

    thread_answers, thread_meta = as_json(rows["a" * 32].answers), as_json(rows["a" * 32].meta)
    assert thread_answers == {"model_access": "open_weights", "prompt_tokens": 6000}
    assert sorted(thread_meta["skipped"]) == ["gap", "has_eval_set"]
    assert thread_meta["prefilled"] == ["prompt_tokens"] and thread_meta["notes"] == ["a note"]
    assert thread_meta["permalink"] == "https://x.example/p"
    untouched = as_json(rows["b" * 32].meta)  # never rewritten: exactly as it was
    assert untouched == ROWS[1]["meta"]
    assert as_json(rows["b" * 32].answers) == ROWS[1]["answers"]

    assert run_bot("db", "upgrade", env={"DATABASE_URL": db_url}).returncode == 0
    store = Store(db_url)
    again = Consultation.from_json(knowledge, store.get("a" * 32).state, TODAY)
    assert again.answers == {"model_access": "open_weights", "prompt_tokens": 6000,
                             "gap": NOT_SURE, "has_eval_set": NOT_SURE}
    store.dispose()
    bad = run_bot("db", "downgrade", "0042", env={"DATABASE_URL": db_url})
    assert bad.returncode == 2 and "unknown revision '0042'" in bad.stderr


def test_a_schema_newer_than_the_code_is_refused(db_url):
    store = Store(db_url)
    store.create_schema()
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    store.dispose()
    again = Store(db_url)
    with pytest.raises(SchemaMismatch, match="newer version of the bot"):
        again.create_schema()
    result = run_bot("db", "upgrade", env={"DATABASE_URL": db_url})
    assert result.returncode == 2 and "9999" in result.stderr
    again.dispose()


def test_a_fresh_database_is_created_at_the_newest_revision(tmp_path):
    url = f"sqlite:///{tmp_path}/new.db"
    result = run_bot("db", "upgrade", env={"DATABASE_URL": url})
    assert result.returncode == 0 and "created at revision" in result.stdout
    store = Store(url)
    store.create_schema()
    c = store.create_consultation(user_id="U1", surface="modal",
                                  state={"schema": 1, "answers": {"deadline": "this_week"}})
    assert json.dumps(store.get(c.id).state)
    store.dispose()


def test_replicas_upgrading_an_empty_database_at_once_migrate_it_once(postgres_url, tmp_path):
    """Each replica's initContainer runs `db upgrade`; started together on PostgreSQL they
    take turns (an advisory lock), so both succeed and the schema is made once."""
    env = {**os.environ, "DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "db", "upgrade"], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert [code for _, _, code in results] == [0, 0, 0], [err for _, err, _ in results]
    said = sorted(out.split(": ", 1)[1].strip() for out, _, _ in results)
    head = head_revision()
    assert said == [f"created at revision {head}"] + [f"up to date (revision {head})"] * 2
    Store(postgres_url).create_schema()  # what serve checks: the schema is the code's
