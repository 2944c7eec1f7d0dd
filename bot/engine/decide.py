"""decide(knowledge, answers) -> Decision: the one pure entry point every surface uses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.engine import humanize
from bot.engine.answers import NOT_SURE, given_ids, is_given
from bot.engine.costs import COST_FIELDS, Costs, compute_costs
from bot.engine.counterfactuals import counterfactuals
from bot.engine.decision import Assumption, Decision, Item
from bot.engine.rules import (
    Context,
    condition_questions,
    effective_answers,
    holds,
    tally,
    verdict_for,
    verdict_rules,
)

if TYPE_CHECKING:
    from bot.knowledge import Knowledge, Rule

def decide(knowledge: Knowledge, answers: Mapping[str, Any]) -> Decision:
    """Apply the rules to parsed answers (see answers.parse_answers)."""
    costs = compute_costs(knowledge, answers)
    effective = effective_answers(knowledge, answers)
    given = given_ids(answers)
    threshold = knowledge.policy.fine_tune_threshold
    result, fired = tally(verdict_rules(knowledge), Context(effective, costs, given))
    verdict = verdict_for(result, threshold)
    score = sum(
        rule.weight if rule.effect == "toward_fine_tuning" else -rule.weight
        for rule in fired
        if rule.effect.startswith("toward_")
    )
    case = score >= threshold
    outcome = Context(effective, costs, given, frozenset(r.id for r in fired), verdict, case)
    shown = [r for r in knowledge.rules if not r.affects_verdict and holds(r.when, outcome)]

    words = _placeholders(knowledge, effective, costs)
    item = _item_maker(knowledge, answers, words)

    def given(rule: Rule) -> bool:
        return not _assumed_questions(knowledge, answers, rule)

    explain = [r for r in shown if r.effect == "explain"]
    constraints = [r for r in fired if r.effect == "constraint"]
    toward_ft = [r for r in fired if r.effect == "toward_fine_tuning"]
    toward_pe = [r for r in fired if r.effect == "toward_prompt_engineering"]
    blockers = [r for r in fired if r.effect == "blocker"]

    conditions: list[Rule] = []
    if verdict == "prompt_engineering":
        deciding = [r for r in constraints if given(r) or case]
        # A blocker backs prompting only through what the user said (ship this week...),
        # not through what is still unanswered.
        said = [r for r in blockers if given(r) and _reads_values(knowledge, r)]
        reasons = deciding + explain + [r for r in toward_pe if given(r)] + said
        counterpoints = toward_ft
    else:
        reasons = toward_ft + explain
        counterpoints = toward_pe
        if verdict == "prompt_then_fine_tune":
            conditions = blockers
    cautions = [r for r in shown if r.effect == "caution"]
    advice = [r for r in shown if r.effect == "advice"]
    used = reasons + conditions + counterpoints + cautions + advice

    return Decision(
        verdict=verdict,
        score=score,
        threshold=threshold,
        reasons=tuple(item(r) for r in reasons),
        conditions=tuple(item(r, use_until=True) for r in conditions),
        counterpoints=tuple(item(r) for r in counterpoints),
        cautions=tuple(item(r) for r in cautions),
        advice=tuple(item(r) for r in advice),
        tradeoffs=tuple(_tradeoffs(knowledge, used)),
        costs=costs,
        payback_horizon_months=knowledge.policy.payback_horizon_months,
        assumptions=tuple(_assumptions(knowledge, answers, effective, words, used, costs)),
        counterfactuals=tuple(counterfactuals(knowledge, answers, verdict)),
        missing=tuple(q.id for q in knowledge.questions if not is_given(answers, q.id)),
        open_questions=tuple(
            q.id for q in knowledge.questions if q.ask and q.id not in answers
        ),
        not_sure=tuple(q.id for q in knowledge.questions if answers.get(q.id) == NOT_SURE),
        answers={q.id: answers[q.id] for q in knowledge.questions if q.id in answers},
        knowledge_version=knowledge.version,
        knowledge_as_of=knowledge.manifest.as_of,
    )


def _tradeoffs(knowledge: Knowledge, used: list[Rule]) -> list[dict[str, str]]:
    """The rows of the seed's comparison table that the shown rules draw on."""
    wanted = {criterion for rule in used for criterion in rule.criteria}
    return [
        {"id": c.id, "criterion": c.criterion, "prompt_engineering": c.prompt_engineering,
         "fine_tuning": c.fine_tuning, "source": c.source}
        for c in knowledge.criteria
        if c.id in wanted
    ]


