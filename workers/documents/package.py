"""What a Word template's zip package must be before any part of it is read.

A template is authored by staff and may arrive from anywhere, so before ``CompiledDocx`` reads a
part: the package holds ``word/document.xml``; it is not macro-enabled (a ``.docm`` renamed
``.docx`` carries ``vbaProject.bin`` and a ``macroEnabled`` content type); no XML part declares a
``DOCTYPE`` (entity expansion, external entities); and it is not a zip bomb (every part is read
into memory, so the unpacked size and the compression ratio are capped); its form controls are
text and check boxes only.
"""

from __future__ import annotations

import re
import zipfile

from workers.errors import TemplateError

MAX_UNPACKED = 64 * 1024 * 1024  # the shipped templates unpack to well under 1 MB
MAX_RATIO = 200  # Word's XML compresses about 10:1; a bomb compresses thousands to one
MAX_PARTS = 2000


def check_package(archive: zipfile.ZipFile, name: str) -> None:
    """TemplateError (exit 4) naming the first thing wrong with the package ``archive``."""
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if len(infos) > MAX_PARTS:
        raise TemplateError(f"{name}: the package has {len(infos)} parts; a Word document has "
                            "a few dozen: save it again from Word as .docx")
    total = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos) or 1
    if total > MAX_UNPACKED or (total > 1024 * 1024 and total / packed > MAX_RATIO):
        raise TemplateError(f"{name}: the package unpacks to {total} bytes (a zip bomb?); "
                            "save it again from Word as .docx")
    if "word/document.xml" not in names:
        raise TemplateError(f"{name}: not a Word document (no word/document.xml in the package); "
                            "save it from Word as 'Word Document (*.docx)'")
    types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    if any(n.lower().endswith("vbaproject.bin") for n in names) or b"macroEnabled" in types:
        raise TemplateError(f"{name}: a macro-enabled document (.docm) renamed .docx; templates "
                            "may not carry macros: save it from Word as 'Word Document (*.docx)'")
    _check_controls(archive, name, names)
    xml_parts = [i for i in infos if i.filename.lower().endswith((".xml", ".rels"))]
    for info in xml_parts:
        if b"<!DOCTYPE" in archive.read(info).upper():
            raise TemplateError(f"{name}:{info.filename}: a DOCTYPE declaration is not "
                                "allowed in a template (entities); save it again from Word")



# The fillable boxes a template may carry (scripts/templatebuild/controls.py): MS Forms text and
# tick boxes (Word may save them back as binary property data, which is only their settings).
# Any other control class is a program Word might run.
_CONTROLS = (b"{8BD21D10-EC42-11CE-9E0D-00AA006002F3}", b"{8BD21D40-EC42-11CE-9E0D-00AA006002F3}")
_CLASSID = re.compile(rb'classid="(\{[0-9A-F-]{36}\})"', re.IGNORECASE)


def _check_controls(archive: zipfile.ZipFile, name: str, names: set[str]) -> None:
    for part in sorted(n for n in names if n.lower().startswith("word/activex/")
                       and n.lower().endswith(".xml")):
        found = _CLASSID.search(archive.read(part))
        if found is None or found.group(1).upper() not in _CONTROLS:
            raise TemplateError(f"{name}:{part}: only text boxes and check boxes may be used "
                                "as form controls in a template; remove this control in Word")
