"""The three verdicts and how they are named to people (one place for both)."""

from __future__ import annotations

from typing import Literal

VERDICTS = ("prompt_engineering", "prompt_then_fine_tune", "fine_tuning")
Verdict = Literal["prompt_engineering", "prompt_then_fine_tune", "fine_tuning"]
VERDICT_LABELS = {
    "prompt_engineering": "Prompt engineering",
    "prompt_then_fine_tune": "Prompt now, fine-tune later",
    "fine_tuning": "Fine-tune",
}
