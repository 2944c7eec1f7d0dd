"""The dated model catalogue: every window edge on both sides, what each provider's row
says, and bad model answers. The engine is a pure function of (knowledge, answers, date),
so every date here is an input and none depends on the calendar."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta

import pytest

from bot.engine import decide, parse_answers
from bot.engine.catalogue import (
    can_start_jobs,
    derived_access,
    is_retired,
    model_window,
    serving_months,
)
from bot.engine.dates import DAYS_PER_MONTH, parse_date
from bot.knowledge import load_knowledge
from tests.conftest import TODAY, run_bot

KNOWLEDGE = load_knowledge()
DAY = timedelta(days=1)

# A task with a case for fine-tuning at volume: only the model and the date vary.
READY = dict(prompt_tokens="6k", monthly_calls="20M", labelled_examples="8,000",
             has_eval_set="yes", prompt_engineering_tried="yes", format_resisted="yes",
             spec_stable="yes", gap="behaviour")


def edges(field: str) -> list[tuple[str, date]]:
    """(model id, date) for every row whose tuning (or retirement) has `field`."""
    found = []
    for row in KNOWLEDGE.catalogue.models:
        if field == "retired_on":
            value = row.retired_on
        else:
            value = getattr(row.tuning, field, None) if row.tuning is not None else None
        if value is not None:
            found.append((row.id, parse_date(value)))
    assert found, f"no row has {field}"
    return found


def decide_on(day: date, **raw):
    answers, errors = parse_answers(KNOWLEDGE, {**READY, **raw})
    assert not errors, errors
    return decide(KNOWLEDGE, answers, day)


def rule_ids(items) -> set[str]:
    return {item.rule for item in items}


# ---------------------------------------------------------------- each window edge


@pytest.mark.parametrize(("model_id", "stop"), edges("jobs_until"))
def test_new_jobs_stop_on_their_day(model_id, stop):
    row = KNOWLEDGE.model(model_id)
    assert can_start_jobs(row, stop - DAY)
    assert not can_start_jobs(row, stop) and not can_start_jobs(row, stop + DAY)
    if row.weights == "closed":
        assert derived_access(row, stop - DAY) == "closed_with_fine_tuning"
        assert derived_access(row, stop + DAY) == "closed_no_fine_tuning"
    assert f"new fine-tuning jobs stop on {stop}" in model_window(KNOWLEDGE, row, stop - DAY)
    assert f"new fine-tuning jobs stopped on {stop}" in model_window(KNOWLEDGE, row,
                                                                      stop + DAY)


@pytest.mark.parametrize(("model_id", "end"), edges("served_until"))
def test_tuned_models_stop_serving_on_their_day(model_id, end):
    row = KNOWLEDGE.model(model_id)
    assert serving_months(row, end - DAY) == pytest.approx(1 / DAYS_PER_MONTH)
    assert serving_months(row, end) == 0 and serving_months(row, end + DAY) == 0
    assert f"tuned models stop serving on {end}" in model_window(KNOWLEDGE, row, end - DAY)
    assert f"tuned models stopped serving on {end}" in model_window(KNOWLEDGE, row, end + DAY)


@pytest.mark.parametrize(("model_id", "gone"), edges("retired_on"))
def test_a_retired_model_is_gone_from_its_day(model_id, gone):
    row = KNOWLEDGE.model(model_id)
    assert not is_retired(row, gone - DAY)
    assert is_retired(row, gone) and is_retired(row, gone + DAY)
    assert not can_start_jobs(row, gone + DAY)
    assert f"retired on {gone}" in model_window(KNOWLEDGE, row, gone + DAY)
    after = decide_on(gone + DAY, model=model_id)
    assert after.verdict == "prompt_engineering"
    assert "chosen_model_cannot_be_tuned" in rule_ids(after.reasons)


def test_a_route_must_serve_long_enough_to_be_built_and_pay_back():
    """OpenAI's tuned models stop serving on 2027-01-14: a fine-tune needs at least the
    policy's minimum window, so the route closes for a new fine-tune that much earlier."""
    row = KNOWLEDGE.model("openai:gpt-4.1-mini")
    end = parse_date(row.tuning.served_until)
    minimum = KNOWLEDGE.policy.serving_window.min_months
    last_ok = end - timedelta(days=math.ceil(minimum * DAYS_PER_MONTH))
    before = decide_on(last_ok, model=row.id)
    assert before.verdict == "fine_tuning"
    assert "route_closes_too_soon" not in rule_ids(before.reasons)
    assert before.costs.route.model == row.id  # costed where the team's model runs

    after = decide_on(last_ok + DAY, model=row.id)
    assert after.verdict == "prompt_engineering"
    closing = next(r for r in after.reasons if r.rule == "route_closes_too_soon")
    assert "2027-01-06" in closing.text and "2027-01-14" in closing.text
    assert "GPT-4.1 mini on Azure" in closing.text  # the same base model first
    assert "openai-ft-shutdown-report" in closing.sources
    assert after.costs.route.model != row.id  # costed on the cheapest route that remains


