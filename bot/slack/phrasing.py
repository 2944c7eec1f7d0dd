"""LLM phrasing on the Slack surfaces: the card at once, the phrased text after.

The result card and the DM summary are posted with the template prose
(`records.card_explanation`) as soon as the decision exists. Then, in the same
background work and only when `settings.llm_enabled`, `improve(...)`:

1. calls `bot.explain.llm.phrase` with the decision dict only (never Slack text) and the
   template prose as `template_text`; it never raises and returns within
   `BOT_LLM_TIMEOUT_S`;
2. saves the explanation in the consultation's `meta["explanation"]` (`text`, `source`,
   `fallback_reason`, `cited_sources`, and `for_decision`: a fingerprint of the decision
   it phrases), so later renders (the thread card, re-sent DM records, the Markdown
   record) show the same text without calling the model again;
3. if the text passed the checks (`source == "llm"`), replaces the card in place with
   `chat.update` (channel/ts from `meta["card"]`; an ephemeral card cannot be updated
   and stays as posted), then the owner's DM summary (`meta["dm"]`, when it was sent for
   this decision): the same blocks, with the phrased prose and its cited sources.
   On a fallback nothing is updated.

It returns the `Prose` now shown. The verdict, reasons and costs on every surface stay
the engine's: only the prose paragraph (and the reason it repeats) changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.engine.decision import Decision
from bot.slack.web import Deps, SlackCallFailed, call
from bot.store import StoreError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store import ConsultationDraft, StoredConsultation

log = logging.getLogger("bot.slack.phrasing")

META_KEY = "explanation"

Rendered = tuple[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Prose:
    """The paragraph at the top of the card and the DM summary.

    `sources` is None for the template text, and the cited knowledge source ids (maybe
    empty) for LLM phrasing that passed the grounding checks."""

    text: str
    sources: tuple[str, ...] | None = None

    @property
    def phrased(self) -> bool:
        return self.sources is not None


def fingerprint(decision: Decision | Mapping[str, Any]) -> str:
    """A short stable digest of a decision: the same for a `Decision` and for its stored
    JSON (read back through `Decision.from_dict`, so keys older rows lack do not count)."""
    if not isinstance(decision, Decision):
        decision = Decision.from_dict(decision)
    raw = json.dumps(decision.to_dict(), sort_keys=True, separators=(",", ":"),
                     ensure_ascii=False,
                     default=str)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:20]


def stored(meta: Mapping[str, Any], decision: Decision) -> dict[str, Any] | None:
    """The explanation saved in `meta` for this very decision (None if none, or if it was
    for an earlier decision of the consultation, e.g. before "Change an answer")."""
    record = meta.get(META_KEY)
    if isinstance(record, dict) and record.get("for_decision") == fingerprint(decision):
        return record
    return None


def shown(decision: Decision, meta: Mapping[str, Any], template: str) -> Prose:
    """What to show for `decision`: its saved phrasing when that passed, else `template`."""
    record = stored(meta, decision)
    if record is not None and record.get("source") == "llm":
        text = record.get("text")
        if isinstance(text, str) and text.strip():
            cited = record.get("cited_sources") or []
            return Prose(text, tuple(s for s in cited if isinstance(s, str)))
    return Prose(template)


def markdown_text(prose: Prose) -> str:
    """The prose for the Markdown decision record, with its sources cited the record's way."""
    if not prose.phrased:
        return prose.text
    refs = " ".join(f"[{s}]" for s in prose.sources or ())
    return (f"{prose.text} {refs}".rstrip() + "\n\n_Worded by an AI model and checked against "
            "the cited facts; the verdict and figures come from the rules._")


def warm_up(settings: Settings) -> None:
    """At start-up: import the Anthropic SDK and build its client when phrasing is on, so
    the first consultation does not spend its budget on that. Never raises."""
    if not settings.llm_enabled:
        return
    try:
        from bot.explain.llm import warm_up as build_client

        build_client(settings)
    except Exception as exc:  # phrase() builds it later (and falls back if it cannot)
        log.warning("LLM phrasing warm-up failed (%s); continuing without it",
                    type(exc).__name__)


def improve(
    deps: Deps,
    c: StoredConsultation,
    decision: Decision,
    *,
    template: str,
    render: Callable[[Prose], Rendered] | None,
    render_dm: Callable[[Prose], Rendered] | None = None,
    on_changed: Callable[[StoredConsultation], None] | None = None,
) -> Prose:
    """Phrase `decision` (consultation `c`), save it, refresh the card and the DM; see
    the module doc.

    `template` is the prose the card and the DM were posted with; `render(prose)` and
    `render_dm(prose)` give their (text, blocks) with that prose (None: nothing to
    update). `on_changed(row)` is called when the consultation changed while the card was
    being updated (e.g. "Change an answer" in the thread), so the caller can show its
    latest state again.
    """
    if not deps.settings.llm_enabled:
        return Prose(template)
    try:
        return _improve(deps, c, decision, template, render, render_dm, on_changed)
    except Exception:  # phrasing must never cost the user their DM summary
        log.exception("consultation %s: LLM phrasing step failed; template text kept", c.id)
        return Prose(template)


