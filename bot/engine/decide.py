"""decide(knowledge, answers, today) -> Decision: the one pure entry point every surface uses.

The date is an input (never the clock): the catalogue's windows are read as of `today`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.engine import catalogue, humanize
from bot.engine.answers import NOT_SURE, given_ids, is_given
from bot.engine.costs import COST_FIELDS, Costs, RouteCost, compute_costs, effective
from bot.engine.counterfactuals import counterfactuals
from bot.engine.decision import Assumption, Decision, Item
from bot.engine.flow import holds_whatever_comes
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


def decide(knowledge: Knowledge, answers: Mapping[str, Any], today: date, *,
           with_counterfactuals: bool = True) -> Decision:
    """Apply the rules to parsed answers (see answers.parse_answers), as of `today`.

    `with_counterfactuals=False` leaves out what would change the verdict (most of the
    time a decision takes), for callers that only read its reasons (recheck)."""
    full = catalogue.completed(knowledge, answers, today)
    costs = compute_costs(knowledge, full, today)
    effective_values = effective_answers(knowledge, full, costs)
    given = given_ids(full)
    threshold = knowledge.policy.fine_tune_threshold
    result, fired = tally(verdict_rules(knowledge), Context(effective_values, costs, given))
    verdict = verdict_for(result, threshold)
    score = sum(
        rule.weight if rule.effect == "toward_fine_tuning" else -rule.weight
        for rule in fired
        if rule.effect.startswith("toward_")
    )
    case = score >= threshold
    outcome = Context(effective_values, costs, given, frozenset(r.id for r in fired), verdict,
                      case)
    shown = [r for r in knowledge.rules if not r.affects_verdict and holds(r.when, outcome)]

    def given_rule(rule: Rule) -> bool:
        return not _assumed_questions(knowledge, full, rule)

    explain = [r for r in shown if r.effect == "explain"]
    constraints = [r for r in fired if r.effect == "constraint"]
    toward_ft = [r for r in fired if r.effect == "toward_fine_tuning"]
    toward_pe = [r for r in fired if r.effect == "toward_prompt_engineering"]
    blockers = [r for r in fired if r.effect == "blocker"]

    conditions: list[Rule] = []
    settled: set[str] = set()  # constraints that hold whatever the open questions get
    if verdict == "prompt_engineering":
        settled = {r.id for r in constraints if not given_rule(r)
                   and holds_whatever_comes(knowledge, full, today, r.when)}
        deciding = [r for r in constraints if given_rule(r) or case or r.id in settled]
        # A blocker backs prompting only through what the user said (ship this week...),
        # not through what is still unanswered.
        said = [r for r in blockers if given_rule(r) and _reads_values(knowledge, r)]
        reasons = deciding + explain + [r for r in toward_pe if given_rule(r)] + said
        counterpoints = toward_ft
        why = deciding + said
    else:
        reasons = toward_ft + explain
        counterpoints = toward_pe
        why = toward_ft
        if verdict == "prompt_then_fine_tune":
            conditions = blockers
    cautions = [r for r in shown if r.effect == "caution"]
    advice = [r for r in shown if r.effect == "advice"]
    cost_notes = [r for r in shown if r.effect == "cost_note"]

    words = _placeholders(knowledge, full, effective_values, costs, today)
    item = _item_maker(knowledge, full, words, _model_sources(knowledge, full, costs), settled)
    reason_items = tuple(item(r) for r in reasons)
    words["deciding_reason"] = _deciding_reason(why, conditions, item)
    used = reasons + conditions + counterpoints + cautions + advice

    return Decision(
        verdict=verdict,
        score=score,
        threshold=threshold,
        reasons=reason_items,
        conditions=tuple(item(r, use_until=True) for r in conditions),
        counterpoints=tuple(item(r) for r in counterpoints),
        cautions=tuple(item(r) for r in cautions),
        advice=tuple(item(r) for r in advice),
        cost_notes=tuple(item(r) for r in cost_notes),
        tradeoffs=tuple(_tradeoffs(knowledge, used)),
        costs=costs,
        payback_horizon_months=knowledge.policy.payback_horizon_months,
        assumptions=tuple(_assumptions(knowledge, answers, full, effective_values, words,
                                       used, costs, today)),
        counterfactuals=tuple(counterfactuals(knowledge, answers, verdict, today)
                              if with_counterfactuals else ()),
        missing=tuple(q.id for q in knowledge.questions if not is_given(answers, q.id)),
        open_questions=tuple(
            q.id for q in knowledge.questions if q.ask and q.id not in full
        ),
        not_sure=tuple(q.id for q in knowledge.questions if answers.get(q.id) == NOT_SURE),
        answers={q.id: answers[q.id] for q in knowledge.questions if q.id in answers},
        knowledge_version=knowledge.version,
        knowledge_as_of=knowledge.manifest.as_of,
        today=today.isoformat(),
    )


def _deciding_reason(reasons: list[Rule], conditions: list[Rule], item: Any) -> str:
    """Why the verdict stands, in a few words (the line under the costs): the gists of
    the first two deciding reasons, or the first conditions to meet. Never a reason's
    whole text, which the card already shows."""
    if conditions:
        return "first " + " and ".join(item(r, use_until=True).text.rstrip(".")
                                       for r in conditions[:2])
    gists = [r.gist for r in reasons if r.gist]
    return " and ".join(gists[:2]) if gists else "what you said does not make a case for it yet"


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


def _model_sources(knowledge: Knowledge, answers: Mapping[str, Any],
                   costs: Costs) -> tuple[str, ...]:
    """The sources of the dated facts about the team's model and the route costed."""
    found: list[str] = []
    rows = [catalogue.model_row(knowledge, answers)]
    if costs.route is not None:
        rows.append(knowledge.model(costs.route.model))
    for row in rows:
        if row is None:
            continue
        facts = [row.tuning or row.no_tuning, row.prices]
        if row.tuning is not None:
            facts += [row.tuning.hosting, row.tuning.training]
        found += [f.source for f in facts if f is not None]
    return tuple(dict.fromkeys(found))


