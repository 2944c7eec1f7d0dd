"""Free text -> answers: "6k token prompt, 20M calls a month, 8000 examples, llama, no evals".

A pure, deterministic parser for what people write in `/ptf some text` or when they
mention the bot in a thread. It only sets an answer when the text says it plainly;
anything ambiguous (two different prompt lengths, a model whose fine-tuning is being
wound down, "tokens a month" instead of a prompt length) is left unanswered, and the
guided flow asks. What it picked up comes back as human-readable phrases, so the user
can check it, plus notes on what it deliberately did not assume.

    found = parse_freetext("6k token prompt, 20M calls, 8000 examples, llama", knowledge)
    found.answers    # {"prompt_tokens": 6000, "monthly_calls": 20000000, ...}
    found.understood # ['prompt length: 6,000 tokens ("6k token prompt")', ...]
    found.notes      # ["You mentioned GPT-4o: ..."]

Nothing here touches Slack, the network or a database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot.engine import humanize
from bot.engine.answers import AnswerError, Value, parse_number, parse_value

if TYPE_CHECKING:
    from bot.knowledge import Knowledge

__all__ = ["Finding", "FreeText", "parse_freetext", "number_in"]


@dataclass(frozen=True)
class Finding:
    """One answer read from the text: the question, the typed value, where it came from."""

    question: str
    value: Value
    phrase: str
    snippet: str


@dataclass
class FreeText:
    """What `parse_freetext` found."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def answers(self) -> dict[str, Value]:
        return {f.question: f.value for f in self.findings}

    @property
    def understood(self) -> list[str]:
        """Human-readable phrases, one per answer, e.g. `prompt length: 6,000 tokens ("6k")`."""
        return [f.phrase for f in self.findings]

    def __bool__(self) -> bool:
        return bool(self.findings or self.notes)


# ---------------------------------------------------------------- text helpers

_MENTION = re.compile(r"<[@#!][^>]*>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"[ \t\u00a0]+")


def clean(text: str) -> str:
    """Drop Slack mentions/links markup, normalise quotes and spaces."""
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text or "")
    text = _MENTION.sub(" ", text)
    text = (
        text.replace("\u2019", "'").replace("\u2018", "'").replace("&amp;", "&")
        .replace("&lt;", "<").replace("&gt;", ">").replace("\u2013", "-").replace("\u2014", "-")
    )
    return _SPACES.sub(" ", text).strip()


_CLAUSE_SPLIT = re.compile(
    r"(?:[.;!?]+(?=\s|$)|,(?=\s)|\n+|\s-\s|\bbut\b|\bhowever\b|\balthough\b)"
)


def clauses(text: str) -> list[str]:
    """Split into clauses on sentence punctuation, `, `, new lines and "but"."""
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


_NUMBER = re.compile(
    r"(?<![\w.$€£])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<suffix>k|mm|mn|m|bn|b|thousand|million|billion)(?![a-z]))?",
    re.IGNORECASE,
)


def _number(match: re.Match[str]) -> float | None:
    suffix = match.group("suffix") or ""
    return parse_number(match.group("num") + suffix)


_PART_OF_A_NAME = re.compile(r"[A-Za-z]-$")


def number_in(text: str) -> float | None:
    """The one number in `text` ("about 6k tokens" -> 6000), or None if none or several.
    Digits inside a name ("gpt-4o", "phi-3", "llama3") are not numbers."""
    body = clean(text)
    found = {
        _number(m) for m in _NUMBER.finditer(body)
        if not body[m.end():m.end() + 1].isalpha()
        and not _PART_OF_A_NAME.search(body[:m.start()])
    }
    found.discard(None)
    return found.pop() if len(found) == 1 else None


# ---------------------------------------------------------------- numbers with units