def _improve(
    deps: Deps,
    c: StoredConsultation,
    decision: Decision,
    template: str,
    render: Callable[[Prose], Rendered] | None,
    render_dm: Callable[[Prose], Rendered] | None,
    on_changed: Callable[[StoredConsultation], None] | None,
) -> Prose:
    from bot.explain.llm import phrase, source_titles, source_urls

    # The decision dict only: no Slack text, no consultation meta, ever.
    explanation = phrase(decision.to_dict(), source_titles(deps.knowledge), deps.settings,
                         template_text=template, source_urls=source_urls(deps.knowledge))
    digest = fingerprint(decision)
    row = _save(deps, c.id, digest, {
        "text": explanation.text,
        "source": explanation.source,
        "fallback_reason": explanation.fallback_reason,
        "cited_sources": list(explanation.cited_sources),
        "for_decision": digest,
    })
    if explanation.source != "llm":
        return Prose(template)  # the card and the DM stay as posted
    prose = Prose(explanation.text, tuple(explanation.cited_sources))
    if row is not None:
        if render is not None:
            _update_card(deps, row, digest, render(prose), on_changed)
        if render_dm is not None:
            _update_dm(deps, row, digest, render_dm(prose))
    return prose


def _save(deps: Deps, cid: str, digest: str, record: dict[str, Any]) -> StoredConsultation | None:
    """Write `meta["explanation"]` if the consultation still has this decision; the row
    after the write (None when the store failed)."""

    def apply(d: ConsultationDraft) -> None:
        if d.decision is not None and fingerprint(d.decision) == digest:
            d.meta[META_KEY] = record

    try:
        return deps.store.update(cid, apply, require_open=False)
    except StoreError as exc:
        log.warning("could not save the explanation of consultation %s: %s", cid, exc)
        return None


def _card_of(row: StoredConsultation, digest: str) -> Mapping[str, Any] | None:
    """The card to update: public, and still showing this decision."""
    card = row.meta.get("card")
    if not isinstance(card, Mapping) or card.get("ephemeral"):
        return None
    channel, ts = card.get("channel"), card.get("ts")
    if not (isinstance(channel, str) and isinstance(ts, str) and channel and ts):
        return None
    if row.status != "done" or row.decision is None or fingerprint(row.decision) != digest:
        return None
    if row.message_ts is not None and row.message_ts != ts:  # the thread moved on
        return None
    return card


def _update_card(
    deps: Deps,
    row: StoredConsultation,
    digest: str,
    rendered: Rendered,
    on_changed: Callable[[StoredConsultation], None] | None,
) -> None:
    card = _card_of(row, digest)
    if card is None:
        return
    text, blocks = rendered
    try:
        _replace(deps, card, text, blocks, kind="card", owner=row.user_id, cid=row.id)
    except SlackCallFailed as exc:  # the template card stays: still right, only plainer
        log.warning("consultation %s: card kept with the template text (%s)", row.id, exc.error)
        return
    if on_changed is None:
        return
    try:
        after = deps.store.get(row.id)
    except StoreError:
        return
    if after is not None and after.version != row.version and _card_of(after, digest) is None:
        try:
            on_changed(after)
        except Exception as exc:  # the next click or message shows the latest state anyway
            log.warning("consultation %s changed during phrasing; re-showing it failed (%s)",
                        row.id, getattr(exc, "error", type(exc).__name__))


def _update_dm(deps: Deps, row: StoredConsultation, digest: str, rendered: Rendered) -> None:
    """Replace the owner's DM summary of this decision in place (meta["dm"])."""
    dm = row.meta.get("dm")
    if not isinstance(dm, Mapping) or dm.get("for_decision") != digest:
        return
    channel, ts = dm.get("channel"), dm.get("ts")
    if not (isinstance(channel, str) and isinstance(ts, str) and channel and ts):
        return
    text, blocks = rendered
    try:
        _replace(deps, dm, text, blocks, kind="dm", owner=row.user_id, cid=row.id)
    except SlackCallFailed as exc:  # the template summary stays: still right, only plainer
        log.warning("consultation %s: DM kept with the template text (%s)", row.id, exc.error)


def _replace(deps: Deps, posted: Mapping[str, Any], text: str, blocks: list[dict[str, Any]],
             *, kind: str, owner: str, cid: str) -> None:
    """Replace a posted message: through the outbox when it was sent through it (its key
    is in the meta), so the newest content wins even while Slack is failing."""
    from bot.slack import outbox

    key = posted.get("key")
    if not isinstance(key, str) or not key:
        call(deps, "chat_update", channel=posted["channel"], ts=posted["ts"], text=text,
             blocks=blocks)
        return
    outbox.send(deps, key, kind=kind, channel=str(posted["channel"]), text=text,
                blocks=blocks, consultation_id=cid, owner=owner,
                message_ts=str(posted["ts"])).raise_if_refused()
