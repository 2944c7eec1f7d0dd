"""The break-even chart, uploaded next to a decision's DM summary (or into its thread).

Drawn in the chart process (`bot.explain.chart_process`); a chart that cannot be drawn
or uploaded is said in one line: the cost table above it has the same figures.
"""

from __future__ import annotations

import contextlib
import logging

from bot.engine.decision import Decision
from bot.slack.web import Deps, SlackCallFailed, call, explain

log = logging.getLogger("bot.slack.chart_upload")


def upload_chart(deps: Deps, channel: str, decision: Decision,
                 thread_ts: str | None = None) -> None:
    from bot.explain.chart import chart_alt_text
    from bot.explain.chart_process import ChartFailed, render_chart_png_isolated

    try:
        png = render_chart_png_isolated(decision)
    except ValueError:
        return
    except ChartFailed as exc:
        log.error("break-even chart not drawn: %s", exc)
        with contextlib.suppress(SlackCallFailed):
            call(deps, "chat_postMessage", channel=channel, thread_ts=thread_ts,
                 text="I could not draw the break-even chart this time. The cost table above "
                      "has the same figures.")
        return
    try:
        call(
            deps,
            "files_upload_v2",
            channel=channel,
            thread_ts=thread_ts,
            file=png,
            filename="break-even.png",
            title=f"Break-even: {decision.verdict_label}",
            alt_txt=chart_alt_text(decision),
        )
    except SlackCallFailed as exc:
        with contextlib.suppress(SlackCallFailed):
            call(deps, "chat_postMessage", channel=channel, thread_ts=thread_ts,
                 text=f"I could not attach the break-even chart: {explain(exc)}. The cost "
                      "table above has the same figures.")
