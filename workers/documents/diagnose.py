"""Turn Jinja and XML failures into TemplateError messages a template author can act on.

Messages name the template, the part (``word/document.xml``), the field and the *template's* text
around it: never the filled-in text, which would carry a child's or participant's details.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from lxml import etree

from workers.errors import TemplateError

_TAG = re.compile(r"<[^>]+>")
_EXPR = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_FIELD = re.compile(r"\{\{-?\s*(?:r\s+|p\s+)?(.*?)\s*-?\}\}", re.DOTALL)


def template_text(line: str, limit: int = 160) -> str:
    """The visible text of one template paragraph (XML tags removed), shortened."""
    import html

    text = html.unescape(_TAG.sub("", line)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fields_in(line: str) -> list[str]:
    return [m.strip() for m in _FIELD.findall(_TAG.sub("", line))]


def _template_lineno(tb: TracebackType | None) -> int | None:
    """The template line of the innermost frame Jinja rewrote to point into the template."""
    lineno = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def _where(source_lines: list[str], lineno: int | None) -> str:
    if not lineno or lineno > len(source_lines):
        return ""
    line = source_lines[lineno - 1]
    return f" in the paragraph “{template_text(line)}”"


def syntax_error(template: str, part: str, exc: TemplateSyntaxError, source: str) -> TemplateError:
    msg = exc.message or str(exc)
    if msg.startswith("No filter named"):
        msg = "unknown filter " + msg.removeprefix("No filter named ").rstrip(".")
    return TemplateError(
        f"{template}:{part}: {msg}{_where(source.split(chr(10)), exc.lineno)}"
    )


def render_error(template: str, part: str, exc: Exception, source: str) -> TemplateError:
    """A failure while filling in: a missing field, an unsafe access, a filter given bad data."""
    lineno = _template_lineno(exc.__traceback__)
    where = _where(source.split("\n"), lineno)
    if isinstance(exc, UndefinedError):
        names = re.findall(r"'([^']+)'", exc.message or "")
        field = names[-1] if names else "?"
        if "has no attribute" in (exc.message or ""):
            what = f"missing field '{field}'"
        else:
            what = f"missing field '{field}' ({exc.message})"
        return TemplateError(f"{template}:{part}: {what}{where}")
    if isinstance(exc, SecurityError):
        return TemplateError(f"{template}:{part}: not allowed in a template: {exc}{where}")
    return TemplateError(f"{template}:{part}: {type(exc).__name__}: {exc}{where}")


# Characters XML 1.0 does not allow at all: a value holding one breaks the part wherever it lands.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bad_value_fields(context: Any, path: str = "", depth: int = 0) -> list[str]:
    """The dotted names of the fields whose values XML cannot hold (a control character), so
    the message names the field that holds the bad value, not the paragraph's first field."""
    if depth > 6:
        return []
    if isinstance(context, str):
        return [path or "?"] if _NOT_XML.search(context) else []
    items: list[tuple[str, Any]] = []
    if isinstance(context, Mapping):
        items = [(str(k), v) for k, v in context.items()]
    elif isinstance(context, list | tuple):
        items = [(f"[{i}]", v) for i, v in enumerate(context)]
    elif dataclasses.is_dataclass(context) and not isinstance(context, type):
        items = [(f.name, getattr(context, f.name)) for f in dataclasses.fields(context)]
    found: list[str] = []
    for key, value in items:
        name = f"{path}{key}" if key.startswith("[") or not path else f"{path}.{key}"
        found += bad_value_fields(value, name, depth + 1)
    return found


def xml_error(
    template: str, part: str, exc: etree.XMLSyntaxError, rendered: str, source: str,
    context: Any = None,
) -> TemplateError:
    """The filled-in part is not well-formed: name the field holding a value XML cannot carry,
    else find the template paragraph it came from."""
    bad = bad_value_fields(context) if context is not None else []
    if bad:
        return TemplateError(
            f"{template}:{part}: the filled-in document is not valid XML: field(s) "
            f"{', '.join(bad)} hold a control character; correct the case record"
        )
    rendered_lines = rendered.split("\n")
    lineno = exc.lineno or 0
    try:  # the rendered text still has one paragraph per line: parse it to find the paragraph
        etree.fromstring(rendered.encode("utf-8"), etree.XMLParser(recover=False))
    except etree.XMLSyntaxError as located:
        lineno = located.lineno or lineno
    produced = (
        _TAG.sub("", rendered_lines[lineno - 1]) if 0 < lineno <= len(rendered_lines) else ""
    )
    best, best_score = "", -1
    for line in source.split("\n"):
        if not _EXPR.search(line):
            continue
        statics = [s.strip() for s in _EXPR.split(_TAG.sub("", line)) if s.strip()]
        if any(s not in produced for s in statics):
            continue
        score = sum(len(s) for s in statics)
        if score > best_score:
            best, best_score = line, score
    reason = str(exc.msg if hasattr(exc, "msg") else exc).split(", line")[0]
    if best:
        fields = ", ".join(fields_in(best)) or "?"
        return TemplateError(
            f"{template}:{part}: the filled-in document is not valid XML ({reason}); "
            f"check field(s) {fields} in the paragraph “{template_text(best)}”"
        )
    return TemplateError(
        f"{template}:{part}: the filled-in document is not valid XML ({reason}) "
        f"at paragraph {lineno}; check tags that span paragraphs ({{%p … %}} is needed there)"
    )


def structure_error(template: str, part: str, what: str, fields: list[str]) -> TemplateError:
    """Rich text placed with ``{{ }}`` (it would vanish in Word) or text placed outside a run."""
    named = f"; field(s) holding rich text: {', '.join(fields)}" if fields else ""
    return TemplateError(f"{template}:{part}: {what}{named}")
