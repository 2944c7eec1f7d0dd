"""The serving path draws the break-even chart in a child process, so matplotlib never
stays in a worker (issue: memory after many consultations)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.engine import decide
from bot.engine.decision import Decision
from bot.explain.chart import render_chart_png
from bot.explain.chart_process import ChartFailed, render_chart_png_isolated
from bot.knowledge import load_knowledge
from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
VOLUME = {"prompt_tokens": 6000, "monthly_calls": 20_000_000, "labelled_examples": 8000,
          "model": "openai:gpt-4.1-mini"}


def test_the_child_draws_the_chart_of_the_stored_decision() -> None:
    decision = decide(load_knowledge(), VOLUME, TODAY)
    isolated = render_chart_png_isolated(decision)
    assert isolated.startswith(b"\x89PNG")
    # the child gets the decision as it is stored (figures rounded as shown on the card)
    assert isolated == render_chart_png(Decision.from_dict(decision.to_dict()))


def test_the_caller_never_imports_matplotlib() -> None:
    script = textwrap.dedent(f"""
        import sys
        from bot.engine import decide
        from bot.explain.chart_process import render_chart_png_isolated
        from bot.knowledge import load_knowledge
        from datetime import date
        png = render_chart_png_isolated(decide(load_knowledge(), {VOLUME!r},
                                               date.fromisoformat("{TODAY.isoformat()}")))
        print(len(png) > 1000, "matplotlib" in sys.modules)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.split() == ["True", "False"]


def test_no_volume_no_chart_and_a_stuck_child_is_a_clear_failure() -> None:
    knowledge = load_knowledge()
    with pytest.raises(ValueError):
        render_chart_png_isolated(decide(knowledge, {"task_type": "format"}, TODAY))
    with pytest.raises(ChartFailed, match="took over"):
        render_chart_png_isolated(decide(knowledge, VOLUME, TODAY), timeout=0.01)