def _item_maker(knowledge: Knowledge, answers: Mapping[str, Any], words: dict[str, str],
                model_sources: tuple[str, ...], settled: set[str]):
    def make(rule: Rule, use_until: bool = False) -> Item:
        text = (rule.until if use_until else rule.text) or ""
        text = text.format_map(_Words(words))
        # a rule that holds whatever comes does not hang on what is unanswered
        assumed = [] if rule.id in settled else _assumed_questions(knowledge, answers, rule)
        unsure = [knowledge.question(q).short for q in assumed if answers.get(q) == NOT_SURE]
        unanswered = [knowledge.question(q).short for q in assumed if q not in answers]
        if unanswered:
            text += f" (not answered yet: {', '.join(unanswered)})"
        if unsure:
            text += f" (you were not sure: {', '.join(unsure)})"
        sources = tuple(rule.sources)
        if rule.cites_model:
            sources = tuple(dict.fromkeys(sources + model_sources))
        return Item(rule.id, text, sources, tuple(assumed))

    return make


class _Words(dict):
    """Placeholders; one filled later (deciding_reason) reads as empty until then."""

    def __missing__(self, key: str) -> str:
        return ""


def _route_words(knowledge: Knowledge, routes: tuple[RouteCost, ...], has_volume: bool) -> str:
    if not routes:
        return "none in the knowledge as of today"
    parts = []
    for route in routes:
        until = (f"tuned models served until {route.serving_until}" if route.serving_until
                 else "no end date known")
        cost = (f", {humanize.usd(route.monthly_usd)} a month fine-tuned"
                if has_volume and route.monthly_usd is not None else "")
        unpriced = "" if route.complete else " plus hosting the knowledge cannot price"
        parts.append(f"{route.label} ({until}{cost}{unpriced})")
    return "; ".join(parts)


