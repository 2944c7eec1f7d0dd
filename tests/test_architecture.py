"""The layout the architecture notes promise: no import cycles, a pure engine, one
listener per file, Slack code only in bot/slack, no issue numbers in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

BOT = ROOT / "bot"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in BOT.rglob("*.py") if "migrations" not in p.parts}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Modules of bot/ imported when the code runs (module level or inside functions),
    leaving out `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    edges = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


def test_no_import_cycles_among_the_bots_modules():
    modules = _modules()
    graph = {name: _runtime_imports(path, name, set(modules)) for name, path in modules.items()}
    # a package's __init__ importing its own submodules is how packages work, not a cycle
    for name, edges in graph.items():
        graph[name] = {e for e in edges if not e.startswith(name + ".")}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            dfs(name)
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_slack_and_database_code_stay_in_their_packages():
    modules = _modules()
    for name, path in modules.items():
        edges = _runtime_imports(path, name, set(modules))
        text = path.read_text(encoding="utf-8")
        if not name.startswith("bot.slack") and name != "bot.cli":  # cli starts `serve`
            assert not any(e.startswith("bot.slack") for e in edges), name
            assert "slack_bolt" not in text and "slack_sdk" not in text, name
        if name.startswith(("bot.engine", "bot.explain")):
            assert not any(e.startswith("bot.store") for e in edges), name


def test_one_listener_per_file():
    listeners = BOT / "slack" / "listeners"
    for path in listeners.rglob("*.py"):
        if path.name.startswith("_"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        callbacks = [n.name for n in tree.body
                     if isinstance(n, ast.FunctionDef) and n.name.endswith("_callback")]
        assert len(callbacks) == 1, (path, callbacks)


def test_no_issue_numbers_in_the_code():
    issue = re.compile(r"\b(?:issue|task)\s*#?\d+", re.IGNORECASE)
    for path in BOT.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not issue.search(line), (path, number, line)
