"""Worker memory after many consultations, against a bare Bolt app in the same run.

    python bench/memory.py [-n 50] [--server thread|gunicorn]

Starts FakeSlack and two serving processes as bench/ack.py does ("ours": the real app;
"bare": a Bolt app whose listeners only ack), drives N complete @-mention thread
consultations on ours (as bench/ack.py drives one: the last choice of each question,
"5000" typed for numbers), and prints the worker's RSS and PSS at idle, after the first
and after the last, the bare app's RSS, how many charts were uploaded, and whether
matplotlib is mapped into the worker (it must not be: Slack's chart is drawn in a
child process that exits when idle, bot/explain/chart_process.py). Goal: <= 120 MB RSS
per worker after 50 consultations.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ack import (  # noqa: E402
    SECRET,
    _rss_report,
    _start,
    _thread_consultation,
    stop_servers,
)
from tests.support.fake_slack import FakeSlack  # noqa: E402
from tests.support.slack_requests import SlackSender  # noqa: E402

TEXT = "should we fine-tune this?"


def _serving_pid(proc: Any) -> int:
    from bench.ack import _children

    workers = _children(proc.pid)
    return workers[0] if workers else proc.pid


def _maps_matplotlib(pid: int) -> bool:
    try:
        return "matplotlib" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def run(n: int, server: str) -> int:
    tmp = tempfile.mkdtemp(prefix="ptf-bench-mem-")
    db = f"sqlite:///{tmp}/bench.db"
    with FakeSlack() as fake:
        procs: dict[str, Any] = {}
        try:
            for kind in ("ours", "bare"):
                procs[kind] = _start(kind, server, fake, db if kind == "ours"
                                     else f"sqlite:///{tmp}/bare.db", False,
                                     Path(tmp) / f"{kind}.log")
            sender = SlackSender(procs["ours"][1], SECRET, fake=fake)
            idle = _rss_report(procs["ours"][0])
            after: dict[int, dict[str, float]] = {}
            done = charts = 0
            for i in range(1, n + 1):
                flow = _thread_consultation(fake, sender, db, channel=f"C0MEM{i:05d}",
                                            text=TEXT, settle=0.3)
                done += ": done after" in flow
                if i in (1, n):
                    fake.quiet_for(1.0)
                    after[i] = _rss_report(procs["ours"][0])
            charts = sum(1 for c in fake.calls_to() if c.method == "files.getUploadURLExternal")
            mapped = _maps_matplotlib(_serving_pid(procs["ours"][0]))
            bare = _rss_report(procs["bare"][0])
        finally:
            stop_servers(procs)
    print(f"memory, server={server}, {n} thread consultations ({done} finished, {charts} "
          f"charts uploaded); server logs in {tmp}")
    print(f"  baseline: bare Bolt app          {bare['worker']:7.1f} MB RSS")
    print(f"  ours at idle                     {idle['worker']:7.1f} MB RSS")
    for i, m in after.items():
        print(f"  ours after {i:>4} consultation(s)  {m['worker']:7.1f} MB RSS "
              f"({m['total_pss']:.1f} MB PSS, master {m['master']:.1f} MB)")
    last = after[n]["worker"]
    print(f"  matplotlib mapped in the worker: {'yes' if mapped else 'no'}")
    print(f"goal <= 120 MB RSS per worker after {n}: {'met' if last <= 120 else 'not met'} "
          f"({last:.1f} MB)")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=50, help="consultations to drive")
    p.add_argument("--server", choices=("thread", "gunicorn"), default="thread")
    args = p.parse_args()
    return run(args.n, args.server)


if __name__ == "__main__":
    raise SystemExit(main())