_PERIOD = r"(?:\s*(?:a|an|per|/|each|every)\s*|\s+)(?P<period>month|mo|day|week|year|yr)\b"
_PERIOD_WORD = r"\s+(?P<periodword>monthly|daily|weekly|yearly|annually)\b"
_TOKENS_AFTER = re.compile(r"^\s*-?\s*(?:input\s+)?tok(?:en)?s?\b", re.IGNORECASE)
_NOT_PROMPT_AFTER = re.compile(
    rf"^\s*-?\s*(?:input\s+)?tok(?:en)?s?\b(?:{_PERIOD}|{_PERIOD_WORD}"
    r"|\s+(?:of\s+)?(?:context|window|output|completion|response|answer|total|in total))",
    re.IGNORECASE,
)
_NOT_PROMPT_BEFORE = re.compile(
    r"(?:output|completion|context|response|answer|max|maximum|window)\s*(?:of|is|:)?\s*$",
    re.IGNORECASE,
)
_CALLS_AFTER = re.compile(
    r"^\s*-?\s*(?:api\s+|llm\s+|model\s+|inference\s+)?"
    r"(?:calls?|requests?|queries|query|invocations?|inferences?|completions?|generations?)\b"
    rf"(?:{_PERIOD}|{_PERIOD_WORD})?",
    re.IGNORECASE,
)
_PER_SECOND = re.compile(r"^\s*(?:a|per|/|each)\s*(?:second|sec|s|minute|min|hour|hr)\b", re.I)
_EXAMPLE_WORDS = (
    r"(?:(?:clean|labell?ed|hand[- ]labell?ed|human[- ]labell?ed|annotated|training|gold|"
    r"golden|good|high[- ]quality|curated|input[- /]output|supervised|real)\s+)*"
)
_EXAMPLES_AFTER = re.compile(
    rf"^\s*-?\s*{_EXAMPLE_WORDS}(?:examples?|samples?|pairs|demonstrations|data ?points"
    r"|labels|labell?ed rows|rows of labell?ed data)\b",
    re.IGNORECASE,
)
_IN_PROMPT = re.compile(r"^[^,.;]{0,20}\b(?:in|into|inside)\s+(?:the\s+|my\s+|our\s+)?prompt", re.I)
_FEW_SHOT_BEFORE = re.compile(r"(?:few[- ]shot|in[- ]context|shot)\s*$", re.IGNORECASE)
_NO_EXAMPLES = re.compile(
    rf"\b(?:no|zero|none of the|not any|without(?: any)?)\s+{_EXAMPLE_WORDS}"
    r"(?:examples|samples|labell?ed data|training data|labels)\b"
    r"|\b(?:don't|do not|haven't|have not)\s+(?:have\s+|got\s+)?any\s+"
    rf"{_EXAMPLE_WORDS}(?:examples|samples|labell?ed data|training data|labels)\b",
    re.IGNORECASE,
)

_PERIOD_FACTOR = {"month": 1.0, "mo": 1.0, "monthly": 1.0, "day": 30.0, "daily": 30.0,
                  "week": 52 / 12, "weekly": 52 / 12, "year": 1 / 12, "yr": 1 / 12,
                  "yearly": 1 / 12, "annually": 1 / 12}


def _snippet(text: str, start: int, end: int) -> str:
    return text[start:end].strip(" ,;.")


_WINDOW = 160
_BEFORE = 40  # the longest cue before a number ("maximum context window of")


def _numbers(text: str, out: list[tuple[str, float, str, str]]) -> None:
    """Append (question, value, snippet, period-note) for each number with a clear unit."""
    for m in _NUMBER.finditer(text):
        value = _number(m)
        if value is None:
            continue
        # bounded windows: every cue is a few words from its number, and slicing the
        # whole text at every number would make long messages quadratic
        before = text[max(0, m.start() - _BEFORE): m.start()]
        after = text[m.end(): m.end() + _WINDOW]
        if before.endswith(("$", "€", "£", "USD ", "usd ")):
            continue
        if (t := _TOKENS_AFTER.match(after)) is not None:
            if _NOT_PROMPT_AFTER.match(after) or _NOT_PROMPT_BEFORE.search(before):
                continue
            end = m.end() + t.end()
            word = re.match(r"^\s*-?\s*prompts?\b", text[end:end + 20], re.IGNORECASE)
            if word:
                end += word.end()
            out.append(("prompt_tokens", value, _snippet(text, m.start(), end), ""))
            continue
        if (c := _CALLS_AFTER.match(after)) is not None:
            rest = after[c.end():]
            if _PER_SECOND.match(rest):
                continue  # a rate, not a monthly volume: do not convert on a guess
            period = (c.group("period") or c.group("periodword") or "month").lower()
            factor = _PERIOD_FACTOR[period]
            note = "" if factor == 1.0 else f"{humanize.compact(value)} a {_unit(period)}"
            snippet = _snippet(text, m.start(), m.end() + c.end())
            out.append(("monthly_calls", round(value * factor), snippet, note))
            continue
        if _latency(text, m, value, before, after, out):
            continue
        if (e := _EXAMPLES_AFTER.match(after)) is not None:
            if _IN_PROMPT.match(after[e.end():]) or _FEW_SHOT_BEFORE.search(before):
                continue  # few-shot examples inside the prompt, not training data
            out.append(
                ("labelled_examples", value, _snippet(text, m.start(), m.end() + e.end()), "")
            )


_MS_AFTER = re.compile(r"^\s*(?P<unit>ms|msec|milliseconds?|s|secs?|seconds?)\b", re.IGNORECASE)
# What says a duration is the budget ("p95 under 300 ms", "SLA of 1s") or today's figure
# ("takes 1.2 s", "we're at 900ms"): read in the words just before the number, in its clause.
_BUDGET_CUE = re.compile(
    r"\b(?:budget|sla|slo|target|goal|under|within|below|less than|at most|max(?:imum)?|"
    r"must|need(?:s|ed)?(?: to be)?|has to be|have to be|required|limit)\b[^,.;]*$",
    re.IGNORECASE)
