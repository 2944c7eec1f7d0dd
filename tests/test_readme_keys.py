"""The README names every key `decide --format json` prints, so readers can rely on it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent


def test_readme_lists_every_top_level_json_key(tmp_path: Path) -> None:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"task_type": "format", "deadline": "no_deadline"}))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "decide", "--answers", str(answers),
         "--today", TODAY.isoformat()],
        capture_output=True, text=True, cwd=ROOT, check=True)
    keys = set(json.loads(done.stdout))
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("`--format json` (default)"):readme.index("`--format markdown`")]
    named = set(re.findall(r"`([a-z_]+)`", section))
    assert keys - named == set(), f"README does not name: {sorted(keys - named)}"
    assert {"verdict_label", "summary", "score", "knowledge_as_of", "explanation"} <= keys
