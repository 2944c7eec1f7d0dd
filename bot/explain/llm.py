"""Optional LLM phrasing of a decision: the rules decide, the model only phrases.

    explanation = phrase(decision.to_dict(), source_titles(knowledge), settings,
                         template_text=render_text(decision),
                         source_urls=source_urls(knowledge))

- Off unless ``ANTHROPIC_API_KEY`` is set: the template text comes back and no
  request is made (``fallback_reason`` is None: nothing was tried).
- On: one Messages API request (see ``bot.explain.llm_request``) with the whole
  budget ``BOT_LLM_TIMEOUT_S`` covering every try, back-off and wait. The SDK's
  own retries are off; this module retries 408/409/429/5xx/529 and connection
  errors while the budget allows, honours ``retry-after`` only when it fits,
  and stops waiting at the deadline whatever the socket is doing (the call runs
  in a daemon worker thread).
- The answer goes through ``bot.explain.grounding.check``; a link in it may only point
  to a knowledge source's own URL (``source_urls``; without them, no link passes).
  Any failure, any API error or timeout gives the template text with
  ``fallback_reason``, a log line (no secrets, no request content) and
  ``ptf_llm_fallbacks_total{reason}`` + 1 (the counter is
  ``bot.metrics.LLM_FALLBACKS``, re-exported here).
- The verdict is never read from the model: callers keep using the decision's.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from bot.engine.verdicts import VERDICT_LABELS
from bot.explain import grounding
from bot.explain.llm_request import (
    build_request,
    decision_numbers,
    known_ids,
)
from bot.metrics import LLM_FALLBACKS, LLM_PHRASED

if TYPE_CHECKING:
    from anthropic import Anthropic

    from bot.config import Settings

log = logging.getLogger(__name__)

#: Tries per explanation (first call + retries), all inside the budget.
MAX_ATTEMPTS = 3
#: A try is not started with less time than this left.
MIN_ATTEMPT_S = 0.2
BACKOFF_BASE_S = 0.25
RETRY_STATUSES = frozenset({408, 409, 429})




@dataclass(frozen=True)
class Explanation:
    """The text to show, and where it came from."""

    text: str
    source: Literal["llm", "template"]
    fallback_reason: str | None = None
    cited_sources: list[str] = field(default_factory=list)
    cited_rules: list[str] = field(default_factory=list)
    usage: Mapping[str, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``explanation`` object of ``decide --format json``."""
        data: dict[str, Any] = {"text": self.text, "source": self.source}
        if self.fallback_reason is not None:
            data["fallback_reason"] = self.fallback_reason
        data["cited_sources"] = list(self.cited_sources)
        return data


class _Fallback(Exception):
    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


TemplateText = str | Callable[[], str] | None


def source_titles(knowledge: Any) -> dict[str, str]:
    """``{source id: title}`` from ``bot.knowledge.load_knowledge()``."""
    return {s.id: s.title for s in knowledge.sources}


def source_urls(knowledge: Any) -> frozenset[str]:
    """The URLs of the knowledge's sources: the only links phrased text may carry."""
    return frozenset(s.url for s in knowledge.sources if s.url)


def phrase(
    decision: Mapping[str, Any],
    sources: Mapping[str, str],
    settings: Settings,
    *,
    template_text: TemplateText = None,
    source_urls: Iterable[str] = (),
) -> Explanation:
    """Phrase ``decision`` (the engine's ``Decision.to_dict()``) for a person.

    ``sources`` maps knowledge source ids to titles; cited ids outside it are
    dropped (an empty mapping keeps all). ``template_text`` is the deterministic
    text (or a no-argument callable producing it, called only when needed).
    ``source_urls``: the URLs a link in the text may point to (``source_urls(knowledge)``).
    Never raises: every failure is the template with a ``fallback_reason``.
    """
    if not settings.llm_enabled:
        return Explanation(_template(decision, template_text), "template")
    started = time.monotonic()
    # The budget covers everything from here: building the client, every try,
    # back-off and wait. phrase() returns by the deadline whatever happens.
    deadline = started + settings.bot_llm_timeout_s
    try:
        verdict = decision.get("verdict")
        if verdict not in VERDICT_LABELS:
            raise _Fallback("bad_decision", f"verdict {verdict!r}")
        request = build_request(decision)
        params = request.params(settings.bot_llm_model, settings.bot_llm_max_tokens)
        message = _call(params, settings, deadline)
        result = grounding.check(
            message,
            facts=[fact.text for fact in request.facts],
            verdict=verdict,
            allowed_numbers=decision_numbers(decision),
            allowed_urls=source_urls,
        )
        usage = _usage(message)
        if not result.ok:
            raise _Fallback(result.reason or "grounding", result.detail)
    except _Fallback as failed:
        return _fallback(decision, template_text, settings, started, failed.reason, failed.detail)
    except Exception:  # never let phrasing break a surface
        log.exception("llm explanation failed unexpectedly; using the template")
        return _fallback(decision, template_text, settings, started, "internal_error", None)

    blocks = [request.facts[i] for i in result.cited_blocks]
    cited_sources = known_ids((s for fact in blocks for s in fact.sources), sources)
    cited_rules = known_ids(
        (f.key for f in blocks if f.kind in {"reason", "condition", "caution", "advice"}), {}
    )
    LLM_PHRASED.inc()
    log.info(
        "llm explanation used: model=%s elapsed_ms=%d usage=%s",
        settings.bot_llm_model,
        (time.monotonic() - started) * 1000,
        usage,
    )
    return Explanation(result.text, "llm", None, cited_sources, cited_rules, usage)


