"""Small readers for Slack payload fields the listeners share (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def user_id(body: Mapping[str, Any]) -> str:
    user = body.get("user")
    if isinstance(user, Mapping):
        return str(user.get("id") or "")
    return str(body.get("user_id") or user or "")


def team_id(body: Mapping[str, Any], context: Mapping[str, Any]) -> str | None:
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    return context.get("team_id") or body.get("team_id")


def action_place(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(channel, thread_ts) of the message a block action happened in (None in views)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    thread_ts = container.get("thread_ts") or message.get("thread_ts")
    return channel, thread_ts


def action_value(action: Mapping[str, Any]) -> str | None:
    """A button's value or a select's chosen option value."""
    selected = action.get("selected_option")
    if isinstance(selected, Mapping):
        return selected.get("value")
    return action.get("value")