def test_an_openai_team_on_both_sides_of_the_end_of_new_jobs():
    on_the_eve = decide_on(date(2027, 1, 5), model="openai:gpt-4o")
    assert "route_closes_too_soon" in rule_ids(on_the_eve.reasons)
    assert "stops new fine-tuning jobs on 2027-01-06" in on_the_eve.reasons[0].text
    assert "stopped" not in on_the_eve.reasons[0].text
    stopped = decide_on(date(2027, 1, 6), model="openai:gpt-4o")
    assert rule_ids(stopped.reasons) >= {"chosen_model_cannot_be_tuned"}
    # from that day on the dates are said in the past tense, each on its own day
    assert ("new fine-tuning jobs stopped on 2027-01-06, tuned models stop serving on "
            "2027-01-14") in stopped.reasons[0].text
    assert "stops new fine-tuning jobs" not in stopped.reasons[0].text
    eve_of_serving = decide_on(date(2027, 1, 13), model="openai:gpt-4o")
    assert "tuned models stop serving on 2027-01-14" in eve_of_serving.reasons[0].text
    served = decide_on(date(2027, 1, 14), model="openai:gpt-4o")
    assert "tuned models stopped serving on 2027-01-14" in served.reasons[0].text


def test_azure_keeps_training_the_4_1_family_until_its_own_date():
    stop = parse_date(KNOWLEDGE.model("azure:gpt-4.1-mini").tuning.jobs_until)
    assert decide_on(stop - DAY, model="azure:gpt-4.1-mini").verdict == "fine_tuning"
    assert decide_on(stop, model="azure:gpt-4.1-mini").verdict == "prompt_engineering"


# ---------------------------------------------------------------- each provider row


def providers_with_models() -> list[str]:
    return sorted({row.provider for row in KNOWLEDGE.catalogue.models})


@pytest.mark.parametrize("provider", providers_with_models())
def test_each_providers_row_speaks_for_its_own_models_with_its_date(provider):
    row = next(r for r in KNOWLEDGE.catalogue.models
               if r.provider == provider and not is_retired(r, TODAY))
    decision = decide_on(TODAY, model=row.id)
    facts = KNOWLEDGE.provider(provider)
    shown = decision.reasons + decision.cautions + decision.counterpoints
    if can_start_jobs(row, TODAY) and row.weights == "closed" and (
            "route_closes_too_soon" not in rule_ids(decision.reasons)):
        caution = next(c for c in decision.cautions if c.rule == "check_provider_still_tunes")
        assert caution.text.count(f"{facts.name}:") == 1
        assert f"as of {facts.checked_on}" in caution.text
        others = {p.name for p in KNOWLEDGE.providers.providers
                  if p.id != provider and p.name not in facts.name}
        assert not any(f"{name}:" in caution.text for name in others)  # only the team's own
    elif not can_start_jobs(row, TODAY):
        assert decision.verdict == "prompt_engineering"
        assert any(r.rule == "chosen_model_cannot_be_tuned" for r in decision.reasons)
    # whatever the route, every dated fact about the model that is shown carries its date
    for item in shown:
        if row.label in item.text and "catalogue" not in item.text:
            assert "as of" in item.text or item.rule in (
                "fine_tuning_pays_back", "long_prompt_at_volume"), item.text


# ---------------------------------------------------------------- bad input


