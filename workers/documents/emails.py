"""Email body templates: plain text, ``Subject: …`` on the first line, then a blank line, the body.

Rendered in the same sandbox as the Word templates (StrictUndefined) but without HTML escaping,
since the body is text/plain. Subjects carry references and initials only, never a name
(DESIGN.md §6): ``check_subject`` enforces that at validation time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template, TemplateSyntaxError

from workers.documents import diagnose
from workers.documents.environment import make_environment
from workers.errors import TemplateError

# Fields that would put a person's name into a subject line.
NAME_FIELDS = ("child.full_name", "child.given_name", "recipient.name", "recipient.salutation",
               "iro.name")


@dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


@dataclass(frozen=True)
class CompiledEmail:
    name: str
    subject_source: str
    body_source: str
    subject: Template
    body: Template

    def render(self, context: Mapping[str, Any]) -> EmailText:
        subject = self._render(self.subject, "subject", self.subject_source, context)
        body = self._render(self.body, "body", self.body_source, context)
        return EmailText(" ".join(subject.split()), body.strip() + "\n")

    def _render(self, tpl: Template, part: str, source: str, ctx: Mapping[str, Any]) -> str:
        try:
            return tpl.render(ctx)
        except Exception as exc:  # noqa: BLE001 - reported as a TemplateError naming the field
            raise diagnose.render_error(self.name, part, exc, source) from exc


def compile_email(path: Path) -> CompiledEmail:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{path.name}: template not found in {path.parent}") from None
    first, _, rest = text.partition("\n")
    if not first.lower().startswith("subject:"):
        raise TemplateError(f"{path.name}:subject: the first line must be 'Subject: …'")
    subject_source = first.split(":", 1)[1].strip()
    body_source = rest.lstrip("\n")
    env = make_environment(autoescape=False)
    compiled = {}
    for part, source in (("subject", subject_source), ("body", body_source)):
        try:
            compiled[part] = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise diagnose.syntax_error(path.name, part, exc, source) from exc
    return CompiledEmail(path.name, subject_source, body_source, compiled["subject"],
                         compiled["body"])


def check_subject(email: CompiledEmail) -> list[str]:
    """Messages for name fields used in the subject line (subjects carry references only)."""
    import re

    from workers.documents.environment import make_environment
    from workers.documents.fieldpaths import used_fields

    # The text and the parsed fields both: ``child["full_name"]`` or a {% set %} alias hides
    # the dotted spelling from a text search.
    fields = used_fields(make_environment(autoescape=False).parse(email.subject_source))
    used = [f for f in NAME_FIELDS
            if re.search(re.escape(f) + r"\b", email.subject_source)
            or any(u == f or u.startswith(f + ".") for u in fields)]
    return [f"field {f} puts a name in the subject; use child.initials and references"
            for f in used]


def refuse_names_in_subject(template: str, subject: str, names: Iterable[str]) -> None:
    """At send time too: a subject that came out carrying a person's name is not sent, whatever
    the template did to get it there (a filter, a loop). The error names no one."""
    import re

    lowered = subject.casefold()
    for name in names:
        wanted = name.strip().casefold()
        # Whole words only: a surname "Ma" or "Al" must not match "manager" or "Informal".
        if len(wanted) > 1 and re.search(rf"(?<!\w){re.escape(wanted)}(?!\w)", lowered):
            raise TemplateError(
                f"{template}:subject: the rendered subject carries a person's name; subjects "
                "carry references and initials only (use child.initials)"
            )


_cache: dict[Path, tuple[tuple[int, int], CompiledEmail]] = {}
_lock = threading.Lock()


def compiled_email(path: Path) -> CompiledEmail:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise TemplateError(f"{path.name}: template not found in {path.parent}") from None
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _cache.get(path)
    if hit and hit[0] == stamp:
        return hit[1]
    with _lock:
        compiled = compile_email(path)
        _cache[path] = (stamp, compiled)
    return compiled


def render_email(templates_dir: Path, kind: str, context: Mapping[str, Any]) -> EmailText:
    """Render the email body template for ``kind`` (e.g. ``email_invitation``)."""
    from workers.documents.catalogue import get_kind

    return compiled_email(Path(templates_dir) / get_kind(kind).filename).render(context)
