"""Logging for the serving process: levels, format, and secret redaction.

`configure_logging(settings)` (or `configure_logging(level=..., secrets=[...])`):

- root level from `LOG_LEVEL` (default INFO); `slack_sdk`, `slack_bolt`, `urllib3`,
  `sqlalchemy` stay at WARNING unless `LOG_LEVEL=DEBUG`;
- redaction of anything shaped like a Slack or Anthropic token (`xoxb-`, `xoxp-`,
  `xapp-`, `sk-ant-`, ...), `Bearer ...` values, passwords in URLs, and the exact
  values of the configured secrets (signing secret, tokens, API key, DB password).

Redaction happens when a record is created (a log-record factory), so it covers every
handler, including pytest's caplog and gunicorn's, plus a filter on our own handler.
Call it as often as you like: it is idempotent and only adds secrets.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Settings

REDACTED = "[REDACTED]"

_TOKEN_PATTERNS = [
    r"xox(?:[abeoprs]|e\.xox[bp])-[A-Za-z0-9-]+",  # Slack bot/user/refresh tokens
    r"xapp-[A-Za-z0-9-]+",  # Slack app-level token
    r"sk-ant-[A-Za-z0-9_-]+",  # Anthropic API keys
    r"(?<=(?i:bearer) )[A-Za-z0-9._~+/=-]{8,}",  # Authorization: Bearer <...>
    r"(?<=://)[^:/@\s]+:[^@\s]+(?=@)",  # user:password@ in URLs
    r"(?<=(?i:password)=)[^\s&;'\"]+",  # password=... in conninfo strings
]
_PATTERN = re.compile("|".join(f"(?:{p})" for p in _TOKEN_PATTERNS))

_lock = threading.Lock()
_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None
_installed = False
_HANDLER_NAME = "ptf-bot"

QUIET_LOGGERS = ("slack_sdk", "slack_bolt", "urllib3", "sqlalchemy", "websocket")


def redact(text: str) -> str:
    """Return `text` with tokens, passwords and registered secrets replaced."""
    if not text:
        return text
    out = _PATTERN.sub(REDACTED, text)
    pattern = _secret_re
    if pattern is not None:
        out = pattern.sub(REDACTED, out)
    return out


def add_secrets(values: Iterable[Any]) -> None:
    """Register exact secret values (str or pydantic SecretStr) to redact from every log."""
    global _secret_re
    with _lock:
        for v in values:
            if v is None:
                continue
            raw = v.get_secret_value() if hasattr(v, "get_secret_value") else str(v)
            if raw and len(raw) >= 6:
                _secrets.add(raw)
        if _secrets:
            alts = sorted(_secrets, key=len, reverse=True)
            _secret_re = re.compile("|".join(re.escape(s) for s in alts))


def _redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "_ptf_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep the raw pieces, redacted
        message = f"{record.msg} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._ptf_redacted = True  # type: ignore[attr-defined]


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from the record (never drops it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _install_record_factory() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def settings_secrets(settings: Settings) -> list[Any]:
    """The secret values found in `settings` (tokens, signing secret, key, DB password)."""
    values: list[Any] = [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.anthropic_api_key,
    ]
    try:
        from sqlalchemy.engine import make_url

        values.append(make_url(settings.database_url).password)
    except Exception:
        pass
    return values


def install_redaction(settings: Settings | None = None, secrets: Iterable[Any] = ()) -> None:
    """Redact tokens and these secrets from every log record of the process, from now on.

    Touches no handler or level (`create_app` calls this; `configure_logging` too).
    """
    add_secrets(secrets)
    if settings is not None:
        add_secrets(settings_secrets(settings))
    _install_record_factory()


def reset_sdk_logger_levels() -> None:
    """Make every existing `slack_bolt.*`/`slack_sdk.*` logger inherit its level again.

    Bolt copies the root level onto each logger it creates (`slack_bolt.App`, its
    middleware, the Socket Mode client), which would bypass the WARNING set on
    `slack_bolt`. Called after those objects are built (`create_app`, Socket Mode).
    """
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and name.startswith(("slack_bolt.", "slack_sdk.")):
            logger.setLevel(logging.NOTSET)


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | None = None,
    secrets: Iterable[Any] = (),
) -> None:
    """Set levels, install redaction and one stderr handler on the root logger."""
    install_redaction(settings, secrets)
    if settings is not None:
        level = level or settings.log_level

    name = (level or "INFO").upper()
    numeric = logging.getLevelName(name)
    if not isinstance(numeric, int):
        numeric, name = logging.INFO, "INFO"
    root = logging.getLogger()
    root.setLevel(numeric)
    quiet = logging.DEBUG if name == "DEBUG" else logging.WARNING
    for logger_name in QUIET_LOGGERS:
        logging.getLogger(logger_name).setLevel(max(quiet, numeric))
    reset_sdk_logger_levels()

    if not any(getattr(h, "name", None) == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.name = _HANDLER_NAME
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
        )
        handler.addFilter(RedactingFilter())
        root.addHandler(handler)
