"""Block Kit limits and small element constructors that respect them by construction.

Every builder in `bot.slack.blocks` uses these helpers, so a long knowledge text or a
user's input can never push a payload over Slack's limits (Slack rejects the whole
message with `invalid_blocks`). `check(blocks_or_view)` lists any limit a payload breaks;
the tests run it over every builder's output.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 3000  # section / context mrkdwn text
MAX_HEADER = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 75
MAX_OPTION_GROUPS = 100
MAX_GROUP_LABEL = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_PLACEHOLDER = 150
MAX_ID = 255
MAX_BUTTON_VALUE = 2000
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
MAX_FALLBACK_TEXT = 3000  # the `text` of a message with blocks (notifications)
ELLIPSIS = "\u2026"

Block = dict[str, Any]

#: What a cut must not split: a `<...>` token (link, mention, date) or an entity.
_MARKUP = re.compile(r"<[^<>]*>|&(?:#\d+|[A-Za-z]+);")


def clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text` cut to `limit` characters, ending with an ellipsis when cut.

    A cut that would fall inside a `<https://...|label>` link (or a mention, a date) or an
    `&amp;` entity is made before it instead: half a link or half an entity is markup
    Slack shows broken (or rejects)."""
    text = str(text)
    if len(text) <= limit:
        return text
    end = max(0, limit - 1)
    for token in _MARKUP.finditer(text):
        if token.start() >= end:
            break
        if token.end() > end:
            end = token.start()
            break
    return text[:end].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link (`<url|label>`), or the escaped label without a URL. The URL cannot
    end the link early or open another (`<`, `>`, `|` are percent-encoded)."""
    shown = escape(label).replace("|", "\u2223")
    if not url:
        return shown
    safe = url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{shown}>"


def plain(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text or " ", limit), "emoji": True}


def mrkdwn(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text or " ", limit)}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, MAX_HEADER)}


def divider() -> Block:
    return {"type": "divider"}


def section(text: str, *, block_id: str | None = None, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if block_id:
        block["block_id"] = block_id[:MAX_ID]
    if accessory is not None:
        block["accessory"] = accessory
    return block


def fields_section(text: str, fields: Iterable[str]) -> Block:
    """A section with a line of text and up to 10 two-column fields (mrkdwn)."""
    return {"type": "section", "text": mrkdwn(text),
            "fields": [mrkdwn(f, MAX_FIELD_TEXT) for f in list(fields)[:MAX_FIELDS]]}


def context(*texts: str) -> Block:
    elements = [mrkdwn(t) for t in texts if t][:MAX_CONTEXT_ELEMENTS]
    return {"type": "context", "elements": elements or [mrkdwn(" ")]}


def button(
    text: str,
    action_id: str,
    value: str | None = None,
    *,
    style: str | None = None,
    url: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> Block:
    element: Block = {"type": "button", "text": plain(text, MAX_BUTTON_TEXT),
                      "action_id": action_id[:MAX_ID]}
    if value is not None:
        element["value"] = value[:MAX_BUTTON_VALUE]
    if style in ("primary", "danger"):
        element["style"] = style
    if url:
        element["url"] = url
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Cancel") -> dict[str, Any]:
    return {"title": plain(title, 100), "text": plain(text, 300), "confirm": plain(yes, 30),
            "deny": plain(no, 30)}


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, MAX_OPTION_TEXT), "value": value[:MAX_OPTION_VALUE]}
    if description:
        opt["description"] = plain(description, MAX_OPTION_TEXT)
    return opt


def static_select(
    action_id: str,
    placeholder: str,
    options: Sequence[dict[str, Any]],
    *,
    initial: str | None = None,
    groups: Sequence[str] | None = None,
) -> Block:
    """A select; with `groups` (one label per option) the options come under headings
    (Slack's option_groups, in first-seen order)."""
    opts = list(options)[:MAX_OPTIONS]
    element: Block = {
        "type": "static_select",
        "action_id": action_id[:MAX_ID],
        "placeholder": plain(placeholder, MAX_PLACEHOLDER),
    }
    if groups is not None:
        grouped: dict[str, list[dict[str, Any]]] = {}
        for opt, label in zip(opts, groups, strict=False):
            grouped.setdefault(label, []).append(opt)
        element["option_groups"] = [
            {"label": plain(label, MAX_GROUP_LABEL), "options": members}
            for label, members in list(grouped.items())[:MAX_OPTION_GROUPS]
        ]
    else:
        element["options"] = opts
    if initial is not None:
        chosen = next((o for o in opts if o["value"] == initial), None)
        if chosen is not None:
            element["initial_option"] = chosen
    return element


def actions(block_id: str, elements: Iterable[Block]) -> Block:
    return {"type": "actions", "block_id": block_id[:MAX_ID],
            "elements": list(elements)[:MAX_ACTIONS_ELEMENTS]}


def bullets(lines: Iterable[str], *, title: str = "", limit: int = MAX_TEXT) -> str:
    """`title` then one `• line` per line, dropping whole lines (never cutting a link) to fit."""
    out = title
    items = list(lines)
    for index, line in enumerate(items):
        piece = ("\n" if out else "") + "\u2022 " + line
        more = len(items) - index
        tail = f"\n\u2026 and {more} more" if more > 1 else ""
        if len(out) + len(piece) + len(tail) > limit:
            note = f"\n\u2026 and {more} more"
            return clip(out + note if len(out) + len(note) <= limit else out, limit)
        out += piece
    return out


def fit_blocks(blocks: list[Block], limit: int = MAX_MESSAGE_BLOCKS) -> list[Block]:
    """Keep at most `limit` blocks; the last kept block says how many were left out."""
    if len(blocks) <= limit:
        return blocks
    kept = blocks[: limit - 1]
    kept.append(context(f"\u2026 {len(blocks) - len(kept)} more parts left out"))
    return kept


# ---------------------------------------------------------------- checking


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def _check_element(el: dict[str, Any], where: str, problems: list[str]) -> None:
    kind = el.get("type")
    if "action_id" in el and len(el["action_id"]) > MAX_ID:
        problems.append(f"{where}: action_id longer than {MAX_ID}")
    if kind == "button":
        if _text_len(el.get("text")) > MAX_BUTTON_TEXT:
            problems.append(f"{where}: button text longer than {MAX_BUTTON_TEXT}")
        if len(el.get("value", "")) > MAX_BUTTON_VALUE:
            problems.append(f"{where}: button value longer than {MAX_BUTTON_VALUE}")
    if "placeholder" in el and _text_len(el["placeholder"]) > MAX_PLACEHOLDER:
        problems.append(f"{where}: placeholder longer than {MAX_PLACEHOLDER}")
    groups = el.get("option_groups")
    if groups is not None:
        if "options" in el:
            problems.append(f"{where}: both options and option_groups")
        if not groups or len(groups) > MAX_OPTION_GROUPS:
            problems.append(f"{where}: {len(groups)} option groups (1 to {MAX_OPTION_GROUPS})")
        for group in groups:
            if _text_len(group.get("label")) > MAX_GROUP_LABEL:
                problems.append(f"{where}: option group label longer than {MAX_GROUP_LABEL}")
        grouped_options = [o for g in groups for o in g.get("options", [])]
        _check_element({"options": grouped_options}, where, problems)
    options = el.get("options")
    if options is not None:
        if not options:
            problems.append(f"{where}: no options")
        if len(options) > MAX_OPTIONS:
            problems.append(f"{where}: {len(options)} options (max {MAX_OPTIONS})")
        values = [o.get("value") for o in options]
        if len(set(values)) != len(values):
            problems.append(f"{where}: duplicate option values")
        for o in options:
            if _text_len(o.get("text")) > MAX_OPTION_TEXT:
                problems.append(f"{where}: option text longer than {MAX_OPTION_TEXT}")
            if len(o.get("value", "")) > MAX_OPTION_VALUE:
                problems.append(f"{where}: option value longer than {MAX_OPTION_VALUE}")
    if "initial_value" in el and not isinstance(el["initial_value"], str):
        problems.append(f"{where}: initial_value must be a string")


def check(payload: list[Block] | dict[str, Any], *, view: bool | None = None) -> list[str]:
    """Problems with a blocks list (message) or a view (modal/home): empty when all fits."""
    problems: list[str] = []
    if isinstance(payload, dict):
        blocks = payload.get("blocks", [])
        view = True if view is None else view
        title = payload.get("title")
        if title is not None and _text_len(title) > MAX_VIEW_TITLE:
            problems.append(f"view title longer than {MAX_VIEW_TITLE}")
        for key in ("submit", "close"):
            if key in payload and _text_len(payload[key]) > MAX_VIEW_TITLE:
                problems.append(f"view {key} longer than {MAX_VIEW_TITLE}")
        if len(payload.get("private_metadata", "")) > MAX_PRIVATE_METADATA:
            problems.append("private_metadata too long")
    else:
        blocks = payload
    limit = MAX_VIEW_BLOCKS if view else MAX_MESSAGE_BLOCKS
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks (max {limit})")
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    if len(set(block_ids)) != len(block_ids):
        problems.append("duplicate block_id")
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type')})"
        kind = block.get("type")
        if kind == "header" and _text_len(block.get("text")) > MAX_HEADER:
            problems.append(f"{where}: header longer than {MAX_HEADER}")
        if kind == "section":
            if _text_len(block.get("text")) > MAX_TEXT:
                problems.append(f"{where}: text longer than {MAX_TEXT}")
            if "text" in block and not block["text"].get("text"):
                problems.append(f"{where}: empty text")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}: {len(fields)} fields (max {MAX_FIELDS})")
            if any(_text_len(f) > MAX_FIELD_TEXT for f in fields):
                problems.append(f"{where}: field longer than {MAX_FIELD_TEXT}")
            if "accessory" in block:
                _check_element(block["accessory"], where, problems)
        if kind == "context":
            elements = block.get("elements", [])
            if not elements or len(elements) > MAX_CONTEXT_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements")
            if any(_text_len(e) > MAX_TEXT for e in elements):
                problems.append(f"{where}: element text longer than {MAX_TEXT}")
        if kind == "actions":
            elements = block.get("elements", [])
            if not elements or len(elements) > MAX_ACTIONS_ELEMENTS:
                problems.append(f"{where}: {len(elements)} elements")
            ids = [e.get("action_id") for e in elements]
            if len(set(ids)) != len(ids):
                problems.append(f"{where}: duplicate action_id")
            for e in elements:
                _check_element(e, where, problems)
        if kind == "input":
            if _text_len(block.get("label")) > MAX_LABEL:
                problems.append(f"{where}: label longer than {MAX_LABEL}")
            if _text_len(block.get("hint")) > MAX_HINT:
                problems.append(f"{where}: hint longer than {MAX_HINT}")
            _check_element(block.get("element", {}), where, problems)
        if "block_id" in block and len(block["block_id"]) > MAX_ID:
            problems.append(f"{where}: block_id longer than {MAX_ID}")
    return problems
