"""Messages owed under Slack faults: delivered, once, and how late (the outbox).

    python bench/delivery.py [-n 20]

Serves the real bot in this process (SQLite in a temporary folder) against FakeSlack,
the local Web API stand-in, and for each fault pattern starts N consultations at once
from @-mentions that settle at once (each owes a verdict card in its thread and a DM
summary). Patterns, as issue 14 found them:

- calm: no faults (the baseline, measured in the same run);
- each method 429, 500, 429 before it works;
- the first 30 calls answering 429;
- 30% of calls answering 429 or 500 at random (seeded);
- chat.postMessage answering 500 four times.

Printed per pattern: cards and DMs delivered (goal: all), duplicates (goal: 0), and the
time from the mention to the card and to the DM (p50 / p99 / max).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_slack import BOT_USER_ID, FakeSlack  # noqa: E402
from tests.support.fixtures import make_settings, start_bot  # noqa: E402
from tests.support.slack_requests import CHANNEL_ID, USER_ID, app_mention_event  # noqa: E402

SETTLED = "we call claude, ship this week"
DEADLINE_S = 120.0


def patterns(fake: FakeSlack) -> dict[str, object]:
    return {
        "calm (baseline)": lambda: None,
        "each method 429,500,429": lambda: fake.fail_each_method([429, 500, 429]),
        "first 30 calls 429": lambda: fake.fail_first_calls(30, retry_after=0),
        "30% random 429/500": lambda: fake.fail_randomly(0.3, seed=14, statuses=(429, 500)),
        "postMessage 500 x4": lambda: fake.fail_next("chat.postMessage", 4, status=500),
    }


def bot_posts_in(fake: FakeSlack, root: str) -> list[dict]:
    return [m for m in fake.messages.get(CHANNEL_ID, [])
            if m.get("user") == BOT_USER_ID and m.get("thread_ts") == root]


def dms_for(fake: FakeSlack, cid: str) -> list[dict]:
    """The DM summaries of consultation `cid` (their buttons carry its id)."""
    return [m for ch, msgs in list(fake.messages.items()) if ch.startswith("D") for m in msgs
            if m.get("user") == BOT_USER_ID and "Your verdict" in json.dumps(m.get("blocks"))
            and cid in json.dumps(m.get("blocks"))]


def one(bot, fake: FakeSlack, i: int) -> tuple[float | None, float | None, int]:
    """(seconds to the card, seconds to the DM, duplicates) of one consultation."""
    event = app_mention_event(f"{SETTLED} (team {i})")
    fake.add_message(CHANNEL_ID, event["ts"], event["text"], user=USER_ID)
    start = time.monotonic()
    bot.sender.event(event)
    root = event["ts"]
    card_at = dm_at = None
    cid = None
    while time.monotonic() - start < DEADLINE_S and (card_at is None or dm_at is None):
        if cid is None:
            cid = next((r.id for r in bot.store.recent_for_user(USER_ID, 200)
                        if r.thread_ts == root), None)
        posts = bot_posts_in(fake, root)
        if card_at is None and any("Verdict" in str(m.get("blocks")) for m in posts):
            card_at = time.monotonic() - start
        if dm_at is None and cid and dms_for(fake, cid):
            dm_at = time.monotonic() - start
        time.sleep(0.05)
    time.sleep(0.5)
    extra = max(0, len(bot_posts_in(fake, root)) - 1)
    if cid:
        extra += max(0, len(dms_for(fake, cid)) - 1)
    return card_at, dm_at, extra


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="consultations per pattern")
    args = parser.parse_args()
    print(f"{'pattern':26} {'cards':>7} {'DMs':>7} {'dupes':>5}  "
          f"{'to card p50/p99/max s':>22}  {'to DM p50/p99/max s':>20}")
    with tempfile.TemporaryDirectory() as tmp, FakeSlack() as fake:
        bot = start_bot(make_settings(fake, f"sqlite:///{Path(tmp) / 'bench.db'}",
                                      log_level="ERROR", slack_listener_threads=16),
                        fake=fake)
        try:
            base = 0
            for name, arm in patterns(fake).items():
                fake.calm()
                arm()  # type: ignore[operator]
                with ThreadPoolExecutor(args.n) as pool:
                    results = list(pool.map(lambda i: one(bot, fake, i),
                                            range(base, base + args.n)))
                base += args.n
                fake.calm()
                cards = [r[0] for r in results if r[0] is not None]
                dms = [r[1] for r in results if r[1] is not None]
                dupes = sum(r[2] for r in results)

                def spread(xs: list[float]) -> str:
                    if not xs:
                        return "-"
                    return f"{statistics.median(xs):.2f}/{pct(xs, 99):.2f}/{max(xs):.2f}"

                print(f"{name:26} {len(cards):>3}/{args.n:<3} {len(dms):>3}/{args.n:<3} "
                      f"{dupes:>5}  {spread(cards):>22}  {spread(dms):>20}", flush=True)
        finally:
            bot.stop()
    print("goals: every card and DM delivered, 0 duplicates; times are what the storm "
          "costs over the calm baseline")


if __name__ == "__main__":
    main()
