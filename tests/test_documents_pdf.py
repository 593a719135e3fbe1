"""PDF with real LibreOffice: warm and cold conversion make real pages; packs concatenate."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from workers.documents.engine import DocumentEngine
from workers.documents.examples import example_context
from workers.documents.packs import build_pack
from workers.documents.pdf import PdfConverter, check_pdf
from workers.errors import ServiceUnavailableError, TemplateError

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def _docx(kind: str) -> bytes:
    return DocumentEngine(ROOT / "templates_docx").render(kind, example_context(kind))


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_warm_converter_makes_pages_and_a_pack(soffice: str) -> None:
    from conftest import missing_service

    from workers.documents.pdf import uno_available

    if not uno_available():
        missing_service("python3-uno is not installed; `make system-deps` installs it")
    kinds = ["invitation", "consultation_parent", "return_instructions"]
    with PdfConverter(soffice, timeout=120) as conv:
        pdfs = [conv.convert(_docx(k), k) for k in kinds]
        again = conv.convert(_docx("invitation"))  # the same soffice serves the next letter
        assert conv.warm, "fell back to one soffice per document"
    counts = [check_pdf(p) for p in pdfs]
    assert all(c >= 1 for c in counts) and check_pdf(again) >= 1
    assert "Invitation to a looked after review for Sam Smith" in _text(pdfs[0])
    pack = build_pack(pdfs)
    assert len(PdfReader(io.BytesIO(pack)).pages) == sum(counts)
    text = _text(pack)
    assert "How to send your form back" in text and "Consultation form for parents" in text


def test_cold_converter(soffice: str) -> None:
    with PdfConverter(soffice, warm=False) as conv:
        pdf = conv.convert(_docx("reminder"))
    assert "IRO-7KQ2-PX" in _text(pdf)


def test_missing_libreoffice_is_a_clear_error() -> None:
    with pytest.raises(ServiceUnavailableError, match="not installed"), \
            PdfConverter("/nonexistent/soffice") as conv:
        conv.convert(b"x")


def test_empty_or_broken_pdf_is_refused() -> None:
    with pytest.raises(TemplateError, match="empty PDF"):
        check_pdf(b"")
    with pytest.raises(TemplateError):
        build_pack([b"not a pdf"])


def test_libreoffice_goes_when_its_owner_dies_without_closing(soffice: str, tmp_path: Path) -> None:
    # a process ended by SIGKILL, or by a SIGTERM that skips its exit hooks (uvicorn re-raises
    # the one it caught), never closes its converter: its bridge sees stdin close and takes
    # LibreOffice down, instead of leaving it running for good
    import os
    import signal
    import subprocess
    import sys
    import time

    from conftest import missing_service, office_using

    from workers.documents.pdf import uno_available

    if not uno_available():
        missing_service("python3-uno is not installed; `make system-deps` installs it")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from workers.documents.engine import DocumentEngine\n"
        "from workers.documents.examples import example_context\n"
        "from workers.documents.pdf import PdfConverter\n"
        f"doc = DocumentEngine(Path({str(ROOT / 'templates_docx')!r})).render("
        "'invitation', example_context('invitation'))\n"
        f"conv = PdfConverter({soffice!r}, timeout=120)\n"
        "conv.convert(doc)\n"
        "print('converted', flush=True)\n"
        "sys.stdin.read()\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert owner.stdout is not None and owner.stdout.readline().strip() == b"converted"

    assert office_using(tmp_path)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 30
    while office_using(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = office_using(tmp_path)
    for pid in left:  # do not leave it running if the assertion below fails
        os.kill(pid, signal.SIGKILL)
    assert not left, "LibreOffice outlived the process that started it"
