"""The layout says what the code is (issue 19): no import cycles between the service's modules,
a pure core that imports no I/O, a top level with nothing loose but the error tree, and modules a
person can read in one sitting.

Imports are read from the source (module level and inside functions alike, since a function-level
import is a cycle waiting for its first call), leaving out ``if TYPE_CHECKING:`` blocks, which
never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "workers"
# No network, database, queue or file access in the core (DESIGN.md §7: I/O at the edges).
IO_LIBRARIES = ("sqlalchemy", "dramatiq", "redis", "httpx", "exchangelib", "msal", "docxtpl",
                "docx", "smtplib", "imaplib", "socket", "subprocess", "pathlib", "yaml", "alembic",
                "fastapi", "uvicorn", "shutil", "tempfile")
MAX_LINES = 380  # "about 350" (issue 19); settings, contexts and catalogue sit at 364-379


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path).rsplit(".", 0 if path.name == "__init__.py" else 1)[0]
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1]
                                + ([node.module] if node.module else []))
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        stack.extend(ast.iter_child_nodes(node))


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles() -> None:
    edges = graph()
    # a package's __init__ importing its own modules is no cycle worth the name
    for name in edges:
        edges[name] = {m for m in edges[name] if not name.startswith(m + ".")}
    assert cycles(edges) == []


def test_the_core_imports_no_io() -> None:
    edges = graph()
    core = [name for name in edges if name.startswith("workers.core")]
    assert core, "workers/core is missing"
    for name in core:
        path = PACKAGE.parent / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = PACKAGE.parent / name.replace(".", "/") / "__init__.py"
        used = set(imports(path))
        bad = sorted(m for m in used if m.split(".")[0] in IO_LIBRARIES)
        assert bad == [], f"{name} imports I/O: {bad}"
        inside = sorted(m for m in edges[name]
                        if not m.startswith(("workers.core", "workers.config.offsets",
                                             "workers.errors")))
        assert inside == [], f"{name} reaches outside the core: {inside}"


def test_nothing_loose_at_the_top() -> None:
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "errors.py"]


def test_modules_a_person_can_read() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
