"""Checking an uploaded scan of a returned form before it is kept: size, and PDF/JPEG/PNG only.

The type is read from the file's first bytes (a browser's Content-Type and the file name are
whatever the sender's machine says), and the name must agree with it so that the file opens in
the application its name promises. Pure: no I/O.
"""

from __future__ import annotations

from pathlib import PurePath

from workers.errors import BadInputError

MAX_SCAN_BYTES = 10 * 1024 * 1024  # a few pages scanned at 300 dpi; far more is a mistake
SIGNATURES = {
    b"%PDF-": "pdf",
    b"\xff\xd8\xff": "jpeg",
    b"\x89PNG\r\n\x1a\n": "png",
}
SUFFIXES = {"pdf": (".pdf",), "jpeg": (".jpg", ".jpeg"), "png": (".png",)}


def scan_kind(data: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if data.startswith(magic)), None)


def check_scan(name: str, data: bytes) -> str:
    """The name to keep the upload under (``scan.pdf``, ``scan.jpg``, ``scan.png``); else
    BadInputError saying what is wrong. The sender's file name is neither kept nor repeated: it
    may carry a child's name."""
    what = "The scanned form"
    if not data:
        raise BadInputError(f"{what} is an empty file; scan the form again")
    if len(data) > MAX_SCAN_BYTES:
        raise BadInputError(f"{what} is larger than {MAX_SCAN_BYTES // 1024 // 1024} MB; scan "
                            "at a lower resolution or in black and white")
    kind = scan_kind(data)
    if kind is None:
        raise BadInputError(f"{what} is not a PDF, JPEG or PNG file; save the scan as one of "
                            "those")
    suffix = PurePath(name).suffix.lower()
    if suffix and suffix not in SUFFIXES[kind]:
        raise BadInputError(f"{what}: its name ends {suffix[:10]} but the file is a "
                            f"{kind.upper()}; rename it or scan it again")
    return f"scan{SUFFIXES[kind][0]}"
