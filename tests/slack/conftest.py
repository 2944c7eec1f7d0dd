"""Slack tests: fixtures from tests.support (FakeSlack, the real server, databases)."""

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # `pytest` without `python -m`: make `tests.support` importable
    sys.path.insert(0, _ROOT)

from tests.support.fixtures import *  # noqa: E402, F403
