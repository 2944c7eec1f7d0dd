"""Listener packages. Each sub-package (or module) here has a `register(app)`.

`register(app)` imports every sub-package of `bot.slack.listeners`, in name order, and
calls its `register(app)`; nothing else. Add a listener package and it is picked up.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def register(app: Any) -> None:
    """Call `register(app)` of each sub-package/module that defines one."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        sub_register = getattr(module, "register", None)
        if callable(sub_register):
            sub_register(app)
