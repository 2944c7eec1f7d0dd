"""Block action listeners (buttons and selects in messages, App Home and DMs)."""

from slack_bolt import App

from bot.slack.blocks import ids

from .adjust_answers import adjust_answers_callback
from .answer_question import answer_question_callback
from .change_answer import change_answer_callback
from .change_read_answer import change_read_answer_callback
from .go_back import go_back_callback
from .markdown_record import markdown_record_callback
from .more_assumptions import more_assumptions_callback
from .mute_consultation import mute_consultation_callback
from .new_consultation import new_consultation_callback
from .send_record import send_record_callback
from .skip_question import skip_question_callback
from .start_form_over import start_form_over_callback
from .start_over import start_over_callback


def register(app: App) -> None:
    app.action(ids.ANSWER_PATTERN)(answer_question_callback)
    app.action(ids.SKIP)(skip_question_callback)
    app.action(ids.CHANGE)(change_answer_callback)
    app.action(ids.CHANGE_READ)(change_read_answer_callback)
    app.action(ids.START_OVER)(start_over_callback)
    app.action(ids.BACK)(go_back_callback)
    app.action(ids.RECORD_DM)(send_record_callback)
    app.action(ids.RECORD_MD)(markdown_record_callback)
    app.action(ids.ADJUST)(adjust_answers_callback)
    app.action(ids.FORM_AGAIN)(start_form_over_callback)
    app.action(ids.HOME_NEW)(new_consultation_callback)
    app.action(ids.MUTE_DRIFT)(mute_consultation_callback)
    app.action(ids.MORE_ASSUMPTIONS)(more_assumptions_callback)
