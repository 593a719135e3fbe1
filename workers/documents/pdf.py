"""PDF from .docx with LibreOffice headless: a warm converter kept between documents.

Measured here (benchmarks/render.py): a new ``soffice --convert-to pdf`` per letter costs about
1.5 s (start-up dominates); a listening soffice driven over UNO converts a letter in a fraction
of that. The venv's Python cannot import ``uno``, so a small bridge (``uno_bridge.py``) runs under
the system Python (Debian ``python3-uno``) and takes file paths on stdin. Where python3-uno is
missing the converter falls back to one ``soffice --convert-to`` per document.

Each converter has its own LibreOffice user profile (``-env:UserInstallation``): two soffice
processes sharing a profile block each other. One converter per worker process; not thread-safe
(callers serialise, e.g. one per thread or a lock).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import selectors
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType

from workers.errors import ServiceUnavailableError, TemplateError

log = logging.getLogger(__name__)
BRIDGE = Path(__file__).with_name("uno_bridge.py")
SYSTEM_PYTHON = "/usr/bin/python3"
_told_missing = False


def libreoffice_available(soffice: str = "soffice") -> bool:
    return shutil.which(soffice) is not None


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


def check_pdf(data: bytes, what: str = "document") -> int:
    """The page count; TemplateError when the PDF is empty or unreadable."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data:
        raise TemplateError(f"{what}: LibreOffice produced an empty PDF")
    try:
        pages = len(PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError) as exc:
        raise TemplateError(f"{what}: LibreOffice produced an unreadable PDF: {exc}") from exc
    if pages < 1:
        raise TemplateError(f"{what}: LibreOffice produced a PDF with no pages")
    return pages


class PdfConverter:
    """``convert(docx_bytes) -> pdf_bytes``; starts LibreOffice on first use, keeps it warm."""

    def __init__(self, soffice: str = "soffice", timeout: float = 120.0, *,
                 warm: bool = True, python: str = SYSTEM_PYTHON) -> None:
        self.soffice = soffice
        self.timeout = timeout
        self.python = python
        self.warm = warm
        self._dir: Path | None = None
        self._office: subprocess.Popen[bytes] | None = None
        self._bridge: subprocess.Popen[str] | None = None

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
            self._dir = Path(tempfile.mkdtemp(prefix=f"iro-pdf-{os.getpid()}-"))
        return self._dir

    def _profile_arg(self) -> str:
        return f"-env:UserInstallation={(self.workdir / 'profile').as_uri()}"

    def convert(self, docx: bytes, name: str = "document") -> bytes:
        src = self.workdir / f"{uuid.uuid4().hex}.docx"
        dst = src.with_suffix(".pdf")
        src.write_bytes(docx)
        try:
            if self.warm and self._ensure_bridge():
                self._convert_warm(src, dst)
            else:
                self._convert_cold(src)
            data = dst.read_bytes() if dst.exists() else b""
        finally:
            src.unlink(missing_ok=True)
            dst.unlink(missing_ok=True)
        check_pdf(data, name)
        return data

    def _convert_cold(self, src: Path) -> None:
        cmd = [self.soffice, self._profile_arg(), "--headless", "--norestore", "--nologo",
               "--convert-to", "pdf", "--outdir", str(src.parent), str(src)]
        try:
            subprocess.run(cmd, capture_output=True, timeout=self.timeout, check=True)
        except subprocess.TimeoutExpired as exc:
            raise ServiceUnavailableError(
                f"LibreOffice did not convert within {self.timeout:g}s") from exc
        except subprocess.CalledProcessError as exc:
            raise ServiceUnavailableError(
                f"LibreOffice failed to convert (exit {exc.returncode})") from exc

    def _ensure_bridge(self) -> bool:
        if self._bridge is not None and self._bridge.poll() is None and \
                self._office is not None and self._office.poll() is None:
            return True
        self._stop()
        if not uno_available(self.python):
            log.info("python3-uno not available; converting with one soffice per document")
            self.warm = False
            return False
        pipe = f"iro_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._office = subprocess.Popen(
            [self.soffice, self._profile_arg(), "--headless", "--invisible", "--nologo",
             "--norestore", "--nodefault", "--nofirststartwizard",
             f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self._bridge = subprocess.Popen(
            [self.python, str(BRIDGE), pipe, str(self.timeout)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self._reply("start LibreOffice")
        return True

    def _reply(self, what: str) -> dict[str, object]:
        assert self._bridge is not None and self._bridge.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._bridge.stdout, selectors.EVENT_READ)
            if not sel.select(self.timeout):
                self._stop()
                raise ServiceUnavailableError(
                    f"LibreOffice did not {what} within {self.timeout:g}s; it was restarted")
        line = self._bridge.stdout.readline()
        if not line:
            self._stop()
            raise ServiceUnavailableError(f"LibreOffice stopped while trying to {what}")
        reply: dict[str, object] = json.loads(line)
        return reply

    def _convert_warm(self, src: Path, dst: Path) -> None:
        assert self._bridge is not None and self._bridge.stdin is not None
        self._bridge.stdin.write(json.dumps({"in": str(src), "out": str(dst)}) + "\n")
        self._bridge.stdin.flush()
        reply = self._reply("convert a document")
        if not reply.get("ok"):
            raise TemplateError(f"LibreOffice could not convert the document: {reply.get('error')}")

    def _stop(self) -> None:
        for proc in (self._bridge, self._office):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self._bridge = self._office = None

    def close(self) -> None:
        if self._bridge is not None and self._bridge.stdin is not None:
            with contextlib.suppress(OSError):
                self._bridge.stdin.close()  # the bridge then shuts LibreOffice down itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._bridge.wait(timeout=5)
        self._stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
