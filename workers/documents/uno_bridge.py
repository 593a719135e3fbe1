"""A tiny bridge run by the *system* Python (Debian's python3-uno), not the virtualenv.

The venv's Python cannot import ``uno``, so ``workers.documents.pdf`` starts this file with
``/usr/bin/python3`` next to a listening soffice: ``uno_bridge.py PIPE TIMEOUT MARKER``. It reads
one JSON request per line on stdin (``{"id": 7, "in": "/path/a.docx", "out": "/path/a.pdf"}``)
and answers each with one JSON line on stdout carrying the same id (``{"id": 7, "ok": true}`` or
``{"id": 7, "ok": false, "error": "..."}``); the first line, once LibreOffice answers, is
``{"id": 0, "ready": true}``. The caller matches replies to requests by id, so a reply that
comes late can never be taken for the next document's. Paths only: no document text crosses it.

``kill_marked`` and ``remove_sockets`` are plain standard library, so the venv side imports them
from here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

TERMINATE_GRACE_SECONDS = 5.0


def kill_marked(marker: str, *, sparing: int | None = None) -> list[int]:
    """SIGKILL every process whose command line holds ``marker`` (one LibreOffice's profile URL:
    its oosplash, its soffice.bin even once orphaned, and its bridge), but ``sparing``."""
    needle = marker.encode()
    killed = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        pid = int(cmdline.parent.name)
        if pid == sparing:
            continue
        try:
            if needle not in cmdline.read_bytes():
                continue
            os.kill(pid, signal.SIGKILL)  # works on a stopped (SIGSTOP) process too
        except (OSError, ValueError):
            continue
        killed.append(pid)
    return killed


def remove_sockets(marker: str, pipe: str | None = None) -> None:
    """Remove the sockets a LibreOffice leaves in /tmp whatever TMPDIR says: its UNO pipe, and
    its profile's single-instance pipe (named, as LibreOffice names it, by the MD5 of the
    profile's URL in UTF-16, each byte in hex without padding)."""
    digest = hashlib.md5(marker.encode("utf-16-le"), usedforsecurity=False).digest()
    names = ["SingleOfficeIPC_" + "".join(format(byte, "x") for byte in digest)]
    for name in [*names, *([pipe] if pipe else [])]:
        Path(f"/tmp/OSL_PIPE_{os.getuid()}_{name}").unlink(missing_ok=True)  # noqa: S108


def _prop(name: str, value: Any) -> Any:
    from com.sun.star.beans import PropertyValue

    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def connect(pipe: str, timeout: float) -> Any:
    import uno
    from com.sun.star.connection import NoConnectException

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)


# Accessible PDFs (the Public Sector Bodies Accessibility Regulations 2018): tagged, with the
# document's title shown and language kept, Word form fields as PDF form fields, fonts embedded.
PDF_EXPORT = {"UseTaggedPDF": True, "PDFUACompliance": True, "ExportFormFields": True,
              "EmbedStandardFonts": True}


def convert(desktop: Any, src: str, dst: str) -> None:
    import uno

    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src), "_blank", 0,
        (_prop("Hidden", True), _prop("ReadOnly", True)),
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        options = uno.Any("[]com.sun.star.beans.PropertyValue",
                          tuple(_prop(k, v) for k, v in PDF_EXPORT.items()))
        doc.storeToURL(uno.systemPathToFileUrl(dst), (_prop("FilterName", "writer_pdf_Export"),
                                                      _prop("FilterData", options)))
    finally:
        doc.close(True)


def _answer(reply: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()


def _shut_down(desktop: Any, marker: str, pipe: str) -> None:
    """Ask LibreOffice to end; one that does not within the grace (it is stopped, or hangs) is
    killed, so it never outlives the process that started it, nor its sockets."""
    ended = threading.Event()

    def terminate() -> None:
        with contextlib.suppress(Exception):
            desktop.terminate()
        ended.set()

    threading.Thread(target=terminate, daemon=True).start()
    if not ended.wait(TERMINATE_GRACE_SECONDS):
        kill_marked(marker, sparing=os.getpid())
    remove_sockets(marker, pipe)


def main(argv: list[str]) -> int:
    pipe, timeout, marker = argv[1], float(argv[2]), argv[3]
    desktop = connect(pipe, timeout)
    _answer({"id": 0, "ok": True, "ready": True})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                convert(desktop, req["in"], req["out"])
                reply: dict[str, Any] = {"id": req.get("id"), "ok": True}
            except Exception as exc:  # noqa: BLE001 - reported to the caller, who decides
                reply = {"id": req.get("id"), "ok": False,
                         "error": f"{type(exc).__name__}: {exc}"[:500]}
            _answer(reply)
    finally:
        # stdin closed: the process that started us is closing the converter, or it has gone
        # without closing it (killed, or ended by a signal that skips its exit hooks). Either
        # way LibreOffice goes too, rather than outlive it.
        _shut_down(desktop, marker, pipe)
    sys.stdout.flush()
    os._exit(0)  # a terminate() still stuck in UNO must not hold the interpreter's exit


if __name__ == "__main__":
    sys.exit(main(sys.argv))