def _fallback(
    decision: Mapping[str, Any],
    template_text: TemplateText,
    settings: Settings,
    started: float,
    reason: str,
    detail: str | None,
) -> Explanation:
    LLM_FALLBACKS.labels(reason=reason).inc()
    log.warning(
        "llm explanation fell back to the template: reason=%s detail=%s model=%s elapsed_ms=%d",
        reason,
        detail,
        settings.bot_llm_model,
        (time.monotonic() - started) * 1000,
    )
    return Explanation(_template(decision, template_text), "template", reason)


def _template(decision: Mapping[str, Any], template_text: TemplateText) -> str:
    if isinstance(template_text, str):
        return template_text
    if callable(template_text):
        return template_text()
    # Minimal stand-in when the caller did not pass the renderer's text.
    lines = [str(decision.get("summary") or decision.get("verdict_label") or "")]
    lines += [f"- {item['text']}" for item in decision.get("reasons") or () if item.get("text")]
    return "\n".join(line for line in lines if line)


# --- the call, inside the budget ---------------------------------------------


def warm_up(settings: Settings) -> Anthropic | None:
    """Import the SDK and build the client (about a second, once per process).

    ``phrase`` does this inside its budget; a server calls it at start-up so
    the first explanation does not spend a second of the budget on imports.
    None when LLM phrasing is off.
    """
    if not settings.llm_enabled:
        return None
    assert settings.anthropic_api_key is not None
    client = _client(settings.anthropic_api_key.get_secret_value(), settings.anthropic_base_url)
    client.messages  # noqa: B018 (imports the messages resource and its types)
    return client


def _call(params: dict[str, Any], settings: Settings, deadline: float) -> dict[str, Any]:
    """Run the tries in a worker thread; stop waiting at the deadline."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            client = warm_up(settings)
            assert client is not None
            box["message"] = _attempts(client, params, deadline)
        except _Fallback as failed:
            box["fallback"] = failed
        except Exception as error:  # reported by the waiting thread
            box["error"] = error
        finally:
            done.set()

    threading.Thread(target=work, name="ptf-llm-call", daemon=True).start()
    if not done.wait(max(0.0, deadline - time.monotonic())):
        raise _Fallback("timeout", f"no answer within {settings.bot_llm_timeout_s:g} s")
    if "fallback" in box:
        raise box["fallback"]
    if "error" in box:
        raise box["error"]
    return box["message"]


def _attempts(client: Anthropic, params: dict[str, Any], deadline: float) -> dict[str, Any]:
    import anthropic

    last = "timeout"
    for attempt in range(MAX_ATTEMPTS):
        remaining = deadline - time.monotonic()
        if remaining < MIN_ATTEMPT_S:
            break
        wait: float | None = None
        try:
            message = client.messages.create(**params, timeout=remaining)
            return message.model_dump(mode="json")
        except anthropic.APIStatusError as error:
            last = f"api_error:{error.status_code}"
            if not (error.status_code in RETRY_STATUSES or error.status_code >= 500):
                raise _Fallback(last, _error_type(error)) from None
            wait = _retry_after(error.response.headers)
        except anthropic.APITimeoutError:
            last = "timeout"
        except anthropic.APIConnectionError:
            last = "api_error:connection"
        if wait is None:
            wait = BACKOFF_BASE_S * (2**attempt) * (1 - 0.25 * random.random())
        if time.monotonic() + wait + MIN_ATTEMPT_S >= deadline or attempt == MAX_ATTEMPTS - 1:
            break
        time.sleep(wait)
    raise _Fallback(last)


@lru_cache(maxsize=4)
def _client(api_key: str, base_url: str | None) -> Anthropic:
    from anthropic import Anthropic

    # base_url None: the SDK reads ANTHROPIC_BASE_URL itself. Retries are ours.
    return Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=30.0)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            return None
    return None


def _error_type(error: Any) -> str | None:
    body = getattr(error, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return str(inner.get("type"))
    return None


def _usage(message: Mapping[str, Any]) -> dict[str, int] | None:
    usage = message.get("usage")
    if not isinstance(usage, Mapping):
        return None
    keys = ("input_tokens", "output_tokens", "cache_creation_input_tokens",
            "cache_read_input_tokens")
    return {k: int(usage[k]) for k in keys if isinstance(usage.get(k), int)}
