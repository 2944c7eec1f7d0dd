"""Prometheus metrics of the bot (exposed on `GET /metrics`).

One module for every counter, so that Slack code, the LLM phrasing and the store count
in the same registry without importing each other, e.g.::

    from bot.metrics import LLM_FALLBACKS
    LLM_FALLBACKS.labels(reason="timeout").inc()

Counters (all prefixed `ptf_`):

- `http_requests_total{route,status}`        every HTTP request the WSGI app answered
- `slack_acks_total{kind}`                    acks sent to Slack (command, block_actions,
                                              view_submission, event, ...)
- `slack_ack_seconds{kind}` (histogram)       time from request to ack
- `duplicate_events_total`                    Events API deliveries dropped as duplicates
- `slack_retries_received_total`              deliveries carrying X-Slack-Retry-Num
- `slack_api_calls_total{method}`             Web API calls made by listeners
- `slack_api_errors_total{method,error}`      Web API calls that failed (after retries)
- `llm_fallbacks_total{reason}`               LLM phrasing replaced by the template text
- `llm_phrased_total`                         LLM phrasing that passed its checks and was used
- `consultations_finished_total{verdict}`     consultations finished (Store.finish hook)
- `dedup_store_errors_total`                  events let through because the DB was down
- `listener_work_pending` (gauge)             listener work handed off after the ack and
                                              not finished yet (queued + running)
- `listener_work_errors_total{fn}`            listener work that raised (logged)
- `slack_auth_failures_total`                 auth.test look-ups that failed (authorize)

With several gunicorn workers, `serve` sets up `PROMETHEUS_MULTIPROC_DIR` before this
module is imported (`bot.metrics_dir`); `/metrics` then aggregates all workers.
"""

from __future__ import annotations

import glob
import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

disable_created_metrics()  # no `*_created` series: less noise, same information

HTTP_REQUESTS = Counter(
    "ptf_http_requests", "HTTP requests answered, by route and status", ["route", "status"]
)
ACKS = Counter("ptf_slack_acks", "Acks sent to Slack, by payload kind", ["kind"])
ACK_SECONDS = Histogram(
    "ptf_slack_ack_seconds",
    "Time to ack a Slack request, by payload kind",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0),
)
DUPLICATE_EVENTS = Counter("ptf_duplicate_events", "Events API deliveries dropped as duplicates")
RETRIES_RECEIVED = Counter(
    "ptf_slack_retries_received", "Events API deliveries with X-Slack-Retry-Num"
)
SLACK_API_CALLS = Counter("ptf_slack_api_calls", "Slack Web API calls, by method", ["method"])
SLACK_API_ERRORS = Counter(
    "ptf_slack_api_errors",
    "Slack Web API calls that failed, by method and error",
    ["method", "error"],
)
LLM_FALLBACKS = Counter(
    "ptf_llm_fallbacks", "LLM phrasing replaced by the template text, by reason", ["reason"]
)
LLM_PHRASED = Counter(
    "ptf_llm_phrased", "LLM explanations that passed the grounding checks and were used"
)
CONSULTATIONS_FINISHED = Counter(
    "ptf_consultations_finished", "Consultations finished, by verdict", ["verdict"]
)
DEDUP_STORE_ERRORS = Counter(
    "ptf_dedup_store_errors", "Events handled without dedup because the database was down"
)


def consultation_finished(consultation: Any) -> None:
    """`Store(on_finish=...)` hook: count the finished consultation by its verdict."""
    decision = getattr(consultation, "decision", None) or {}
    verdict = decision.get("verdict") if isinstance(decision, dict) else None
    CONSULTATIONS_FINISHED.labels(verdict=str(verdict or "unknown")).inc()


def render_metrics() -> tuple[bytes, str]:
    """The exposition text and its content type (multiprocess-aware)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _sized_files_collector()(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


def _sized_files_collector() -> Any:
    """MultiProcessCollector, skipping a worker's file while it is still empty.

    prometheus_client creates a metric file and sizes it afterwards; a scrape in between
    fails on the whole merge (every worker's metrics), and a worker killed in that moment
    leaves the empty file for good (prometheus/client_python#1199). An empty file holds
    no values, so leaving it out loses nothing."""
    from prometheus_client import multiprocess

    class SizedFilesCollector(multiprocess.MultiProcessCollector):
        def collect(self) -> Any:
            files = []
            for path in glob.glob(os.path.join(self._path, "*.db")):
                try:
                    if os.path.getsize(path) > 0:
                        files.append(path)
                except OSError:  # removed since the listing (a dead worker's)
                    continue
            return self.merge(files, accumulate=True)

    return SizedFilesCollector


WORK_PENDING = Gauge(
    "ptf_listener_work_pending",
    "Listener work handed off after the ack and not finished (queued + running)",
    multiprocess_mode="livesum",
)
WORK_ERRORS = Counter(
    "ptf_listener_work_errors", "Listener work that raised after the ack, by function", ["fn"]
)
AUTH_FAILURES = Counter(
    "ptf_slack_auth_failures", "auth.test look-ups (bot identity) that failed"
)
