"""Loading the knowledge files into one `Knowledge`, with every problem found.

Every problem is reported as (file, entry, reason) so that a bad edit stops start-up with
a message that says exactly where to look.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot.knowledge.checks import cross_check
from bot.knowledge.problems import KnowledgeError, Problem
from bot.knowledge.schema import (
    Catalogue,
    Criterion,
    Manifest,
    ModelRow,
    Option,
    Policy,
    ProviderRow,
    Providers,
    Question,
    Rule,
    Source,
    Strict,
)

KNOWLEDGE_FILES = (
    "manifest", "sources", "criteria", "questions", "rules", "providers", "models",
)
MODEL_QUESTION = "model"


@dataclass(frozen=True)
class Reference:
    value: float
    source: str
    note: str


@dataclass(frozen=True, eq=False)  # hashed by identity: caches key on it
class Knowledge:
    manifest: Manifest
    sources: tuple[Source, ...]
    criteria: tuple[Criterion, ...]
    questions: tuple[Question, ...]
    policy: Policy
    rules: tuple[Rule, ...]
    providers: Providers
    catalogue: Catalogue
    version: str
    directory: Path

    def __post_init__(self) -> None:
        # Look-up tables, built once; frozen dataclass, hence object.__setattr__.
        object.__setattr__(self, "_questions", {q.id: q for q in self.questions})
        object.__setattr__(self, "_sources", {s.id: s for s in self.sources})
        object.__setattr__(self, "_rules", {r.id: r for r in self.rules})
        object.__setattr__(self, "_models", {m.id: m for m in self.catalogue.models})
        object.__setattr__(self, "_providers", {p.id: p for p in self.providers.providers})
        object.__setattr__(self, "_gpus", {g.id: g for g in self.providers.gpus})

    def question(self, question_id: str) -> Question:
        return self._questions[question_id]

    def has_question(self, question_id: str) -> bool:
        return question_id in self._questions

    def source(self, source_id: str) -> Source:
        return self._sources[source_id]

    def rule(self, rule_id: str) -> Rule:
        return self._rules[rule_id]

    def model(self, model_id: str) -> ModelRow:
        return self._models[model_id]

    def has_model(self, model_id: str) -> bool:
        return model_id in self._models

    def provider(self, provider_id: str) -> ProviderRow:
        return self._providers[provider_id]

    def gpu(self, gpu_id: str) -> Any:
        return self._gpus[gpu_id]

    def reference(self, question: Question) -> Reference:
        """The dated-table value a `fee:`/`training:` question takes while unanswered."""
        table, row_id, field = (question.assume_from or "::").split(":")
        rows: Any = self.providers.fees if table == "fee" else self.providers.training
        row = next(r for r in rows if r.id == row_id)
        third = ", third-party" if row.third_party else ""
        return Reference(float(getattr(row, field)), row.source,
                         f"{row.what}, as of {row.checked_on}{third}")

    @property
    def asked_questions(self) -> list[Question]:
        return [q for q in self.questions if q.ask]


def default_knowledge_dir() -> Path:
    """`KNOWLEDGE_DIR`, else the copy shipped inside the package, else the repo's."""
    configured = os.environ.get("KNOWLEDGE_DIR")
    if configured:
        return Path(configured)
    shipped = Path(__file__).resolve().parent.parent / "_knowledge"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parent.parent.parent / "knowledge"


def load_knowledge(directory: Path | str | None = None) -> Knowledge:
    """Load and validate every knowledge file; raise KnowledgeError listing all problems."""
    path = Path(directory) if directory is not None else default_knowledge_dir()
    return _load_cached(path.resolve())


@lru_cache(maxsize=8)
def _load_cached(directory: Path) -> Knowledge:
    problems: list[Problem] = []
    if not directory.is_dir():
        raise KnowledgeError([Problem(str(directory), "(folder)",
                                      "is not a folder of knowledge files")])
    raw: dict[str, Any] = {}
    digest = hashlib.sha256()
    for name in KNOWLEDGE_FILES:
        file = directory / f"{name}.yaml"
        try:
            text = file.read_bytes()
        except OSError as exc:
            problems.append(Problem(file.name, "(file)", f"cannot be read: {exc.strerror}"))
            continue
        digest.update(name.encode() + b"\0" + text)
        try:
            raw[name] = yaml.load(text, Loader=_yaml_loader())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
            reason = getattr(exc, "problem", None) or str(exc)
            problems.append(Problem(file.name, where, f"is not valid YAML: {reason}"))
    if problems:
        raise KnowledgeError(problems)

    manifest = _model(Manifest, raw["manifest"], "manifest.yaml", "(file)", problems)
    sources = _list(Source, raw["sources"], "sources", "sources.yaml", problems)
    criteria = _list(Criterion, raw["criteria"], "criteria", "criteria.yaml", problems)
    questions = _list(Question, raw["questions"], "questions", "questions.yaml", problems)
    rules_file = _rules(raw["rules"], problems)
    providers = _model(Providers, raw["providers"], "providers.yaml", "(file)", problems)
    catalogue = _catalogue(raw["models"], problems)
    if (problems or manifest is None or rules_file is None or providers is None
            or catalogue is None):
        raise KnowledgeError(problems)

    knowledge = Knowledge(
        manifest=manifest,
        sources=tuple(sources),
        criteria=tuple(criteria),
        questions=tuple(_with_model_options(q, catalogue, providers) for q in questions),
        policy=rules_file[0],
        rules=tuple(rules_file[1]),
        providers=providers,
        catalogue=catalogue,
        version=f"{manifest.version}+{digest.hexdigest()[:8]}",
        directory=directory,
    )
    problems.extend(cross_check(knowledge))
    if problems:
        raise KnowledgeError(problems)
    return knowledge


