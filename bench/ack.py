"""Ack latency of the real server against a bare Bolt app, plus RSS and Web API calls.

    python bench/ack.py [-n 300] [--server thread|gunicorn] [--interval 0.005]
                        [--database-url URL]

Starts FakeSlack (the Web API stand-in) in this process and two serving processes:
- "ours": the real WSGI app (`bot.slack.server.build_wsgi_app`: dedup middleware, store,
  whatever listeners `bot.slack.listeners.register(app)` installs), served like the
  tests do (a threaded HTTP server on 127.0.0.1) or, with `--server gunicorn`, by
  gunicorn (gthread) as in production;
- "bare": a Bolt app whose listeners only ack, behind Bolt's own WSGI adapter, on the
  same kind of server.

Then it sends N signed slash commands, block_actions, Events API deliveries (a thread
reply), assistant threads started, `ptf_decide` workflow steps and message shortcuts to
each (interleaved, 127.0.0.1 only) and prints p50/p99 ack latency for both, the p99 ratio,
and the memory of the serving processes: with `--server gunicorn` the worker's RSS AND
the gunicorn master's, their sum, and the sum of PSS (pages shared since the fork
counted once); the RSS goal is reported for the worker and for master + worker. The
button clicked is taken from the first question message the bot posts after an
@-mention (a generic action when there is none yet). Finally it drives one thread
consultation to its end (the last real choice of each question, "5000" typed for
numbers) and counts the Web API calls it took.

`--noop-listeners` gives "ours" the bare app's ack-only listeners instead: the serving
overhead alone (signature, parsing, dedup, store, metrics).

Goals: p99 <= 50 ms and <= 1.25x bare; RSS <= 120 MB; calls <= questions asked + 3.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from tests.support.slack_requests import (  # noqa: E402
    SlackSender,
    app_mention_event,
    block_actions_payload,
    http_request,
    message_event,
    new_ts,
)

SECRET = "8f742231b10e8888abcd99ab1c2d3e4f"
USER = "U0BENCH001"
CHANNELS = {"ours": "C0BENCHOURS", "bare": "C0BENCHBARE"}
KINDS = ("command", "block_actions", "event", "assistant", "step", "shortcut")
STEP_TOKEN = "xwfp-bench-step-token"


# ---------------------------------------------------------------- child: the servers


def _settings(api_url: str, database_url: str, port: int) -> Any:
    from bot.config import Settings

    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,
        slack_api_url=api_url,
        database_url=database_url,
        anthropic_api_key=None,
        port=port,
        log_level="WARNING",
        web_concurrency=1,
        web_threads=8,
    )


def _add_ack_only_listeners(app: Any) -> None:
    def ack_only(ack: Any) -> None:
        ack()

    def event_noop(body: Any) -> None:
        return None

    app.command(re.compile(".*"))(ack_only)
    app.action(re.compile(".*"))(ack_only)
    app.view(re.compile(".*"))(ack_only)
    app.event(re.compile(".*"))(event_noop)
    app.shortcut(re.compile(".*"))(ack_only)


def _bare_wsgi(settings: Any) -> Any:
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    client = WebClient(token=BOT_TOKEN, base_url=settings.slack_api_url)
    app = App(
        signing_secret=SECRET,
        client=client,
        token_verification_enabled=False,
        process_before_response=False,
    )
    _add_ack_only_listeners(app)
    return SlackRequestHandler(app)


def child(
    kind: str, server: str, api_url: str, database_url: str, port: int, noop: bool
) -> None:
    import logging

    logging.basicConfig(level=logging.WARNING)
    settings = _settings(api_url, database_url, port)

    def factory() -> Any:
        if kind == "bare":
            return _bare_wsgi(settings)
        from bot.slack.app import create_app
        from bot.slack.server import build_store, build_wsgi_app
        from bot.slack.services import Services

        store = build_store(settings)
        app = create_app(Services.build(settings, store), register_listeners=not noop)
        if noop:
            _add_ack_only_listeners(app)
        return build_wsgi_app(settings, store, app=app)

    if server == "gunicorn":
        from bot.slack.server import gunicorn_application, gunicorn_options

        options = gunicorn_options(settings)
        options.update(bind=f"127.0.0.1:{port}", loglevel="warning", accesslog=None)
        gunicorn_application(factory, options).run()
        return
    from bot.slack.server import serve_in_thread

    running = serve_in_thread(factory(), "127.0.0.1", port)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"READY {running.port}", flush=True)
    while True:
        time.sleep(3600)


# ---------------------------------------------------------------- parent helpers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(
    kind: str, server: str, fake: FakeSlack, database_url: str, noop: bool, log: Path
) -> tuple[Any, str]:
    port = _free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--server", server,
           "--api-url", fake.api_url, "--database-url", database_url, "--port", str(port)]
    if noop:
        cmd.append("--noop-listeners")
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{kind} server exited with {proc.returncode}")
        try:
            http_request(url + "/healthz", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{kind} server did not start")


def stop_servers(procs: dict[str, Any]) -> None:
    """SIGTERM every serving process, then wait (kill after 20 s)."""
    for proc, _ in procs.values():
        proc.send_signal(signal.SIGTERM)
    for proc, _ in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _proc_kb(pid: int, path: str, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rss_kb(pid: int) -> int:
    return _proc_kb(pid, "status", "VmRSS")


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (gunicorn's fork) counted once across processes."""
    return _proc_kb(pid, "smaps_rollup", "Pss")


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(p) for p in (task / "children").read_text().split()]
    return out