def _placeholders(knowledge: Knowledge, answers: Mapping[str, Any],
                  effective_values: Mapping[str, Any], costs: Costs, today: date):
    words: dict[str, str] = {}
    for question in knowledge.questions:
        value = effective_values.get(question.id)
        if value is None:
            unknown = question.assume is None and question.assume_from is None
            words[question.id] = "not known" if unknown and question.kind != "model" else "n/a"
        elif question.kind in ("choice", "model"):
            words[question.id] = question.label_of(value).lower() if question.kind == "choice" \
                else question.label_of(value)
        elif question.id == "monthly_calls" or question.unit == "tokens":
            words[question.id] = humanize.compact(value)
        elif question.unit == "share":
            words[question.id] = f"{value * 100:g}%"
        elif question.unit == "ms":
            words[question.id] = f"{humanize.plain_value(value)} ms"
        elif question.unit == "times":
            words[question.id] = f"{value:g}x"
        elif question.unit and question.unit.startswith("USD"):
            words[question.id] = humanize.usd(value)
        else:
            words[question.id] = humanize.plain_value(value)
    for name, threshold in knowledge.policy.thresholds.items():
        words[name] = (humanize.compact(threshold.value) if threshold.value >= 1e6
                       else humanize.grouped(threshold.value))
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
    policy = knowledge.policy
    words["payback_horizon_months"] = humanize.plain_value(policy.payback_horizon_months)
    words["fine_tune_threshold"] = str(policy.fine_tune_threshold)
    words["knowledge_as_of"] = knowledge.manifest.as_of
    words["today"] = today.isoformat()
    words["min_serving_months"] = humanize.months(policy.serving_window.min_months)
    words["serving_months"] = humanize.months(costs.serving_months)
    words["required_serving_months"] = humanize.months(costs.required_serving_months)
    words["remaining_routes"] = _route_words(knowledge, costs.routes,
                                             costs.monthly_input_tokens is not None)
    words["route_label"] = costs.route.label if costs.route is not None else "no route"
    row = catalogue.model_row(knowledge, answers)
    priced = catalogue.priced_as(knowledge, answers)
    words["model_label"] = catalogue.full_label(knowledge, row or priced)
    words["model_status"] = catalogue.status_text(knowledge, row or priced, today)
    words["route_dates"] = catalogue.dates_text(knowledge, row or priced, today).rstrip(".")
    # A reference model prices an unnamed one, but its provider says nothing of the team's.
    words["provider_status"] = (
        catalogue.provider_status(knowledge, row) if row is not None else
        "the model is not named, so no provider's dates apply yet; name it to see whether, "
        "and until when, it can be tuned.")
    return words


def _assumptions(
    knowledge: Knowledge,
    answers: Mapping[str, Any],
    full: Mapping[str, Any],
    effective_values: Mapping[str, Any],
    words: Mapping[str, str],
    used: list[Rule],
    costs: Costs,
    today: date,
) -> list[Assumption]:
    """Values the person did not give that the shown rules or the cost math relied on,
    each with its source and, for a dated fact, its date."""
    read = set()
    for rule in used:
        read |= condition_questions(knowledge, rule.when, values_only=True)
    found = []
    row = catalogue.model_row(knowledge, full)
    if row is not None and not is_given(answers, "model_access"):
        access = knowledge.question("model_access")
        fact = row.tuning or row.no_tuning or row.prices
        found.append(Assumption(
            "model_access", full["model_access"],
            f"{access.short}: {access.label_of(full['model_access'])}, from the catalogue for "
            f"{catalogue.full_label(knowledge, row)} on {today.isoformat()} "
            f"({catalogue.stamp(fact)})",
            fact.source,
        ))
    elif row is None and costs.monthly_input_tokens is not None:
        priced = catalogue.priced_as(knowledge, full)
        found.append(Assumption(
            "model", priced.id,
            f"{knowledge.question('model').short}: "
            f"{'not sure' if answers.get('model') == NOT_SURE else 'not named'}, priced as "
            f"{catalogue.full_label(knowledge, priced)} ({catalogue.stamp(priced.prices)})",
            priced.prices.source,
        ))
    elif answers.get("model") == NOT_SURE:
        found.append(Assumption(
            "model", None,
            f"{knowledge.question('model').short}: not sure, taken as no particular model "
            "(what you said of model access stands for it)", "project-assumptions"))
    for question in knowledge.questions:
        if is_given(full, question.id) or question.kind == "model":
            continue
        if question.ask:
            # "Not sure" is always listed with what it stood for, read by a rule or not.
            if question.id not in read and answers.get(question.id) != NOT_SURE:
                continue
            value = effective(knowledge, full, question.id)
            shown = question.label_of(value) if question.kind == "choice" else words[question.id]
            how = "not sure" if answers.get(question.id) == NOT_SURE else "not answered"
            if value == NOT_SURE:  # the question's own "Not sure yet" option
                taken = ", so no reason is drawn from it"
            elif value is None and question.assume is None and question.assume_from is None:
                taken = ", so nothing is compared with it"
            else:
                taken = f", taken as {shown}"
            found.append(Assumption(question.id, value, f"{question.short}: {how}{taken}",
                                    question.assume_source or "project-assumptions"))
            continue
        if costs.monthly_input_tokens is None:
            continue  # no volume, no cost math
        used_input = costs.input(question.id)
        if used_input is None:
            continue
        text = f"{question.short}: {words[question.id]}"
        if used_input.note:
            text += f" ({used_input.note})"
        found.append(Assumption(question.id, used_input.value, text,
                                used_input.source or "project-assumptions"))
    return found