def _with_model_options(question: Question, catalogue: Catalogue, providers: Providers):
    """The model question's options are the catalogue's rows, grouped by provider."""
    if question.kind != "model":
        return question
    names = {p.id: p.name for p in providers.providers}
    shorts = {p.id: p.short_name for p in providers.providers}
    options = [
        Option(value=row.id, label=f"{row.label} ({shorts.get(row.provider, row.provider)})",
               group=names.get(row.provider, row.provider), aliases=row.aliases)
        for row in catalogue.models
    ]
    return question.model_copy(update={"options": options})


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A YAML loader that refuses a key written twice in one mapping (last-wins hides
    a bad edit)."""


def _no_duplicates(loader: Any, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is written twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates
)


def _yaml_loader() -> type:
    return _UniqueKeyLoader


def _model(cls: type[Strict], data: Any, file: str, entry: str, problems: list[Problem]):
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or "(top)"
            problems.append(Problem(file, entry, f"{location}: {error['msg']}"))
        return None


def _list(cls: type[Strict], data: Any, key: str, file: str, problems: list[Problem]) -> list:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        problems.append(Problem(file, "(file)", f"must be a mapping with a `{key}` list"))
        return []
    items = []
    for position, item in enumerate(data[key]):
        entry = _entry_name(item, position)
        model = _model(cls, item, file, entry, problems)
        if model is not None:
            items.append(model)
    seen: set[str] = set()
    for item in items:
        ident = getattr(item, "id", None)
        if ident in seen:
            problems.append(Problem(file, str(ident), "id is used twice"))
        seen.add(ident)
    return items


def _entry_name(item: Any, position: int) -> str:
    if isinstance(item, dict) and "id" in item:
        return str(item["id"])
    return f"entry {position + 1}"


def _rules(data: Any, problems: list[Problem]) -> tuple[Policy, list[Rule]] | None:
    if not isinstance(data, dict):
        problems.append(Problem("rules.yaml", "(file)", "must be a mapping with policy and rules"))
        return None
    policy = _model(Policy, data.get("policy"), "rules.yaml", "policy", problems)
    if policy is None:
        return None
    rules_data = data.get("rules")
    if isinstance(rules_data, list):
        named = {name: t.value for name, t in policy.thresholds.items()}
        rules_data = [_with_thresholds(entry, named, problems) for entry in rules_data]
    rules = _list(Rule, {"rules": rules_data}, "rules", "rules.yaml", problems)
    return policy, rules


def _with_thresholds(entry: Any, named: dict[str, float], problems: list[Problem]) -> Any:
    """A rule with each `$name` in its condition replaced by the policy's threshold."""
    if not isinstance(entry, dict):
        return entry
    rule_id = str(entry.get("id", "(rule)"))

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(n) for n in node]
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, str) and node.startswith("$"):
            if node[1:] not in named:
                problems.append(Problem("rules.yaml", rule_id,
                                        f"names unknown threshold `{node}` (policy.thresholds)"))
                return 0
            value = named[node[1:]]
            return int(value) if float(value).is_integer() else value
        return node

    return {**entry, "when": walk(entry["when"])} if "when" in entry else entry


def _catalogue(data: Any, problems: list[Problem]) -> Catalogue | None:
    """models.yaml, each row checked on its own (a bad row names itself)."""
    rows = _list(ModelRow, data, "models", "models.yaml", problems)
    if not isinstance(data, dict):
        return None
    head = {k: v for k, v in data.items() if k != "models"}
    try:
        return Catalogue.model_validate({**head, "models": [r.model_dump() for r in rows]})
    except ValidationError as exc:
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or "(top)"
            problems.append(Problem("models.yaml", "(file)", f"{location}: {error['msg']}"))
        return None
