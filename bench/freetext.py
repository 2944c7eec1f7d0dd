"""Free-text reading time, for messages up to Slack's 40,000 characters.

    python bench/freetext.py

Per kind of text (median of 7): a realistic one-line situation (the baseline), and
40,000-character messages built to stress each part of the reader (numbers with units,
model names, negations). Only the first `MAX_TEXT` characters are read, and the reader
says so. Goal: every 40,000-character kind <= 50 ms (it was 7.8 s before the reader was
made linear).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engine.freetext import MAX_TEXT, parse_freetext  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402

GOAL_MS = 50.0
KINDS = {
    "baseline: a realistic situation": (
        "Our support bot uses gpt-4.1-mini, a 6k token prompt, 20M calls a month and "
        "8000 labelled examples; we ship Friday."),
    "numbers with units (40,000 chars)": ("6k token " * 5000)[:40_000],
    "model names (40,000 chars)": ("gpt-4o " * 6000)[:40_000],
    "negations (40,000 chars)": ("we use llama, not mistral; " * 2000)[:40_000],
    "digits only (40,000 chars)": "9" * 40_000,
}


def main() -> int:
    knowledge = load_knowledge()
    parse_freetext("warm up", knowledge)
    met = True
    print(f"free text (first {MAX_TEXT:,} characters read), median of 7:")
    for name, text in KINDS.items():
        times = []
        for _ in range(7):
            started = time.perf_counter()
            parse_freetext(text, knowledge)
            times.append((time.perf_counter() - started) * 1000)
        ms = statistics.median(times)
        long = len(text) >= 40_000
        met &= not long or ms <= GOAL_MS
        goal = f"(goal <= {GOAL_MS:.0f} ms)" if long else ""
        print(f"  {name:36s} {ms:7.1f} ms  {goal}")
    print(f"goal: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