_NOW_CUE = re.compile(
    r"\b(?:today|currently|now|takes?|taking|took|we(?:'re| are) at|it's at|is at|runs? at|"
    r"measured|observed|averages?|average of|sits at|p\d\d(?: latency)? (?:is|of)|"
    r"latency (?:is|of))\b[^,.;]*$",
    re.IGNORECASE)
_OTHER_PART = re.compile(r"[,;.]\s|\bbut\b|\band\b|\bwhile\b|\d", re.IGNORECASE)
_BUDGET_AFTER = re.compile(r"^[^,.;]{0,12}?\b(?:budget|sla|slo|target|limit|max)\b", re.I)
_NOW_AFTER = re.compile(r"^[^,.;]{0,12}\b(?:today|now|currently|at the moment)\b", re.I)


def _latency(text: str, m: re.Match[str], value: float, before: str, after: str,
             out: list[tuple[str, float, str, str]]) -> bool:
    """A duration with a cue that says whose it is; True when it was a duration."""
    unit = _MS_AFTER.match(after)
    if unit is None:
        return False
    own = _OTHER_PART.split(before)[-1]  # from the last clause break or number on
    rest = after[unit.end():]
    budget = bool(_BUDGET_CUE.search(own) or _BUDGET_AFTER.match(rest))
    now = bool(_NOW_CUE.search(own) or _NOW_AFTER.match(rest))
    if budget == now:
        return True  # a duration, but not said whose: left for the flow to ask
    scale = 1 if unit.group("unit").lower().startswith("m") else 1000
    ms = value * scale
    if abs(ms - round(ms)) < 1e-6:  # 1.1 s is 1,100 ms, not 1,100.0000000000002
        ms = round(ms)
    question = "latency_budget_ms" if budget else "latency_now_ms"
    out.append((question, ms, _snippet(text, m.start(), m.end() + unit.end()), ""))
    return True


def _unit(period: str) -> str:
    return {"mo": "month", "monthly": "month", "daily": "day", "weekly": "week",
            "yr": "year", "yearly": "year", "annually": "year"}.get(period, period)


# ---------------------------------------------------------------- models

# A mention that says the team is NOT on that model (any more): it tells nothing of theirs.
_NOT_THEIRS = re.compile(
    r"\b(?:not|no longer|never|moved (?:away )?from|switched (?:away )?from|migrat\w* "
    r"(?:away )?from|away from|instead of|rather than|used to|left|dropped|stopped using|"
    r"without)\b",
    re.IGNORECASE,
)
# "moved away from X to Y": the negation stops at the word that names the new one.
_NEGATION_ENDS = re.compile(r"\b(?:to|now|onto|into|for|with|and now|towards?)\b", re.IGNORECASE)
_OPEN_WEIGHTS = re.compile(
    r"\b(?:(?:llama|mistral|mixtral|qwen|gemma|deepseek|olmo|falcon)(?![a-z])|phi-?[234]\b|"
    r"open[- ]weights?\b|open[- ]source (?:model|llm)\b|self[- ]hosted (?:model|llm)\b)",
    re.IGNORECASE,
)
_CLAUDE = re.compile(r"\b(?:claude|anthropic)\b", re.IGNORECASE)
_GEMINI_API = re.compile(r"\bgemini(?: developer)? api\b|\bai studio\b", re.IGNORECASE)
_VERTEX_GEMINI = re.compile(r"\bvertex(?: ai)?\b", re.IGNORECASE)
_GEMINI = re.compile(r"\bgemini\b", re.IGNORECASE)
_OPENAI = re.compile(r"\b(?:gpt-?[345]|openai|chatgpt)", re.IGNORECASE)
# Statements about the team's own model being closed to fine-tuning.
_CANNOT_TUNE = re.compile(
    r"\b(?:can'?t|cannot|can not|unable to|not allowed to|no way to)\s+(?:be\s+)?"
    r"fine[- ]?tun\w*|\b(?:closed|proprietary)\s+(?:api|model)\s+(?:without|with no)\s+"
    r"fine[- ]?tun\w*|\bno fine[- ]?tuning\b|\bnot (?:fine[- ]?)?tunable\b|"
    r"\bdoes(?:n'?t| not) (?:offer|support|allow) fine[- ]?tun\w*",
    re.IGNORECASE,
)


def _theirs(text: str, match: re.Match[str]) -> bool:
    """The mention is of the team's own model: nothing before it in its clause negates it."""
    low = max(0, match.start() - 200)  # a clause is shorter; bounded, so never quadratic
    start = max(text.rfind(sep, low, match.start()) for sep in (",", ";", ".", "\n", " but "))
    before = text[max(start + 1, low): match.start()]
    cues = list(_NOT_THEIRS.finditer(before))
    return not cues or bool(_NEGATION_ENDS.search(before[cues[-1].end():]))


