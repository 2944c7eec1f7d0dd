"""Size and cost of the LLM phrasing request, over the scenario set.

For each decision: the estimated tokens of the static part (the system prompt,
marked for caching), of the per-decision part (facts document + decision JSON),
and of the allowed output; then the cost per 1,000 explanations at the price
rows of knowledge/providers.yaml.

Token estimate (no tokenizer is reachable offline): characters / 3.5, rounded
up, plus 4 tokens of framing per content block. The JSON on the wire divided
by 3.5 is printed as an upper bound.

Caching: the system prompt carries cache_control, but it is far below the
minimum cacheable prefix (4,096 tokens on Claude Haiku 4.5, 1,024 on Sonnet
4.5), so the API bills it as ordinary input. The goal therefore counts it as
uncached; the "if cached" column shows what caching would save were the
static part ever long enough.

Goals: <= 1,500 uncached input tokens and <= 250 output tokens per explanation.

    python bench/llm.py                     # tests/scenarios + 200 generated
    python bench/llm.py --answers DIR       # any directory of answer files
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scenarios import generated, hand_written  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.engine import decide, parse_answers  # noqa: E402
from bot.explain.llm_request import (  # noqa: E402
    BLOCK_OVERHEAD_TOKENS,
    CHARS_PER_TOKEN,
    MAX_TEXT_CHARS,
    build_request,
    estimate_tokens,
)
from bot.knowledge import Knowledge, load_knowledge  # noqa: E402
from tests.conftest import TODAY

MODELS = ("claude-haiku-4-5", "claude-sonnet-4-5")
MIN_CACHEABLE = {"claude-haiku-4-5": 4096, "claude-sonnet-4-5": 1024}
GOAL_INPUT = 1500
GOAL_OUTPUT = 250
MTOK = 1_000_000


def answer_files(knowledge: Knowledge, directory: Path) -> list[tuple[str, dict]]:
    found = []
    for path in sorted(directory.iterdir()):
        if path.suffix not in {".yaml", ".yml", ".json"}:
            continue
        raw = json.loads(path.read_text()) if path.suffix == ".json" else yaml.safe_load(
            path.read_text()
        )
        answers, errors = parse_answers(knowledge, raw or {})
        if errors:
            print(f"{path.name}: skipped ({errors[0]})", file=sys.stderr)
            continue
        found.append((path.stem, answers))
    return found


def run(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=Path, help="a directory of answer files")
    parser.add_argument("--generated", type=int, default=200,
                        help="generated scenarios added to tests/scenarios (default 200)")
    parser.add_argument("--all", action="store_true", help="one line per generated scenario too")
    args = parser.parse_args(argv)

    knowledge = load_knowledge()
    settings = Settings(_env_file=None)
    max_tokens = settings.bot_llm_max_tokens
    if args.answers:
        shown = answer_files(knowledge, args.answers)
        rest: list[tuple[str, dict]] = []
    else:
        shown = hand_written(knowledge)
        rest = generated(knowledge, args.generated)

    rows = []
    for name, answers in shown + rest:
        decision = decide(knowledge, answers, TODAY).to_dict()
        request = build_request(decision)
        rows.append({
            "name": name,
            "verdict": decision["verdict"],
            "facts": len(request.facts),
            "static": request.static_tokens,
            "dynamic": request.per_decision_tokens,
            "wire": estimate_tokens(request.per_decision_json_chars),
        })
    if not rows:
        print("no scenarios")
        return 1

    static = rows[0]["static"]
    accepted_output = estimate_tokens(MAX_TEXT_CHARS)
    print(f"estimate: characters / {CHARS_PER_TOKEN:g} + {BLOCK_OVERHEAD_TOKENS} tokens "
          "per content block (no tokenizer offline)")
    print(f"static part (system prompt, cache_control): {static} tokens, identical in every "
          f"request; below the minimum cacheable prefix "
          f"({', '.join(f'{m} {n:,}' for m, n in MIN_CACHEABLE.items())}), so billed uncached")
    print(f"output: max_tokens {max_tokens} (BOT_LLM_MAX_TOKENS); accepted text at most "
          f"{MAX_TEXT_CHARS} chars = {accepted_output} tokens")
    print()
    print(f"{'scenario':32} {'verdict':22} {'facts':>5} {'static':>6} {'per-dec':>7} "
          f"{'total':>6} {'wire-json':>9}")
    listed = rows if args.all else rows[: len(shown)]
    for row in listed:
        print(f"{row['name'][:32]:32} {row['verdict']:22} {row['facts']:5d} {row['static']:6d} "
              f"{row['dynamic']:7d} {row['static'] + row['dynamic']:6d} "
              f"{row['static'] + row['wire']:9d}")
    if len(rows) > len(listed):
        print(f"... and {len(rows) - len(listed)} generated scenarios (--all to list them)")

    dynamic = [r["dynamic"] for r in rows]
    totals = [static + d for d in dynamic]
    wire = [static + r["wire"] for r in rows]
    print()
    print(f"over {len(rows)} scenarios: per-decision tokens min {min(dynamic)}, median "
          f"{statistics.median(dynamic):g}, max {max(dynamic)}; uncached input (system + "
          f"per-decision) median {statistics.median(totals):g}, max {max(totals)} "
          f"(wire-JSON upper bound max {max(wire)})")

    print()
    print("cost per 1,000 explanations (USD; input at the median / max request):")
    print(f"{'model':20} {'in':>5} {'cached':>6} {'out':>5}   {'median, output 250':>18} "
          f"{'max, output max_tokens':>22} {'median if static cached':>24}")
    for model in MODELS:
        row = knowledge.price_row(model)
        cached = row.cached_input if row.cached_input is not None else row.input
        median_in = statistics.median(totals)

        def cost(uncached_in: float, cached_in: float, out: float, row=row, cached=cached):
            return 1000 * (uncached_in * row.input + cached_in * cached + out * row.output) / MTOK

        typical = cost(median_in, 0, GOAL_OUTPUT)
        worst = cost(max(totals), 0, max_tokens)
        if_cached = cost(statistics.median(dynamic), static, GOAL_OUTPUT)
        print(f"{model:20} {row.input:5.2f} {cached:6.2f} {row.output:5.2f}   {typical:18.2f} "
              f"{worst:22.2f} {if_cached:24.2f}   (prices as of {row.as_of}, {row.source})")

    print()
    input_met = max(totals) <= GOAL_INPUT
    output_met = accepted_output <= GOAL_OUTPUT
    print(f"goal <= {GOAL_INPUT:,} uncached input tokens: {'met' if input_met else 'NOT met'} "
          f"(max {max(totals)})")
    print(f"goal <= {GOAL_OUTPUT} output tokens: {'met' if output_met else 'NOT met'} for every "
          f"explanation shown (text capped at {accepted_output}); "
          + ("max_tokens also within the goal" if max_tokens <= GOAL_OUTPUT else
             f"a cut-off answer (stop max_tokens, never shown) can bill up to {max_tokens}"))
    return 0 if input_met and output_met else 1


if __name__ == "__main__":
    raise SystemExit(run())
