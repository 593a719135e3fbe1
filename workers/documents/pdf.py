"""PDF from .docx with LibreOffice headless: one converter, kept warm between documents.

Measured here (benchmarks/render.py): a new ``soffice --convert-to pdf`` per letter costs about
1.5 s (start-up dominates); a listening soffice driven over UNO converts a letter in a fraction
of that. The venv's Python cannot import ``uno``, so a small bridge (``uno_bridge.py``) runs under
the system Python (Debian ``python3-uno``) and takes file paths on stdin. Where python3-uno is
missing the converter falls back to one ``soffice --convert-to`` per document.

Each converter works in a folder of its own inside the process's private folder
(``workers.host.runtime_dir``): LibreOffice's user profile (two soffice processes sharing one block
each other), its temporary files, and the documents in conversion. Not thread-safe: one thread
owns a converter (``workers.documents.pdf_pool`` gives each its own thread).

What goes wrong, and what it does:

- LibreOffice does not answer within ``timeout`` (it hangs, or was stopped), crashes, or its
  bridge answers out of turn: it is killed, and the document is tried once more on a freshly
  started one; a second fault raises ``ConverterError`` (a letter is retried later).
- LibreOffice cannot read the document, or makes an empty PDF: it is restarted and the document
  tried again; only a document that a *fresh* LibreOffice refuses twice in a row is the
  document's fault (``TemplateError``, with what to do).

The listening LibreOffice and its bridge are ``workers.documents.office``.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from workers.documents.office import Office, Refused
from workers.documents.uno_bridge import kill_marked, remove_sockets
from workers.errors import ConverterError, ServiceUnavailableError, TemplateError
from workers.host.private_files import write_private

log = logging.getLogger(__name__)
SYSTEM_PYTHON = "/usr/bin/python3"
CLOSE_GRACE_SECONDS = 5.0
_told_missing = False


def libreoffice_available(soffice: str = "soffice") -> bool:
    return shutil.which(soffice) is not None


@functools.cache
def uno_available(python: str = SYSTEM_PYTHON) -> bool:
    if not Path(python).exists():
        return False
    probe = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=30)
    return probe.returncode == 0


def tell_missing_once(soffice: str = "soffice") -> None:
    """Say once per process that documents stay .docx because LibreOffice is not installed."""
    global _told_missing
    if not _told_missing:
        _told_missing = True
        log.warning("LibreOffice (%s) is not installed: documents stay .docx and no PDF is "
                    "made. Install libreoffice-writer-nogui (make system-deps).", soffice)


def pdf_problem(data: bytes) -> str | None:
    """What is wrong with a PDF LibreOffice made, or None when it has pages."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data:
        return "LibreOffice produced an empty PDF"
    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError) as exc:
        return f"LibreOffice produced an unreadable PDF: {exc}"
    return None if pages >= 1 else "LibreOffice produced a PDF with no pages"


def check_pdf(data: bytes, what: str = "document") -> int:
    """The page count; TemplateError when the PDF is empty or unreadable."""
    from pypdf import PdfReader

    problem = pdf_problem(data)
    if problem:
        raise TemplateError(f"{what}: {problem}")
    return len(PdfReader(io.BytesIO(data)).pages)


