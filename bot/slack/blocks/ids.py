"""Callback, block and action ids shared by the Block Kit builders and the listeners.

Values carried by buttons and select options are packed as `part|part|...` (a
consultation id is 32 hex characters, question ids and option values have no `|`),
short enough for an option value (150 characters).
"""

from __future__ import annotations

import hashlib
import re

MODAL_CALLBACK = "ptf_consultation"
#: "More assumptions..." in the modal, and the pushed modal of cost assumptions.
MORE_ASSUMPTIONS = "ptf_more_assumptions"
ASSUMPTIONS_CALLBACK = "ptf_assumptions"
VALUE_ACTION = "value"  # the action_id of every input in the modal (block_id = question id)
PRIVATE_BLOCK = "ptf_private"
PRIVATE_ACTION = "private"

ANSWER_PREFIX = "ptf_answer"  # buttons ptf_answer_0.., select ptf_answer_select
ANSWER_PATTERN = re.compile(r"^ptf_answer_(?:\d+|select)$")
SKIP = "ptf_skip"
CHANGE = "ptf_change"  # static_select of answered questions
CHANGE_READ = "ptf_change_read"  # "Change" next to "I read: ...": what was read from text
START_OVER = "ptf_start_over"
BACK = "ptf_back"  # the question asked before the one on screen
RECORD_DM = "ptf_record_dm"  # card: the full record in my DMs
RECORD_MD = "ptf_record_md"  # DM: upload the Markdown decision record
ADJUST = "ptf_adjust"  # modal card: open the modal prefilled with these answers
FORM_AGAIN = "ptf_form_again"  # modal card: "Start over", an empty modal
HOME_NEW = "ptf_home_new"  # App Home: open the modal
MUTE_DRIFT = "ptf_drift_mute"  # recheck DM: never tell me about this consultation again

QUESTION_BLOCK = "ptf_q"
NAV_BLOCK = "ptf_nav"
CARD_ACTIONS_BLOCK = "ptf_card"
SUMMARY_ACTIONS_BLOCK = "ptf_summary"
HOME_ACTIONS_BLOCK = "ptf_home"
DRIFT_ACTIONS_BLOCK = "ptf_drift"

SEP = "|"
#: Between a block id's name and its version (see `versioned`).
VERSION_SEP = "."


def versioned(name: str, *state: object) -> str:
    """`name` plus a short digest of `state`. A message updated in place gets new block
    ids whenever what it shows changes, as Slack advises: with the same ids a select keeps
    the choice made before the update. The same state gives the same ids."""
    digest = hashlib.sha1(repr(state).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{name}{VERSION_SEP}{digest}"


def base_of(block_id: str | None) -> str:
    """The name of a (maybe versioned) block id."""
    return (block_id or "").split(VERSION_SEP, 1)[0]


def pack(*parts: object) -> str:
    return SEP.join(str(p) for p in parts)


def unpack(value: str | None, count: int) -> list[str] | None:
    """Split a packed value into exactly `count` parts (the last keeps any `|`), or None."""
    if not value:
        return None
    parts = value.split(SEP, count - 1)
    return parts if len(parts) == count and all(parts[:-1]) else None
