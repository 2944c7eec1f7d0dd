"""Does the worker's memory level off? RSS after 1,000 and after 5,000 requests.

    python bench/levelling.py [-n 5000] [--server thread|gunicorn]

Starts FakeSlack and two serving processes as bench/ack.py does ("ours": the real app;
"bare": a Bolt app whose listeners only ack) and sends each the same interleaved mix of
signed requests (bench/ack.py's kinds: slash commands, clicks, thread replies, assistant
threads, workflow steps, message shortcuts), printing RSS and threads at 1,000 requests
and at the end, per app. Goal: ours after N within 10% of ours after 1,000.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack import (  # noqa: E402
    CHANNELS,
    KINDS,
    SECRET,
    STEP_TOKEN,
    _children,
    _discover_click,
    _rss_report,
    _send,
    _start,
    stop_servers,
)
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.slack_requests import SlackSender  # noqa: E402

CHECKPOINT = 1000


def _threads(proc: Any) -> int:
    pids = _children(proc.pid) or [proc.pid]
    return max(len(list(Path(f"/proc/{pid}/task").glob("*"))) for pid in pids)


def run(n: int, server: str) -> int:
    tmp = tempfile.mkdtemp(prefix="ptf-bench-level-")
    with FakeSlack() as fake:
        fake.step_tokens.add(STEP_TOKEN)
        procs: dict[str, Any] = {}
        marks: dict[str, dict[int, tuple[float, int]]] = {"ours": {}, "bare": {}}
        try:
            for kind in ("ours", "bare"):
                procs[kind] = _start(kind, server, fake, f"sqlite:///{tmp}/{kind}.db", False,
                                     Path(tmp) / f"{kind}.log")
            senders = {k: SlackSender(url, SECRET, fake=fake) for k, (_, url) in procs.items()}
            clicks = {k: _discover_click(fake, senders[k], CHANNELS[k]) for k in senders}
            sent = 0
            while sent < n:
                for kind in KINDS:
                    for target in ("ours", "bare"):
                        _send(kind, senders[target], CHANNELS[target], clicks[target])
                    sent += 1
                    if sent in (CHECKPOINT, n):
                        fake.quiet_for(1.0)
                        for target, (proc, _) in procs.items():
                            marks[target][sent] = (_rss_report(proc)["worker"], _threads(proc))
                    if sent >= n:
                        break
                if len(fake.calls) > 20_000:  # the stand-in's own memory is not the bench's
                    fake.calls.clear()
        finally:
            stop_servers(procs)
    print(f"memory levelling, server={server}, {n} requests per app (kinds: "
          f"{', '.join(KINDS)}); server logs in {tmp}")
    for target in ("bare", "ours"):
        first, last = marks[target][CHECKPOINT], marks[target][n]
        label = "baseline: bare Bolt app" if target == "bare" else "ours"
        print(f"  {label:26s} after {CHECKPOINT:>5}: {first[0]:6.1f} MB RSS, {first[1]:3d} "
              f"threads; after {n:>5}: {last[0]:6.1f} MB RSS, {last[1]:3d} threads "
              f"({(last[0] / first[0] - 1) * 100:+.1f}%)")
    first, last = marks["ours"][CHECKPOINT][0], marks["ours"][n][0]
    met = last <= first * 1.10
    print(f"goal: ours after {n} within 10% of after {CHECKPOINT}: "
          f"{'met' if met else 'not met'} ({(last / first - 1) * 100:+.1f}%)")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=5000, help="requests per app (at least 1,000)")
    p.add_argument("--server", choices=("thread", "gunicorn"), default="thread")
    args = p.parse_args()
    return run(max(args.n, CHECKPOINT), args.server)


if __name__ == "__main__":
    raise SystemExit(main())
