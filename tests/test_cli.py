"""`python -m bot ...` exactly as a user or a script runs it."""

import json
import shutil

import pytest

from tests.conftest import ROOT, TODAY, run_bot

SCENARIOS = ROOT / "tests" / "scenarios"
CONTRACT_KEYS = {"verdict", "reasons", "cautions", "costs", "counterfactuals", "missing",
                 "knowledge_version"}


def test_decide_json_follows_the_contract(knowledge):
    result = run_bot("decide", "--answers", str(SCENARIOS / "open_weights_ready.yaml"),
                     "--format", "json")
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert set(decision) >= CONTRACT_KEYS
    assert decision["verdict"] == "fine_tuning"
    source_ids = {s.id for s in knowledge.sources}
    for item in decision["reasons"] + decision["cautions"]:
        assert {"rule", "text", "sources"} <= set(item)
        assert item["sources"] and set(item["sources"]) <= source_ids
    assert {"monthly_input_tokens", "monthly_prompt_cost_usd", "break_even_months"} <= set(
        decision["costs"]
    )
    assert decision["costs"]["monthly_input_tokens"] == 6000 * 20_000_000
    for change in decision["counterfactuals"]:
        assert {"question", "value", "verdict"} <= set(change)
    assert "deadline" in decision["missing"] and "prompt_tokens" not in decision["missing"]
    assert decision["knowledge_version"] == knowledge.version


def test_same_input_same_output_byte_for_byte(tmp_path):
    shuffled = tmp_path / "shuffled.json"
    shuffled.write_text(json.dumps({
        "spec_stable": True, "format_resisted": "yes", "prompt_engineering_tried": "yes",
        "has_eval_set": "yes", "labelled_examples": "8,000", "monthly_calls": "20M",
        "prompt_tokens": "6k", "model_access": "open_weights",
    }))
    first = run_bot("decide", "--answers", str(SCENARIOS / "open_weights_ready.yaml"))
    second = run_bot("decide", "--answers", str(SCENARIOS / "open_weights_ready.yaml"))
    from_json = run_bot("decide", "--answers", str(shuffled))
    assert first.returncode == second.returncode == from_json.returncode == 0
    assert first.stdout == second.stdout == from_json.stdout


def test_invalid_answers_exit_2_with_one_line_per_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("prompt_tokens: lots\ndeadline: yesterday\nmonthly_calls: 20M\nfoo: 1\n")
    result = run_bot("decide", "--answers", str(bad))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert any("prompt_tokens" in line and "whole number" in line for line in lines)
    assert any("deadline" in line and "this_week" in line for line in lines)
    assert any("foo" in line and "unknown question id" in line for line in lines)


