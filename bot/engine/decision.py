"""The typed result of a consultation: what `decide` returns and every renderer reads.

A `Decision` is stored as JSON (`to_dict`) with the consultation and read back with
`Decision.from_dict`, so a card rendered from the database and one rendered right after
deciding come from the same object. Decisions stored by earlier versions lack some keys;
`from_dict` fills them with empty values rather than failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.costs import Costs
from bot.engine.verdicts import VERDICT_LABELS


@dataclass(frozen=True)
class Item:
    """A reason, condition, caution or piece of advice, with its sources."""

    rule: str
    text: str
    sources: tuple[str, ...]
    assumed: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rule": self.rule, "text": self.text, "sources": list(self.sources)}
        if self.assumed:
            data["assumed"] = list(self.assumed)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Item:
        return cls(
            str(data.get("rule", "")), str(data.get("text", "")),
            tuple(str(s) for s in data.get("sources") or ()),
            tuple(str(q) for q in data.get("assumed") or ()),
        )


@dataclass(frozen=True)
class Assumption:
    """A value the rules or the cost math used that the person did not give."""

    question: str
    value: Any
    text: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "value": self.value, "text": self.text,
                "source": self.source}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Assumption:
        return cls(str(data.get("question", "")), data.get("value"), str(data.get("text", "")),
                   str(data.get("source", "")))


@dataclass(frozen=True)
class Counterfactual:
    """The nearest answer that would change the verdict: one question's (`question`,
    `value`), or, when no single answer does, the fewest together (`changes`, the first
    of them also as `question` and `value`)."""

    question: str
    value: Any
    verdict: str
    text: str
    changes: tuple[tuple[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = {"question": self.question, "value": self.value, "verdict": self.verdict,
                "text": self.text}
        if self.changes:
            data["changes"] = [{"question": q, "value": v} for q, v in self.changes]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Counterfactual:
        changes = tuple((str(c.get("question", "")), c.get("value"))
                        for c in data.get("changes") or () if isinstance(c, Mapping))
        return cls(str(data.get("question", "")), data.get("value"),
                   str(data.get("verdict", "")), str(data.get("text", "")), changes)


@dataclass(frozen=True)
class Decision:
    verdict: str
    score: int
    threshold: int
    reasons: tuple[Item, ...]
    conditions: tuple[Item, ...]
    counterpoints: tuple[Item, ...]
    cautions: tuple[Item, ...]
    advice: tuple[Item, ...]
    cost_notes: tuple[Item, ...]
    tradeoffs: tuple[dict[str, str], ...]
    costs: Costs
    payback_horizon_months: float
    assumptions: tuple[Assumption, ...]
    counterfactuals: tuple[Counterfactual, ...]
    missing: tuple[str, ...]
    open_questions: tuple[str, ...]
    not_sure: tuple[str, ...]
    answers: Mapping[str, Any]
    knowledge_version: str
    knowledge_as_of: str
    today: str = ""

    @property
    def verdict_label(self) -> str:
        return VERDICT_LABELS.get(self.verdict, self.verdict)

    @property
    def summary(self) -> str:
        lead = self.reasons[0].text if self.reasons else ""
        return f"{self.verdict_label}. {lead}".strip()

    @property
    def has_volume(self) -> bool:
        """Whether the cost math had a workload (prompt length and calls a month)."""
        return self.costs.monthly_input_tokens is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "verdict_label": self.verdict_label,
            "summary": self.summary,
            "reasons": [item.to_dict() for item in self.reasons],
            "conditions": [item.to_dict() for item in self.conditions],
            "counterpoints": [item.to_dict() for item in self.counterpoints],
            "cautions": [item.to_dict() for item in self.cautions],
            "advice": [item.to_dict() for item in self.advice],
            "cost_notes": [item.to_dict() for item in self.cost_notes],
            "tradeoffs": [dict(row) for row in self.tradeoffs],
            "costs": {**self.costs.to_dict(),
                      "payback_horizon_months": self.payback_horizon_months},
            "assumptions": [a.to_dict() for a in self.assumptions],
            "counterfactuals": [c.to_dict() for c in self.counterfactuals],
            "missing": list(self.missing),
            "open_questions": list(self.open_questions),
            "not_sure": list(self.not_sure),
            "answers": dict(self.answers),
            "score": {"case_for_fine_tuning": self.score, "threshold": self.threshold},
            "knowledge_version": self.knowledge_version,
            "knowledge_as_of": self.knowledge_as_of,
            "today": self.today,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """A stored decision (`to_dict` output, also from earlier versions) as a Decision."""

        def items(key: str) -> tuple[Item, ...]:
            return tuple(Item.from_dict(i) for i in data.get(key) or () if isinstance(i, Mapping))

        costs = data.get("costs") if isinstance(data.get("costs"), Mapping) else {}
        score = data.get("score") if isinstance(data.get("score"), Mapping) else {}
        return cls(
            verdict=str(data.get("verdict", "prompt_engineering")),
            score=int(score.get("case_for_fine_tuning", 0) or 0),
            threshold=int(score.get("threshold", 0) or 0),
            reasons=items("reasons"),
            conditions=items("conditions"),
            counterpoints=items("counterpoints"),
            cautions=items("cautions"),
            advice=items("advice"),
            cost_notes=items("cost_notes"),
            tradeoffs=tuple(dict(r) for r in data.get("tradeoffs") or () if isinstance(r, Mapping)),
            costs=Costs.from_dict(costs),
            payback_horizon_months=float(costs.get("payback_horizon_months") or 0.0),
            assumptions=tuple(Assumption.from_dict(a) for a in data.get("assumptions") or ()
                              if isinstance(a, Mapping)),
            counterfactuals=tuple(Counterfactual.from_dict(c)
                                  for c in data.get("counterfactuals") or ()
                                  if isinstance(c, Mapping)),
            missing=tuple(str(q) for q in data.get("missing") or ()),
            open_questions=tuple(str(q) for q in data.get("open_questions") or ()),
            not_sure=tuple(str(q) for q in data.get("not_sure") or ()),
            answers=dict(data.get("answers") or {}),
            knowledge_version=str(data.get("knowledge_version", "?")),
            knowledge_as_of=str(data.get("knowledge_as_of", "?")),
            today=str(data.get("today", "")),
        )
