"""A tiny bridge run by the *system* Python (Debian's python3-uno), not the virtualenv.

The venv's Python cannot import ``uno``, so ``workers.documents.pdf`` starts this file with
``/usr/bin/python3`` next to a listening soffice. It reads one JSON request per line on stdin
(``{"in": "/path/a.docx", "out": "/path/a.pdf"}``) and answers one JSON line on stdout
(``{"ok": true}`` or ``{"ok": false, "error": "..."}``). Paths only: no document text crosses it.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from typing import Any


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


def convert(desktop: Any, src: str, dst: str) -> None:
    import uno

    doc = desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(src), "_blank", 0,
        (_prop("Hidden", True), _prop("ReadOnly", True)),
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        doc.storeToURL(uno.systemPathToFileUrl(dst), (_prop("FilterName", "writer_pdf_Export"),))
    finally:
        doc.close(True)


def main(argv: list[str]) -> int:
    pipe, timeout = argv[1], float(argv[2])
    desktop = connect(pipe, timeout)
    print(json.dumps({"ok": True, "ready": True}), flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            req = json.loads(line)
            try:
                convert(desktop, req["in"], req["out"])
                reply: dict[str, Any] = {"ok": True}
            except Exception as exc:  # noqa: BLE001 - reported to the caller, who raises
                reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            print(json.dumps(reply), flush=True)
    finally:
        # stdin closed: the process that started us is closing the converter, or it has gone
        # without closing it (killed, or ended by a signal that skips its exit hooks). Either
        # way LibreOffice goes too, rather than outlive it.
        with contextlib.suppress(Exception):
            desktop.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