class PdfConverter:
    """``convert(docx_bytes) -> pdf_bytes``; starts LibreOffice on first use, keeps it warm.

    ``folder`` is a private folder of this process (``workers.host.runtime_dir.process_dir``); the
    converter works in a folder of its own inside it, removed by ``close``.
    """

    def __init__(self, soffice: str = "soffice", timeout: float = 30.0, *, folder: Path,
                 start_timeout: float = 120.0, warm: bool = True,
                 python: str = SYSTEM_PYTHON) -> None:
        self.soffice = soffice
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.python = python
        self.warm = warm
        self.folder = folder
        self.conversions = 0  # by the LibreOffice running now: 0 means it is fresh
        self._dir: Path | None = None
        self._office: Office | None = None

    def __enter__(self) -> PdfConverter:
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def workdir(self) -> Path:
        if self._dir is None:
            if not libreoffice_available(self.soffice):
                raise ServiceUnavailableError(
                    f"LibreOffice ({self.soffice}) is not installed; install "
                    "libreoffice-writer-nogui (make system-deps) or send documents as .docx"
                )
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="pdf-", dir=self.folder))  # 0700
        return self._dir

    @property
    def profile(self) -> Path:
        return self.workdir / "profile"

    @property
    def marker(self) -> str:
        """In the command line of this converter's every LibreOffice process and its bridge."""
        return self.profile.as_uri()

    @property
    def fresh(self) -> bool:
        """Whether the next document goes to a LibreOffice that has converted nothing yet."""
        return not self.warm or self.conversions == 0 or not self.running

    def _office_env(self) -> dict[str, str]:
        temp = self.workdir / "tmp"  # LibreOffice's own temporary copies stay private too
        temp.mkdir(mode=0o700, exist_ok=True)
        return {**os.environ, "TMPDIR": str(temp)}

    def _office_args(self) -> list[str]:
        return [self.soffice, f"-env:UserInstallation={self.marker}", "--headless",
                "--invisible", "--nologo", "--norestore", "--nodefault", "--nofirststartwizard"]

    @property
    def running(self) -> bool:
        """Whether a LibreOffice of this converter has started and answers (warm only)."""
        return self._office is not None and self._office.running()

    # -- converting ------------------------------------------------------------------------

    def start(self) -> None:
        """Start LibreOffice now rather than at the first document."""
        if self.warm:
            self._ensure_office()

    def convert(self, docx: bytes, name: str = "document", *,
                keep_going: Callable[[], bool] = lambda: True) -> bytes:
        """The PDF, trying again on a fresh LibreOffice after a fault or a refusal while
        ``keep_going()`` (the caller still wants the answer)."""
        fresh_refusals = faults = 0
        while True:
            fresh = self.fresh
            try:
                return self._convert_once(docx)
            except Refused as refused:
                self._stop()
                fresh_refusals = fresh_refusals + 1 if fresh else 0
                if fresh_refusals >= 2:
                    raise TemplateError(
                        f"{name}: LibreOffice could not make a PDF of this document, twice, each "
                        f"time freshly started ({refused}). Check the template with `iro "
                        "templates check` and open the document in Word (`iro mailout REF "
                        "--dry-run` writes a letter's) to see what LibreOffice cannot read"
                    ) from None
                reason = str(refused)
            except ConverterError as fault:
                self._stop()
                faults += 1
                if faults >= 2:
                    raise ConverterError(f"{name}: {fault}") from None
                reason = str(fault)
            if not keep_going():
                raise ConverterError(f"{name}: {reason}; LibreOffice was restarted and the "
                                     "document will be tried again")
            log.warning("%s: %s; trying again on a fresh LibreOffice", name, reason)

    def _convert_once(self, docx: bytes) -> bytes:
        src = self.workdir / f"{uuid.uuid4().hex}.docx"
        dst = src.with_suffix(".pdf")
        write_private(src, docx)
        try:
            office = self._ensure_office() if self.warm else None
            if office is not None:
                self.conversions += 1  # whatever happens next, it is no longer fresh
                office.convert(src, dst, self.timeout)
            else:
                self._convert_cold(src)
            data = dst.read_bytes() if dst.exists() else b""
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
        problem = pdf_problem(data)
        if problem:
            raise Refused(problem)
        return data

    def _convert_cold(self, src: Path) -> None:
        cmd = [*self._office_args(), "--convert-to", cold_filter(), "--outdir",
               str(src.parent), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self._office_env())
        limit = self.start_timeout + self.timeout
        try:
            code: int | None = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            kill_marked(self.marker)  # an oosplash gone leaves its soffice.bin running
            proc.wait()
            remove_sockets(self.marker)
        if code is None:
            raise ConverterError(f"LibreOffice did not convert within {limit:g} s; it was "
                                 "stopped")
        if code != 0:
            raise Refused(f"soffice --convert-to ended with exit code {code}")

    def _ensure_office(self) -> Office | None:
        """The running LibreOffice, started (with a fresh profile) if need be; None where
        python3-uno is missing (then one soffice per document)."""
        if self._office is not None and self._office.running():
            return self._office
        self._stop()
        if not uno_available(self.python):
            log.info("python3-uno not available; converting with one soffice per document")
            self.warm = False
            return None
        office = Office(self._office_args(), self.marker, self._office_env(), self.python)
        office.start(self.start_timeout)  # stops what it started if LibreOffice never answers
        self._office = office
        return office

    # -- stopping --------------------------------------------------------------------------

    def kill(self) -> None:
        """Kill this converter's LibreOffice and bridge at once; safe from another thread (it
        only sends signals): the owning thread then sees the bridge gone."""
        if self._dir is not None:
            kill_marked(self.marker)

    def _stop(self) -> None:
        """Kill LibreOffice and its bridge and drop its profile: the next start is fresh."""
        if self._office is not None:
            self._office.stop()
            self._office = None
        self.conversions = 0
        if self._dir is not None:
            shutil.rmtree(self.profile, ignore_errors=True)

    def close(self, grace: float = CLOSE_GRACE_SECONDS) -> None:
        """Ask LibreOffice to end, kill it if it has not within ``grace`` seconds, and remove
        the converter's folder."""
        if self._office is not None:
            self._office.close(grace)
        self._stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def cold_filter() -> str:
    """``--convert-to`` with the bridge's export options (LibreOffice 7.4+ reads them as JSON)."""
    import json

    from workers.documents.uno_bridge import PDF_EXPORT

    options = {k: {"type": "boolean", "value": str(v).lower()} for k, v in PDF_EXPORT.items()}
    return "pdf:writer_pdf_Export:" + json.dumps(options, separators=(",", ":"))
