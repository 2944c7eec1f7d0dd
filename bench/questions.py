"""How many questions the guided flow asks before it stops, and whether it is right.

Over hand-written and generated scenarios, a simulated user answers whatever
the flow asks from a complete answer set. Printed: median and maximum number
of questions asked against the full questionnaire, the share whose verdict
equals the full questionnaire's (must be 100%), and time per consultation.
Goal: median <= 5.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scenarios import completed, generated, hand_written  # noqa: E402
from bot.engine import next_question, verdict_only  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from tests.conftest import TODAY


def run(count: int = 200) -> int:
    knowledge = load_knowledge()
    scenarios = [(n, completed(knowledge, a)) for n, a in hand_written(knowledge)]
    scenarios += generated(knowledge, max(0, count - len(scenarios)))
    full = len(knowledge.asked_questions)
    asked_counts, agree, seconds, tunable = [], 0, [], []
    for _name, truth in scenarios:
        started = time.perf_counter()
        # Cost parameters are never asked; a user who has them gives them up front.
        answers: dict = {k: v for k, v in truth.items() if not knowledge.question(k).ask}
        preset = len(answers)
        while (question := next_question(knowledge, answers, TODAY)) is not None:
            answers[question.id] = truth[question.id]
        seconds.append(time.perf_counter() - started)
        asked_counts.append(len(answers) - preset)
        if truth["model_access"] != "closed_no_fine_tuning" and truth["gap"] != "knowledge":
            tunable.append(len(answers) - preset)
        agree += verdict_only(knowledge, answers, TODAY) == verdict_only(knowledge, truth, TODAY)
    median = statistics.median(asked_counts)
    print(f"scenarios: {len(scenarios)} (hand-written + generated)")
    print(f"full questionnaire: {full} questions")
    print(f"questions asked: median {median:g}, max {max(asked_counts)}, "
          f"mean {statistics.mean(asked_counts):.2f} "
          f"(median {median / full:.0%} of the full questionnaire)")
    print(f"  where the model can be tuned and the gap is not knowledge ({len(tunable)} "
          f"scenarios): median {statistics.median(tunable):g}, max {max(tunable)}")
    print(f"verdict equals the full questionnaire's: {agree}/{len(scenarios)} "
          f"({agree / len(scenarios):.1%})")
    print(f"time per consultation: median {statistics.median(seconds) * 1000:.1f} ms, "
          f"max {max(seconds) * 1000:.1f} ms")
    met = median <= 5 and agree == len(scenarios)
    print(f"goal (median <= 5, 100% agreement): {'met' if met else 'NOT met'}")
    return 0 if agree == len(scenarios) else 1


if __name__ == "__main__":
    raise SystemExit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
