"""The break-even chart drawn in a short-lived child process.

matplotlib takes about 50 MB that a serving worker would keep for good after its first
chart; a child that draws one chart and exits gives all of it back. The decision goes in
as JSON on stdin (`Decision.to_dict`), the PNG comes back on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys

from bot.engine.decision import Decision

#: A chart takes about a second (most of it importing matplotlib); past this, give up.
TIMEOUT_S = 30.0


class ChartFailed(RuntimeError):
    """The child could not draw the chart (its stderr's last line says why)."""


def render_chart_png_isolated(decision: Decision, timeout: float = TIMEOUT_S) -> bytes:
    """The chart as PNG bytes, drawn in a child process. ValueError when no volume was
    given (as `render_chart_png`), ChartFailed when the child fails or times out."""
    if not decision.has_volume:
        raise ValueError("no chart without prompt_tokens and monthly_calls")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.explain.chart_process"],
            input=json.dumps(decision.to_dict()).encode(), capture_output=True,
            timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ChartFailed(f"drawing the chart took over {timeout:g} s") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise ChartFailed(lines[-1] if lines else f"exit code {done.returncode}")
    return done.stdout


def _main() -> int:
    from bot.explain.chart import render_chart_png

    decision = Decision.from_dict(json.loads(sys.stdin.buffer.read()))
    sys.stdout.buffer.write(render_chart_png(decision))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())
