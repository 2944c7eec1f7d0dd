"""The pure engine: parse answers, apply the rules, compute costs, pick the next question.

Nothing here touches Slack, the network, a database or the clock.
"""

from bot.engine.answers import NOT_SURE, AnswerError, parse_answers, parse_value
from bot.engine.consultation import Consultation, Progress, Reply
from bot.engine.decide import decide
from bot.engine.decision import Decision
from bot.engine.flow import is_settled, next_question, possible_verdicts, questions_that_matter
from bot.engine.rules import verdict_only

__all__ = [
    "NOT_SURE",
    "AnswerError",
    "Consultation",
    "Decision",
    "Progress",
    "Reply",
    "decide",
    "is_settled",
    "next_question",
    "parse_answers",
    "parse_value",
    "possible_verdicts",
    "questions_that_matter",
    "verdict_only",
]
