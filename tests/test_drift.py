"""The pure side of recheck: a stored verdict against a later date, both sides of each edge."""

from datetime import date

import pytest

from bot.engine import parse_answers
from bot.engine.drift import Stored, Unreadable, first_sentence, recheck
from bot.knowledge import load_knowledge

KNOWLEDGE = load_knowledge()
OPENAI = {
    "model": "openai:gpt-4.1-mini", "gap": "behaviour", "task_type": "format",
    "prompt_tokens": 6000, "monthly_calls": 20_000_000, "labelled_examples": 8000,
    "has_eval_set": True, "prompt_engineering_tried": True, "format_resisted": True,
    "spec_stable": True,
}


def stored(raw, verdict="fine_tuning", route=None):
    answers, errors = parse_answers(KNOWLEDGE, raw)
    assert not errors
    return Stored(verdict, answers, route or raw["model"])


def test_the_openai_verdict_changes_the_day_the_serving_window_falls_short():
    # tuned models serve until 2027-01-14; the knowledge wants at least 3 months
    assert recheck(KNOWLEDGE, stored(OPENAI), date(2026, 10, 14)) is None
    drift = recheck(KNOWLEDGE, stored(OPENAI), date(2026, 10, 15))
    assert drift.kind == "verdict_changed" and drift.new_verdict == "prompt_engineering"
    assert drift.key == "verdict:fine_tuning->prompt_engineering"
    assert "2027-01-14" in drift.why and "as of" in drift.why
    # the same change gives the same key on any later day: told once
    assert recheck(KNOWLEDGE, stored(OPENAI), date(2026, 12, 2)).key == drift.key


def test_a_heads_up_thirty_days_before_new_jobs_stop_on_azure():
    azure = stored({**OPENAI, "model": "azure:gpt-4.1-mini"})
    assert recheck(KNOWLEDGE, azure, date(2027, 3, 14)) is None
    early = recheck(KNOWLEDGE, azure, date(2027, 3, 15))
    later = recheck(KNOWLEDGE, azure, date(2027, 4, 13))
    assert early.kind == later.kind == "heads_up" and early.key == later.key
    assert "2027-04-14" in early.why and "in 30 days" in early.why
    assert recheck(KNOWLEDGE, azure, date(2027, 3, 15), heads_up_days=7) is None
    assert recheck(KNOWLEDGE, azure, date(2027, 4, 14)).kind == "verdict_changed"


def test_a_prompt_engineering_verdict_gets_no_heads_up():
    closed = stored({"model": "anthropic:claude-haiku-4-5"}, "prompt_engineering")
    assert recheck(KNOWLEDGE, closed, date(2027, 1, 1)) is None


def test_answers_the_knowledge_no_longer_reads_are_reported_not_fatal():
    with pytest.raises(Unreadable, match="task_type"):
        recheck(KNOWLEDGE, Stored("fine_tuning", {"task_type": "telepathy"}), date(2026, 12, 2))


def test_first_sentence_keeps_dates_and_parentheses():
    assert first_sentence("Stops on 2027-01-06 (as of 2026-12-02; third-party). More.") == (
        "Stops on 2027-01-06 (as of 2026-12-02; third-party).")
    assert first_sentence("No full stop") == "No full stop"
