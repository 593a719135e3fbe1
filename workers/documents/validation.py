"""Validate templates before anything is sent: `iro templates check` and the mail-out preflight.

For each kind: the template exists; its Jinja (after docxtpl's tag patching) compiles, with only
known filters; it uses only fields its kind's catalogue declares and never ``|safe``; email
subjects carry no names; and a trial render with the example data succeeds and passes the strict
XML checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import nodes

from workers.documents.catalogue import KINDS, Kind
from workers.documents.examples import EXAMPLES_DIR, example_context
from workers.errors import IroError, TemplateError


@dataclass(frozen=True)
class Problem:
    template: str
    part: str
    message: str

    def __str__(self) -> str:
        return f"{self.template}:{self.part}: {self.message}"

    @classmethod
    def from_error(cls, template: str, exc: IroError) -> Problem:
        text = str(exc)
        m = re.match(r"^([^:\s]+):([^:\s]+): (.*)$", text, re.DOTALL)
        if m and m.group(1) == template:
            return cls(template, m.group(2), m.group(3))
        return cls(template, "-", text.removeprefix(f"{template}: "))


def _field_problems(kind: Kind, template: str, part: str, ast: nodes.Template) -> list[Problem]:
    from workers.documents.fieldpaths import unknown_fields, used_fields

    problems = [
        Problem(template, part, f"field '{f}' is not in the catalogue for kind '{kind.name}' "
                                "(see docs/templates.md)")
        for f in unknown_fields(used_fields(ast), kind.field_names())
    ]
    if any(f.name == "safe" for f in ast.find_all(nodes.Filter)):
        problems.append(Problem(template, part, "the |safe filter is not allowed: values are "
                                                "escaped so that & and < print faithfully"))
    return problems


def _check_docx(kind: Kind, path: Path, examples_dir: Path, trial: bool) -> list[Problem]:
    from workers.documents.engine import CompiledDocx
    from workers.documents.environment import make_environment

    env = make_environment()
    try:
        compiled = CompiledDocx(path, env)
    except TemplateError as exc:
        return [Problem.from_error(path.name, exc)]
    problems: list[Problem] = []
    for part in compiled.parts:
        problems += _field_problems(kind, path.name, part.name, env.parse(part.source))
    if trial and not problems:
        try:
            compiled.render(example_context(kind.name, examples_dir))
        except IroError as exc:
            problems.append(Problem.from_error(path.name, exc))
    return problems


def _check_email(kind: Kind, path: Path, examples_dir: Path, trial: bool) -> list[Problem]:
    from workers.documents.emails import check_subject, compile_email
    from workers.documents.environment import make_environment

    try:
        compiled = compile_email(path)
    except TemplateError as exc:
        return [Problem.from_error(path.name, exc)]
    env = make_environment(autoescape=False)
    problems = [Problem(path.name, "subject", m) for m in check_subject(compiled)]
    for part, source in (("subject", compiled.subject_source), ("body", compiled.body_source)):
        problems += _field_problems(kind, path.name, part, env.parse(source))
    if trial and not problems:
        try:
            compiled.render(example_context(kind.name, examples_dir))
        except IroError as exc:
            problems.append(Problem.from_error(path.name, exc))
    return problems


def check_template(kind: str, path: Path, *, examples_dir: Path = EXAMPLES_DIR,
                   trial: bool = True) -> list[Problem]:
    """Problems with one template file for ``kind`` ([] when it is good)."""
    spec = KINDS.get(kind)
    if spec is None:
        return [Problem(path.name, "-", f"no document kind is called {kind!r}; name the file "
                                        f"after one of: {', '.join(sorted(KINDS))}")]
    if not path.is_file():
        return [Problem(path.name, "-", f"template missing from {path.parent}")]
    check = _check_docx if spec.format == "docx" else _check_email
    return check(spec, path, examples_dir, trial)


def check_templates(templates_dir: Path, kinds: Iterable[str] | None = None, *,
                    examples_dir: Path = EXAMPLES_DIR, trial: bool = True) -> list[Problem]:
    """Problems with the templates for ``kinds`` (default: every kind) in ``templates_dir``.

    The mail-out calls this before sending and refuses to start when the list is not empty.
    """
    templates_dir = Path(templates_dir)
    problems: list[Problem] = []
    for kind in (sorted(KINDS) if kinds is None else kinds):
        spec = KINDS.get(kind)
        filename = spec.filename if spec else f"{kind}.docx"
        problems += check_template(kind, templates_dir / filename, examples_dir=examples_dir,
                                   trial=trial)
    return problems


def check_path(path: Path, *, examples_dir: Path = EXAMPLES_DIR) -> list[Problem]:
    """A folder (every kind, and files that match no kind) or a single template file."""
    path = Path(path)
    if path.is_dir():
        problems = check_templates(path, examples_dir=examples_dir)
        known = {k.filename for k in KINDS.values()}
        for extra in sorted([*path.glob("*.docx"), *path.glob("*.txt")]):
            if extra.name not in known and not extra.name.startswith("~$"):
                problems.append(Problem(extra.name, "-", "matches no document kind; rename it "
                                                         "or remove it"))
        return problems
    return check_template(path.stem, path, examples_dir=examples_dir)
