"""Which fields a template uses, as dotted paths (``child.given_name``, ``enclosures[].title``).

Walks the Jinja syntax tree: loop variables map to their list (``for e in enclosures`` makes
``e.title`` mean ``enclosures[].title``); names set inside the template are local and ignored.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import nodes

_GLOBALS = frozenset({"loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
                      "true", "false", "none", "True", "False", "None"})


def _chain(node: nodes.Node) -> tuple[nodes.Name, list[str]] | None:
    parts: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
                and isinstance(node.arg.value, str):
            parts.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name):
            return node, list(reversed(parts))
        else:
            return None


def _targets(node: nodes.Node) -> list[str]:
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Tuple):
        return [n for item in node.items for n in _targets(item)]
    return []


class _Walker:
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit(self, node: nodes.Node, scope: dict[str, str | None]) -> None:
        if isinstance(node, nodes.For):
            self.visit(node.iter, scope)
            iterated = self._path(node.iter, scope)
            inner = dict(scope)
            for name in _targets(node.target):
                inner[name] = f"{iterated}[]" if iterated else None
            for child in [*node.body, *node.else_]:
                self.visit(child, inner)
            if node.test is not None:
                self.visit(node.test, inner)
            return
        if isinstance(node, nodes.Assign | nodes.AssignBlock):
            for name in _targets(node.target):
                scope[name] = None
        if isinstance(node, nodes.Macro | nodes.CallBlock):
            return  # macros have their own arguments; templates here do not need them
        if isinstance(node, nodes.Getattr | nodes.Getitem | nodes.Name):
            path = self._path(node, scope)
            if path is not None:
                if path:
                    self.found.add(path)
                if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
                    self.visit(node.arg, scope)
                return
        for child in node.iter_child_nodes():
            self.visit(child, scope)

    def _path(self, node: nodes.Node, scope: dict[str, str | None]) -> str | None:
        """The dotted path for a name chain; '' for locals and globals; None if not a chain."""
        chain = _chain(node)
        if chain is None:
            return None
        name, attrs = chain
        if name.ctx != "load":
            return ""
        if name.name in scope:
            base = scope[name.name]
            return "" if base is None else ".".join([base, *attrs]).replace("[].", "[].")
        if name.name in _GLOBALS:
            return ""
        return ".".join([name.name, *attrs])


def used_fields(template_ast: nodes.Template) -> set[str]:
    walker = _Walker()
    walker.visit(template_ast, {})
    return walker.found


def unknown_fields(used: Iterable[str], declared: frozenset[str]) -> list[str]:
    """Used paths that are neither a declared field, a parent of one, nor inside one."""
    out = []
    for path in sorted(set(used)):
        ok = any(
            f == path or f.startswith(path + ".") or f.startswith(path + "[]")
            or path.startswith(f + ".") or path.startswith(f + "[]")
            for f in declared
        )
        if not ok:
            out.append(path)
    return out
