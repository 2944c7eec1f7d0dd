"""Listener packages, laid out like Slack's bolt-python starter template.

    commands/  /ptf (modal, help, history)
    views/     the consultation modal's submission
    actions/   buttons and selects (answers, change, start over, records, App Home)
    events/    app_mention, message (thread replies, DMs), app_home_opened
    assistant/ Bolt's `Assistant`: thread started, context changed, user message
    functions/ the `ptf_decide` Workflow Builder step (function_executed)
    shortcuts/ the message shortcut "Ask the advisor about this thread"

One listener per file; each package's `register(app)` wires its listeners. `register(app)`
here calls them all, then any other sub-package/module that defines `register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from bot.slack.listeners import actions, commands, events, views
from bot.slack.phrasing import warm_up
from bot.slack.services import services_for

_PACKAGES = (commands, views, actions, events)


def _warm_llm(app: Any) -> None:
    """When `ANTHROPIC_API_KEY` is set, import the SDK and build its client now, so the
    first consultation does not spend its phrasing budget on it. Never raises."""
    try:
        settings = services_for(app).settings
    except KeyError:  # an app not built by create_app (tests, benchmarks)
        return
    warm_up(settings)


def register(app: Any) -> None:
    """Register every listener on `app` (and build the LLM client now, not on a click)."""
    _warm_llm(app)
    done = set()
    for package in _PACKAGES:
        package.register(app)
        done.add(package.__name__)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        name = f"{__name__}.{info.name}"
        if info.name.startswith("_") or name in done:
            continue
        module = importlib.import_module(name)
        sub_register = getattr(module, "register", None)
        if callable(sub_register):
            sub_register(app)
