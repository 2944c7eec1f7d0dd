"""`python -m bot serve` as a real process: gunicorn, health, signed requests, no credentials."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.fake_slack import BOT_TOKEN
from tests.support.fixtures import SIGNING_SECRET
from tests.support.slack_requests import SlackSender, http_request, message_event, new_ts

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**values: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ANTHROPIC_", "DATABASE_URL", "PORT", "WEB_", "LOG_LEVEL",
                             "PROMETHEUS_"))
    }
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    for k, v in values.items():
        if v is not None:
            env[k] = v
    return env


def _start_serve(env: dict[str, str], cwd: Path) -> subprocess.Popen:
    """`python -m bot serve` as an operator runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    """SIGTERM, as an orchestrator stops it; its output."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.returncode}")
        try:
            if http_request(url + "/healthz", timeout=1).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def test_gunicorn_serves_and_stops(fake_slack, tmp_path):
    port = _free_port()
    env = _env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
        LOG_LEVEL="INFO",
    )
    proc = _start_serve(env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        assert http_request(url + "/readyz").status == 200
        sender = SlackSender(url, SIGNING_SECRET, fake=fake_slack)
        assert sender.post("{}", "application/json", timestamp=int(time.time()) - 600).status == 401
        ev = message_event("hello gunicorn", thread_ts=new_ts())  # a reply: deduplicated
        assert sender.event(ev, event_id="EvGunicorn1").status in (200, 404)
        assert sender.event(ev, event_id="EvGunicorn1", retry_num=1).status == 200
        deadline = time.monotonic() + 10
        while True:  # events are dispatched after the ack
            metrics = http_request(url + "/metrics").text
            if "ptf_duplicate_events_total 1.0" in metrics or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "ptf_duplicate_events_total 1.0" in metrics
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "gthread" in err or "Booting worker" in err
    assert BOT_TOKEN not in out + err
    assert SIGNING_SECRET not in out + err


def _events_refused(metrics_text: str) -> float:
    """The count of POST /slack/events answered 401 in one /metrics answer."""
    for line in metrics_text.splitlines():
        if (line.startswith("ptf_http_requests_total{") and 'route="/slack/events"' in line
                and 'status="401"' in line):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _metrics_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("ptf-bot-metrics-*"))


def test_with_two_workers_metrics_add_up_whichever_worker_answers(fake_slack, tmp_path):
    port = _free_port()
    env = _env(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
               SLACK_API_URL=fake_slack.api_url, DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}",
               PORT=str(port), WEB_CONCURRENCY="2", WEB_THREADS="4", LOG_LEVEL="INFO")
    before = _metrics_dirs()
    proc = _start_serve(env, tmp_path)  # no PROMETHEUS_MULTIPROC_DIR: serve makes one
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        sender = SlackSender(url, SIGNING_SECRET, fake=fake_slack)
        with ThreadPoolExecutor(8) as pool:  # new connections, spread over both workers
            statuses = list(pool.map(lambda _: sender.post("{}", "application/json",
                                                           sign=False).status, range(40)))
        assert statuses == [401] * 40
        counts = {_events_refused(http_request(url + "/metrics").text) for _ in range(8)}
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert err.count("Booting worker with pid") == 2
    assert counts == {40.0}  # each worker's /metrics holds both workers' counts
    assert _metrics_dirs() <= before  # the directory serve made is gone with it


def test_a_given_metrics_directory_is_made_and_emptied_of_an_earlier_run(tmp_path,
                                                                        monkeypatch):
    from bot import metrics_dir

    given = tmp_path / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(given))
    assert metrics_dir.prepare(2) == str(given) and given.is_dir()
    (given / "counter_999.db").write_bytes(b"old run")
    (given / "keep.txt").write_text("not ours")
    assert metrics_dir.prepare(2) == str(given)
    assert sorted(p.name for p in given.iterdir()) == ["keep.txt"]
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
    assert metrics_dir.prepare(1) is None  # one worker: the metrics stay in the process


@pytest.mark.parametrize(
    ("missing", "present"),
    [
        ("SLACK_SIGNING_SECRET", {"SLACK_BOT_TOKEN": BOT_TOKEN}),
        ("SLACK_BOT_TOKEN", {"SLACK_SIGNING_SECRET": SIGNING_SECRET}),
        ("SLACK_BOT_TOKEN", {}),
    ],
)
def test_without_credentials_it_runs_but_is_not_ready(tmp_path, missing, present):
    """A fresh install starts (SQLite by default) and says what is missing."""
    port = _free_port()
    env = _env(PORT=str(port), **present)
    proc = _start_serve(env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        ready = http_request(url + "/readyz")
        assert ready.status == 503 and missing in ready.text
        events = http_request(url + "/slack/events", "POST", b"{}")
        assert events.status == 503 and "not configured" in events.text
        assert (tmp_path / "ptf-bot.db").exists()  # the default SQLite file, in the cwd
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert f"not connected to Slack: {missing}" in err
    for value in present.values():
        assert value not in out + err


def test_socket_mode_keeps_health_endpoints(fake_slack, tmp_path):
    """SLACK_APP_TOKEN set: Socket Mode (connections refused here) plus /healthz on PORT."""
    port = _free_port()
    app_token = "xapp-1-A0FAKEAPP-1234567890-0123456789abcdef"
    env = _env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        PORT=str(port),
    )
    proc = _start_serve(env, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        assert http_request(url + "/readyz").status == 200
        assert http_request(url + "/slack/events", "POST", b"{}").status == 404
        call = fake_slack.wait_for("apps.connections.open", timeout=10)
        assert call.token == app_token
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0, err[-2000:]
    assert "Socket Mode" in err
    for secret in (BOT_TOKEN, app_token):
        assert secret not in out + err
    assert "will be unused" not in err
