"""`/metrics` with several workers (a multiprocess directory) survives a worker's metric
file that exists but is not sized yet, as prometheus_client leaves it for a moment (and
for good when the worker is killed then). Run in a child process: the multiprocess mode
is chosen when prometheus_client is first imported."""

import subprocess
import sys
from pathlib import Path

SCRAPE = """
import os, sys
from pathlib import Path
from bot import metrics
metrics.HTTP_REQUESTS.labels(route="/slack/events", status="401").inc(3)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"], "counter_%s.db" % sys.argv[1]).touch()
body, _ = metrics.render_metrics()
sys.stdout.write(body.decode())
"""


def _scrape(directory: Path, empty_pid: str) -> subprocess.CompletedProcess:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", SCRAPE, empty_pid], env=env,
                          capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[1])


def test_an_empty_metrics_file_of_another_worker_does_not_fail_the_scrape(tmp_path):
    done = _scrape(tmp_path, "424242")
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'ptf_http_requests_total{route="/slack/events",status="401"} 3.0' in done.stdout
    assert (tmp_path / "counter_424242.db").stat().st_size == 0  # it was there, empty
