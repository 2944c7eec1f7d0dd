"""Knowledge files: validated at load, every problem named with file, entry and reason;
and they ship inside the package."""

import shutil
import subprocess
import sys

import pytest

from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ROOT, TODAY


@pytest.fixture
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def problems_of(directory):
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(directory)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_knowledge_is_complete(knowledge):
    asked = {q.id for q in knowledge.questions}
    contract = {"deadline", "spec_stable", "gap", "task_type", "model_access",
                "labelled_examples", "has_eval_set", "prompt_engineering_tried",
                "format_resisted", "prompt_tokens", "monthly_calls", "input_price_per_mtok",
                "latency_critical", "smaller_model_wanted", "general_capability_needed"}
    assert contract <= asked
    assert {c.id for c in knowledge.criteria} == {
        "upfront_cost", "iteration_speed", "data_needed", "per_call_cost", "reversibility",
        "suited_for", "closed_models", "regression_risk"}
    assert knowledge.source("seed").as_of == "2026-04-20"
    openai = knowledge.provider("openai")
    assert openai.status == "winding_down" and openai.key_dates["new_jobs_stop"] == "2027-01-06"
    ids = {m.id for m in knowledge.catalogue.models}
    assert {"openai:gpt-4.1-mini", "azure:gpt-4.1-mini", "anthropic:claude-haiku-4-5",
            "bedrock:nova-lite", "open:llama-3.1-8b", "openai:gpt-4o-mini"} <= ids
    # the families facts.md names
    for family in ("openai:gpt-4.1", "openai:gpt-4o", "azure:gpt-4.1", "azure:gpt-4o",
                   "azure:gpt-4o-mini", "vertex:gemini-3.5-flash", "gemini-api:gemini-3.5-flash",
                   "bedrock:llama-3.1-8b", "together:llama-3.1-8b", "fireworks:llama-3.1-8b",
                   "open:llama-3.3-70b", "open:qwen2.5-7b", "open:mistral-7b"):
        assert family in ids, family
    for row in knowledge.catalogue.models:
        assert row.prices.as_of and row.prices.source
        assert (row.tuning or row.no_tuning).source


def test_every_problem_is_reported_at_once(knowledge_copy):
    edit(knowledge_copy / "rules.yaml", "{q: deadline, is: this_week}",
         "{q: deadline, is: tomorrow}")
    edit(knowledge_copy / "rules.yaml", "sources: [seed, bedrock-custom-models]",
         "sources: [seed, nowhere]")
    edit(knowledge_copy / "questions.yaml", "    assume: not_sure\n", "    assume: puzzled\n")
    edit(knowledge_copy / "providers.yaml", "    source: openai-deprecations",
         "    source: rumour")
    edit(knowledge_copy / "models.yaml", "source: openai-ft-shutdown-report", "source: gossip")
    found = problems_of(knowledge_copy)
    assert any(p.startswith("rules.yaml: ship_this_week: `deadline` cannot be 'tomorrow'")
               for p in found)
    assert "rules.yaml: smaller_model_on_narrow_task: cites unknown source `nowhere`" in found
    assert any(p.startswith("questions.yaml: gap: assume:") for p in found)
    assert "providers.yaml: provider openai: cites unknown source `rumour`" in found
    assert "models.yaml: model openai:gpt-4.1 tuning: cites unknown source `gossip`" in found


def test_schema_errors_name_the_entry(knowledge_copy):
    edit(knowledge_copy / "rules.yaml", "    weight: 2\n    text: \"The model keeps",
         "    weight: 2\n    colour: red\n    text: \"The model keeps")
    edit(knowledge_copy / "rules.yaml", "    effect: blocker\n    text: \"It has to ship",
         "    effect: blocker\n    text: \"It has to ship")
    (knowledge_copy / "rules.yaml").write_text(
        (knowledge_copy / "rules.yaml").read_text().replace(
            '    until: "the spec has settled"\n', "", 1)
    )
    found = problems_of(knowledge_copy)
    assert any(p.startswith("rules.yaml: format_the_model_resists: colour:") for p in found)
    assert any(p.startswith("rules.yaml: spec_still_moving:") and "until" in p for p in found)


def test_unknown_placeholder_and_bad_yaml(knowledge_copy):
    edit(knowledge_copy / "rules.yaml", "{labelled_examples} clean examples",
         "{examples_count} clean examples")
    found = problems_of(knowledge_copy)
    assert any("thousands_of_examples: text uses unknown placeholder {examples_count}" in p
               for p in found)
    (knowledge_copy / "criteria.yaml").write_text("criteria: [unclosed\n")
    found = problems_of(knowledge_copy)
    assert any(p.startswith("criteria.yaml: line") and "not valid YAML" in p for p in found)


def test_a_deciding_rule_cannot_look_at_the_outcome(knowledge_copy):
    edit(knowledge_copy / "rules.yaml", "when: {q: smaller_model_wanted, is: true}",
         "when: {verdict_in: [fine_tuning]}")
    found = problems_of(knowledge_copy)
    assert any(p.startswith("rules.yaml: smaller_model_on_narrow_task:") and "outcome" in p
               for p in found)


def test_knowledge_dir_env_overrides_the_location(knowledge_copy, monkeypatch):
    edit(knowledge_copy / "manifest.yaml", 'version: "2026.12.02"', 'version: "team-fork"')
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge_copy))
    assert load_knowledge().version.startswith("team-fork+")


