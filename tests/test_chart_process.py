"""The serving path draws the break-even chart in a child process, so matplotlib never
stays in a worker (issue: memory after many consultations), and one child draws the
charts that come close together (the import is paid once)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.engine import decide
from bot.engine.decision import Decision
from bot.explain.chart import render_chart_png
from bot.explain.chart_process import (
    ChartFailed,
    _ChartChild,
    chart_child_pid,
    render_chart_png_isolated,
)
from bot.knowledge import load_knowledge
from tests.conftest import TODAY
from tests.support.surface import wait_until

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
        _ChartChild().draw(_payload(decide(knowledge, VOLUME, TODAY)), timeout=0.01)


def _payload(decision: Decision) -> bytes:
    return json.dumps(decision.to_dict()).encode()


def test_charts_close_together_share_one_child_that_exits_when_idle() -> None:
    decision = decide(load_knowledge(), VOLUME, TODAY)
    first = render_chart_png_isolated(decision)
    pid = chart_child_pid()
    assert pid is not None
    started = time.monotonic()
    assert render_chart_png_isolated(decision) == first
    assert chart_child_pid() == pid
    assert time.monotonic() - started < 0.8  # no second matplotlib import
    child = _ChartChild(idle_s=0.2)
    assert child.draw(_payload(decision), timeout=30).startswith(b"\x89PNG")
    own = child.pid
    assert own is not None and own != pid
    # idle for 0.2 s: it exits and is reaped (polled: a loaded machine is slower)
    wait_until(lambda: child.pid is None and not Path(f"/proc/{own}").exists(),
               timeout=10, what="the idle chart child exited and was reaped")


def test_a_bad_decision_or_a_dead_child_fails_one_chart_and_the_next_one_is_drawn() -> None:
    decision = decide(load_knowledge(), VOLUME, TODAY)
    child = _ChartChild(max_charts=2)
    with pytest.raises(ChartFailed, match="KeyError|ValueError|TypeError"):
        child.draw(b'{"verdict": "fine_tuning"}', timeout=30)
    pid = child.pid
    assert pid is not None  # the child survives a bad request
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert child.draw(_payload(decision), timeout=30).startswith(b"\x89PNG")
    assert child.pid not in (None, pid)
    assert child.draw(_payload(decision), timeout=30).startswith(b"\x89PNG")
    assert child.pid is None  # the new child exits after max_charts (2) charts


def test_the_chart_says_its_result_in_words_rounded_as_the_card() -> None:
    from bot.engine import humanize
    from bot.explain.chart import break_even_note, chart_alt_text, chart_months
    from bot.slack.blocks.card import cost_line

    decision = decide(load_knowledge(), VOLUME, TODAY)
    costs = decision.costs
    alt = chart_alt_text(decision)
    card = cost_line(decision)
    assert card is not None
    for figure in (humanize.usd(costs.monthly_cost_prompting_usd),
                   humanize.usd(costs.monthly_cost_fine_tuned_usd),
                   humanize.months(costs.break_even_months)):
        assert figure in alt and figure in card  # the same figures, rounded the same way
    assert f"Verdict: {decision.verdict_label}." in alt
    note = break_even_note(costs, chart_months(costs))
    assert note == f"break-even: {humanize.months(costs.break_even_months)}"
    assert "0.0 months" not in note + alt
