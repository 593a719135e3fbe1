"""Rendering speed: plain docxtpl versus the cached engine, and PDF letters per second.

    .venv/bin/python benchmarks/render.py [--letters N] [--no-pdf]

Uses the shipped invitation letter (about 30 fields, fields in the header and footer, a 5-row
table loop) with examples/template-data/invitation.yaml. Both loops produce the same document
text (checked below). The last line is ``speedup: <float>``.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.documents.engine import DocumentEngine  # noqa: E402
from workers.documents.environment import make_environment  # noqa: E402
from workers.documents.examples import example_context  # noqa: E402

TEMPLATE = ROOT / "templates_docx" / "invitation.docx"


def document_text(data: bytes) -> list[str]:
    import docx

    doc = docx.Document(io.BytesIO(data))
    out = [p.text for p in doc.paragraphs]
    out += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    for s in doc.sections:
        for part in (s.header, s.footer, s.first_page_header, s.first_page_footer):
            out += [p.text for p in part.paragraphs]
    return out


_ENV = make_environment()  # shared, so the plain loop is not charged for building it


def plain(ctx: dict[str, Any]) -> bytes:
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(TEMPLATE)
    tpl.render(ctx, jinja_env=_ENV, autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def rate(fn: Any, n: int) -> float:
    fn()  # warm-up (imports, first compile)
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def pdf_rates(docx: bytes, cold_n: int, warm_n: int) -> None:
    from workers.config.settings import load_settings
    from workers.documents.pdf import PdfConverter, libreoffice_available
    from workers.host.runtime_dir import process_dir, remove_process_dirs

    if not libreoffice_available():
        print("pdf: LibreOffice not installed, skipped")
        return
    folder = process_dir(load_settings(ROOT / "config").runtime_dir)
    try:
        with PdfConverter(warm=False, folder=folder) as cold:
            cold_rate = rate(lambda: cold.convert(docx), cold_n)
        with PdfConverter(warm=True, folder=folder) as warm:
            warm_rate = rate(lambda: warm.convert(docx), warm_n)
    finally:
        remove_process_dirs()
    print(f"pdf cold (new soffice per file): {cold_rate:.2f} letters/s")
    print(f"pdf warm (listening soffice + uno bridge): {warm_rate:.2f} letters/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--letters", type=int, default=200)
    parser.add_argument("--no-pdf", action="store_true")
    args = parser.parse_args()
    ctx = example_context("invitation")
    engine = DocumentEngine(TEMPLATE.parent)

    ours = engine.render("invitation", ctx)
    same = document_text(plain(ctx)) == document_text(ours)
    print(f"template: {TEMPLATE.relative_to(ROOT)}; same document text: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("the two renderers disagree; the comparison would be meaningless")

    plain_rate = rate(lambda: plain(ctx), max(args.letters // 5, 20))
    engine_rate = rate(lambda: engine.render("invitation", ctx), args.letters)
    print(f"plain docxtpl: {plain_rate:.1f} letters/s")
    print(f"cached engine: {engine_rate:.1f} letters/s")
    if not args.no_pdf:
        pdf_rates(ours, cold_n=3, warm_n=10)
    print(f"speedup: {engine_rate / plain_rate:.2f}")


if __name__ == "__main__":
    main()
