"""The Slack app manifest declares what the code serves: the assistant, the workflow step
`ptf_decide` (its inputs are question ids, typed as the knowledge types them), the message
shortcut, their events and scopes."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.knowledge import load_knowledge
from bot.slack.thread_shortcut import CALLBACK_ID as SHORTCUT_ID
from bot.slack.workflow_step import CALLBACK_ID as STEP_ID
from bot.slack.workflow_step import MAX_SITUATION, TYPED_INPUTS

MANIFEST = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "deploy" / "slack-manifest.yaml").read_text())
SLACK_TYPES = {"int": "integer", "float": "number", "bool": "boolean", "choice": "string",
               "model": "string"}


def test_the_step_declares_the_inputs_and_outputs_the_code_reads_and_writes():
    step = MANIFEST["functions"][STEP_ID]
    inputs = step["input_parameters"]
    assert set(inputs) == {"situation", "asker", *TYPED_INPUTS}
    assert inputs["situation"]["is_required"] is True
    assert f"{MAX_SITUATION:,}" in inputs["situation"]["description"]
    assert inputs["asker"]["type"] == "slack#/types/user_id"
    knowledge = load_knowledge()
    for name in TYPED_INPUTS:
        question = knowledge.question(name)
        assert inputs[name]["type"] == SLACK_TYPES[question.kind], name
        assert inputs[name]["is_required"] is False and inputs[name]["name"] == name
        if question.kind == "choice":
            for option in question.options:
                assert option.value in inputs[name]["description"], (name, option.value)
    assert set(step["output_parameters"]) == {"verdict", "summary", "link"}


def test_the_assistant_and_the_shortcut_have_their_events_and_scopes():
    features = MANIFEST["features"]
    assert features["assistant_view"]["assistant_description"]
    assert [s["callback_id"] for s in features["shortcuts"]] == [SHORTCUT_ID]
    assert features["shortcuts"][0]["type"] == "message"
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed",
            "function_executed", "message.im"} <= events
    assert "assistant:write" in MANIFEST["oauth_config"]["scopes"]["bot"]
    assert MANIFEST["settings"]["org_deploy_enabled"] is True  # custom steps need it


def test_oauth_asks_for_the_manifests_scopes_and_has_its_redirect():
    from bot.config import BOT_SCOPES, Settings

    assert list(BOT_SCOPES) == MANIFEST["oauth_config"]["scopes"]["bot"]
    assert Settings(_env_file=None).slack_scopes.split(",") == list(BOT_SCOPES)
    [redirect] = MANIFEST["oauth_config"]["redirect_urls"]
    assert redirect.endswith("/slack/oauth_redirect")
