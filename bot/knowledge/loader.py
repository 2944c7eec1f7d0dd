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
    folder = _folder_problem(directory)
    if folder is not None:
        raise KnowledgeError([folder])
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
            raw[name], duplicates = read_yaml(text)
        except yaml.YAMLError as exc:
            where, reason = _yaml_where(exc), getattr(exc, "problem", None) or str(exc)
            problems.append(Problem(file.name, where or "(file)", f"is not valid YAML: {reason}"))
            continue
        problems.extend(Problem(file.name, d.where, d.reason) for d in duplicates)
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


def _folder_problem(directory: Path) -> Problem | None:
    """One problem for a folder that is not there (not one per missing file)."""
    if not directory.exists():
        return Problem(str(directory), "(folder)", "does not exist; set --knowledge-dir or "
                       "KNOWLEDGE_DIR to a folder of knowledge files")
    if not directory.is_dir():
        return Problem(str(directory), "(folder)", "is not a folder of knowledge files")
    if not any((directory / f"{name}.yaml").exists() for name in KNOWLEDGE_FILES):
        names = ", ".join(f"{name}.yaml" for name in KNOWLEDGE_FILES)
        return Problem(str(directory), "(folder)", f"has none of the knowledge files ({names})")
    return None


@dataclass(frozen=True)
class DuplicateKey:
    """A key written twice in one YAML mapping (YAML itself keeps the last silently)."""

    key: Any
    entry: str | None  # the `id` of the mapping it is in, when it has one
    line: int  # 1-based, of the second occurrence
    column: int
    first_line: int

    @property
    def where(self) -> str:
        at = f"line {self.line}, column {self.column}"
        return f"{self.entry} ({at})" if self.entry else at

    @property
    def reason(self) -> str:
        return f"the key {self.key!r} is written twice (first on line {self.first_line})"


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, noting every key written twice in one mapping (last-wins hides a
    bad edit). Merge keys (`<<`) may be overridden, as YAML intends."""

    def __init__(self, stream: str | bytes) -> None:
        super().__init__(stream)
        self.duplicates: list[DuplicateKey] = []

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            self._note_duplicates(node)
        return super().construct_mapping(node, deep=deep)

    def _note_duplicates(self, node: yaml.MappingNode) -> None:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node.start_mark)
            except TypeError:  # not hashable: the constructor says so itself
                continue
            if first is not key_node.start_mark:
                mark = key_node.start_mark
                self.duplicates.append(DuplicateKey(key, _mapping_id(node), mark.line + 1,
                                                    mark.column + 1, first.line + 1))


def _mapping_id(node: yaml.MappingNode) -> str | None:
    for key_node, value_node in node.value:
        if (isinstance(key_node, yaml.ScalarNode) and key_node.value == "id"
                and isinstance(value_node, yaml.ScalarNode)):
            return str(value_node.value)
    return None


def read_yaml(text: str | bytes) -> tuple[Any, list[DuplicateKey]]:
    """One YAML document (safe loader) and every key written twice in it; raises
    yaml.YAMLError on bad syntax (`yaml_error_text` says where)."""
    loader = _UniqueKeyLoader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


def _yaml_where(error: yaml.YAMLError) -> str | None:
    mark = getattr(error, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None


def yaml_error_text(error: yaml.YAMLError) -> str:
    """`line 3, column 14: did not find expected ',' or ']' (while parsing a flow sequence
    from line 2, column 6)`: one line, for a person to find the spot."""
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    text = f"{where}: {problem}" if (where := _yaml_where(error)) else problem
    context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and start is not None:
        text += f" ({context} from line {start.line + 1}, column {start.column + 1})"
    elif context:
        text += f" ({context})"
    return text


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