@lru_cache(maxsize=8)
def _model_patterns(knowledge: Knowledge) -> list[tuple[re.Pattern[str], str, str]]:
    """(pattern, model id, a word it cannot match without) for every id and alias of the
    catalogue, longest first."""
    names: list[tuple[str, str]] = []
    for option in knowledge.question("model").options:
        for name in (option.value, *option.aliases):
            names.append((name, option.value))
    names.sort(key=lambda pair: -len(pair[0]))
    found = []
    for name, model_id in names:
        parts = re.split(r"[\s_-]+", name)
        body = r"[\s_-]*".join(re.escape(part) for part in parts)
        found.append((re.compile(rf"(?<![\w.]){body}(?![\w])", re.IGNORECASE), model_id,
                      parts[0].lower()))
    return found


_MENTIONS_READ = 20


def _catalogue_models(text: str, knowledge: Knowledge | None) -> tuple[list[tuple[str, str]],
                                                                      list[str]]:
    """([(model id, snippet)] of the team's own models named, [snippets of models they are
    not on])."""
    if knowledge is None or not knowledge.has_question("model"):
        return [], []
    taken = bytearray(len(text))  # characters already read as a model name
    theirs: list[tuple[str, str]] = []
    others: list[str] = []
    lowered = text.lower()
    for pattern, model_id, needle in _model_patterns(knowledge):
        if needle not in lowered:
            continue  # a cheap test first: most names are not in a given text
        for count, m in enumerate(pattern.finditer(text)):
            if count == _MENTIONS_READ:
                break  # a model named this often says nothing more each time
            if any(taken[m.start():m.end()]):
                continue
            taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
            if _theirs(text, m):
                theirs.append((model_id, m.group(0)))
            else:
                others.append(m.group(0))
    return theirs, others


#: Where a model runs, as people say it: a named model moves to that provider's row.
_HOSTS = (
    ("azure", re.compile(r"\bazure\b", re.IGNORECASE)),
    ("bedrock", re.compile(r"\bbedrock\b", re.IGNORECASE)),
    ("vertex", re.compile(r"\bvertex\b|\bagent platform\b", re.IGNORECASE)),
    ("together", re.compile(r"\btogether(?:\.ai| ai)?\b", re.IGNORECASE)),
    ("fireworks", re.compile(r"\bfireworks\b", re.IGNORECASE)),
)
#: Families a mention belongs to, to tell "gpt-4o and claude" (two models) from one.
_FAMILIES = (
    ("anthropic", _CLAUDE),
    ("gemini", re.compile(r"\bgemini\b", re.IGNORECASE)),
    ("gpt", re.compile(r"\b(?:gpt-?[345]|openai|chatgpt)", re.IGNORECASE)),
    ("open", re.compile(r"\b(?:llama|mistral|mixtral|qwen|gemma|deepseek)\b", re.IGNORECASE)),
    ("nova", re.compile(r"\bnova\b", re.IGNORECASE)),
)
_FAMILY_OF_PROVIDER = {"anthropic": "anthropic", "gemini-api": "gemini", "vertex": "gemini",
                       "openai": "gpt", "azure": "gpt", "open": "open", "together": "open",
                       "fireworks": "open", "bedrock": None}


def _hosted(text: str, model_id: str, knowledge: Knowledge) -> str:
    """`gpt-4.1 mini on azure` is Azure's row of that model, when the catalogue has one."""
    name = model_id.split(":", 1)[1]
    for provider, pattern in _HOSTS:
        if _first_theirs(pattern, text) and knowledge.has_model(f"{provider}:{name}"):
            return f"{provider}:{name}"
    return model_id


def _other_families(text: str, model_id: str, knowledge: Knowledge) -> list[str]:
    """Mentions of the team's models from another family than `model_id`'s."""
    row = knowledge.model(model_id)
    own = _FAMILY_OF_PROVIDER.get(row.provider)
    if row.provider == "bedrock":
        own = "open" if row.weights == "open" else "nova"
    found = []
    for family, pattern in _FAMILIES:
        m = _first_theirs(pattern, text)
        if m and family != own:
            found.append(m.group(0))
    return found


def _openai_stop(knowledge: Knowledge | None) -> str:
    """` (new jobs stop on 2027-01-06, as of ...)` from the provider table."""
    if knowledge is None:
        return ""
    try:
        row = knowledge.provider("openai")
    except KeyError:
        return ""
    stop = row.key_dates.get("new_jobs_stop")
    return f" (new jobs stop on {stop}, as of {row.checked_on})" if stop else ""


