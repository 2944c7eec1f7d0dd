"""Recheck of 100,000 stored consultations: time, rows per second, peak memory.

    python bench/recheck.py [-n 100000] [--database-url URL] [--dms 300]

Fills a fresh database (SQLite in a temp folder unless --database-url) with N decided
consultations: answer sets drawn from the knowledge's priors of realistic answers (each
row's call volume nudged so no two rows share answers and no cache flatters the run),
decided on dates spread from 2026-03-01 to 2026-12-01 with their verdict as of that day.
Then, each in a fresh process (so peak RSS is the run's own):

- baseline: stream every watch row and do nothing with it (the database's share);
- recheck on 2026-12-02 in one process (a dry run: what the server's schedule does per
  row), then as the CLI runs it (one worker process per core) recording what each owner
  is owed (no Slack);
- delivery: the DMs for `--dms` notices, through FakeSlack (the local Web API stand-in).

Printed: seconds, rows per second and peak RSS for each, changed verdicts and heads-ups
found, DMs per second. Goal: the recheck of N rows in <= 60 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 60.0
TODAY = date(2026, 12, 2)

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from datetime import date
from bot.knowledge import load_knowledge
from bot.store import Store
from bot.store.drift import DriftLedger
store = Store({url!r})
mode = {mode!r}
started = time.perf_counter()
out = {{}}
if mode == "baseline":
    rows = sum(len(batch) for batch in DriftLedger(store).watched())
    out = {{"rows": rows}}
elif mode.startswith("recheck"):
    import os
    from bot.recheck import run_recheck
    workers = (os.cpu_count() or 1) if mode == "recheck-all-cores" else 1
    report = run_recheck(store, load_knowledge(), date.fromisoformat({today!r}),
                         workers=workers, dry_run=mode.endswith("dry"))
    out = {{"rows": report.checked, "changed": report.changed, "heads_up": report.heads_up,
            "recorded": report.recorded, "unreadable": report.unreadable}}
else:
    from bot.config import Settings
    from bot.recheck import run_recheck
    from bot.slack.client import build_web_client
    from bot.slack.drift_dm import SlackDriftNotifier
    from bot.slack.services import Services
    settings = Settings(_env_file=None, slack_bot_token="xoxb-1111-2222-FAKEbotTOKENfortests",
                        slack_api_url={api!r}, database_url={url!r})
    knowledge = load_knowledge()
    today = date.fromisoformat({today!r})
    notifier = SlackDriftNotifier(Services(settings, store, knowledge),
                                  build_web_client(settings), today)
    report = run_recheck(store, knowledge, today, deliver=notifier)
    out = {{"rows": report.checked, "sent": report.sent, "waiting": report.waiting}}
out["seconds"] = time.perf_counter() - started
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["worker_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out))
"""


def fill(url: str, count: int, seed: int = 20261202) -> None:
    from sqlalchemy import insert

    from bench.scenarios import realistic
    from bot.engine import verdict_only
    from bot.knowledge import load_knowledge
    from bot.store import Store
    from bot.store.models import DecisionWatchRow

    knowledge = load_knowledge()
    rng = random.Random(seed)
    base = realistic(knowledge, 2000, today=TODAY)
    days = [date(2026, 3, 1) + timedelta(days=d) for d in range(0, 276, 5)]
    verdicts: dict[tuple[int, date], str] = {}
    store = Store(url)
    store.create_schema()
    batch = []
    for index in range(count):
        which = index % len(base)
        answers = dict(base[which][1])
        day = days[rng.randrange(len(days))]
        if isinstance(answers.get("monthly_calls"), int):
            answers["monthly_calls"] += index // len(base)  # distinct rows, same verdict
        key = (which, day)
        if key not in verdicts:
            verdicts[key] = verdict_only(knowledge, answers, day)
        model = answers.get("model")
        batch.append({
            "consultation_id": f"{index:032x}", "team_id": "T0BENCH", "user_id":
            f"U{index % 5000:08d}", "channel": "C0BENCH", "thread_ts": f"1700000000.{index:06d}",
            "verdict": verdicts[key], "decided_on": day, "knowledge_version": "bench",
            "route_model": model if isinstance(model, str) and model != "not_sure" else None,
            "answers": answers, "muted_at": None,
        })
        if len(batch) == 5000:
            with store.engine.begin() as connection:
                connection.execute(insert(DecisionWatchRow.__table__), batch)
            batch = []
    if batch:
        with store.engine.begin() as connection:
            connection.execute(insert(DecisionWatchRow.__table__), batch)
    store.dispose()


def child(mode: str, url: str, api: str = "") -> dict:
    code = CHILD.format(root=str(ROOT), url=url, mode=mode, today=TODAY.isoformat(), api=api)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--database-url")
    parser.add_argument("--dms", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/recheck.db"
        started = time.perf_counter()
        fill(url, args.n)
        print(f"filled {args.n} decided consultations in {time.perf_counter() - started:.1f} s "
              f"({url.split(':')[0]})")
        baseline = child("baseline", url)
        single = child("recheck-one-dry", url)
        run = child("recheck-all-cores", url)
        for name, got in (("baseline: stream the rows only", baseline),
                          ("recheck, one process (dry run)", single),
                          (f"recheck, {os.cpu_count()} processes (+ record)", run)):
            print(f"  {name:32s} {got['seconds']:6.1f} s  "
                  f"{got['rows'] / got['seconds']:9.0f} rows/s  "
                  f"peak RSS {got['peak_rss_mb']:6.1f} MB"
                  + (f" (each worker <= {got['worker_peak_rss_mb']:.1f} MB)"
                     if got.get("worker_peak_rss_mb") else ""))
        print(f"  found: {run['changed']} changed verdicts, {run['heads_up']} heads-ups, "
              f"{run['unreadable']} unreadable; {run['recorded']} notices recorded")
        met = run["seconds"] <= GOAL_S and run["rows"] == args.n
        print(f"goal: {args.n} rows in <= {GOAL_S:.0f} s: "
              f"{'met' if met else 'NOT met'} ({run['seconds']:.1f} s)")
        if args.dms:
            from tests.support.fake_slack import FakeSlack

            small = f"sqlite:///{folder}/dms.db" if not args.database_url else url
            if not args.database_url:
                fill(small, args.dms * 3)
            with FakeSlack() as fake:
                sent = child("deliver", small, fake.api_url)
            print(f"  delivery through the local Slack stand-in: {sent['sent']} DMs in "
                  f"{sent['seconds']:.1f} s ({sent['sent'] / max(sent['seconds'], 1e-9):.0f}"
                  f" per s, recheck of {sent['rows']} rows included), peak RSS "
                  f"{sent['peak_rss_mb']:.1f} MB")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
