"""Knowledge files: schema (`schema.py`), loading (`loader.py`), checks (`checks.py`).

The knowledge under `knowledge/` is data a team edits without touching code; the bot
refuses to start on a problem and names the file, the entry and the reason.
"""

from bot.engine.verdicts import VERDICTS, Verdict
from bot.knowledge.loader import (
    KNOWLEDGE_FILES,
    MODEL_QUESTION,
    Knowledge,
    Reference,
    default_knowledge_dir,
    load_knowledge,
)
from bot.knowledge.problems import KnowledgeError, Problem
from bot.knowledge.schema import (
    METRICS,
    Condition,
    Criterion,
    DatedFact,
    ModelRow,
    Option,
    Policy,
    ProviderRow,
    Question,
    Rule,
    Source,
    Tuning,
)

__all__ = [
    "KNOWLEDGE_FILES",
    "METRICS",
    "MODEL_QUESTION",
    "VERDICTS",
    "Condition",
    "Criterion",
    "DatedFact",
    "Knowledge",
    "KnowledgeError",
    "ModelRow",
    "Option",
    "Policy",
    "Problem",
    "ProviderRow",
    "Question",
    "Reference",
    "Rule",
    "Source",
    "Tuning",
    "Verdict",
    "default_knowledge_dir",
    "load_knowledge",
]