def _first_theirs(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return next((m for m in pattern.finditer(text) if _theirs(text, m)), None)


def _model_hint(
    text: str, knowledge: Knowledge | None
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """([(question, value, snippet)] for model / model_access, notes). Any doubt leaves
    them unset; a model the team says they are not on tells nothing."""
    notes: list[str] = []
    named, not_theirs = _catalogue_models(text, knowledge)
    models = list(dict.fromkeys(model_id for model_id, _ in named))
    if len(models) == 1 and knowledge is not None:
        others = _other_families(text, models[0], knowledge)
        if not others:
            return [("model", _hosted(text, models[0], knowledge), named[0][1])], notes
        shown = ", ".join(dict.fromkeys([named[0][1], *others]))
        notes.append(f"You mentioned several models ({shown}); I left the model for you.")
        return [], notes
    if len(models) > 1:
        shown = ", ".join(dict.fromkeys(snippet for _, snippet in named))
        notes.append(f"You mentioned several models ({shown}); I left the model for you.")
        return [], notes
    if m := _CANNOT_TUNE.search(text):  # the statement itself says no: no negation test
        return [("model_access", "closed_no_fine_tuning", m.group(0))], notes
    hits: dict[str, str] = {}
    mentioned: list[str] = []
    if m := _first_theirs(_OPEN_WEIGHTS, text):
        hits["open_weights"] = m.group(0)
    if m := _first_theirs(_CLAUDE, text):
        hits["closed_no_fine_tuning"] = m.group(0)
    if m := _first_theirs(_GEMINI_API, text):
        hits.setdefault("closed_no_fine_tuning", m.group(0))
    elif (m := _first_theirs(_GEMINI, text)) and _VERTEX_GEMINI.search(text):
        hits["closed_with_fine_tuning"] = "Gemini on Vertex AI"
    elif m := _first_theirs(_GEMINI, text):
        mentioned.append(m.group(0))
        notes.append(
            f"You mentioned {m.group(0)}: whether it can be tuned depends on where you run it "
            "(not on the Gemini API, yes on Vertex AI), so I did not assume either."
        )
    if m := _first_theirs(_OPENAI, text):
        mentioned.append(m.group(0))
        stop = _openai_stop(knowledge)
        notes.append(f"You mentioned {m.group(0)}: OpenAI's fine-tuning is winding down{stop}, "
                     "so I did not assume you can fine-tune it; pick the model and I will "
                     "check its dates.")
    if len(hits) == 1 and not mentioned:
        value, snippet = next(iter(hits.items()))
        return [("model_access", value, snippet)], notes
    if hits:
        named_ = ", ".join(dict.fromkeys([*hits.values(), *mentioned]))
        notes.append(f"You mentioned several models ({named_}); I left model access for you.")
    return [], notes


# ---------------------------------------------------------------- deadlines

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri)"
_FEW = r"(?:a|one|1|2|3|two|three|a few|few|a couple of|couple of|a couple)"
_DEADLINES = (
    ("this_week", re.compile(
        rf"\b(?:this week|by (?:the )?end of (?:the |this )?week|end of (?:the )?week|eow|"
        rf"tomorrow|in {_FEW} days?|by {_WEEKDAY}|next {_WEEKDAY}|"
        rf"(?:ship|launch|release|demo|due|live)(?:s|es|ing)? (?:on |this )?{_WEEKDAY}|"
        r"within (?:a|the) week|this sprint)\b", re.IGNORECASE)),
    ("this_month", re.compile(
        rf"\b(?:this month|next week|in {_FEW} weeks?|within {_FEW} weeks?|"
        r"by (?:the )?end of (?:the |this )?month|end of (?:the )?month|eom|within (?:a|the) "
        r"month|next sprint)\b", re.IGNORECASE)),
    ("this_quarter", re.compile(
        rf"\b(?:this quarter|next month|in {_FEW} months?|within {_FEW} months?|"
        r"by (?:the )?end of (?:the |this )?quarter|end of (?:the )?quarter|eoq|"
        r"within (?:a|the) quarter)\b", re.IGNORECASE)),
    ("no_deadline", re.compile(
        r"\b(?:no (?:fixed |hard |real |firm |set )?deadline|no rush|no hurry|not urgent|"
        r"no time pressure|whenever it'?s ready|there'?s no deadline)\b", re.IGNORECASE)),
)


# A date phrase is only a deadline when its clause talks about shipping.
_DEADLINE_CUE = re.compile(
    r"\b(?:ship(?:s|ping|ped)?|launch(?:es|ing)?|release|deliver(?:y|ed)?|due|deadline|"
    r"need(?:s|ed)? (?:it|this|to)|go(?:es|ing)? live|live|ready|demo|by|must|has to|have to)\b",
    re.IGNORECASE,
)


def _deadlines(parts: list[str]) -> list[tuple[str, str]]:
    found = []
    for clause in parts:
        for value, pattern in _DEADLINES:
            m = pattern.search(clause)
            if m and (value == "no_deadline" or _DEADLINE_CUE.search(clause)):
                found.append((value, m.group(0)))
    return found


# ---------------------------------------------------------------- yes/no facts

_NEG = re.compile(
    r"\b(?:no|not|never|without|lack(?:s|ing)?|missing|zero|nor|none|neither|"
    r"don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|isn'?t|aren'?t|wasn'?t|won'?t|can'?t|"
    r"do not|does not|did not|have not|has not|is not|are not|yet to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _BoolRule:
    question: str
    topic: re.Pattern[str]
    yes_first: tuple[re.Pattern[str], ...] = ()  # checked before negation: these mean yes
    no_first: tuple[re.Pattern[str], ...] = ()  # checked before anything: these mean no
    yes: re.Pattern[str] | None = None  # affirmative cue required for yes (None: topic is enough)
    negation_means_no: bool = True
    no: re.Pattern[str] | None = None  # further cues that mean no


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_BOOL_RULES = (
    _BoolRule(
        "has_eval_set",
        topic=_re(r"\bevals?\b|\bevaluation(?:s| set| suite| data(?:set)?| harness)?\b|"
                  r"\beval(?:uation)? (?:set|suite|data(?:set)?|harness)\b"),
        yes=_re(r"\b(?:have|has|had|got|with|built|ready|our|existing|in place|we've|\d+)\b"),
    ),
    _BoolRule(
        "prompt_engineering_tried",
        topic=_re(r"\bprompt(?:s|ing| engineering)?\b"),
        no_first=(
            _re(r"\b(?:haven'?t|have not|hasn'?t|has not|didn'?t|did not|never|not yet|yet to)\s+"
                r"(?:really\s+|seriously\s+|properly\s+|even\s+)?(?:tried|try|done|do|attempted|"
                r"iterated on|worked on|measured|tested)\s+(?:\w+\s+){0,2}?prompt"),
            _re(r"\bno (?:serious |real )?prompt(?:ing| engineering)\b"),
            _re(r"\bprompt(?:s|ing| engineering)? (?:not|hasn'?t been|has not been|wasn'?t|was not)"
                r" (?:yet |really )?(?:tried|done|attempted|measured)"),
        ),
        yes_first=(
            _re(r"\bprompt(?:s|ing| engineering)?\s+(?:alone\s+)?(?:didn'?t|did not|doesn'?t|"
                r"does not|isn'?t|is not|wasn'?t|was not|won'?t|can'?t)\s+"
                r"(?:work|help|cut it|enough|get|fix|good enough|do it|seem)"),
            _re(r"\b(?:prompting|prompt engineering) (?:is |was |has )?(?:exhausted|maxed out|"
                r"not enough|insufficient|hit a wall|plateaued|done)"),
        ),
        yes=_re(r"\b(?:tried|attempted|iterated|tuned|optimi[sz]ed|exhausted|measured|tested|"
                r"worked on|spent \w+ on)\b(?:\s+\w+){0,3}?\s+prompt|"
                r"\bprompt(?:s|ing| engineering)? (?:was |has been |is )?"
                r"(?:tried|tuned|optimi[sz]ed|measured|tested|iterated)"),
        negation_means_no=False,
    ),
    _BoolRule(
        "spec_stable",
        topic=_re(r"\b(?:spec|specs|specification|requirements?|task definition|output format "
                  r"is)\b"),
        no_first=(
            _re(r"\b(?:not|isn'?t|aren'?t|never|not yet|nowhere near)\s+(?:yet\s+|really\s+|"
                r"fully\s+|quite\s+)?(?:stable|settled|fixed|final|locked|frozen|agreed|"
                r"finali[sz]ed|done)\b"),
        ),
        yes_first=(
            _re(r"\b(?:won'?t|doesn'?t|does not|will not|not) (?:change|changing|move|moving)\b"),
        ),
        yes=_re(r"\b(?:stable|settled|fixed|final|finali[sz]ed|locked|frozen|agreed|signed off"
                r"|nailed down)\b"),
        no=_re(r"\b(?:chang(?:e|es|ing)|moving|moves|evolv(?:e|es|ing)|flux|unstable|unsettled|"
               r"still|in progress|draft|tbd|wip|shifting|churn(?:s|ing)?|unclear)\b"),
        negation_means_no=False,
    ),
    _BoolRule(
        "format_resisted",
        topic=_re(r"\b(?:format|formatting|style|schema|json|tone|structure)\b"),
        yes=_re(r"\b(?:keeps?|kept) (?:missing|breaking|ignoring|drifting|getting \w+ wrong|"
                r"failing)|\b(?:ignores|drifts|breaks|misses) (?:the |our )?(?:format|style|"
                r"schema|json|tone|structure)|\bwon'?t (?:follow|stick to|keep)\b|"
                r"\bdoesn'?t (?:follow|stick to|keep)\b|\bcan'?t get it to (?:follow|keep)\b"),
        negation_means_no=False,
    ),
    _BoolRule(
        "latency_critical",
        topic=_re(r"\blatency\b|\breal[- ]time\b|\blow[- ]latency\b"),
        no_first=(
            _re(r"\blatency (?:doesn'?t|does not|isn'?t|is not) (?:matter|important|critical|"
                r"an issue|a concern)|\bnot latency[- ](?:critical|sensitive)\b"),
        ),
        yes=_re(r"\blatency (?:matters|is critical|is key|is important|critical|sensitive)|"
                r"\blatency[- ](?:critical|sensitive|bound)\b|\blow[- ]latency\b|\breal[- ]time\b"),
        negation_means_no=False,
    ),
    _BoolRule(
        "retrieval_in_place",
        topic=_re(r"\brag\b|\bretriev(?:al|e|ing)\b|\bvector (?:store|db|database|search)\b|"
                  r"\bembeddings? search\b|\bsemantic search\b"),
        no_first=(_re(r"\b(?:no|without|not using|don'?t use|do not use|haven'?t (?:built|set up|"
                      r"added)|not yet|considering|thinking about|should we (?:use|add))\b"
                      r"(?:\s+\w+){0,2}?\s*(?:rag|retriev|vector)"),),
        yes=_re(r"\b(?:use|uses|using|have|has|with|already|built|run|runs|running|in place|"
                r"our|existing|on top of|over)\b"),
        negation_means_no=False,
    ),
    _BoolRule(
        "multilingual",
        topic=_re(r"\bmultilingual\b|\blanguages\b|\bmulti-language\b|\bnon-english\b|"
                  r"\b(?:only|just) (?:in )?english\b"),
        no_first=(_re(r"\b(?:only|just) (?:in )?english\b|\bone language\b"),),
        yes=_re(r"\bmultilingual\b|\b(?:\d+|several|many|multiple|two|three|four|five|six|"
                r"ten|a dozen) languages\b|\bmulti-language\b|\bnon-english\b"),
        negation_means_no=False,
    ),
    _BoolRule(
        "smaller_model_wanted",
        topic=_re(r"\b(?:smaller|small|cheaper|tiny|distil(?:l|led|ling|lation)?)\b"),
        no_first=(
            _re(r"\b(?:don'?t|do not|no need to|not looking to) (?:want|need)?\s*(?:a |to )?"
                r"(?:smaller|small|cheaper|distil)"),
        ),
        yes=_re(r"\b(?:want|wants|need|needs|like|planning|plan|hoping|looking) (?:to |for )?"
                r"(?:use |move to |switch to |get |have )?(?:a |an )?(?:smaller|small|cheaper|"
                r"tiny|distil)|\bdistil(?:l|ling|lation)? (?:it |this |the task )?(?:in)?to\b|"
                r"\b(?:smaller|cheaper|small) model (?:to )?match"),
        negation_means_no=False,
    ),
)


def _bool_in(rule: _BoolRule, clause: str) -> bool | None:
    if not rule.topic.search(clause):
        return None
    if any(p.search(clause) for p in rule.no_first):
        return False
    if any(p.search(clause) for p in rule.yes_first):
        return True
    if rule.negation_means_no and _NEG.search(clause):
        return False
    if rule.no is not None and rule.no.search(clause):
        return False
    if rule.yes is None or rule.yes.search(clause):
        return True
    return None


# ---------------------------------------------------------------- task type

_TASK_TYPES = (
    ("classification_extraction", _re(r"\b(?:classif(?:y|ier|iers|ication)|extract(?:ion|ing|or)?|"
                                      r"tagging|categori[sz](?:e|ation|ing)|ner)\b")),
    ("tool_use", _re(r"\b(?:tool[- ]use|tool[- ]calling|function[- ]calling|tools|agentic)\b")),
)


# ---------------------------------------------------------------- where it runs, data

_DEPLOYMENTS = (
    ("on_prem", _re(r"\bon[- ]?prem(?:ise|ises)?\b|\bself[- ]host(?:ed|ing)?\b|\bair[- ]?gapped\b|"
                    r"\bour own (?:servers|gpus|machines|hardware|data ?cent(?:er|re))\b|"
                    r"\bprivate cloud\b")),
    ("data_residency", _re(r"\bdata residency\b|\bresiden(?:cy|t) in\b|\bstay(?:s)? in the "
                           r"(?:eu|us|uk|region|country)\b|\bin[- ]region\b|\bgdpr\b|"
                           r"\bsovereign(?:ty)?\b")),
)
_EXAMPLE_SOURCES = (
    ("teacher_model", _re(r"\bteacher(?: model)?\b|\bdistill(?:ed|ing|ation)? from\b")),
    ("synthetic", _re(r"\bsynthetic (?:data|examples|dataset|labels)\b|\b(?:examples|data|labels) "
                      r"(?:were |are )?(?:generated|written) (?:by|with) (?:an? )?"
                      r"(?:llm|model|ai)\b")),
)
_ACCURACY_GAP = _re(r"\baccuracy\b[^.;,]{0,40}?\b(?:too low|not (?:good|high) enough|poor|"
                    r"falls? short|stuck|below (?:target|what we need))\b|"
                    r"\bnot accurate enough\b|\baccuracy gap\b|"
                    r"\b(?:too many|lots of) (?:wrong|misclassified|mislabel(?:l)?ed)\b")


def _one_of(patterns: tuple[tuple[str, re.Pattern[str]], ...], body: str
            ) -> tuple[str, str] | None:
    """The one value whose pattern the text matches (None when none or several do)."""
    found = [(value, m.group(0)) for value, pattern in patterns
             if (m := pattern.search(body)) and not _NEG.search(body[max(0, m.start() - 12):
                                                                    m.start()])]
    return found[0] if len({v for v, _ in found}) == 1 else None


# ---------------------------------------------------------------- assembling


def _shown_number(value: Value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool) and abs(value) >= 1e6:
        return humanize.compact(value)
    return humanize.plain_value(value)


def _phrase(question_id: str, value: Value, knowledge: Knowledge | None, extra: str = "") -> str:
    name, shown = question_id.replace("_", " "), _shown_number(value)
    if knowledge is not None and knowledge.has_question(question_id):
        question = knowledge.question(question_id)
        name = question.short
        if question.kind in ("choice", "model"):
            shown = question.label_of(value)
        elif question.unit and question.kind in ("int", "float"):
            unit = "calls a month" if question_id == "monthly_calls" else question.unit
            shown = f"{shown} {unit}"
    if extra:
        shown = f"{shown}, from {extra}"
    return f"{name}: {shown}"


def _validated(question_id: str, value: Any, knowledge: Knowledge | None) -> Value | None:
    if knowledge is None:
        return value
    if not knowledge.has_question(question_id):
        return None
    try:
        return parse_value(knowledge.question(question_id), value)
    except AnswerError:
        return None


def _unique(
    candidates: Iterable[tuple[str, Any, str, str]],
) -> tuple[dict[str, tuple[Any, str, str]], dict[str, list[str]]]:
    chosen: dict[str, tuple[Any, str, str]] = {}
    conflicts: dict[str, list[str]] = {}
    for qid, value, snippet, note in candidates:
        if qid in conflicts:
            conflicts[qid].append(snippet)
            continue
        if qid in chosen and chosen[qid][0] != value:
            conflicts[qid] = [chosen.pop(qid)[1], snippet]
            continue
        chosen.setdefault(qid, (value, snippet, note))
    return chosen, conflicts


#: How much of one text is read (a situation fits in far less; Slack allows 40,000).
MAX_TEXT = 8_000


def parse_freetext(text: str, knowledge: Knowledge | None = None) -> FreeText:
    """Read answers from free text. Pure and deterministic; never guesses.

    With `knowledge`, every value is checked against its question (bounds, options) and
    the phrases use the questions' short names and units; notes cite dated knowledge.
    """
    result = FreeText()
    if len(text or "") > MAX_TEXT:
        text = text[:MAX_TEXT]
        result.notes.append(f"I read the first {MAX_TEXT:,} characters; tell me anything "
                            "important from the rest in a reply.")
    body = clean(text)
    if not body:
        return result
    candidates: list[tuple[str, Any, str, str]] = []
    _numbers(body, candidates)
    if m := _NO_EXAMPLES.search(body):
        candidates.append(("labelled_examples", 0, m.group(0), ""))

    hints, notes = _model_hint(body, knowledge)
    result.notes.extend(notes)
    candidates.extend((qid, value, snippet, "") for qid, value, snippet in hints)

    parts = clauses(body)
    deadlines = _deadlines(parts)
    if len({v for v, _ in deadlines}) == 1:
        candidates.append(("deadline", deadlines[0][0], deadlines[0][1], ""))
    elif deadlines:
        result.notes.append(
            "I read more than one deadline ("
            + ", ".join(f'"{s}"' for _, s in deadlines) + "); I left the deadline for you."
        )

    for rule in _BOOL_RULES:
        seen = [(v, c) for c in parts if (v := _bool_in(rule, c)) is not None]
        candidates.extend((rule.question, v, c, "") for v, c in seen)

    kinds = [(value, m.group(0)) for value, pattern in _TASK_TYPES for m in [pattern.search(body)]
             if m]
    if len(kinds) == 1:
        candidates.append(("task_type", kinds[0][0], kinds[0][1], ""))
    for qid, patterns in (("deployment", _DEPLOYMENTS), ("examples_source", _EXAMPLE_SOURCES)):
        if (one := _one_of(patterns, body)) is not None:
            candidates.append((qid, one[0], one[1], ""))
    if m := _ACCURACY_GAP.search(body):
        candidates.append(("gap", "accuracy", m.group(0), ""))

    chosen, conflicts = _unique(candidates)
    order = {q.id: i for i, q in enumerate(knowledge.questions)} if knowledge else {}
    for qid in sorted(chosen, key=lambda q: (order.get(q, 999), q)):
        raw, snip, note = chosen[qid]
        value = _validated(qid, raw, knowledge)
        if value is None:
            result.notes.append(f'I could not use "{snip}" as {qid.replace("_", " ")}.')
            continue
        phrase = _phrase(qid, value, knowledge, note)
        result.findings.append(Finding(qid, value, f'{phrase} ("{snip}")', snip))
    for qid, snippets in sorted(conflicts.items()):
        name = knowledge.question(qid).short if knowledge and knowledge.has_question(qid) else qid
        shown = ", ".join(f'"{s}"' for s in dict.fromkeys(snippets))
        result.notes.append(f"I read different values for {name} ({shown}); I left it for you.")
    return result