@pytest.mark.parametrize("content", ["- just\n- a list\n", "prompt_tokens: [unclosed\n"])
def test_answers_that_are_not_a_mapping_exit_2(tmp_path, content):
    bad = tmp_path / "bad.yaml"
    bad.write_text(content)
    result = run_bot("decide", "--answers", str(bad))
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_answers_file_exit_2(tmp_path):
    result = run_bot("decide", "--answers", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_markdown_is_a_decision_record(knowledge):
    result = run_bot("decide", "--answers", str(SCENARIOS / "open_weights_no_prompt_step.yaml"),
                     "--format", "markdown")
    assert result.returncode == 0
    record = result.stdout
    assert record.startswith("# Decision record")
    assert "**Verdict: Prompt now, fine-tune later**" in record
    assert "## Fine-tune once" in record and "## Sources" in record
    assert "| Static prompt tokens a month | 120,000,000,000 (120B) |" in record
    assert knowledge.source("seed").title in record


def test_text_format_reads_like_a_summary():
    result = run_bot("decide", "--answers", str(SCENARIOS / "ship_this_week.yaml"),
                     "--format", "text")
    assert result.returncode == 0
    assert result.stdout.startswith("Verdict: Prompt engineering (prompt_engineering)")
    assert "It has to ship this week" in result.stdout
    assert "Not answered:" in result.stdout


def test_chart_is_written_as_png(tmp_path):
    chart = tmp_path / "break-even.png"
    result = run_bot("decide", "--answers", str(SCENARIOS / "open_weights_ready.yaml"),
                     "--chart", str(chart))
    assert result.returncode == 0, result.stderr
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 5_000


def test_chart_without_volume_is_refused(tmp_path):
    result = run_bot("decide", "--answers", str(SCENARIOS / "ship_this_week.yaml"),
                     "--chart", str(tmp_path / "c.png"))
    assert result.returncode == 2 and "prompt_tokens" in result.stderr


def test_knowledge_check_passes_on_the_shipped_knowledge():
    result = run_bot("knowledge", "check")
    assert result.returncode == 0, result.stderr
    assert "knowledge ok" in result.stdout


def test_knowledge_check_names_file_entry_and_reason(tmp_path):
    broken = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", broken)
    rules = (broken / "rules.yaml").read_text()
    rules = rules.replace("{q: format_resisted, is: true}", "{q: format_resistance, is: true}")
    rules = rules.replace("sources: [seed, bedrock-custom-models]", "sources: [seed, made-up]")
    (broken / "rules.yaml").write_text(rules)
    result = run_bot("knowledge", "check", "--knowledge-dir", str(broken))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert "knowledge: rules.yaml: format_the_model_resists: condition names unknown question "\
        "`format_resistance`" in lines
    assert "knowledge: rules.yaml: smaller_model_on_narrow_task: cites unknown source `made-up`"\
        in lines
    # The bot refuses to decide on it too, the same way.
    decide = run_bot("decide", "--answers", str(SCENARIOS / "ship_this_week.yaml"),
                     "--knowledge-dir", str(broken))
    assert decide.returncode == 2 and decide.stdout == ""
    assert lines[0] in decide.stderr


class ScriptedUser:
    """Stands in for the person at the terminal: reads the last question the console
    printed and answers it from `answers` (by question text), after any `detours`
    queued for that question (help, bad values, back)."""

    def __init__(self, knowledge, screen, answers, detours, save_as):
        self.by_text = {q.text: q.id for q in knowledge.questions}
        self.screen, self.answers, self.detours, self.save_as = screen, answers, detours, save_as
        self.asked = []

    def readline(self):
        shown = self.screen.getvalue()
        if shown.rstrip().endswith("change your last answer:"):
            return self.save_as + "\n"
        last = [line for line in shown.splitlines() if line.startswith("[")][-1]
        question_id = self.by_text[last.split("] ", 1)[1]]
        self.asked.append(question_id)
        pending = self.detours.get(question_id)
        if pending:
            return pending.pop(0) + "\n"
        return str(self.answers.get(question_id, "not sure")) + "\n"


def test_console_guides_accepts_human_forms_and_saves_the_record(knowledge, tmp_path):
    import io

    from bot.console import run_console

    record = tmp_path / "decision.md"
    screen = io.StringIO()
    answers = {
        "model": "not sure", "model_access": "3", "gap": "not sure", "format_resisted": "yes",
        "labelled_examples": "8,000", "prompt_tokens": "6k", "monthly_calls": "20M",
        "smaller_model_wanted": "no", "latency_critical": "no", "task_type": "format",
        "general_capability_needed": "no", "prompt_engineering_tried": "yes",
        "has_eval_set": "yes", "spec_stable": "yes", "deadline": "this month",
    }
    detours = {"labelled_examples": ["?", "lots"], "prompt_engineering_tried": ["maybe"]}
    user = ScriptedUser(knowledge, screen, answers, detours, str(record))
    assert run_console(knowledge, user, screen, TODAY) == 0
    out = screen.getvalue()
    assert "Input/output pairs you would be happy to ship" in out  # the help text
    assert "Sorry, 'lots' is not a number" in out
    assert "Sorry, please answer yes or no (or not sure)." in out
    assert "Verdict: Fine-tune (fine_tuning)" in out
    assert f"Saved {record}" in out
    assert record.read_text().startswith("# Decision record")
    assert len(set(user.asked)) < len(answers)  # it stopped before asking everything


def test_console_back_after_the_verdict_and_no_overwrite_without_asking(knowledge, tmp_path):
    import io

    from bot.console import run_console

    existing = tmp_path / "keep.md"
    existing.write_text("mine")
    screen = io.StringIO()
    # model: not sure; model access: closed (1); back to it, open weights (3); knowledge gap
    by_text = {q.text: q.id for q in knowledge.questions}
    access = iter(["1", "3"])
    saves = iter(["back", str(existing), "no", "skip"])

    class Person:
        def readline(self):
            shown = screen.getvalue()
            if shown.rstrip().endswith("change your last answer:") or shown.rstrip(
                    ).endswith("(yes/no)"):
                return next(saves) + "\n"
            last = [line for line in shown.splitlines() if line.startswith("[")][-1]
            qid = by_text[last.split("] ", 1)[1]]
            reply = {"model": "not sure", "gap": "knowledge"}.get(qid)
            if qid == "model_access":
                reply = next(access)
            return (reply or "not sure") + "\n"

    assert run_console(knowledge, Person(), screen, TODAY) == 0
    out = screen.getvalue()
    assert out.count("Verdict: Prompt engineering") == 2  # closed model, then knowledge gap
    assert "Overwrite it?" in out and existing.read_text() == "mine"
    assert "Saved" not in out


def test_console_back_asks_the_previous_question_again(knowledge):
    import io

    from bot.console import run_console

    screen = io.StringIO()
    answers = {"model": "not sure", "model_access": "open_weights", "gap": "knowledge",
               "labelled_examples": "8000"}
    from bot.engine import Consultation

    probe = Consultation(knowledge, TODAY)
    probe.answer("model", "not sure")
    probe.answer("model_access", "open_weights")
    third = probe.next_question().id
    user = ScriptedUser(knowledge, screen, answers, {third: ["back"]}, "")
    run_console(knowledge, user, screen, TODAY)
    # "back" on the third question shows the second again, with its earlier answer
    assert user.asked[:4] == ["model", "model_access", third, "model_access"]
    assert "Your earlier answer: Open-weights model" in screen.getvalue()
    assert "Verdict: Prompt engineering" in screen.getvalue()


def test_console_reads_a_sentence_at_any_question_and_keeps_asking_the_rest(knowledge):
    """A first reply in words ("we use gpt-4.1 mini on azure, 5k examples...") answers
    what it says; what it does not say is still asked, and a word that says nothing
    ("lots") is still refused with what is accepted."""
    import io

    from bot.console import run_console

    screen = io.StringIO()
    replies = iter(["we use gpt-4.1 mini on azure, 5k examples, the format keeps drifting",
                    "lots", "quit"])

    class Person:
        def readline(self):
            return next(replies, "") + "\n"  # then Enter: save nothing

    run_console(knowledge, Person(), screen, TODAY)
    shown = screen.getvalue()
    assert 'I read: model: GPT-4.1 mini (Azure) ("gpt-4.1 mini")' in shown
    assert 'labelled examples: 5,000 examples ("5k examples")' in shown
    assert "Sorry" in shown.split("I read:")[1]  # "lots" answers nothing
    asked = [line for line in shown.splitlines() if line.startswith("[question ")]
    assert "Which model" in asked[0] and len(asked) == 3
    assert not any("Which model" in line or "labelled examples" in line.lower()
                   for line in asked[1:])


def test_console_quit_saves_nothing():
    result = run_bot("console", stdin="quit\n")
    assert result.returncode == 0
    assert "Stopped. Nothing was saved." in result.stdout


def test_decide_uses_the_phrased_explanation_only_when_it_passes(tmp_path):
    """Through the real Anthropic client against a local Messages API stand-in."""
    from tests.support.fake_anthropic import FakeAnthropic, faithful, flipped_verdict

    scenario = str(SCENARIOS / "open_weights_no_prompt_step.yaml")
    plain = json.loads(run_bot("decide", "--answers", scenario).stdout)
    assert plain["explanation"]["source"] == "template"
    with FakeAnthropic() as api:
        env = {"ANTHROPIC_API_KEY": "sk-ant-test-key", "ANTHROPIC_BASE_URL": api.url,
               "BOT_LLM_TIMEOUT_S": "20"}
        api.script(faithful())
        phrased = json.loads(run_bot("decide", "--answers", scenario, env=env).stdout)
        assert phrased["explanation"]["source"] == "llm"
        assert phrased["explanation"]["cited_sources"]
        text = run_bot("decide", "--answers", scenario, "--format", "text", env=env).stdout
        assert phrased["explanation"]["text"].split(".")[0] in text
        api.script(flipped_verdict())
        flipped = run_bot("decide", "--answers", scenario, env=env)
        assert len(api.requests) == 3
    fallback = json.loads(flipped.stdout)
    assert fallback["explanation"]["source"] == "template"
    assert fallback["explanation"]["fallback_reason"] == "verdict_mismatch"
    assert fallback["verdict"] == plain["verdict"] == "prompt_then_fine_tune"
    del fallback["explanation"], plain["explanation"]
    assert fallback == plain  # nothing else changed
    assert "sk-ant-test-key" not in flipped.stderr


def test_json_answers_with_tabs_and_exponents(tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"prompt_tokens": 6000, "monthly_calls": 2e7,
                                   "has_eval_set": True, "deadline": "this_month"}, indent="\t"))
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answers"]["monthly_calls"] == 20_000_000


