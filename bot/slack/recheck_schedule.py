"""The server's own recheck: at start-up after a knowledge update, then every
`BOT_RECHECK_EVERY_HOURS` (default 24; 0 turns it off, e.g. when a Kubernetes CronJob
runs `python -m bot recheck` instead).

One daemon thread per process wakes every few minutes and runs recheck when it is due:
never run, run on other knowledge (a new knowledge version), or last run longer ago than
the interval. Every replica and worker has one; the run lock (PostgreSQL's advisory lock)
lets one of them work, and the others find it done when they wake.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from bot.recheck import LAST_KNOWLEDGE, RAN_AT, run_recheck
from bot.slack.client import build_web_client
from bot.slack.drift_dm import SlackDriftNotifier
from bot.slack.services import Services
from bot.store import StoreError
from bot.store.drift import DriftLedger

log = logging.getLogger("bot.slack.recheck_schedule")

WAKE_EVERY_S = 300.0


class RecheckSchedule:
    def __init__(self, services: Services, *, wake_every_s: float = WAKE_EVERY_S):
        self.services = services
        self.every = timedelta(hours=services.settings.bot_recheck_every_hours)
        self.wake_every_s = wake_every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    @property
    def enabled(self) -> bool:
        settings = self.services.settings
        token = settings.slack_bot_token
        can_tell = settings.oauth_mode or (token is not None and bool(token.get_secret_value()))
        return self.every > timedelta(0) and can_tell

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="recheck", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        wait = 0.0
        while not self._stop.wait(wait):
            wait = self.wake_every_s
            try:
                if self.due():
                    self.run_once()
                self._failing = False
            except StoreError as exc:
                self._log_failure("the database is not answering: %s", exc)
            except Exception as exc:  # the schedule must outlive any one failure
                self._log_failure("recheck failed: %s", exc, trace=True)

    def _log_failure(self, message: str, exc: BaseException, trace: bool = False) -> None:
        if not self._failing:  # once per outage, not every wake-up
            log.error(message, exc, exc_info=trace)
        self._failing = True

    def due(self) -> bool:
        ledger = DriftLedger(self.services.store)
        if ledger.get_state(LAST_KNOWLEDGE) != self.services.knowledge.version:
            return True  # never run, or the knowledge changed since
        ran_at = ledger.get_state(RAN_AT)
        try:
            last = datetime.fromisoformat(ran_at) if ran_at else None
        except ValueError:
            last = None
        return last is None or datetime.now(UTC) - last >= self.every

    def run_once(self) -> None:
        services = self.services
        today = services.today()
        report = run_recheck(
            services.store, services.knowledge, today,
            heads_up_days=services.settings.bot_heads_up_days,
            deliver=SlackDriftNotifier(services, build_web_client(services.settings), today),
        )
        log.info("%s", report.summary())
