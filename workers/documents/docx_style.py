"""Two settings every Word document the service makes shares with the shipped templates
(scripts/templatebuild/layout.py builds those with them too): one font for every script, and
British English as the language (python-docx's own template says en-US)."""

from __future__ import annotations

from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

FONT = "Arial"
LANGUAGE = "en-GB"  # British English: spell-check in Word, /Lang in the PDF, screen readers


def set_font(style: Any, font: str = FONT) -> None:
    """``font`` for every script of ``style``; theme fonts win over named ones, so they go."""
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), font)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def set_language(doc: Any) -> None:
    """Every run's default language."""
    for lang in doc.styles.element.iter(qn("w:lang")):
        lang.set(qn("w:val"), LANGUAGE)
        lang.set(qn("w:eastAsia"), LANGUAGE)
    for lang in doc.settings.element.iter(qn("w:themeFontLang")):
        lang.set(qn("w:val"), LANGUAGE)