@pytest.mark.parametrize("content", ["", "# nothing yet\n", "---\n"])
def test_an_empty_answers_file_means_nothing_known(tmp_path, content):
    answers = tmp_path / "answers.yaml"
    answers.write_text(content)
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "prompt_engineering"


def test_out_of_range_values_say_the_range(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("prompt_tokens: 99999999999\ncacheable_share: 150%\n")
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert any("prompt_tokens" in line and "at most 2,000,000" in line for line in lines)
    assert any("cacheable_share" in line and "from 0 to 1" in line for line in lines)


def test_unwritable_chart_and_invalid_settings_exit_2(tmp_path):
    scenario = str(SCENARIOS / "open_weights_ready.yaml")
    chart = run_bot("decide", "--answers", scenario, "--chart", str(tmp_path / "no" / "c.png"))
    assert chart.returncode == 2 and "cannot write" in chart.stderr and chart.stdout == ""
    bad = run_bot("decide", "--answers", scenario, env={"PORT": "abc"})
    assert bad.returncode == 2 and bad.stdout == ""
    assert "settings: PORT:" in bad.stderr and "Traceback" not in bad.stderr


def test_console_yes_at_the_save_prompt_asks_for_a_name(knowledge, tmp_path, monkeypatch):
    import io

    from bot.console import run_console

    monkeypatch.chdir(tmp_path)
    replies = iter(["1", "yes", ""])  # model 1 (OpenAI GPT-4.1) settles it on this date

    class Person:
        def readline(self):
            return next(replies) + "\n"

    screen = io.StringIO()
    assert run_console(knowledge, Person(), screen, TODAY) == 0
    assert "File name [decision-record.md]:" in screen.getvalue()
    assert (tmp_path / "decision-record.md").read_text().startswith("# Decision record")
    assert not (tmp_path / "yes").exists()


def test_next_says_the_question_the_flow_asks_and_the_verdict_when_done(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text("")
    first = run_bot("next", "--answers", str(answers))
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"done": False, "question": "model"}
    answers.write_text("model: not_sure\nmodel_access: closed_no_fine_tuning\n")
    done = json.loads(run_bot("next", "--answers", str(answers)).stdout)
    assert done == {"done": True, "question": None, "verdict": "prompt_engineering"}
    answers.write_text("model: not_sure\n")
    unsure = json.loads(run_bot("next", "--answers", str(answers)).stdout)
    assert unsure == {"done": False, "question": "model_access"}  # model is not asked again
    answers.write_text("model_access: sometimes\nprompt_tokens: many\n")
    bad = run_bot("next", "--answers", str(answers))
    assert bad.returncode == 2 and bad.stdout == ""
    assert {line.split(":")[1].strip() for line in bad.stderr.strip().splitlines()} == {
        "model_access", "prompt_tokens"}


def test_every_question_accepts_not_sure_in_an_answers_file(knowledge, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({q.id: "not_sure" for q in knowledge.questions}))
    result = run_bot("decide", "--answers", str(answers))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verdict"] == "prompt_engineering"  # nothing known: start with prompting
    assert set(out["not_sure"]) == {q.id for q in knowledge.questions}
    assert out["open_questions"] == [] and set(out["missing"]) == set(out["not_sure"])
    assert all(value == "not_sure" for value in out["answers"].values())
    # a rule that reads a "not sure" answer says so, and the assumption is listed
    answers.write_text(json.dumps({"model_access": "open_weights", "format_resisted": "yes",
                                   "labelled_examples": 5000, "has_eval_set": "not_sure"}))
    out = json.loads(run_bot("decide", "--answers", str(answers)).stdout)
    assert out["verdict"] == "prompt_then_fine_tune"
    eval_condition = next(c for c in out["conditions"] if c["rule"] == "no_eval_set")
    assert "you were not sure: evaluation set" in eval_condition["text"]
    assert any(a["question"] == "has_eval_set" and "not sure, taken as no" in a["text"]
               for a in out["assumptions"])


def test_console_change_and_start_over(knowledge):
    import io

    from bot.console import run_console

    access = [o.value for o in knowledge.question("model_access").options]
    screen = io.StringIO()
    typed = io.StringIO("not sure\n"                                        # model
                        f"{access.index('open_weights') + 1}\n"            # model access
                        "change\n2\n"                                       # change model access
                        f"{access.index('closed_no_fine_tuning') + 1}\n"    # the new answer
                        "\n")                                               # save nothing
    assert run_console(knowledge, typed, screen, TODAY) == 0
    shown = screen.getvalue()
    assert "1) model: not sure" in shown and "2) model access: Open-weights model" in shown
    assert "Your earlier answer: Open-weights model" in shown
    assert "Verdict: Prompt engineering" in shown and "closed API" in shown

    screen = io.StringIO()
    typed = io.StringIO("not sure\nstart over\nquit\n")
    run_console(knowledge, typed, screen, TODAY)
    shown = screen.getvalue()
    assert "Every answer forgotten" in shown
    first = knowledge.question("model").text
    assert shown.count(first) == 2  # the first question again


def test_json_names_every_cited_source_with_its_title_and_link():
    out = json.loads(run_bot("decide", "--answers",
                             str(SCENARIOS / "open_weights_ready.yaml")).stdout)
    cited = {sid for key in ("reasons", "cautions", "advice", "conditions", "cost_notes")
             for item in out[key] for sid in item["sources"]}
    cited |= {a["source"] for a in out["assumptions"]}
    assert cited and set(out["sources"]) == cited
    for sid, source in out["sources"].items():
        assert source["title"] and source["as_of"], sid
        assert source["url"] is None or source["url"].startswith("https://"), sid
    assert out["sources"]["azure-ft-cost"]["url"].endswith("/fine-tuning-cost-management")


def test_console_lists_not_sure_once_where_a_question_has_its_own_option(knowledge):
    """The gap question lists "Not sure yet" as an option; the console does not add a
    second "(or not sure: ...)" line there, but still does for other choices."""
    import io

    from bot.console import _show
    from bot.engine import Consultation

    consultation = Consultation(knowledge, TODAY)
    gap = io.StringIO()
    _show(consultation, knowledge.question("gap"), gap)
    assert gap.getvalue().count("Not sure yet") == 1
    assert "(or not sure" not in gap.getvalue()
    access = io.StringIO()
    _show(consultation, knowledge.question("model_access"), access)
    assert access.getvalue().count("(or not sure:") == 1
