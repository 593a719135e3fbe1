"""YAML files that remember where every value came from, and errors that say so.

A typo in rules.yaml must not silently switch a rule off, and "invalid value" without a line is
no help to the person editing the file. So the loader keeps the line of every key and value, and
every problem (syntax, duplicate key, unknown key, wrong type, failed cross-check) becomes one line
``<path>:<line>: <dotted.field>: <reason>``. All problems are reported at once, not just the first.
Messages quote configuration values only, never case data.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workers.errors import ConfigError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


class Problem(NamedTuple):
    """One thing wrong with a file. ``line`` is 1-based; None when no line applies."""

    line: int | None
    field: str
    reason: str


def dotted(loc: Iterable[str | int]) -> str:
    """``('escalation', 'stages', 2, 'key')`` → ``escalation.stages[2].key``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(file)"


def format_problems(where: str, problems: Iterable[Problem]) -> str:
    ordered = sorted(problems, key=lambda p: (p.line or 0, p.field))
    return "\n".join(
        f"{where}:{p.line}: {p.field}: {p.reason}" if p.line else f"{where}: {p.field}: {p.reason}"
        for p in ordered
    )


@dataclass
class YamlSource:
    """A parsed YAML file: plain Python data plus the line of every key path."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    @property
    def where(self) -> str:
        # The path as given, so a relative `config/rules.yaml` is printed like that.
        return str(self.path)

    def line_for(self, loc: Sequence[str | int]) -> int:
        """The line of ``loc``, or of its nearest enclosing key that exists (a missing field)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1

    def problem(self, loc: Sequence[str | int], reason: str) -> Problem:
        return Problem(self.line_for(loc), dotted(loc), reason)

    def fail(self, problems: Sequence[Problem]) -> ConfigError:
        return ConfigError(format_problems(self.where, problems))


def read_yaml(path: Path, *, required: bool = True) -> YamlSource:
    """Parse ``path`` keeping line numbers; a ConfigError names file and line of any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if not required:
            return YamlSource(path, {})
        raise ConfigError(
            f"{path}: file not found; it is required (copy the shipped one from config/ "
            "or point --config / IRO_CONFIG_DIR at the folder holding it)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    source = YamlSource(path, None)
    problems: list[Problem] = []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            source.data = _build(loader, node, (), source.lines, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = "; ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        if "'\\t'" in reason:
            reason += " (indent with spaces, not tabs)"
        raise source.fail([Problem(line, "YAML syntax", reason)]) from None
    except yaml.YAMLError as exc:
        raise source.fail([Problem(None, "YAML syntax", str(exc))]) from None
    finally:
        loader.dispose()
    if problems:
        raise source.fail(problems)
    if source.data is None:
        if not required:
            source.data = {}
            return source
        raise source.fail([Problem(1, "(file)", "the file is empty; expected a mapping of keys")])
    if not isinstance(source.data, dict):
        raise source.fail([Problem(1, "(file)", "expected a mapping of keys at the top level")])
    source.lines.setdefault((), 1)
    return source


def _build(
    loader: yaml.SafeLoader,
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    problems: list[Problem],
) -> Any:
    """Turn a composed node into plain data, recording lines and catching duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # YAML merge keys (<<)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(key_line, dotted(loc), "a key must be a plain value"))
                continue
            key = _scalar(loader, key_node)
            if not isinstance(key, str | int):
                key = str(key)
            if key in out:
                first = lines.get((*loc, key))
                problems.append(
                    Problem(key_line, dotted((*loc, key)), f"duplicate key (first at line {first})")
                )
                continue
            child = (*loc, key)
            is_scalar = isinstance(value_node, yaml.ScalarNode)
            lines[child] = value_node.start_mark.line + 1 if is_scalar else key_line
            out[key] = _build(loader, value_node, child, lines, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            items.append(_build(loader, item, (*loc, index), lines, problems))
        return items
    return _scalar(loader, node)


def _scalar(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, yaml.constructor.ConstructorError):
        # e.g. 2026-02-30 looks like a date but is not one: keep the text so validation says why.
        return node.value


def validate(source: YamlSource, model: type[M]) -> M:
    """Validate ``source.data`` against ``model``; every error becomes a file:line problem."""
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        raise source.fail(problems_from(exc, source, model)) from None


def problems_from(
    exc: ValidationError, source: YamlSource, model: type[BaseModel]
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(source.data, err["loc"])
        kind = err["type"]
        if kind == "extra_forbidden":
            reason = _unknown_key_reason(model, loc)
        elif kind == "missing":
            reason = "required field is missing"
        elif kind == "value_error" and "error" in err.get("ctx", {}):
            reason = str(err["ctx"]["error"])
        else:
            reason = err["msg"]
            value = err.get("input")
            if isinstance(value, str | int | float | bool) and "got" not in reason:
                reason += f", got {value!r}"
        problems.append(source.problem(loc, reason))
    return problems


def _clean_loc(data: Any, loc: Sequence[str | int]) -> Loc:
    """Drop pydantic's type tags (``function-plain[...]``, ``[key]``) from an error location."""
    clean: list[str | int] = []
    node = data
    for part in loc:
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        elif isinstance(part, str) and (part == "[key]" or "[" in part):
            continue
        else:
            node = None
        clean.append(part)
    return tuple(clean)


def _unknown_key_reason(model: type[BaseModel], loc: Loc) -> str:
    allowed = _fields_at(model, loc[:-1])
    reason = "unknown key (unknown keys are errors, so a typo cannot switch a rule off)"
    if not allowed:
        return reason
    guess = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    if guess:
        return f"{reason}; did you mean {guess[0]!r}?"
    return f"{reason}; expected one of: {', '.join(allowed)}"


def _fields_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names the model expects at ``loc`` (for 'did you mean' hints)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current, want_model=isinstance(part, str))
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            origin = typing.get_origin(current)
            args = typing.get_args(current)
            if origin in (list, tuple, Sequence) and args:
                current = args[0]
            elif origin is dict and len(args) == 2:
                current = args[1]
            else:
                return []
    current = _unwrap(current, want_model=True)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name, info in current.model_fields.items() if not info.exclude]
    return []


def _unwrap(annotation: Any, *, want_model: bool) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0], want_model=want_model)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0], want_model=want_model)
    return annotation
