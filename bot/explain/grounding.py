"""The checks a model's explanation must pass before anyone sees it.

``check(message, facts=..., verdict=..., allowed_numbers=...)`` takes the
Messages API response as a plain dict (``{"stop_reason", "content": [...]}``)
and returns a ``GroundingResult``. The first failing check names the reason:

- ``max_tokens`` / ``stop_reason:<x>``: the model did not end its turn;
- ``unexpected_content``: a block other than text;
- ``empty``, ``too_short``, ``too_long``: length bounds (``MIN_TEXT_CHARS``..``MAX_TEXT_CHARS``);
- ``bad_citation``: a citation that is not a block range of the facts document;
- ``link_not_allowed``: a link to anything but a knowledge source's own URL;
- ``verdict_mismatch``: a sentence recommends another verdict (checked first);
- ``verdict_missing``: no sentence states the engine's verdict;
- ``unsupported_number``: a number that is neither in the decision nor in the facts;
- ``uncited_claim``: a sentence that asserts something carries no citation.

Definitions (the rules, not heuristics hidden in code):

Verdict. A sentence *states* a verdict in three ways:
(1) after a recommendation cue (``recommend``, ``recommendation``, ``verdict``,
``we suggest``, ``you should``, ``our advice``, ``best option``/``choice``/``path``,
``go with``, ``stick with``, ``opt for``; not after a negation such as "do not"),
when the words after the cue (past filler like ``is``, ``:``, ``to``, ``using``,
``start with``) begin with a verdict phrase; (2) as an imperative opening the
sentence: "Fine-tune ..." (not "Fine-tune later ..."), "Stick with / Use / Start
with prompt engineering", "Prompt now, fine-tune later"; (3) as a predicate:
"<verdict phrase> is the right / best / recommended ...". Verdict phrases:
``prompt now, fine-tune later`` and the paraphrases in ``_PTFT`` for
prompt_then_fine_tune (tried first); ``fine-tune``/``fine-tuning`` for
fine_tuning; ``prompt engineering``/``prompting`` for prompt_engineering.
Conditionals ("the verdict would be ...", "Fine-tuning would pay back ...") state
nothing. The text must state the engine's verdict at least once and no other;
for prompt_then_fine_tune an imperative "Fine-tune the instruct model ..." is the
later step, not a conflict.

Numbers. Digits with optional ``$``/``USD``, thousands separators, decimals,
``%``, ``x``, and scale words or suffixes (``k``, ``M``, ``B``, ``thousand``,
``million``, ``billion``), and the words two to twelve. A number in the text is
supported when it is a number of the decision or of any supplied fact,
written with the same or fewer significant digits (at least two): 2.1M for
2,083,334 passes, 40,000 for 43,000 does not; a percentage may also match its
fraction. List markers at line starts are not numbers.

Links. A Slack link (``<target>``, ``<target|label>`` whose target has a scheme
``x:``, starts ``www.`` or is a ``host.tld``; not ``<@U..>``, ``<#C..>``, ``<!..>``,
``<b>``), a Markdown link (``[label](target)``) and a bare URL (``scheme://...``,
``www.host...`` or ``host.tld/path``; trailing punctuation is not part of it) are links.
Each target must be exactly one of ``allowed_urls`` (the URLs of the knowledge's
sources; for ``www.``/``host/path`` the same with ``https://`` or ``http://``). The
label of a Slack or Markdown link is checked as text, so a URL shown there is a link too.
Allowed URLs are left out of the number check (their digits are not claims).

Citations. The text is split into sentences; a sentence is cited when a text
block with at least one citation overlaps it. Exempt: sentences of fewer than
four words, lead-ins ending in ``:``, and the verdict statement itself when it
adds fewer than four words to the cue and verdict phrase (it is checked against
the engine directly).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.explain.llm_request import MAX_TEXT_CHARS, MIN_TEXT_CHARS


@dataclass(frozen=True)
class GroundingResult:
    ok: bool
    reason: str | None
    text: str
    cited_blocks: tuple[int, ...] = ()
    detail: str | None = None


# --- verdict ---------------------------------------------------------------

_FT = r"fine[- ]?tun(?:e|es|ed|ing)\b"
_PE = r"prompt(?:[- ]engineering|ing)?\b"
_PTFT = re.compile(
    rf"^(?:{_PE}|a prompt|prompting)\s*(?:now|first|today|for now)?\s*[,;]?\s*"
    rf"(?:and\s+|then\s+|and then\s+)?(?:move to\s+|switch to\s+)?{_FT}\s*"
    rf"(?:later|afterwards|next|once|when|after)",
    re.IGNORECASE,
)
_CUE = re.compile(
    r"\b(?:recommend(?:ation|ations|ed|s)?|verdict|we suggest|you should|our advice"
    r"|best (?:option|choice|path)|go with|stick with|opt for)\b",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bagainst)\W+(?:\w+\W+){0,2}$", re.IGNORECASE
)
_FILLER = re.compile(
    r"^(?:\s|[:\-–—,]|\bis\b|\bare\b|\bto\b|\bthat\b|\byou\b|\bthe team\b|\bwe\b|\bhere\b"
    r"|\buse\b|\busing\b|\bgo with\b|\bstart with\b|\bstarting with\b|\bstick with\b"
    r"|\bsticking with\b|\bchoose\b|\bopt for\b|\badopt\b|\bthe\b|\bplain\b)*",
    re.IGNORECASE,
)
_FT_AT = re.compile(rf"^{_FT}", re.IGNORECASE)
_PE_AT = re.compile(rf"^{_PE}", re.IGNORECASE)


_OPENING = re.compile(r"^[\s\"'(*_]*(?:so\s*,?\s*|overall\s*,?\s*|in short\s*,?\s*)?", re.I)
_STEP_VERB = re.compile(
    r"^(?:use|stick with|stay with|start with|begin with|go with|keep to|choose|adopt)\s+",
    re.IGNORECASE,
)
_IMPERATIVE_FT = re.compile(r"^(?:go ahead and\s+)?fine[- ]?tune\b(?!\s+later)", re.IGNORECASE)
_PREDICATE = re.compile(
    r"^\s+(?:is|are|remains)\s+(?:the\s+|your\s+|a\s+)?"
    r"(?:right|best|better|recommended|preferred|way to go|answer|choice|call)\b",
    re.IGNORECASE,
)


def _classify(tail: str) -> tuple[str, re.Match[str]] | None:
    for verdict, pattern in (
        ("prompt_then_fine_tune", _PTFT),
        ("fine_tuning", _FT_AT),
        ("prompt_engineering", _PE_AT),
    ):
        match = pattern.match(tail)
        if match:
            return verdict, match
    return None


def stated_verdicts(sentence: str) -> list[tuple[str, int, int, str]]:
    """(verdict, start, end, how) for each place the sentence recommends a verdict.

    ``how`` is ``cue`` (after a recommendation cue), ``imperative`` (the
    sentence opens with "Fine-tune ..." or "Stick with prompt engineering ...")
    or ``predicate`` (it opens with a verdict phrase followed by "is the right /
    best / recommended ...").
    """
    found: list[tuple[str, int, int, str]] = []
    for cue in _CUE.finditer(sentence):
        if any(a <= cue.start() < b for _, a, b, _ in found):
            continue  # "you should stick with ...": one statement, not two
        if _NEGATION.search(sentence[max(0, cue.start() - 30) : cue.start()]):
            continue
        rest = sentence[cue.end() :]
        skip = _FILLER.match(rest)
        offset = skip.end() if skip else 0
        hit = _classify(rest[offset:])
        if hit:
            verdict, match = hit
            found.append((verdict, cue.start(), cue.end() + offset + match.end(), "cue"))
    lead = _OPENING.match(sentence)
    at = lead.end() if lead else 0
    verb = _STEP_VERB.match(sentence[at:])
    step_at = at + (verb.end() if verb else 0)
    step = sentence[step_at:]
    if m := _PTFT.match(step):
        found.append(("prompt_then_fine_tune", at, step_at + m.end(), "imperative"))
    elif m := _IMPERATIVE_FT.match(step):
        found.append(("fine_tuning", at, step_at + m.end(), "imperative"))
    elif verb and (m := _PE_AT.match(step)):
        found.append(("prompt_engineering", at, step_at + m.end(), "imperative"))
    opening = sentence[at:]
    hit = _classify(opening)
    if hit and _PREDICATE.match(opening[hit[1].end() :]):
        verdict, match = hit
        end = at + match.end() + _PREDICATE.match(opening[match.end() :]).end()
        found.append((verdict, at, end, "predicate"))
    return found


def _conflicts(stated: str, engine: str, how: str) -> bool:
    """A prompt-now-fine-tune-later verdict covers both halves when they are
    phrased as steps (imperatives): "Fine-tune the instruct model with LoRA"
    is how to do the later step. Cues and predicates must name it exactly."""
    if stated == engine:
        return False
    return not (engine == "prompt_then_fine_tune" and how == "imperative")


# --- numbers ---------------------------------------------------------------

_SCALE = {
    "k": 1e3, "thousand": 1e3,
    "m": 1e6, "mn": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9,
    "trillion": 1e12, "quadrillion": 1e15, "quintillion": 1e18,
}
_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_NUMBER = re.compile(
    r"(?<![\w.,])(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<frac>\.\d+)?"
    r"(?:\s*(?P<pct>%|percent\b))?"
    r"(?:(?P<suffix>k|K|M|mn|bn|B|m|b)|\s+(?P<word>thousand|million|billion|trillion)\b)?"
    r"(?P<times>x|×)?"
    r"(?![A-Za-z0-9])",
)
_WORD_NUMBER = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.IGNORECASE)
_LIST_MARKER = re.compile(r"(?m)^\s*(?:\d+[.)]|[-*•])\s+")


@dataclass(frozen=True)
class Number:
    value: float
    text: str
    percent: bool = False


def extract_numbers(text: str) -> list[Number]:
    text = _LIST_MARKER.sub(" ", text)
    found = []
    for m in _NUMBER.finditer(text):
        value = float(m["int"].replace(",", "") + (m["frac"] or ""))
        scale = m["suffix"] or m["word"]
        if scale:
            value *= _SCALE[scale.lower()]
        found.append(Number(value, m.group(0), percent=bool(m["pct"])))
    for m in _WORD_NUMBER.finditer(text):
        found.append(Number(float(_WORDS[m.group(1).lower()]), m.group(0)))
    return found


def _significant_digits(value: float) -> int:
    """Significant digits of a stated value: 120000 -> 2, 2.1e6 -> 2, 123457 -> 6."""
    digits = f"{abs(value):.12e}".split("e")[0].replace(".", "").rstrip("0")
    return max(1, len(digits))


def same_number(said: float, known: float) -> bool:
    """``said`` is ``known`` written with fewer digits: rounded to the stated
    precision (at least two significant digits) it is the same value.

    2.1M for 2,083,334 and 0.41 for 0.4123 pass; 40,000 for 43,000, 3 for 3.4 and
    123,457 for 120,000 do not.
    """
    said, known = abs(said), abs(known)
    if math.isclose(said, known, rel_tol=1e-9, abs_tol=1e-12):
        return True
    if said == 0 or known == 0:
        return False
    digits = max(2, _significant_digits(said))
    unit = 10 ** (math.floor(math.log10(said)) - digits + 1)
    return abs(said - known) <= 0.5 * unit * (1 + 1e-9)


def supported(number: Number, allowed: Sequence[float]) -> bool:
    candidates = [number.value] + ([number.value / 100] if number.percent else [])
    return any(same_number(c, a) for c in candidates for a in allowed)


# --- links -------------------------------------------------------------------

_SLACK_LINK = re.compile(r"<(?![@#!])([^<>|]*)(?:\|[^<>]*)?>")
_LINK_TARGET = re.compile(
    r"\s*(?:[a-z][a-z0-9+.-]*:|www\.|(?:[a-z0-9-]+\.)+[a-z]{2,}(?:[/:?#]|\s*$))", re.IGNORECASE
)
_MARKDOWN_LINK = re.compile(r"\[[^\[\]]*\]\(\s*([^()\s]*)[^()]*\)")
_URL_CHARS = r"[^\s<>|()\[\]{}\"'`]"
_BARE_URL = re.compile(
    rf"(?<![\w@])(?:[a-z][a-z0-9+.-]*://|www\.){_URL_CHARS}+"
    rf"|(?<![\w@/.:-])(?:[a-z0-9-]+\.)+[a-z]{{2,}}/{_URL_CHARS}*",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*_~"


def links(text: str) -> list[tuple[int, int, str]]:
    """(start, end, target) of every link in ``text`` (see the module doc), in order."""
    found = [(m.start(1), m.end(1), m.group(1).strip()) for m in _SLACK_LINK.finditer(text)
             if _LINK_TARGET.match(m.group(1))]
    found += [(m.start(1), m.end(1), m.group(1)) for m in _MARKDOWN_LINK.finditer(text)]
    taken = [(a, b) for a, b, _ in found]
    for m in _BARE_URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        if url and not any(a <= m.start() < b for a, b in taken):
            found.append((m.start(), m.start() + len(url), url))
    return sorted(found)


def link_allowed(target: str, allowed: frozenset[str]) -> bool:
    if target in allowed:
        return True
    if "://" in target:
        return False
    return any(f"{scheme}://{target}" in allowed for scheme in ("https", "http"))


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with ``spans`` replaced by spaces (offsets kept)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


# --- text, sentences, citations ---------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9$])|\n+")


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9$][\w$,.%'-]*", text))


def check(
    message: Mapping[str, Any],
    *,
    facts: Sequence[str],
    verdict: str,
    allowed_numbers: Iterable[float],
    allowed_urls: Iterable[str] = (),
) -> GroundingResult:
    """Check ``message``; ``allowed_urls``: the only URLs a link may point to (none by
    default: then every link fails)."""
    stop = message.get("stop_reason")
    blocks = list(message.get("content") or [])
    text_blocks = [b for b in blocks if isinstance(b, Mapping) and b.get("type") == "text"]
    text = "".join(str(b.get("text") or "") for b in text_blocks)

    def fail(reason: str, detail: str | None = None) -> GroundingResult:
        return GroundingResult(False, reason, text.strip(), detail=detail)

    if stop != "end_turn":
        return fail("max_tokens" if stop == "max_tokens" else f"stop_reason:{stop}")
    if len(text_blocks) != len(blocks):
        return fail("unexpected_content")
    if not text.strip():
        return fail("empty")
    if len(text.strip()) < MIN_TEXT_CHARS:
        return fail("too_short", f"{len(text.strip())} chars")
    if len(text.strip()) > MAX_TEXT_CHARS:
        return fail("too_long", f"{len(text.strip())} chars")

    # Citations must be block ranges inside the one facts document.
    spans: list[tuple[int, int, bool]] = []
    cited: list[int] = []
    pos = 0
    for block in text_blocks:
        chunk = str(block.get("text") or "")
        citations = block.get("citations") or []
        for c in citations:
            if not isinstance(c, Mapping) or c.get("type") != "content_block_location":
                return fail("bad_citation", "not a content_block_location")
            start, end = c.get("start_block_index"), c.get("end_block_index")
            if (
                c.get("document_index") != 0
                or not isinstance(start, int)
                or not isinstance(end, int)
                or not 0 <= start < end <= len(facts)
            ):
                return fail("bad_citation", f"blocks {start}..{end}")
            cited.extend(i for i in range(start, end) if i not in cited)
        spans.append((pos, pos + len(chunk), bool(citations)))
        pos += len(chunk)

    # Links: only to the knowledge's own source URLs.
    urls = frozenset(allowed_urls)
    linked = links(text)
    for _, _, target in linked:
        if not link_allowed(target, urls):
            return fail("link_not_allowed", target[:80])

    # Verdict: the engine's, and no other.
    sentences = _sentences(text)
    statements = []
    for s, e in sentences:
        for found, a, b, how in stated_verdicts(text[s:e]):
            if _conflicts(found, verdict, how):
                return fail("verdict_mismatch", f"names {found}")
            if found == verdict:
                statements.append((s, e, s + a, s + b))
    if not statements:
        return fail("verdict_missing")

    # Numbers: each one in the decision or the facts.
    allowed = list(allowed_numbers)
    for fact in facts:
        allowed.extend(n.value for n in extract_numbers(fact))
    for number in extract_numbers(_blank(text, ((a, b) for a, b, _ in linked))):
        if not supported(number, allowed):
            return fail("unsupported_number", number.text)

    # Citations: every asserting sentence overlaps a cited block.
    for s, e in sentences:
        sentence = text[s:e].strip()
        if _words(sentence) < 4 or sentence.endswith(":"):
            continue
        if any(
            ss == s and ee == e and _words(text[s:a] + " " + text[b:e]) < 4
            for ss, ee, a, b in statements
        ):
            continue
        if not any(
            cited_block and bs < e and be > s and text[max(bs, s) : min(be, e)].strip()
            for bs, be, cited_block in spans
        ):
            return fail("uncited_claim", sentence[:80])

    return GroundingResult(True, None, text.strip(), tuple(cited))
