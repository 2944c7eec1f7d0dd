"""The Workflow Builder custom step `ptf_decide` (declared in deploy/slack-manifest.yaml).

Inputs: `situation` (free text, required) and optional typed answers (`model`,
`prompt_tokens`, `monthly_calls`, `labelled_examples`, `has_eval_set`, `deadline`) and
`asker` (a user). The consultation object reads the situation, takes the typed answers
(they win over what the text said), and decides with the stated assumptions for the
rest. Outputs: `verdict` (the verdict id), `summary` (mrkdwn: verdict, reasons with
their sources, costs, what would change it, what was assumed; people's text escaped)
and `link` (opens the app in Slack, whose App Home lists the asker's record).

Input that cannot be used completes the step with `functions.completeError` and a
message a workflow author can act on: which input, what was given, what is accepted.
When an asker is given, the consultation is saved as theirs (history, recheck), after
the step completed. Whatever fails, the step is completed (with an error if need be),
except while Slack itself cannot be reached: that is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.engine import Consultation, Decision
from bot.slack.blocks.card import cost_line
from bot.slack.blocks.limits import clip, escape
from bot.slack.web import Deps, SlackCallFailed, about, call
from bot.store import StoreError

log = logging.getLogger("bot.slack.workflow_step")

CALLBACK_ID = "ptf_decide"
#: The longest situation read; longer is refused (a workflow variable holding a whole
#: document or thread is a mistake to point out, not text to guess from).
MAX_SITUATION = 4000
#: Typed inputs: the step input's name is the question id.
TYPED_INPUTS = ("model", "prompt_tokens", "monthly_calls", "labelled_examples",
                "has_eval_set", "deadline")
#: What a workflow's author sees when the step failed on our side.
INTERNAL_ERROR = ("The advisor could not decide this time (an error on its side, not in "
                  "your inputs). Run the step again; if it keeps failing, tell the app's admin.")
#: Slack errors after which completing again later might work (nothing else is tried).
RETRIED_ERRORS = frozenset({"ratelimited", "http_429", "internal_error", "fatal_error",
                            "service_unavailable", "request_timeout", "TimeoutError",
                            "URLError", "ConnectionError"})
MAX_ERROR = 2000
#: How many assumed answers the summary names (the rest are counted).
MAX_ASSUMED_NAMED = 6
#: A workflow output string is shown in later steps' messages: keep it one message long.
MAX_SUMMARY = 2900


class StepInputError(ValueError):
    """The step's inputs cannot be used; the message is for the workflow's author."""


def read_inputs(deps: Deps, inputs: Mapping[str, Any]) -> Consultation:
    """The consultation the inputs describe, every problem in one StepInputError."""
    problems: list[str] = []
    situation = inputs.get("situation")
    if situation is None or (isinstance(situation, str) and not situation.strip()):
        problems.append("`situation` is empty: give a sentence or two about the LLM task "
                        "(the model, the prompt's size, calls a month, examples).")
        situation = ""
    elif not isinstance(situation, str):
        problems.append("`situation` must be text.")
        situation = ""
    elif len(situation) > MAX_SITUATION:
        problems.append(f"`situation` is {len(situation):,} characters; the step reads at "
                        f"most {MAX_SITUATION:,}. Pass a short description, not a whole "
                        "document.")
        situation = ""
    state = Consultation(deps.knowledge, deps.today())
    if situation:
        state.read(situation)
    typed = {key: inputs[key] for key in TYPED_INPUTS
             if key in inputs and inputs[key] not in (None, "")}
    for question_id, error in state.submit(typed).items():
        question = deps.knowledge.question(question_id)
        given = unmarked(clip(str(typed.get(question_id, error.given)), 80))
        problems.append(f"`{question_id}` ({question.short}): \u201c{given}\u201d "
                        f"was not accepted: {unmarked(error.reason)}.")
    if problems:
        raise StepInputError(" ".join(problems))
    return state


def unmarked(text: str) -> str:
    """People's text in an error message, read as plain text or as mrkdwn: angle brackets
    become look-alike quotes, so neither a mention nor a link can form."""
    return str(text).replace("<", "\u2039").replace(">", "\u203a")


def summary_text(deps: Deps, decision: Decision) -> str:
    """The `summary` output: mrkdwn, every piece of people's text escaped."""
    lines = [f"*{decision.verdict_label}* (knowledge as of {decision.knowledge_as_of}, "
             f"for {decision.today or deps.today().isoformat()})"]
    for item in decision.reasons[:3]:
        cited = f" [{', '.join(item.sources)}]" if item.sources else ""
        lines.append(f"\u2022 {escape(item.text)}{cited}")
    if (costs := cost_line(decision)) is not None:
        lines.append(f"Cost: {escape(costs)}")
    if decision.counterfactuals:
        lines.append(f"What would change it: {escape(decision.counterfactuals[0].text)}")
    if decision.assumptions:
        names = [escape(deps.knowledge.question(a.question).short)
                 if deps.knowledge.has_question(a.question) else escape(a.question)
                 for a in decision.assumptions]
        more = len(names) - MAX_ASSUMED_NAMED
        shown = ", ".join(names[:MAX_ASSUMED_NAMED]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"Assumed (not given): {shown}.")
    return clip("\n".join(lines), MAX_SUMMARY)


