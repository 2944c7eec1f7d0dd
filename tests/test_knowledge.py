"""Knowledge files: validated at load, every problem named with file, entry and reason;
and they ship inside the package."""

import shutil
import subprocess
import sys

import pytest

from bot.knowledge import KnowledgeError, load_knowledge
from tests.conftest import ROOT


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
    openai = next(a for a in knowledge.providers.availability if a.id == "openai")
    assert openai.status == "winding_down" and openai.key_dates["new_jobs_stop"] == "2027-01-06"
    for row in knowledge.providers.prices:
        assert row.as_of and row.source


def test_every_problem_is_reported_at_once(knowledge_copy):
    edit(knowledge_copy / "rules.yaml", "{q: deadline, is: this_week}",
         "{q: deadline, is: tomorrow}")
    edit(knowledge_copy / "rules.yaml", "sources: [seed, bedrock-custom-models]",
         "sources: [seed, nowhere]")
    edit(knowledge_copy / "questions.yaml", "    assume: not_sure\n", "    assume: puzzled\n")
    edit(knowledge_copy / "providers.yaml", "    source: openai-ft-wind-down",
         "    source: rumour")
    found = problems_of(knowledge_copy)
    assert any(p.startswith("rules.yaml: ship_this_week: `deadline` cannot be 'tomorrow'")
               for p in found)
    assert "rules.yaml: smaller_model_on_narrow_task: cites unknown source `nowhere`" in found
    assert any(p.startswith("questions.yaml: gap: assume:") for p in found)
    assert "providers.yaml: availability openai: cites unknown source `rumour`" in found


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
    edit(knowledge_copy / "manifest.yaml", 'version: "2026.11.29"', 'version: "team-fork"')
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


def test_assumptions_taken_from_the_provider_tables_are_checked(knowledge_copy):
    edit(knowledge_copy / "questions.yaml", 'assume_from: "fee:azure-hosting:usd_per_month"',
         'assume_from: "fee:aws-hosting:usd_per_month"')
    found = problems_of(knowledge_copy)
    assert any(p.startswith("questions.yaml: hosting_usd_per_month: assume_from: no fee row "
                            "`aws-hosting`") for p in found)


def test_a_fee_in_providers_is_the_hosting_assumption(knowledge_copy, answers_of):
    from bot.engine import decide

    edit(knowledge_copy / "providers.yaml", "usd_per_month: 1224", "usd_per_month: 900")
    changed = load_knowledge(knowledge_copy)
    answers = answers_of(prompt_tokens="6k", monthly_calls="1M")
    hosting = next(a for a in decide(changed, answers).assumptions
                   if a.question == "hosting_usd_per_month")
    assert hosting.value == 900 and hosting.source == "azure-ft-cost"
