from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.engine import parse_answers
from bot.knowledge import Knowledge, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
#: The date tests decide as of (pinned: the catalogue's windows move with the calendar).
TODAY = date(2026, 12, 2)


@pytest.fixture(scope="module")
def anthropic_api():
    """A local Anthropic Messages API stand-in shared by one test module (script it per
    test; see tests/support/fake_anthropic.py)."""
    from tests.support.fake_anthropic import FakeAnthropic

    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="session")
def knowledge() -> Knowledge:
    return load_knowledge(ROOT / "knowledge")


@pytest.fixture
def answers_of(knowledge):
    """Parse human answers the way a user would write them; fail on any error."""

    def parse(**raw):
        answers, errors = parse_answers(knowledge, raw)
        assert not errors, errors
        return answers

    return parse


def run_bot(*args: str, stdin: str | None = None, cwd: Path | None = None, env=None):
    """Run `python -m bot ...` as a user would, in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k != "ANTHROPIC_API_KEY"}
    full_env["BOT_TODAY"] = TODAY.isoformat()  # pinned: the catalogue's dates do not rot
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd or ROOT,
        env=full_env,
        timeout=120,
    )