def test_an_unknown_model_exits_2_naming_model_with_close_matches(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("model: gpt-4.2 mini\nprompt_tokens: 6k\n")
    result = run_bot("decide", "--answers", str(path))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "model:" in line and "gpt-4.2 mini" in line
    assert "did you mean openai:gpt-4.1-mini" in line and "knowledge models" in line


def test_a_model_access_that_contradicts_the_model_exits_2_naming_both(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("model: openai:gpt-4.1-mini\nmodel_access: open_weights\n")
    result = run_bot("decide", "--answers", str(path))
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "model_access" in line and "openai:gpt-4.1-mini" in line
    assert "open_weights" in line and "Closed API that offers fine-tuning" in line


def test_the_same_answers_agree_after_the_window_and_not_before(tmp_path):
    """closed_no_fine_tuning contradicts an OpenAI model while jobs can start, and
    agrees with it from the day they stop: the check follows --today."""
    path = tmp_path / "a.yaml"
    path.write_text("model: openai:gpt-4o\nmodel_access: closed_no_fine_tuning\n")
    before = run_bot("decide", "--answers", str(path), "--today", "2027-01-05")
    assert before.returncode == 2 and "contradicts" in before.stderr
    after = run_bot("decide", "--answers", str(path), "--today", "2027-01-06")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout)["verdict"] == "prompt_engineering"


@pytest.mark.parametrize("bad", ["2026-13-02", "tomorrow", "02/12/2026"])
def test_a_bad_today_exits_2_saying_what_is_accepted(tmp_path, bad):
    path = tmp_path / "a.yaml"
    path.write_text("{}\n")
    result = run_bot("decide", "--answers", str(path), "--today", bad)
    assert result.returncode == 2 and result.stdout == ""
    assert "today" in result.stderr and "YYYY-MM-DD" in result.stderr


def test_bot_today_sets_the_date_and_today_overrides_it(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("model: openai:gpt-4o\n")
    on_env = run_bot("next", "--answers", str(path), env={"BOT_TODAY": "2027-02-01"})
    flag = run_bot("knowledge", "models", "--format", "json", "--today", "2027-02-01",
                   env={"BOT_TODAY": "2026-06-01"})
    assert on_env.returncode == 0 and flag.returncode == 0
    rows = {r["id"]: r for r in json.loads(flag.stdout)["models"]}
    assert json.loads(flag.stdout)["today"] == "2027-02-01"
    assert rows["openai:gpt-4o"]["fine_tunable"] is False


# ---------------------------------------------------------------- knowledge models


def test_knowledge_models_lists_every_row_with_its_windows_and_sources():
    result = run_bot("knowledge", "models", "--format", "json", "--today", "2026-12-02")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {r["id"]: r for r in data["models"]}
    assert set(rows) == {m.id for m in KNOWLEDGE.catalogue.models}
    sources = {s.id for s in KNOWLEDGE.sources}
    for row in rows.values():
        assert {"id", "provider", "fine_tunable", "windows"} <= set(row)
        assert row["windows"]["source"] in sources and row["windows"]["as_of"]
    assert rows["openai:gpt-4.1-mini"]["fine_tunable"] is True
    assert rows["openai:gpt-4.1-mini"]["windows"]["jobs_until"] == "2027-01-06"
    assert rows["anthropic:claude-haiku-4-5"]["fine_tunable"] is False
    assert rows["anthropic:claude-sonnet-4-5"]["retired"] is True

    text = run_bot("knowledge", "models", "--today", "2026-12-02")
    assert text.returncode == 0
    assert "Model catalogue as of 2026-12-02" in text.stdout
    assert "openai:gpt-4.1-mini" in text.stdout and "third-party" in text.stdout


def test_the_contracts_model_ids_exist():
    for model_id in ("openai:gpt-4.1-mini", "azure:gpt-4.1-mini", "anthropic:claude-haiku-4-5",
                     "bedrock:nova-lite", "open:llama-3.1-8b", "openai:gpt-4o-mini"):
        assert KNOWLEDGE.has_model(model_id), model_id


def test_the_console_lists_the_models_by_provider_and_takes_a_number():
    from io import StringIO

    from bot.console import run_console

    question = KNOWLEDGE.question("model")
    number = [o.value for o in question.options].index("openai:gpt-4.1-mini") + 1
    screen = StringIO()
    typed = StringIO(f"{number}\n\n")  # the verdict comes at once; Enter saves nothing
    run_console(KNOWLEDGE, typed, screen, TODAY)
    shown = screen.getvalue()
    assert "  OpenAI\n" in shown and "  Anthropic\n" in shown  # headings per provider
    assert f"    {number}) GPT-4.1 mini (OpenAI)" in shown
    assert "stops new fine-tuning jobs on 2027-01-06" in shown  # settled by the model alone
