"""Wall time of `python -m bot decide` against baselines measured in the same run: bare
`python -c pass`, importing the libraries decide cannot do without (pydantic, yaml), and
loading and checking the knowledge (`bot.knowledge.load_knowledge()`, real work every
decide does). Goal: decide <= 0.6 s here.

Also lists the slowest imports on the decide path (python -X importtime), so a
slow import that creeps in shows up by name.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "scenarios" / "open_weights_ready.yaml"
RUNS = 15


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def median_of(args: list[str]) -> float:
    timed(args)  # warm the file cache
    return statistics.median(timed(args) for _ in range(RUNS))


def slowest_imports(count: int = 8) -> list[tuple[int, str]]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "decide", "--answers", str(SCENARIO)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if not name.startswith(" "):
            rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> int:
    bare = median_of(["-c", "pass"])
    libraries = median_of(["-c", "import pydantic, yaml"])
    knowledge = median_of(["-c", "from bot.knowledge import load_knowledge; load_knowledge()"])
    decide = median_of(["-m", "bot", "decide", "--answers", str(SCENARIO)])
    print(f"median of {RUNS} runs each")
    print(f"python -c pass                 {bare * 1000:7.1f} ms  (1.00x)")
    print(f"import pydantic, yaml          {libraries * 1000:7.1f} ms  "
          f"({libraries / bare:.2f}x bare)")
    print(f"load and check the knowledge   {knowledge * 1000:7.1f} ms  "
          f"({knowledge / bare:.2f}x bare)")
    print(f"python -m bot decide           {decide * 1000:7.1f} ms  ({decide / bare:.2f}x bare, "
          f"{decide / knowledge:.2f}x loading the knowledge)")
    print("slowest top-level imports on the decide path (cumulative):")
    for micros, name in slowest_imports():
        print(f"  {micros / 1000:7.1f} ms  {name}")
    print(f"goal decide <= 600 ms: {'met' if decide <= 0.6 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
