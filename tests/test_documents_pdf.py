"""PDF with real LibreOffice: warm and cold conversion make real pages; packs concatenate;
LibreOffice never outlives the process that started it, and leaves nothing behind."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import missing_service, office_using
from pypdf import PdfReader

from workers.documents.engine import DocumentEngine
from workers.documents.examples import example_context
from workers.documents.packs import build_pack
from workers.documents.pdf import PdfConverter, check_pdf, uno_available
from workers.errors import ServiceUnavailableError, TemplateError

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]


def _docx(kind: str) -> bytes:
    return DocumentEngine(ROOT / "templates_docx").render(kind, example_context(kind))


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def needs_uno() -> None:
    if not uno_available():
        missing_service("python3-uno is not installed; `make system-deps` installs it")


def test_warm_converter_makes_pages_and_a_pack(soffice: str, tmp_path: Path) -> None:
    needs_uno()
    kinds = ["invitation", "consultation_parent", "return_instructions"]
    with PdfConverter(soffice, timeout=120, folder=tmp_path) as conv:
        pdfs = [conv.convert(_docx(k), k) for k in kinds]
        again = conv.convert(_docx("invitation"))  # the same soffice serves the next letter
        assert conv.warm, "fell back to one soffice per document"
        assert conv.conversions == 4
        assert office_using(tmp_path) and conv.workdir.parent == tmp_path
        assert not [p.name for p in conv.workdir.iterdir() if p.suffix in (".docx", ".pdf")]
    counts = [check_pdf(p) for p in pdfs]
    assert all(c >= 1 for c in counts) and check_pdf(again) >= 1
    assert "Invitation to a looked after review for Sam Smith" in _text(pdfs[0])
    pack = build_pack(pdfs)
    assert len(PdfReader(io.BytesIO(pack)).pages) == sum(counts)
    text = _text(pack)
    assert "How to send your form back" in text and "Consultation form for parents" in text
    assert not list(tmp_path.iterdir()), "the converter's folder outlived close()"


def test_cold_converter(soffice: str, tmp_path: Path) -> None:
    with PdfConverter(soffice, warm=False, folder=tmp_path) as conv:
        pdf = conv.convert(_docx("reminder"))
    assert "IRO-7KQ2-PX" in _text(pdf)
    assert not list(tmp_path.iterdir()) and not office_using(tmp_path)


def test_missing_libreoffice_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ServiceUnavailableError, match="not installed"), \
            PdfConverter("/nonexistent/soffice", folder=tmp_path) as conv:
        conv.convert(b"x")


def test_empty_or_broken_pdf_is_refused() -> None:
    with pytest.raises(TemplateError, match="empty PDF"):
        check_pdf(b"")
    with pytest.raises(TemplateError):
        build_pack([b"not a pdf"])


OWNER = """\
import sys
from pathlib import Path
from workers.documents.engine import DocumentEngine
from workers.documents.examples import example_context
from workers.documents.pdf import PdfConverter
from workers.host.runtime_dir import process_dir
doc = DocumentEngine(Path({templates!r})).render('invitation', example_context('invitation'))
conv = PdfConverter({soffice!r}, timeout=120, folder=process_dir(Path({run!r})))
conv.convert(doc)
print('converted', flush=True)
sys.stdin.read()
"""


def _owner(tmp_path: Path, soffice: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """A process that converted a letter and holds its LibreOffice, with TMPDIR and the runtime
    directory of its own."""
    temp, run = tmp_path / "tmp", tmp_path / "run"
    temp.mkdir()
    script = OWNER.format(templates=str(ROOT / "templates_docx"), soffice=soffice, run=str(run))
    owner = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env={**os.environ, "TMPDIR": str(temp)})
    assert owner.stdout is not None and owner.stdout.readline().strip() == b"converted"
    return owner, temp, run


def _gone(folder: Path) -> list[int]:
    deadline = time.monotonic() + 30
    while office_using(folder) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = office_using(folder)
    for pid in left:  # do not leave it running if the assertion fails
        os.kill(pid, signal.SIGKILL)
    return left


@pytest.mark.parametrize("frozen", [False, True], ids=["running", "frozen"])
def test_libreoffice_goes_when_its_owner_dies_without_closing(
    soffice: str, tmp_path: Path, frozen: bool
) -> None:
    # a process ended by SIGKILL, or by a SIGTERM that skips its exit hooks (uvicorn re-raises
    # the one it caught), never closes its converter: its bridge sees stdin close and takes
    # LibreOffice down, instead of leaving it running for good — killing it if it is stopped
    needs_uno()
    owner, temp, run = _owner(tmp_path, soffice)
    office = office_using(run)
    assert office
    if frozen:
        for pid in office:
            os.kill(pid, signal.SIGSTOP)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert not _gone(run), "LibreOffice outlived the process that started it"
    assert not list(temp.iterdir()), "something was left in the owner's temporary folder"


def test_the_system_temporary_folder_is_left_empty(soffice: str, tmp_path: Path) -> None:
    # LibreOffice's profile, its own temporary files and the documents in conversion live in
    # the process's folder under the runtime directory: a killed owner leaves nothing in the
    # system's temporary folder, and its folder goes when the next process starts there
    needs_uno()
    owner, temp, run = _owner(tmp_path, soffice)
    (folder,) = run.iterdir()
    assert (folder.stat().st_mode & 0o777) == 0o700
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert not _gone(run)
    assert folder.exists()  # killed: it could not clear up after itself

    from workers.host.runtime_dir import process_dir, remove_process_dirs

    mine = process_dir(run)  # the next process to use the runtime directory
    assert not folder.exists() and list(run.iterdir()) == [mine]
    remove_process_dirs(run)
    assert not list(run.iterdir())
    assert not list(temp.iterdir()), "something was left in the system temporary folder"
