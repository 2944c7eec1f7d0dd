"""How many questions the guided flow asks before it stops, and whether it is right.

A simulated user answers whatever the flow asks from a complete answer set ("not sure"
included). Scenarios: the hand-written ones, a realistic set drawn from the questions'
priors (the knowledge's estimate of how often each answer comes up), and a uniform set
(every answer equally likely) as a check that the flow is right off its prior too.
Printed per set: questions asked (median, p90, max) overall, where the model can be
fine-tuned, and per verdict; agreement with `decide` on the full answers (must be 100%);
time per consultation; and the time of the first next-question on today's knowledge,
with one rule tying 8 questions, and with 10x the rules.
Goals: median <= 5 where the model can be fine-tuned (realistic set), 100% agreement
everywhere, first next-question <= 50 ms (today) and <= 200 ms (both stress cases).
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scenarios import completed, generated, hand_written, realistic  # noqa: E402
from bot.engine import NOT_SURE, next_question, verdict_only  # noqa: E402
from bot.engine.catalogue import derived_access  # noqa: E402
from bot.knowledge import Knowledge, load_knowledge  # noqa: E402
from bot.knowledge.schema import Rule  # noqa: E402
from tests.conftest import TODAY  # noqa: E402


def tunable(knowledge: Knowledge, truth: dict[str, Any]) -> bool:
    """The team's model can be fine-tuned today and the gap is not missing knowledge."""
    model = truth.get("model")
    if model not in (None, NOT_SURE):
        access = derived_access(knowledge.model(model), TODAY)
    else:
        access = truth.get("model_access")
    return access in ("closed_with_fine_tuning", "open_weights") and truth["gap"] != "knowledge"


def consult(knowledge: Knowledge, truth: dict[str, Any]) -> tuple[int, bool, float, str]:
    started = time.perf_counter()
    # Cost parameters are never asked; a user who has them gives them up front.
    answers: dict = {k: v for k, v in truth.items() if not knowledge.question(k).ask}
    asked = 0
    while (question := next_question(knowledge, answers, TODAY)) is not None:
        answers[question.id] = truth[question.id]
        asked += 1
    seconds = time.perf_counter() - started
    verdict = verdict_only(knowledge, truth, TODAY)
    return asked, verdict_only(knowledge, answers, TODAY) == verdict, seconds, verdict


def spread(counts: list[int]) -> str:
    if not counts:
        return "none"
    ordered = sorted(counts)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (f"median {statistics.median(ordered):g}, p90 {p90}, max {ordered[-1]} "
            f"({len(ordered)} scenarios)")


def report(knowledge: Knowledge, name: str, scenarios: list[tuple[str, dict]]) -> dict:
    counts, tuned, agree, seconds = [], [], 0, []
    per_verdict: dict[str, list[int]] = {}
    for _label, truth in scenarios:
        asked, same, took, verdict = consult(knowledge, truth)
        counts.append(asked)
        seconds.append(took)
        agree += same
        per_verdict.setdefault(verdict, []).append(asked)
        if tunable(knowledge, truth):
            tuned.append(asked)
    print(f"{name}: {len(scenarios)} scenarios, full questionnaire "
          f"{len(knowledge.asked_questions)} questions")
    print(f"  questions asked, all:              {spread(counts)}")
    print(f"  where the model can be fine-tuned: {spread(tuned)}")
    for verdict in sorted(per_verdict):
        print(f"  verdict {verdict:22s}    {spread(per_verdict[verdict])}")
    print(f"  verdict equals decide on the full answers: {agree}/{len(scenarios)} "
          f"({agree / len(scenarios):.1%})")
    print(f"  time per consultation: median {statistics.median(seconds) * 1000:.1f} ms, "
          f"max {max(seconds) * 1000:.1f} ms")
    return {"tuned": statistics.median(tuned) if tuned else 0,
            "agree": agree == len(scenarios)}


# ---------------------------------------------------------------- search speed


