"""Fill Word templates fast and safely: docxtpl's tag patching, compiled once, rendered many times.

``DocxTemplate(path).render(ctx); save()`` re-reads the package, re-patches and recompiles every
part and re-serialises the whole document on every letter (about 25 ms). Here a template is
loaded once into a ``CompiledDocx``: the patched XML of each part holding Jinja tags is compiled in
the sandbox, and every other zip member is written once into a base archive. A render fills the
compiled parts, checks each one with a strict XML parser (docxtpl's recovering parser would
otherwise truncate a letter silently), and appends them to a copy of the base archive.

Supported template syntax is docxtpl's (``{{ }}``, ``{{r }}``, ``{%p %}``, ``{%tr %}``, ``{%tc %}``
without column-count fixing, ``{%r %}``, ``{_{`` escapes); images and sub-documents are not.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Template, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from workers.documents import diagnose
from workers.documents.environment import make_environment
from workers.documents.package import check_package
from workers.documents.titles import titled_core
from workers.errors import TemplateError

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_RENDERED_PART = re.compile(
    r"^(word/(document|header\d*|footer\d*|footnotes|endnotes)\.xml|docProps/core\.xml)$"
)
_HAS_TAGS = re.compile(r"\{\{|\{%|\{#")
_PARA = re.compile(r"<w:p([ >])")
_PARA_BACK = re.compile(r"\n<w:p([ >])")
_LISTING_CHARS = ("\t", "\a", "\n", "\f")
_STRICT = etree.XMLParser(recover=False, resolve_entities=False, no_network=True, huge_tree=True)
# Rich text dropped into {{ }} puts runs inside a text element; text dropped into {{r }} leaves
# characters directly in a paragraph. Word shows neither, so both are errors.
_MISPLACED_RICH = etree.XPath("//w:t[*]", namespaces={"w": W_NS})
_LOOSE_TEXT = etree.XPath("//w:p[text()[normalize-space()]]", namespaces={"w": W_NS})

FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)  # as scripts/build_templates.py stamps the templates
CORE_PART = "docProps/core.xml"  # the document's properties: its title is set per letter


@dataclass(frozen=True)
class CompiledPart:
    name: str
    source: str  # patched XML, one paragraph per line (line numbers point at paragraphs)
    template: Template


def _patcher() -> Any:
    from docxtpl import DocxTemplate

    return DocxTemplate(io.BytesIO())  # patch_xml and resolve_listing need no loaded document


class CompiledDocx:
    """One .docx template, parsed and compiled once; ``render`` is safe to call from threads."""

    def __init__(self, path: Path, env: SandboxedEnvironment, name: str | None = None) -> None:
        self.path = path
        self.name = name or path.name
        self._tpl = _patcher()
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise TemplateError(f"{self.name}: cannot open as a Word document: {exc}") from exc
        try:
            check_package(archive, self.name)
        except BaseException:
            archive.close()
            raise
        parts: list[CompiledPart] = []
        base = io.BytesIO()
        self._core: bytes | None = None  # written at render, with the letter's title
        with archive, zipfile.ZipFile(base, "w", zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                data = archive.read(info)
                if info.filename == CORE_PART:
                    self._core = data
                    continue
                if _RENDERED_PART.match(info.filename):
                    text = data.decode("utf-8")
                    if _HAS_TAGS.search(text):
                        parts.append(self._compile(info.filename, text, env))
                        continue
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        self.parts = tuple(parts)
        self._base = base.getvalue()

    def _compile(self, part: str, xml: str, env: SandboxedEnvironment) -> CompiledPart:
        xml = re.sub(r"\?>\r?\n", "?>", xml, count=1)
        source = _PARA.sub(r"\n<w:p\1", self._tpl.patch_xml(xml))
        try:
            template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise diagnose.syntax_error(self.name, part, exc, source) from exc
        return CompiledPart(part, source, template)

    def render_parts(self, context: Mapping[str, Any]) -> dict[str, bytes]:
        """Fill every part and check it; returns part name → XML bytes."""
        rendered: dict[str, bytes] = {}
        for part in self.parts:
            try:
                out = part.template.render(context)
            except Exception as exc:  # noqa: BLE001 - every failure is reported as a TemplateError
                raise diagnose.render_error(self.name, part.name, exc, part.source) from exc
            rendered[part.name] = self._finish(part, out, context)
        return rendered

    def _finish(self, part: CompiledPart, out: str, context: Mapping[str, Any]) -> bytes:
        xml = _PARA_BACK.sub(r"<w:p\1", out)
        if "_" in xml:
            xml = (xml.replace("{_{", "{{").replace("}_}", "}}")
                   .replace("{_%", "{%").replace("%_}", "%}"))
        if any(c in xml for c in _LISTING_CHARS):
            xml = self._tpl.resolve_listing(xml)  # newlines in values become line breaks
        data = xml.encode("utf-8")
        try:
            tree = etree.fromstring(data, _STRICT)
        except etree.XMLSyntaxError as exc:
            raise diagnose.xml_error(self.name, part.name, exc, out, part.source,
                                     context) from exc
        if part.name.startswith("word/"):
            if _MISPLACED_RICH(tree):
                raise diagnose.structure_error(
                    self.name, part.name,
                    "rich text was placed with {{ }} and would vanish: write {{r field }}",
                    _rich_fields(context),
                )
            if _LOOSE_TEXT(tree):
                raise diagnose.structure_error(
                    self.name, part.name,
                    "plain text was placed with {{r }} and would vanish: write {{ field }}", [],
                )
        return data

    def render(self, context: Mapping[str, Any], title: str | None = None) -> bytes:
        """The filled-in document as .docx bytes; ``title`` (workers.documents.titles) is its
        title property, written with the parts rather than by re-zipping the letter after."""
        rendered = self.render_parts(context)
        if self._core is not None:
            rendered[CORE_PART] = self._core if title is None else titled_core(self._core, title)
        buf = io.BytesIO(self._base)
        buf.seek(0, io.SEEK_END)
        with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as out:
            for name, data in rendered.items():
                # a fixed time stamp: the same letter renders to the same bytes in any second
                info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                out.writestr(info, data)
        return buf.getvalue()


def _rich_fields(context: Mapping[str, Any], prefix: str = "") -> list[str]:
    from docxtpl import RichText

    found: list[str] = []
    for key, value in context.items():
        if isinstance(value, RichText):
            found.append(prefix + str(key))
        elif isinstance(value, Mapping):
            found += _rich_fields(value, f"{prefix}{key}.")
    return found


class DocumentEngine:
    """Renders templates from one folder, caching each compiled template until its file changes.

    Keep one per process (workers are long-lived); it is thread-safe.
    """

    def __init__(self, templates_dir: Path) -> None:
        self.templates_dir = Path(templates_dir)
        self._env = make_environment(autoescape=True)
        self._cache: dict[Path, tuple[tuple[int, int], CompiledDocx]] = {}
        self._lock = threading.Lock()

    def compiled(self, path: Path) -> CompiledDocx:
        try:
            st = path.stat()
        except FileNotFoundError:
            raise TemplateError(
                f"{path.name}: template not found in {path.parent}; "
                "run `iro templates check` to see what is expected"
            ) from None
        stamp = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(path)
        if hit and hit[0] == stamp:
            return hit[1]
        with self._lock:
            compiled = CompiledDocx(path, self._env)
            self._cache[path] = (stamp, compiled)
        return compiled

    def template_path(self, kind: str) -> Path:
        from workers.documents.catalogue import get_kind

        return self.templates_dir / get_kind(kind).filename

    def render(self, kind: str, context: Mapping[str, Any], title: str | None = None) -> bytes:
        """Render the template for ``kind`` (see the catalogue) with ``context``; .docx bytes."""
        return self.compiled(self.template_path(kind)).render(context, title)

    def render_file(self, path: Path, context: Mapping[str, Any]) -> bytes:
        return self.compiled(Path(path)).render(context)


_SHARED: dict[Path, DocumentEngine] = {}
_SHARED_LOCK = threading.Lock()


def shared_engine(templates_dir: Path | str) -> DocumentEngine:
    """The process's one engine for a templates folder, shared by every composer, mail-out and
    notice: the compiled templates it holds are where the speed comes from, so keep one."""
    key = Path(templates_dir).resolve()
    with _SHARED_LOCK:
        engine = _SHARED.get(key)
        if engine is None:
            engine = _SHARED[key] = DocumentEngine(key)
        return engine