def _rss_report(proc: Any) -> dict[str, float]:
    """Memory of a serving process tree, in MB.

    With gunicorn the process tree is the master (`proc`, which imported the bot before
    forking nothing: `preload_app` is off) and its worker(s), which serve the requests;
    both are what the deployment costs. Keys: `worker` (RSS of the largest worker, or of
    the one process with the threaded server), `master` (RSS; 0 without gunicorn),
    `total_rss` (sum of RSS: counts pages shared after the fork twice) and `total_pss`
    (sum of PSS: shared pages split between the processes; the honest total)."""
    workers = _children(proc.pid)
    if workers:
        worker = max(_rss_kb(p) for p in workers)
        master = _rss_kb(proc.pid)
    else:
        worker, master = _rss_kb(proc.pid), 0
    pids = [proc.pid, *workers]
    return {
        "worker": worker / 1024,
        "master": master / 1024,
        "total_rss": sum(_rss_kb(p) for p in pids) / 1024,
        "total_pss": sum(_pss_kb(p) for p in pids) / 1024,
        "processes": float(len(pids)),
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _actionable(blocks: Any, last: bool = False) -> dict[str, Any] | None:
    """The first clickable element of a message's blocks, as block_actions kwargs; with
    `last`, the last real choice of the first row of buttons (not a "skip"), or a
    select's last option."""
    for block in blocks or []:
        if not isinstance(block, dict):
            continue
        elements = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            elements.append(block["accessory"])
        clickable = [el for el in elements if isinstance(el, dict) and "action_id" in el]
        buttons = [el for el in clickable if el.get("type") == "button"
                   and "skip" not in str(el["action_id"])]
        for el in ([buttons[-1]] if last and buttons else clickable):
            base = {"action_id": el["action_id"], "block_id": block.get("block_id", "b")}
            if el.get("type") == "button":
                return {**base, "value": el.get("value"), "action_type": "button"}
            options = el.get("options") or [
                o for g in el.get("option_groups") or [] for o in g.get("options", [])
            ]
            if el.get("type") in ("static_select", "radio_buttons") and options:
                option = options[-1] if last else options[0]
                return {**base, "selected_option": option, "action_type": el["type"]}
    return None


def _latest_thread_message(fake: FakeSlack, channel: str, root: str) -> dict[str, Any] | None:
    msgs = [m for m in fake.messages.get(channel, [])
            if m.get("thread_ts") == root and m.get("blocks") and m.get("user") == fake.bot_user_id]
    return msgs[-1] if msgs else None


def _discover_click(fake: FakeSlack, sender: SlackSender, channel: str) -> dict[str, Any] | None:
    root = new_ts()
    sender.event(app_mention_event("should we fine-tune this?", user=USER, channel=channel,
                                   ts=root))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        msg = _latest_thread_message(fake, channel, root)
        if msg is not None:
            click = _actionable(msg["blocks"])
            if click is not None:
                return {**click, "message_ts": msg["ts"], "thread_ts": root}
        time.sleep(0.05)
    return None


def _send(kind: str, sender: SlackSender, channel: str, click: dict[str, Any] | None) -> Any:
    if kind == "command":
        return sender.command("", user_id=USER, channel_id=channel)
    if kind == "block_actions":
        kw = dict(click) if click else {"action_id": "bench_noop", "value": "x"}
        action_id = kw.pop("action_id")
        return sender.interaction(block_actions_payload(
            action_id, user_id=USER, channel_id=channel, response_url=sender.response_url(),
            **kw))
    if kind == "assistant":  # a new assistant thread: greeting and suggested prompts
        return sender.event({"type": "assistant_thread_started", "event_ts": new_ts(),
                             "assistant_thread": {"user_id": USER, "channel_id": "D0BENCH001",
                                                  "thread_ts": new_ts(),
                                                  "context": {"channel_id": channel}}})
    if kind == "step":  # the ptf_decide workflow step
        return sender.event({
            "type": "function_executed", "event_ts": new_ts(),
            "function": {"callback_id": "ptf_decide", "id": "Fn0BENCH", "type": "app"},
            "inputs": {"situation": "llama 3.1 8b, 6k token prompt, 20M calls a month"},
            "function_execution_id": f"Fx{new_ts().replace('.', '')}",
            "bot_access_token": STEP_TOKEN})
    if kind == "shortcut":  # "Ask the advisor about this thread"
        ts = new_ts()
        return sender.interaction({
            "type": "message_action", "callback_id": "ask_about_thread",
            "trigger_id": f"{ts}.trigger", "response_url": sender.response_url(),
            "team": {"id": "T0TEAM001"}, "user": {"id": USER}, "channel": {"id": channel},
            "message_ts": ts, "message": {"type": "message", "user": USER, "ts": ts,
                                          "text": "6k token prompt"}})
    root = click["thread_ts"] if click else None
    return sender.event(message_event("6k token prompt", user=USER, channel=channel,
                                      thread_ts=root))


def _wait(predicate: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return None


def _thread_consultation(fake: FakeSlack, sender: SlackSender, database_url: str,
                         channel: str = "C0BENCHFLOW", text: str = "should we fine-tune this?",
                         settle: float = 1.0) -> str:
    """Drive one @-mention consultation to its end: click the last real choice of each
    question (the first one often ends it at once), type "5000" for number questions;
    count the Web API calls it took (auth.test and the file bytes upload excluded)."""
    from bot.store import Store

    root = new_ts()
    fake.add_message(channel, root, f"<@{fake.bot_user_id}> {text}", user=USER)
    fake.quiet_for(settle)
    start = len(fake.calls_to())
    store = Store(database_url)

    def row() -> Any:
        mine = [c for c in store.recent_for_user(USER, limit=50) if c.thread_ts == root]
        return mine[0] if mine else None

    clicks = 0
    try:
        sender.event(app_mention_event(text, user=USER, channel=channel, ts=root))
        msg = _wait(lambda: _latest_thread_message(fake, channel, root))
        for _ in range(40):
            current = row()
            if msg is None or (current is not None and current.status != "open"):
                break
            click = _actionable(msg["blocks"], last=True)
            if click is None:
                break
            before = repr(msg["blocks"])
            if "skip" in str(click["action_id"]):  # a number question: type the answer
                sender.event(message_event("5000", user=USER, channel=channel, thread_ts=root))
            else:
                action_id = click.pop("action_id")
                sender.interaction(block_actions_payload(
                    action_id, user_id=USER, channel_id=channel, message_ts=msg["ts"],
                    thread_ts=root, response_url=sender.response_url(), **click))
            clicks += 1
            _wait(lambda before=before: repr(msg["blocks"]) != before
                  or (row() is not None and row().status != "open"))
        fake.quiet_for(1.5 * settle)
        final = row()
    finally:
        store.dispose()
    calls = [c for c in fake.calls_to()[start:] if c.method not in ("auth.test", "upload")]
    status = final.status if final else "no consultation"
    methods: dict[str, int] = {}
    for c in calls:
        methods[c.method] = methods.get(c.method, 0) + 1
    verdict = "met" if status == "done" and len(calls) <= clicks + 3 else "not met"
    detail = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
    return (f"thread consultation: {status} after {clicks} questions answered; "
            f"{len(calls)} Web API calls ({detail}); goal calls <= questions + 3: {verdict}")


# ---------------------------------------------------------------- main


def run(n: int, server: str, interval: float, database_url: str | None, noop: bool) -> int:
    tmp = tempfile.mkdtemp(prefix="ptf-bench-")
    db = database_url or f"sqlite:///{tmp}/bench.db"
    with FakeSlack() as fake:
        fake.step_tokens.add(STEP_TOKEN)
        procs: dict[str, Any] = {}
        try:
            for kind in ("ours", "bare"):
                procs[kind] = _start(
                    kind, server, fake, db if kind == "ours" else f"sqlite:///{tmp}/bare.db",
                    noop, Path(tmp) / f"{kind}.log")
            senders = {k: SlackSender(url, SECRET, fake=fake) for k, (_, url) in procs.items()}
            clicks = {k: _discover_click(fake, senders[k], CHANNELS[k]) for k in senders}
            # warm-up (imports, first auth.test, connection pools)
            for _ in range(20):
                for k in senders:
                    for kind in KINDS:
                        _send(kind, senders[k], CHANNELS[k], clicks[k])
            fake.quiet_for(0.3)
            lat: dict[tuple[str, str], list[float]] = {(t, k): [] for t in senders for k in KINDS}
            bad: dict[tuple[str, str], int] = {key: 0 for key in lat}
            for i in range(n):
                order = ("ours", "bare") if i % 2 == 0 else ("bare", "ours")
                for kind in KINDS:
                    for target in order:
                        r = _send(kind, senders[target], CHANNELS[target], clicks[target])
                        lat[(target, kind)].append(r.elapsed * 1000)
                        if r.status != 200:
                            bad[(target, kind)] += 1
                        if interval:
                            time.sleep(interval)
            fake.quiet_for(0.5)
            rss = {k: _rss_report(p) for k, (p, _) in procs.items()}
            flow = _thread_consultation(fake, senders["ours"], db)
        finally:
            stop_servers(procs)

    listeners = "ack-only (--noop-listeners)" if noop else "register(app)"
    print(f"ack latency, {n} requests per kind per app, server={server}, "
          f"interval={interval * 1000:.0f} ms, db={'postgresql' if 'postgres' in db else 'sqlite'}"
          f", our listeners: {listeners}; server logs in {tmp}")
    click_note = {k: (c["action_id"] if c else "none found: generic action") for k, c in
                  clicks.items()}
    print(f"button clicked: ours={click_note['ours']}")
    print(f"{'kind':<14}{'ours p50':>10}{'ours p99':>10}{'bare p50':>10}{'bare p99':>10}"
          f"{'p99 ratio':>11}  non-200 (ours/bare)")
    worst_p99, worst_ratio = 0.0, 0.0
    all_ours, all_bare = [], []
    for kind in KINDS:
        o, b = lat[("ours", kind)], lat[("bare", kind)]
        all_ours += o
        all_bare += b
        o99, b99 = _quantile(o, 0.99), _quantile(b, 0.99)
        ratio = o99 / b99 if b99 else float("inf")
        worst_p99, worst_ratio = max(worst_p99, o99), max(worst_ratio, ratio)
        print(f"{kind:<14}{statistics.median(o):>10.2f}{o99:>10.2f}{statistics.median(b):>10.2f}"
              f"{b99:>10.2f}{ratio:>10.2f}x  {bad[('ours', kind)]}/{bad[('bare', kind)]}")
    o99, b99 = _quantile(all_ours, 0.99), _quantile(all_bare, 0.99)
    print(f"{'all':<14}{statistics.median(all_ours):>10.2f}{o99:>10.2f}"
          f"{statistics.median(all_bare):>10.2f}{b99:>10.2f}{o99 / b99:>10.2f}x   (ms)")
    for k, m in rss.items():
        if m["master"]:
            print(f"RSS {k}: worker {m['worker']:.1f} MB + gunicorn master {m['master']:.1f} MB"
                  f" = {m['total_rss']:.1f} MB RSS ({m['total_pss']:.1f} MB PSS, shared pages "
                  f"counted once; {int(m['processes'])} processes)")
        else:
            print(f"RSS {k}: {m['worker']:.1f} MB (one process, {m['total_pss']:.1f} MB PSS)")
    print(flow)
    ours = rss["ours"]
    rss_goal = (f"{'met' if ours['worker'] <= 120 else 'not met'} for the worker "
                f"({ours['worker']:.1f})")
    if ours["master"]:
        rss_goal += (f", {'met' if ours['total_rss'] <= 120 else 'not met'} for master + worker"
                     f" ({ours['total_rss']:.1f} RSS, {ours['total_pss']:.1f} PSS)")
    print(f"goal p99 <= 50 ms: {'met' if worst_p99 <= 50 else 'not met'} (worst {worst_p99:.1f});"
          f" p99 <= 1.25x bare: {'met' if o99 / b99 <= 1.25 else 'not met'} (all kinds "
          f"{o99 / b99:.2f}x, worst kind {worst_ratio:.2f}x); RSS <= 120 MB: {rss_goal}")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", type=int, default=300, help="requests per kind per app (max 5000)")
    p.add_argument("--server", choices=("thread", "gunicorn"), default="thread")
    p.add_argument("--interval", type=float, default=0.005, help="pause between requests (s)")
    p.add_argument("--database-url", default=None, help="default: a temp SQLite file")
    p.add_argument("--noop-listeners", action="store_true",
                   help="ours gets the bare app's ack-only listeners instead of register(app):"
                   " measures the serving overhead alone (signature, dedup, store)")
    p.add_argument("--child", choices=("ours", "bare"), help=argparse.SUPPRESS)
    p.add_argument("--api-url", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args.server, args.api_url, args.database_url, args.port,
              args.noop_listeners)
        return 0
    return run(max(1, min(args.n, 5000)), args.server, args.interval, args.database_url,
               args.noop_listeners)


if __name__ == "__main__":
    raise SystemExit(main())