def test_an_installed_wheel_finds_its_knowledge_from_any_directory(tmp_path):
    """`pip install .` (not editable), then run from elsewhere: the knowledge ships inside."""
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site),
         *map(str, wheels.glob("*.whl"))],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "answers.yaml").write_text("deadline: this_week\n")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(site), "HOME": str(tmp_path)}
    for args in (["-c", "import bot; print(bot.__file__)"],
                 ["-m", "bot", "knowledge", "check"],
                 ["-m", "bot", "decide", "--answers", "answers.yaml"]):
        result = subprocess.run([sys.executable, *args], cwd=elsewhere, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        if args[0] == "-c":
            assert result.stdout.startswith(str(site))
        elif args[-1] == "check":
            assert str(site / "bot" / "_knowledge") in result.stdout
        else:
            assert '"verdict": "prompt_engineering"' in result.stdout


def test_assumptions_taken_from_the_tables_are_checked(knowledge_copy):
    edit(knowledge_copy / "questions.yaml", 'assume_from: "route:hosting"',
         'assume_from: "route:parking"')
    edit(knowledge_copy / "questions.yaml", 'assume_from: "model:input"',
         'assume_from: "model:inputs"')
    found = problems_of(knowledge_copy)
    assert any(p.startswith("questions.yaml: hosting_usd_per_month: assume_from: "
                            "`route:parking` is not one of") for p in found)
    assert "questions.yaml: input_price_per_mtok: assume_from: model prices have no field " \
        "`inputs`" in found


def test_the_hosting_fee_of_the_catalogue_is_the_hosting_assumption(knowledge_copy, answers_of):
    from bot.engine import decide

    edit(knowledge_copy / "models.yaml", "hosting: {kind: hourly_fee, usd_per_hour: 1.70, "
         "as_of: \"2026-12-02\", source: azure-ft-cost}",
         "hosting: {kind: hourly_fee, usd_per_hour: 1.00, as_of: \"2026-12-02\", "
         "source: azure-ft-cost}")
    changed = load_knowledge(knowledge_copy)
    answers = answers_of(model="azure:gpt-4.1-mini", prompt_tokens="6k", monthly_calls="1M")
    hosting = next(a for a in decide(changed, answers, TODAY).assumptions
                   if a.question == "hosting_usd_per_month")
    assert hosting.value == 730.0 and hosting.source == "azure-ft-cost"
    assert "as of 2026-12-02" in hosting.text


def test_the_catalogue_is_checked_across_files(knowledge_copy):
    edit(knowledge_copy / "models.yaml", "    provider: together\n", "    provider: toget\n")
    edit(knowledge_copy / "models.yaml", "gpu: a100-80gb,", "gpu: tpu-v9,")
    edit(knowledge_copy / "models.yaml", "  closed_no_fine_tuning: anthropic:claude-haiku-4-5",
         "  closed_no_fine_tuning: anthropic:claude-sonnet-4-5")
    edit(knowledge_copy / "models.yaml", '"4.1 mini"]', '"4.1 mini", "gpt-4o mini"]')
    found = problems_of(knowledge_copy)
    assert "models.yaml: model together:llama-3.1-8b: provider `toget` is not in " \
        "providers.yaml" in found
    assert any(p.startswith("models.yaml: model open:llama-3.1-8b: gpu hosting needs")
               for p in found)
    assert any("points at anthropic:claude-sonnet-4-5, retired on 2026-11-30" in p
               for p in found)  # the default price row never points at a retired model
    assert any("alias 'gpt-4o mini' also names openai:gpt-4.1-mini" in p for p in found)


def test_a_fact_older_than_the_maximum_age_fails_unless_rechecked(knowledge_copy):
    # six months before the knowledge's 2026-12-02 is 2026-06-02: a day older fails
    edit(knowledge_copy / "providers.yaml", '    as_of: "2026-08"\n    rechecked: "2026-12-02"\n'
         '    source: azure-model-retirements', '    as_of: "2026-06-01"\n'
         '    source: azure-model-retirements')
    found = problems_of(knowledge_copy)
    assert any(p.startswith("providers.yaml: provider azure: as of 2026-06-01, more than 6 "
                            "months before the knowledge's date (2026-12-02)") for p in found)
    edit(knowledge_copy / "providers.yaml", '    as_of: "2026-06-01"\n',
         '    as_of: "2026-06-02"\n')
    load_knowledge(knowledge_copy)  # the day of the edge itself is still fine
    edit(knowledge_copy / "providers.yaml", '    as_of: "2026-06-02"\n',
         '    as_of: "2026-01-01"\n    rechecked: "2026-11-30"\n')
    load_knowledge(knowledge_copy)  # re-checked on a newer date: fine


def test_a_key_written_twice_is_an_error_with_its_line(knowledge_copy):
    edit(knowledge_copy / "manifest.yaml", 'version: "2026.12.02"',
         'version: "2026.12.02"\nversion: "again"')
    found = problems_of(knowledge_copy)
    assert any(p.startswith("manifest.yaml: line ") and "'version' is written twice" in p
               for p in found)


def test_a_missing_folder_is_one_problem(tmp_path):
    found = problems_of(tmp_path / "nowhere")
    assert len(found) == 1 and "(folder): does not exist" in found[0]
