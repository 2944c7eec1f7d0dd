"""Decision drift: `python -m bot recheck` re-decides stored consultations and DMs each owner
once per change, through the local Slack stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date

import pytest

from bot.engine import Consultation, decide, parse_answers
from bot.knowledge import load_knowledge
from bot.slack.blocks import ids
from bot.store import Store
from bot.store.drift import DriftLedger
from tests.conftest import ROOT, run_bot
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID
from tests.support.slack_requests import app_home_opened_event
from tests.support.surface import all_text, wait_until

KNOWLEDGE = load_knowledge()
OWNER = "U0OWNER01"
OPENAI_FINE_TUNE = {
    "model": "openai:gpt-4.1-mini", "gap": "behaviour", "task_type": "format",
    "prompt_tokens": 6000, "monthly_calls": 20_000_000, "labelled_examples": 8000,
    "has_eval_set": True, "prompt_engineering_tried": True, "format_resisted": True,
    "spec_stable": True,
}
AZURE_FINE_TUNE = {**OPENAI_FINE_TUNE, "model": "azure:gpt-4.1-mini"}


def decided(store: Store, raw: dict, day: date, *, user: str = OWNER,
            thread_ts: str = "1700000000.000100"):
    """A consultation finished on `day` the way every surface finishes one."""
    answers, errors = parse_answers(KNOWLEDGE, raw)
    assert not errors
    state = Consultation(KNOWLEDGE, day, answers=answers)
    row = store.create_consultation(user_id=user, surface="thread", team_id=TEAM_ID,
                                    channel="C0CHAN001", thread_ts=thread_ts,
                                    state=state.to_json())
    return store.finish(row.id, decide(KNOWLEDGE, answers, day).to_dict())


def recheck_process(db: str, fake, *args: str, today: str = "2026-12-02"):
    """`python -m bot recheck` in a subprocess, as cron or a CronJob runs it."""
    return run_bot("recheck", "--today", today, *args, env=_recheck_env(db, fake))


def _recheck_env(db: str, fake) -> dict[str, str]:
    return {"DATABASE_URL": db, "SLACK_API_URL": fake.api_url, "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "x"}


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def recheck(db: str, fake, *args: str, today: str = "2026-12-02") -> Ran:
    """The same command's entry point in this process (a second per run faster than a
    subprocess); its settings come from the environment as in a real run."""
    from bot.cli import main
    from bot.config import get_settings

    saved = {k: os.environ.get(k) for k in (*_recheck_env(db, fake), "BOT_TODAY")}
    os.environ.update(_recheck_env(db, fake))
    os.environ.pop("BOT_TODAY", None)
    get_settings.cache_clear()
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["recheck", "--today", today, *args])
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()
    return Ran(code, out.getvalue(), err.getvalue())


def dms(fake) -> list[dict]:
    return [c.json for c in fake.ok_calls("chat.postMessage")
            if str((c.json or {}).get("channel", "")).startswith("D")]


def _store(url: str):
    s = Store(url)
    s.create_schema()
    yield s
    s.dispose()


@pytest.fixture
def any_store(db_url):
    """On SQLite and on PostgreSQL."""
    yield from _store(db_url)


@pytest.fixture
def store(sqlite_url):
    yield from _store(sqlite_url)


@pytest.fixture
def db(sqlite_url):
    return sqlite_url


def test_an_openai_fine_tune_from_march_is_told_once(any_store, db_url, fake_slack):
    store = any_store
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    assert c.decision["verdict"] == "fine_tuning"
    # on the day it was decided, nothing has changed
    same_day = recheck(db_url, fake_slack, today="2026-03-01")
    assert same_day.returncode == 0, same_day.stderr
    assert same_day.stdout == "" and dms(fake_slack) == []

    first = recheck_process(db_url, fake_slack)
    assert first.returncode == 0, first.stderr
    line = json.loads(first.stdout)
    assert line["consultation"] == c.id and line["owner"] == OWNER
    assert (line["old_verdict"], line["new_verdict"]) == ("fine_tuning", "prompt_engineering")
    assert "2027-01-06" in line["why"] and "as of 2026-12-02" in line["why"]
    sent = dms(fake_slack)
    assert len(sent) == 1
    text = all_text(sent[0]["blocks"])
    assert "Fine-tune" in text and "Prompt engineering" in text and "2027-01-06" in text
    assert "archives/C0CHAN001/p1700000000000100" in text  # the way back to the thread
    buttons = {e["action_id"]: e for b in sent[0]["blocks"] if b["type"] == "actions"
               for e in b["elements"]}
    assert buttons[ids.ADJUST]["value"] == c.id and buttons[ids.MUTE_DRIFT]["value"] == c.id
    assert "Review my answers" in buttons[ids.ADJUST]["text"]["text"]

    second = recheck(db_url, fake_slack)
    assert second.returncode == 0 and json.loads(second.stdout)["consultation"] == c.id
    assert len(dms(fake_slack)) == 1  # still changed, nobody told again
    # what the user saved is untouched
    assert store.get(c.id).decision == c.decision


def test_dry_run_prints_and_tells_nobody(store, db, fake_slack):
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    dry = recheck(db, fake_slack, "--dry-run")
    assert json.loads(dry.stdout)["consultation"] == c.id
    assert dms(fake_slack) == [] and DriftLedger(store).all_notices() == []
    recheck(db, fake_slack)
    assert len(dms(fake_slack)) == 1  # the dry run did not use the change up


@pytest.mark.parametrize(("status", "count"), [(429, 1), (500, 4)])
def test_slack_failing_during_recheck_delivers_on_the_next_run(store, db, fake_slack,
                                                               status, count):
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    # a 429 asking for 30 s is not slept; a 500 is retried 3 times, then given up
    fake_slack.fail_next("chat.postMessage", count, status=status, retry_after=30)
    first = recheck(db, fake_slack)
    assert first.returncode == 0, first.stderr
    assert "1 waiting for Slack" in first.stderr and dms(fake_slack) == []
    second = recheck(db, fake_slack)
    assert second.returncode == 0, second.stderr
    sent = dms(fake_slack)
    assert len(sent) == 1 and c.id in json.dumps(sent[0]["blocks"])
    recheck(db, fake_slack)
    assert len(dms(fake_slack)) == 1


def test_a_dm_posted_before_a_crash_is_not_posted_again(store, db, fake_slack):
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    ledger = DriftLedger(store)
    recheck(db, fake_slack)
    # make it look like a run that posted and died before it could say so
    notice = ledger.all_notices()[0]
    with store._session("test") as s:
        from sqlalchemy import update

        from bot.store.models import DriftNoticeRow
        s.execute(update(DriftNoticeRow).values(delivered_at=None, outcome=None))
        s.commit()
    again = recheck(db, fake_slack)
    assert again.returncode == 0, again.stderr
    assert len(dms(fake_slack)) == 1
    assert ledger.all_notices()[0].outcome == "sent" and notice.consultation_id == c.id


def test_two_rechecks_at_once_on_postgres_send_one_dm(postgres_url, fake_slack):
    store = Store(postgres_url)
    store.create_schema()
    try:
        for n in range(3):
            decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1), user=f"U0OWNER{n}",
                    thread_ts=f"1700000000.00010{n}")
        gate = fake_slack.hold("chat.postMessage")
        env = {"DATABASE_URL": postgres_url, "SLACK_API_URL": fake_slack.api_url,
               "SLACK_BOT_TOKEN": BOT_TOKEN, "BOT_TODAY": "2026-12-02"}
        runs = [subprocess.Popen([sys.executable, "-m", "bot", "recheck"], cwd=ROOT,
                                 env={**_env(), **env}, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
        fake_slack.wait_holding("chat.postMessage", 1, timeout=30)
        # the other run finds the lock taken and stops while the first one is delivering
        wait_until(lambda: any(r.poll() is not None for r in runs), timeout=30,
                   what="the second recheck to give way")
        gate.set()
        outputs = [r.communicate(timeout=60) for r in runs]
        assert all(r.returncode == 0 for r in runs), outputs
        assert sum("another recheck is running" in err for _, err in outputs) == 1
        assert len(dms(fake_slack)) == 3  # one per owner, none twice
        assert len({d["channel"] for d in dms(fake_slack)}) == 3
    finally:
        fake_slack.release_all()
        store.dispose()


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}


def test_the_heads_up_comes_once_thirty_days_before_the_route_closes(store, db,
                                                                      fake_slack):
    c = decided(store, AZURE_FINE_TUNE, date(2026, 12, 2))
    assert c.decision["verdict"] == "fine_tuning"
    day_before = recheck(db, fake_slack, today="2027-03-14")  # 31 days before
    assert day_before.stdout == "" and dms(fake_slack) == []
    first = recheck(db, fake_slack, today="2027-03-15")  # 30 days before 2027-04-14
    assert first.stdout == ""  # the verdict still holds: not a change
    sent = dms(fake_slack)
    assert len(sent) == 1
    text = all_text(sent[0]["blocks"])
    assert "Heads-up" in text and "2027-04-14" in text and "in 30 days" in text
    recheck(db, fake_slack, today="2027-03-20")
    assert len(dms(fake_slack)) == 1


def test_a_muted_consultation_is_never_told(bot, fake_slack):
    c = decided(bot.store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    other = decided(bot.store, OPENAI_FINE_TUNE, date(2026, 3, 1), user="U0SOMEONE",
                    thread_ts="1700000000.000200")
    # someone else cannot mute it; the owner can, from the button
    r = bot.sender.block_action(ids.MUTE_DRIFT, value=c.id, user_id="U0SOMEONE",
                                channel_id="D0SOMEONE")
    assert r.status == 200
    wait_until(lambda: fake_slack.ok_calls("chat.postEphemeral"), what="refusal")
    assert "Only <@U0OWNER01>" in fake_slack.ok_calls("chat.postEphemeral")[-1].arg("text")
    r = bot.sender.block_action(ids.MUTE_DRIFT, value=c.id, user_id=OWNER,
                                channel_id="D0OWNER01")
    assert r.status == 200
    wait_until(lambda: len(fake_slack.ok_calls("chat.postEphemeral")) == 2, what="muted")
    assert "Muted" in fake_slack.ok_calls("chat.postEphemeral")[-1].arg("text")
    done = recheck(bot.settings.database_url, fake_slack)
    assert done.returncode == 0, done.stderr
    sent = dms(fake_slack)
    assert len(sent) == 1 and other.id in json.dumps(sent[0]["blocks"])
    assert sent[0]["channel"] != "D0OWNER01"


def test_a_mute_after_the_change_was_found_stops_the_waiting_dm(store, db, fake_slack):
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    fake_slack.fail_next("chat.postMessage", 1, status=429, retry_after=30)
    recheck(db, fake_slack)  # found, not delivered
    store.update(c.id, lambda d: d.meta.update(drift_muted_at="2026-12-02T10:00:00+00:00"),
                 require_open=False)
    out = recheck(db, fake_slack)
    assert out.returncode == 0 and dms(fake_slack) == []
    assert DriftLedger(store).all_notices()[0].outcome == "muted"


def test_app_home_marks_a_changed_consultation(bot, fake_slack):
    c = decided(bot.store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    recheck(bot.settings.database_url, fake_slack)
    bot.sender.event(app_home_opened_event(user=OWNER))
    published = fake_slack.wait_for("views.publish")
    text = all_text(published.arg_json("view")["blocks"])
    assert "Changed on recheck" in text and "now Prompt engineering" in text
    assert "2027-01-06" in text
    assert c.decision["verdict"] == "fine_tuning"


def test_review_my_answers_opens_the_form_prefilled(bot, fake_slack):
    c = decided(bot.store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    r = bot.sender.block_action(ids.ADJUST, value=c.id, user_id=OWNER, channel_id="D0OWNER01")
    assert r.status == 200
    update = fake_slack.wait_for("views.update")
    assert "8000" in json.dumps(update.arg_json("view")) or "8,000" in json.dumps(
        update.arg_json("view"))


def test_a_reopened_consultation_is_not_rechecked_until_decided_again(store, db,
                                                                       fake_slack):
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    store.update(c.id, lambda d: (setattr(d, "status", "open"), setattr(d, "decision", None)),
                 require_open=False)
    assert recheck(db, fake_slack).stdout == ""
    answers, _ = parse_answers(KNOWLEDGE, OPENAI_FINE_TUNE)
    store.finish(c.id, decide(KNOWLEDGE, answers, date(2026, 12, 2)).to_dict())
    assert recheck(db, fake_slack).stdout == ""  # decided again today: holds
    assert dms(fake_slack) == []


def test_recheck_without_a_token_says_what_to_do(sqlite_url):
    out = run_bot("recheck", env={"DATABASE_URL": sqlite_url, "SLACK_BOT_TOKEN": ""})
    assert out.returncode == 2 and "SLACK_BOT_TOKEN" in out.stderr and "--dry-run" in out.stderr
    bad = run_bot("recheck", "--today", "2026-13-01", "--dry-run",
                  env={"DATABASE_URL": sqlite_url})
    assert bad.returncode == 2 and "today" in bad.stderr


def test_the_server_rechecks_at_start_up_on_new_knowledge_and_not_again(
        bot_factory, bot_settings, fake_slack):
    store = Store(bot_settings.database_url)
    store.create_schema()
    c = decided(store, OPENAI_FINE_TUNE, date(2026, 3, 1))
    store.dispose()
    settings = bot_settings.model_copy(update={"bot_recheck_every_hours": 24.0})
    running = bot_factory(settings)
    wait_until(lambda: dms(fake_slack), timeout=20, what="the start-up recheck's DM")
    assert c.id in json.dumps(dms(fake_slack)[0]["blocks"])
    ledger = DriftLedger(running.store)
    wait_until(lambda: ledger.get_state("recheck.knowledge_version") == KNOWLEDGE.version,
               what="the run to be recorded")
    running.restart()  # same knowledge, ran just now: not due
    time.sleep(1.0)
    assert len(dms(fake_slack)) == 1
