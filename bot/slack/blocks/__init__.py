"""Pure Block Kit builders: functions of plain data that return dicts (no Slack calls).

- `modal.consultation_modal` / `modal.read_submission`: the `/ptf` form and its reading
- `question.question_message`: the thread message that asks one question at a time
- `card.result_card`: the verdict card in the channel or thread
- `summary.dm_summary`: the full record in the DM
- `home.home_view`, `home.history_blocks`, `home.help_blocks`
- `limits.check`: every Block Kit limit a payload breaks (empty when it fits)
"""

from bot.slack.blocks.card import result_card
from bot.slack.blocks.home import HistoryItem, help_blocks, history_blocks, home_view
from bot.slack.blocks.limits import check
from bot.slack.blocks.modal import (
    Submission,
    assumptions_modal,
    consultation_modal,
    read_submission,
)
from bot.slack.blocks.question import QuestionState, question_message
from bot.slack.blocks.summary import dm_summary

__all__ = [
    "HistoryItem",
    "QuestionState",
    "Submission",
    "check",
    "assumptions_modal",
    "consultation_modal",
    "dm_summary",
    "help_blocks",
    "history_blocks",
    "home_view",
    "question_message",
    "read_submission",
    "result_card",
]
