"""The code stays `ruff check` clean (part of the test run, so CI enforces it)."""

import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_check_is_clean():
    ruff = shutil.which("ruff") or str(ROOT / ".venv" / "bin" / "ruff")
    if not shutil.which(ruff):
        pytest.skip("ruff is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [ruff, "check", "bot", "tests", "bench"], cwd=ROOT, capture_output=True, text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_engine_imports_nothing_from_slack_network_or_database():
    code = (
        "import sys, bot.engine, bot.knowledge;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_sdk', 'slack_bolt', 'sqlalchemy', 'anthropic', 'httpx', 'httpx2', 'requests', "
        "'psycopg', 'urllib3') or m.startswith(('bot.slack', 'bot.store'))];"
        "print(','.join(sorted(bad)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
