"""Where the gunicorn workers' metrics meet: `PROMETHEUS_MULTIPROC_DIR`.

prometheus_client decides when it is first imported whether a metric's value lives in
the process or in a file of that directory, so `serve` calls `prepare` before anything
imports it (this module does not). With one worker nothing changes. With several:

- no `PROMETHEUS_MULTIPROC_DIR`: a new temporary directory is made and set, so
  `/metrics`, whichever worker answers, adds up every worker's counts (removed when
  `serve` exits);
- `PROMETHEUS_MULTIPROC_DIR` set (e.g. an `emptyDir` on Kubernetes): it is created if
  missing, and the files an earlier run left there are removed (their counts would add
  to this run's).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(workers: int) -> str | None:
    """Set up the multiprocess directory for `workers` gunicorn workers; its path, or None
    when the metrics stay in the one process."""
    if "prometheus_client" in sys.modules and not os.environ.get(ENV):
        return None  # too late to switch (only a caller that imported it first)
    path = os.environ.get(ENV)
    if not path:
        if workers <= 1:
            return None
        path = tempfile.mkdtemp(prefix="ptf-bot-metrics-")
        os.environ[ENV] = path
        atexit.register(_remove_made, path, os.getpid())
        return path
    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink(missing_ok=True)
    return path


def _remove_made(path: str, maker: int) -> None:
    """At exit of the process that made the directory (not of a worker forked from it)."""
    if os.getpid() == maker:
        shutil.rmtree(path, ignore_errors=True)


def worker_exited(pid: int) -> None:
    """gunicorn's `child_exit` hook: a dead worker's live gauges stop counting."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
