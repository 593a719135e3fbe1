"""Concatenated PDFs that stay accessible: tags, language and title survive the join.

LibreOffice exports each document tagged (a structure tree), with its language and title
(``workers.documents.uno_bridge.PDF_EXPORT``). pypdf's ``append`` copies pages but not the
catalogue, so a pack or print batch built from tagged documents would be untagged and untitled.
``TaggedJoin`` appends each document's pages, then grafts its structure tree under one new root:
(pypdf drops a copied page's ``/StructParents``, and it is put back here, renumbered)
each document's top element becomes a child of the root, and its parent tree (marked content →
structure element) is renumbered after the documents before it, with the pages' and annotations'
``/StructParents`` moved by the same amount. The result carries ``/MarkInfo``, ``/Lang``, the
given ``/Title`` and asks viewers to show the title (PDF/UA, ISO 14289-1 §7.1).
"""

from __future__ import annotations

from typing import Any

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    TextStringObject,
)

from workers.documents.docx_style import LANGUAGE  # the PDF says what its Word says


class TaggedJoin:
    """A ``PdfWriter`` to which tagged PDFs are appended whole; ``finish`` titles it."""

    def __init__(self) -> None:
        self.writer = PdfWriter()
        self._kids = ArrayObject()
        self._nums: list[tuple[int, Any]] = []
        self._next_key = 0
        self._role_map = DictionaryObject()
        self._root = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
        self._root_ref = self.writer._add_object(self._root)
        self._metadata: Any = None
        self._documents = 0
        self._field_names: set[str] = set()

    def _own_field_names(self, first: int) -> None:
        """Form fields of the document just appended renamed where an earlier document has the
        name (two parents' forms in one batch): one name is one field, so typing in one copy
        would fill the other."""
        seen: set[int] = set()
        for page in self.writer.pages[first:]:
            for annot in _get(page, "/Annots", ()):
                field = annot.get_object()
                while "/Parent" in field:
                    field = field["/Parent"].get_object()
                if "/T" not in field or id(field) in seen:
                    continue
                seen.add(id(field))
                name = str(field["/T"])
                if name in self._field_names:
                    name = f"{name}_{self._documents}"
                    field[NameObject("/T")] = TextStringObject(name)
                self._field_names.add(name)

    @property
    def pages(self) -> int:
        return len(self.writer.pages)

    def blank_page(self) -> None:
        self.writer.add_blank_page()

    def append(self, reader: PdfReader) -> None:
        first = len(self.writer.pages)
        self.writer.append(reader)
        self._documents += 1
        self._own_field_names(first)
        catalog: Any = reader.trailer["/Root"]
        if self._metadata is None and "/Metadata" in catalog:
            self._metadata = catalog.raw_get("/Metadata")  # kept: the pack is the first's title
        if "/StructTreeRoot" not in catalog:
            return  # an untagged document adds pages only
        offset = self._next_key
        source: Any
        for source, page in zip(reader.pages, self.writer.pages[first:], strict=True):
            if "/StructParents" in source:  # pypdf drops it from the copy; put it back, moved
                page[NameObject("/StructParents")] = NumberObject(
                    int(source["/StructParents"]) + offset)
            for annot in _get(page, "/Annots", ()):
                _shift(annot.get_object(), "/StructParent", offset)
        # Cloning after the pages maps each element's /Pg to the page copies just made.
        tree = catalog["/StructTreeRoot"].get_object().clone(self.writer)
        kids = _get(tree, "/K", ArrayObject())
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            element = kid.get_object()
            if isinstance(element, DictionaryObject):
                element[NameObject("/P")] = self._root_ref
            self._kids.append(kid)
        highest = -1
        for key, value in _numbers(_get(tree, "/ParentTree", None)):
            self._nums.append((key + offset, value))
            highest = max(highest, key)
        declared = int(_get(tree, "/ParentTreeNextKey", highest + 1))
        self._next_key = offset + max(declared, highest + 1)
        for name, role in _get(tree, "/RoleMap", DictionaryObject()).items():
            self._role_map[NameObject(name)] = role

    def finish(self, title: str, *, keep_metadata: bool = True) -> bytes:
        """The joined PDF, tagged, in ``LANGUAGE``, titled ``title``."""
        import io

        if self._kids:
            nums = ArrayObject()
            for key, value in sorted(self._nums, key=lambda kv: kv[0]):
                nums += [NumberObject(key), value]
            self._root.update({
                NameObject("/K"): self._kids,
                NameObject("/ParentTree"): self.writer._add_object(
                    DictionaryObject({NameObject("/Nums"): nums})),
                NameObject("/ParentTreeNextKey"): NumberObject(self._next_key),
            })
            if self._role_map:
                self._root[NameObject("/RoleMap")] = self._role_map
            catalog = self.writer.root_object
            catalog[NameObject("/StructTreeRoot")] = self._root_ref
            catalog[NameObject("/MarkInfo")] = DictionaryObject(
                {NameObject("/Marked"): BooleanObject(True)})
        catalog = self.writer.root_object
        catalog[NameObject("/Lang")] = TextStringObject(LANGUAGE)
        catalog[NameObject("/ViewerPreferences")] = DictionaryObject(
            {NameObject("/DisplayDocTitle"): BooleanObject(True)})
        if keep_metadata and self._metadata is not None:
            catalog[NameObject("/Metadata")] = self._metadata.clone(self.writer)
        self.writer.add_metadata({"/Title": title, "/Producer": "iro-workers"})
        out = io.BytesIO()
        self.writer.write(out)
        return out.getvalue()


def _shift(obj: Any, key: str, offset: int) -> None:
    if key in obj:
        obj[NameObject(key)] = NumberObject(int(obj[key]) + offset)


def _get(obj: Any, key: str, default: Any) -> Any:
    """``obj[key]`` resolved, or ``default``."""
    return obj[key] if key in obj else default  # noqa: SIM401 - [] follows references


def _numbers(tree: Any) -> list[tuple[int, Any]]:
    """Every (key, value) of a PDF number tree, its /Kids followed; values left as they are
    (references to the structure elements)."""
    if tree is None:
        return []
    node = tree.get_object()
    found: list[tuple[int, Any]] = []
    nums = _get(node, "/Nums", ArrayObject())
    for i in range(0, len(nums) - 1, 2):
        found.append((int(nums[i]), list.__getitem__(nums, i + 1)))
    for kid in _get(node, "/Kids", ()):
        found += _numbers(kid)
    return found
