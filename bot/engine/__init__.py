"""The pure engine: parse answers, apply the rules, compute costs, pick the next question.

Nothing here touches Slack, the network or a database.
"""

from bot.engine.answers import AnswerError, parse_answers, parse_value
from bot.engine.decide import Decision, decide, verdict_only
from bot.engine.flow import Consultation, is_settled, next_question, possible_verdicts

__all__ = [
    "AnswerError",
    "Consultation",
    "Decision",
    "decide",
    "is_settled",
    "next_question",
    "parse_answers",
    "parse_value",
    "possible_verdicts",
    "verdict_only",
]
