"""Build the Word templates in templates_docx/ reproducibly with python-docx.

Run ``.venv/bin/python scripts/build_templates.py [OUT_DIR]`` after changing the wording here;
commit both this script and its output. The output is ordinary Word: real styles (Normal, Title,
Heading 1/2, Address, Table Text …), real tables, header and footer — business support can open
and edit the files in Word, and ``iro templates check`` validates what they change.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from docx.document import Document as DocxDocument  # noqa: E402
from templatebuild import letters  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def builders() -> dict[str, Callable[[], DocxDocument]]:
    found: dict[str, Callable[[], DocxDocument]] = {
        "invitation": letters.invitation,
        "reminder": letters.reminder,
        "return_instructions": letters.return_instructions,
    }
    try:
        from templatebuild import forms, notices, record
    except ImportError:  # while the other builders are being written
        return found
    found.update(forms.builders())
    found["review_record"] = record.review_record
    found["record_child_letter"] = record.child_letter
    found["record_decisions"] = record.decisions_letter
    found.update(notices.builders())
    from templatebuild import changes  # issue 16: a meeting moved or cancelled

    found.update(changes.builders())
    return found


def _stable(path: Path) -> None:
    """Fix the timestamps python-docx writes so a rebuild without changes is byte-identical."""
    import zipfile

    data = {}
    with zipfile.ZipFile(path) as zin:
        for info in zin.infolist():
            data[info.filename] = zin.read(info)
    core = data.get("docProps/core.xml")
    if core:
        import re

        data["docProps/core.xml"] = re.sub(
            rb"(<dcterms:(created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", core
        )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, blob in data.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, blob)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "templates_docx"
    out.mkdir(parents=True, exist_ok=True)
    for name, build in builders().items():
        doc = build()
        doc.core_properties.title = name.replace("_", " ")
        doc.core_properties.author = "IRO service"
        path = out / f"{name}.docx"
        doc.save(str(path))
        _stable(path)
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
