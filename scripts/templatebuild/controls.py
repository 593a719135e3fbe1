"""Fillable boxes: form controls that Word shows and LibreOffice exports as PDF form fields.

LibreOffice 7.4 (Debian 12's) exports neither Word content controls nor legacy FORMTEXT /
FORMCHECKBOX fields as PDF form fields, but it does export the MS Forms controls (ActiveX
``Forms.TextBox.1`` and ``Forms.CheckBox.1``) a .docx carries. Each control here is stored as a
property bag (``persistPropertyBag``: plain XML, no binary part, nothing executable), which Word
and LibreOffice both read. ``workers/documents/package.py`` refuses any other kind of control in a
template. Names are the PDF field names: one per question, unique within a document.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import parse_xml
from docx.text.paragraph import Paragraph

AX = "http://schemas.microsoft.com/office/2006/activeX"
CONTENT_TYPE = "application/vnd.ms-office.activeX+xml"
# MS Forms class ids ([MS-OFORMS] 2.1.2); the only two a template may carry.
CHECK_BOX = "{8BD21D40-EC42-11CE-9E0D-00AA006002F3}"
TEXT_BOX = "{8BD21D10-EC42-11CE-9E0D-00AA006002F3}"
FONT = "Arial"
_PT_PER_MM = 72 / 25.4


def _control_part(doc: DocxDocument, classid: str, props: dict[str, str]) -> str:
    """Add ``word/activeX/activeXN.xml`` and return its relationship id from the document."""
    part = doc.part
    n = 1 + sum(1 for rel in part.rels.values() if rel.reltype == RT.CONTROL)
    bag = "".join(f"<ax:ocxPr ax:name={quoteattr(k)} ax:value={quoteattr(v)}/>"
                  for k, v in props.items())
    xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           f'<ax:ocx xmlns:ax="{AX}" ax:classid="{classid}" '
           f'ax:persistence="persistPropertyBag">{bag}</ax:ocx>')
    control = Part(PackURI(f"/word/activeX/activeX{n}.xml"), CONTENT_TYPE, xml.encode(),
                   part.package)
    return str(part.relate_to(control, RT.CONTROL))


def _add(paragraph: Paragraph, name: str, classid: str, props: dict[str, str],
         width_mm: float, height_mm: float) -> None:
    doc = paragraph.part.document
    rid = _control_part(doc, classid, props)
    shape = f"control_{name}"
    style = f"width:{width_mm * _PT_PER_MM:.1f}pt;height:{height_mm * _PT_PER_MM:.1f}pt"
    paragraph._p.append(parse_xml(
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office"'
        ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<w:object><v:shape id="{shape}" o:allowincell="t" style="{style}"/>'
        f'<w:control r:id="{rid}" w:name="{name}" w:shapeid="{shape}"/></w:object></w:r>'))


def _font(size_pt: float) -> dict[str, str]:
    # FontHeight in twips (MS Forms); LibreOffice reads FontName and FontHeight from the bag
    return {"FontName": FONT, "FontHeight": str(round(size_pt * 20))}


def check_box(paragraph: Paragraph, name: str, caption: str, *, width_mm: float,
              height_mm: float = 8, size_pt: float = 12) -> None:
    """A tick box with its caption: ticked on screen, or ticked by hand on paper."""
    _add(paragraph, name, CHECK_BOX, {"Caption": caption, "Value": "0", "BackStyle": "0",
                                      **_font(size_pt)},
         width_mm, height_mm)


def text_box(paragraph: Paragraph, name: str, *, width_mm: float, height_mm: float,
             size_pt: float = 12) -> None:
    """A box to type a many-line answer in (or, printed, to write in by hand)."""
    # MultiLine and WordWrap; no border of its own: the table cell around it draws one
    _add(paragraph, name, TEXT_BOX, {"MultiLine": "-1", "WordWrap": "-1", "BorderStyle": "0",
                                     "SpecialEffect": "0", "BackStyle": "0",
                                     **_font(size_pt)},
         width_mm, height_mm)


def field_name(prompt: str, used: set[str], option: str = "") -> str:
    """A short, unique, readable field name from a question and its answer
    ("will_you_come_to_the_review_yes")."""
    import re

    def slug(text: str, words: int) -> list[str]:
        plain = re.sub(r"\{\{[^}]*\}\}", "child", text.lower())
        return re.findall(r"[a-z0-9]+", plain)[:words]

    base = "_".join(slug(prompt, 6) + slug(option, 3)) or "answer"
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name