def _reads_values(knowledge: Knowledge, rule: Rule) -> bool:
    return bool(condition_questions(knowledge, rule.when, values_only=True))


def _assumed_questions(
    knowledge: Knowledge, answers: Mapping[str, Any], rule: Rule
) -> tuple[str, ...]:
    """Asked questions whose assumed value (not given) this rule's condition reads."""
    read = condition_questions(knowledge, rule.when, values_only=True)
    return tuple(
        q.id for q in knowledge.questions
        if q.id in read and q.ask and not is_given(answers, q.id)
    )


def _item_maker(knowledge: Knowledge, answers: Mapping[str, Any], words: dict[str, str]):
    def make(rule: Rule, use_until: bool = False) -> Item:
        text = (rule.until if use_until else rule.text) or ""
        text = text.format(**words)
        assumed = _assumed_questions(knowledge, answers, rule)
        unsure = [knowledge.question(q).short for q in assumed if answers.get(q) == NOT_SURE]
        unanswered = [knowledge.question(q).short for q in assumed if q not in answers]
        if unanswered:
            text += f" (not answered yet: {', '.join(unanswered)})"
        if unsure:
            text += f" (you were not sure: {', '.join(unsure)})"
        return Item(rule.id, text, tuple(rule.sources), assumed)

    return make


def _placeholders(knowledge: Knowledge, effective: Mapping[str, Any], costs: Costs):
    words: dict[str, str] = {}
    for question in knowledge.questions:
        value = effective[question.id]
        if question.kind == "choice":
            words[question.id] = question.label_of(value).lower()
        elif question.id == "monthly_calls" or question.unit == "tokens":
            words[question.id] = humanize.compact(value)
        elif question.unit == "share":
            words[question.id] = f"{value * 100:g}%"
        elif question.unit == "times":
            words[question.id] = f"{value:g}x"
        elif question.unit and question.unit.startswith("USD"):
            words[question.id] = humanize.usd(value)
        else:
            words[question.id] = humanize.plain_value(value)
    for name in COST_FIELDS:
        value = getattr(costs, name)
        if name == "break_even_months":
            words[name] = humanize.months(value)
        elif name.endswith("_usd") or name.endswith("_per_mtok"):
            words[name] = humanize.usd(value)
        elif value is None:
            words[name] = "n/a"
        else:
            words[name] = humanize.compact(value)
    words["payback_horizon_months"] = humanize.plain_value(knowledge.policy.payback_horizon_months)
    words["fine_tune_threshold"] = str(knowledge.policy.fine_tune_threshold)
    words["knowledge_as_of"] = knowledge.manifest.as_of
    words["provider_status"] = provider_status(knowledge)
    return words


STATUS_WORDS = {
    "available": "available",
    "winding_down": "winding down",
    "unavailable": "not offered",
    "ended": "ended",
    "deprecated": "deprecated",
}


def provider_status(knowledge: Knowledge) -> str:
    """Who still fine-tunes, from the dated availability rows (one place for the dates)."""
    parts = []
    for row in knowledge.providers.availability:
        dates = ", ".join(
            f"{label.replace('_', ' ')} {date}" for label, date in row.key_dates.items()
        )
        parts.append(
            f"{row.provider}: {STATUS_WORDS[row.status]}" + (f" ({dates})" if dates else "")
        )
    return "; ".join(parts)


def _assumptions(
    knowledge: Knowledge,
    answers: Mapping[str, Any],
    effective: Mapping[str, Any],
    words: Mapping[str, str],
    used: list[Rule],
    costs: Costs,
) -> list[Assumption]:
    """Values the user did not give that the shown rules or the cost math relied on."""
    read = set()
    for rule in used:
        read |= condition_questions(knowledge, rule.when, values_only=True)
    found = []
    for question in knowledge.questions:
        if is_given(answers, question.id):
            continue
        value = effective[question.id]
        source = question.assume_source or "project-assumptions"
        shown = question.label_of(value) if question.kind == "choice" else words[question.id]
        if question.ask:
            if question.id not in read:
                continue
            how = "not sure" if answers.get(question.id) == NOT_SURE else "not answered"
            text = f"{question.short}: {how}, taken as {shown}"
        else:
            if costs.monthly_input_tokens is None:
                continue  # no volume, no cost math
            text = f"{question.short}: {shown}"
            if question.assume_from:
                reference = knowledge.reference(question, effective["price_model"])
                source = reference.source
                text += f" ({reference.note})"
        found.append(Assumption(question.id, value, text, source))
    return found
