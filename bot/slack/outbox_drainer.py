"""The outbox drainer: one daemon thread per serving process sends what is due.

Every `POLL_S` it asks the outbox for messages that are pending, due (their Retry-After
or back-off has passed) and not being sent by anyone (or whose sender died: its lease
ran out), and delivers each (`bot.slack.outbox.deliver`), with the bot token, or in
OAuth mode the token of the workspace the message belongs to. Any replica's drainer
may send any message; the lease makes sure only one does at a time, and a second
thread renews this process's leases while their Slack calls run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from datetime import timedelta

from bot.slack.client import build_web_client
from bot.slack.oauth import bot_token_for
from bot.slack.outbox import deliver, leases_in_flight, outbox_of
from bot.slack.services import Services
from bot.slack.web import Deps
from bot.store import StoreError
from bot.store.outbox import Outbox

log = logging.getLogger("bot.slack.outbox_drainer")

POLL_S = 1.0
PURGE_EVERY_S = 600.0


class OutboxDrainer:
    def __init__(self, services: Services, *, poll_s: float = POLL_S):
        self.services = services
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._team_deps: dict[str | None, Deps] = {}  # by token (None: the bot token)
        self._failing = False
        self._purged_at = float("-inf")

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
        self._thread.start()
        self._keeper = threading.Thread(target=self._keep_leases, name="outbox-leases",
                                        daemon=True)
        self._keeper.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
            self._keeper.join(timeout=5)

    def _keep_leases(self) -> None:
        """Renew the leases of this process's deliveries while their calls run (a third
        of the lease at a time), so only a dead process's messages are taken over."""
        lease_s = self.services.settings.bot_outbox_lease_s
        while not self._stop.wait(max(0.2, lease_s / 3)):
            leases = leases_in_flight()
            if not leases:
                continue
            with contextlib.suppress(StoreError):  # logged by the store; tried again next
                Outbox(self.services.store, timedelta(seconds=lease_s)).renew(leases)

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.drain_once()
                self._failing = False
            except StoreError as exc:
                if not self._failing:  # once per outage
                    log.error("outbox not drained: the database is not answering: %s", exc)
                self._failing = True
            except Exception:  # the drainer must outlive any one failure
                log.exception("outbox drain failed")

    def drain_once(self) -> int:
        """Deliver every message that is due now; how many were tried. Every
        `PURGE_EVERY_S`, rows sent or given up a week ago are deleted."""
        base = self._deps(None)
        if base is None:
            return 0
        if time.monotonic() - self._purged_at >= PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            outbox_of(base).purge()
        keys = outbox_of(base).due()
        for key in keys:
            if self._stop.is_set():
                break
            item = outbox_of(base).get(key)
            if item is None:
                continue
            deps = self._deps(item.team_id)
            if deps is None:  # the workspace uninstalled the app: nothing can send it
                outbox_of(base).drop(key, "app_not_installed")
                continue
            try:
                deliver(deps, key, tell_refusal=True)
            except StoreError:
                raise
            except Exception:
                log.exception("outbox %s: delivery failed", key)
        return len(keys)

    def _deps(self, team: str | None) -> Deps | None:
        """The bot token's client (made once), or in OAuth mode the client of the team's
        newest token, looked up each time (a reinstall or a rotated token is used at
        once; a client per token is kept)."""
        settings = self.services.settings
        if not (settings.oauth_mode and team):
            if None not in self._team_deps:
                self._team_deps[None] = Deps(self.services, build_web_client(settings),
                                             team_id=team)
            return self._team_deps[None]
        token = bot_token_for(settings, self.services.store.engine, team)
        if token is None:
            return None  # uninstalled: nothing can be sent there
        if token not in self._team_deps:
            self._team_deps[token] = Deps(self.services, build_web_client(settings, token=token),
                                          team_id=team)
        return self._team_deps[token]