def record_link(app_id: str | None, team: str | None) -> str:
    """Where the record can be opened: the app in Slack (its App Home lists it)."""
    if app_id and team:
        return f"https://slack.com/app_redirect?app={app_id}&team={team}"
    if app_id:
        return f"https://slack.com/app_redirect?app={app_id}"
    return "https://slack.com/apps"


def _save_for(deps: Deps, asker: str, team: str | None, state: Consultation,
              decision: Decision, execution_id: str) -> None:
    """The asker's consultation, done: in their history and checked by recheck."""
    try:
        row = deps.store.create_consultation(
            user_id=asker, team_id=team, surface="workflow", state=state.to_json(),
            meta={"origin": "workflow", "function_execution_id": execution_id})
        deps.store.finish(row.id, decision.to_dict())
    except StoreError as exc:  # the outputs matter more than the history line
        log.warning("workflow step %s: consultation not saved: %s", execution_id, exc)


def run_step(deps: Deps, *, inputs: Mapping[str, Any], execution_id: str,
             app_id: str | None, team: str | None) -> None:
    """Decide from the inputs and complete the step, success or error, whatever happens
    (a step never completed leaves the workflow waiting)."""
    with about(f"workflow:{execution_id}"):
        try:
            state = read_inputs(deps, inputs)
            decision = state.decide()
            outputs = {"verdict": decision.verdict, "summary": summary_text(deps, decision),
                       "link": record_link(app_id, team)}
        except StepInputError as exc:
            _fail(deps, execution_id, str(exc))
            return
        except Exception:  # a bug of ours: the author gets a message, we the traceback
            log.exception("workflow step %s: deciding failed", execution_id)
            _fail(deps, execution_id, INTERNAL_ERROR)
            return
        try:
            call(deps, "functions_completeSuccess", function_execution_id=execution_id,
                 outputs=outputs)
        except SlackCallFailed as exc:
            if exc.error in RETRIED_ERRORS:  # Slack is down; a later retry may work
                log.error("workflow step %s not completed: Slack did not answer (%s)",
                          execution_id, exc.error)
                return
            # refused (e.g. the outputs): end the step rather than leave it running
            _fail(deps, execution_id, f"The verdict could not be handed to the workflow "
                  f"({exc.error}). Run the step again; if it keeps failing, tell the app's "
                  "admin.")
            return
        asker = inputs.get("asker")
        if isinstance(asker, str) and asker.startswith(("U", "W")):
            _save_for(deps, asker, team, state, decision, execution_id)


def _fail(deps: Deps, execution_id: str, error: str) -> None:
    """`functions.completeError` (the client retries 429 with Retry-After, and 5xx); a
    failure after that is logged by `call`."""
    try:
        call(deps, "functions_completeError", function_execution_id=execution_id,
             error=clip(error, MAX_ERROR))
    except SlackCallFailed:
        log.error("workflow step %s not completed with its error either", execution_id)