def tie_eight(knowledge: Knowledge) -> Knowledge:
    """Today's knowledge plus one rule that reads eight questions together."""
    rule = Rule.model_validate({
        "id": "bench_eight_together", "effect": "toward_fine_tuning", "weight": 1,
        "gist": "eight answers line up", "text": "Eight answers line up.", "sources": ["seed"],
        "when": {"all": [
            {"q": "smaller_model_wanted", "is": True}, {"q": "latency_critical", "is": True},
            {"any": [{"q": "task_type", "is": "format"}, {"q": "deadline", "is": "no_deadline"}]},
            {"q": "general_capability_needed", "is": False}, {"q": "spec_stable", "is": True},
            {"q": "has_eval_set", "is": True}, {"q": "prompt_engineering_tried", "is": True},
            {"any": [{"q": "format_resisted", "is": True}, {"q": "labelled_examples", "gte": 500}]},
        ]}})
    return dataclasses.replace(knowledge, rules=(*knowledge.rules, rule))


def ten_times(knowledge: Knowledge) -> Knowledge:
    """Every deciding rule ten times over, the copies with their number thresholds moved
    (so they are ten different rules, not one rule counted ten times)."""
    rules = list(knowledge.rules)
    for copy in range(1, 10):
        for rule in knowledge.rules:
            if rule.affects_verdict:
                data = rule.model_dump(by_alias=True, exclude_none=True)
                data["id"] = f"{rule.id}_copy{copy}"
                data["when"] = _shifted(data["when"], 1 + copy / 10)
                rules.append(Rule.model_validate(data))
    return dataclasses.replace(knowledge, rules=tuple(rules))


def _shifted(condition: Any, factor: float) -> Any:
    if isinstance(condition, list):
        return [_shifted(c, factor) for c in condition]
    if not isinstance(condition, dict):
        return condition
    moved = {}
    for key, value in condition.items():
        if key in ("gte", "gt", "lte", "lt") and isinstance(value, int | float) \
                and not isinstance(value, bool):
            moved[key] = type(value)(value * factor)
        else:
            moved[key] = _shifted(value, factor)
    return moved


def first_question_ms(knowledge: Knowledge, runs: int = 5) -> float:
    """The first next-question on a knowledge never searched before (no warm caches),
    the median of `runs` fresh copies."""
    times = []
    for _ in range(runs):
        fresh = dataclasses.replace(knowledge)
        started = time.perf_counter()
        next_question(fresh, {}, TODAY)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run(count: int = 300) -> int:
    knowledge = load_knowledge()
    hand = [(n, completed(knowledge, a)) for n, a in hand_written(knowledge)]
    realistic_set = hand + realistic(knowledge, count, today=TODAY)
    uniform_set = generated(knowledge, count // 2, today=TODAY)
    real = report(knowledge, "realistic (hand-written + drawn from the priors)", realistic_set)
    uniform = report(knowledge, "uniform (every answer equally likely)", uniform_set)

    speeds = {
        "today's knowledge": (first_question_ms(knowledge), 50),
        "one rule tying 8 questions": (first_question_ms(tie_eight(knowledge)), 200),
        "10x the rules": (first_question_ms(ten_times(knowledge)), 200),
    }
    fresh = dataclasses.replace(knowledge)
    started = time.perf_counter()
    verdict_only(fresh, {}, TODAY)
    baseline = (time.perf_counter() - started) * 1000
    print("first next-question, cold (median of 5 fresh copies; goal):")
    print(f"  baseline: one verdict, cold  {baseline:7.1f} ms")
    for label, (ms, goal) in speeds.items():
        print(f"  {label:28s} {ms:7.1f} ms  (goal <= {goal} ms)")
    met = (real["tuned"] <= 5 and real["agree"] and uniform["agree"]
           and all(ms <= goal for ms, goal in speeds.values()))
    print(f"goals (median <= 5 where tunable, 100% agreement, search times): "
          f"{'met' if met else 'NOT met'}")
    return 0 if real["agree"] and uniform["agree"] else 1


if __name__ == "__main__":
    raise SystemExit(run(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
