"""Record-a-return with the scanned form attached: kept with the case by keep_file, checked for
size and type (PDF, JPEG, PNG by their first bytes), never served back; a refused upload records
nothing and leaves no file behind."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from web_client import STORES, Browser, make_app, store_url
from web_seed import SUPPORT, Seeded

from workers.errors import BadInputError
from workers.mailout.plan import INVITATION_KIND
from workers.returns.scans import MAX_SCAN_BYTES, check_scan
from workers.store.models import Dispatch, Return

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.mark.parametrize(("name", "data", "kept"), [
    ("return.pdf", PDF, "scan.pdf"), ("IMG_0001.JPG", JPEG, "scan.jpg"),
    ("photo.jpeg", JPEG, "scan.jpg"), ("scan.png", PNG, "scan.png"), ("noname", PDF, "scan.pdf")])
def test_scans_of_the_three_kinds_are_accepted(name: str, data: bytes, kept: str) -> None:
    assert check_scan(name, data) == kept


@pytest.mark.parametrize(("name", "data", "message"), [
    ("form.pdf", b"", "empty file"),
    ("form.pdf", b"MZ\x90\x00 a program", "not a PDF, JPEG or PNG"),
    ("form.docx", b"PK\x03\x04", "not a PDF, JPEG or PNG"),
    ("form.pdf", PNG, "its name ends .pdf but the file is a PNG"),
    ("form.pdf", PDF + b"\x00" * MAX_SCAN_BYTES, "larger than 10 MB")])
def test_other_files_are_refused_saying_why(name: str, data: bytes, message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        check_scan(name, data)
SENT_AT = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(params=STORES)
def sent(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded, str, Browser]:
    """Invitations sent for the ready review; a form code to return; business support signed in."""
    app, s = make_app(tmp_path, database_url=store_url(request))
    b = Browser(app)
    b.sign_in(SUPPORT)
    b.get("/support")
    b.post(f"/support/reviews/{s.ready_review}/send")
    with app.state.web.sessions() as session:
        letter = session.scalars(select(Dispatch).where(
            Dispatch.kind == INVITATION_KIND, Dispatch.key.startswith(s.ready_review),
            Dispatch.reference_code.is_not(None))).first()
        assert letter is not None and letter.reference_code
        letter.state, letter.sent_at = "sent", SENT_AT  # a return before it went is refused
        code = letter.reference_code
        session.commit()
    b.get(f"/support/reviews/{s.ready_review}/returns")
    return app, s, code, b


def _post(b: Browser, review: str, code: str, name: str, data: bytes) -> Any:
    return b.client.post(f"/support/reviews/{review}/returns",
                         data={"csrf_token": b.csrf, "code": code, "received_on": "2026-11-30",
                               "confirmed": "yes"},  # checked against the paper
                         files={"scan": (name, io.BytesIO(data), "application/octet-stream")})


def _kept(app: Any) -> list[Path]:
    root = Path(app.state.web.settings.documents_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_return_with_its_scan_keeps_the_file_with_the_case(
        sent: tuple[Any, Seeded, str, Browser]) -> None:
    app, s, code, b = sent
    # the scan is chosen on the step that shows what to check against the paper
    page = b.post(f"/support/reviews/{s.ready_review}/returns",
                  {"code": code, "received_on": "2026-11-30"}).text
    assert 'enctype="multipart/form-data"' in page and 'name="scan"' in page
    done = _post(b, s.ready_review, code, "Zoe Quillfeather consultation.pdf", PDF)
    assert done.status_code == 303
    shown = b.get(done.headers["location"]).text
    assert f"Form {code} recorded as returned" in shown and "the scan is kept" in shown
    [kept] = _kept(app)
    assert kept.read_bytes() == PDF
    assert (kept.stat().st_mode & 0o777) == 0o600 and (kept.parent.stat().st_mode & 0o777) == 0o700
    assert kept.name == f"{code}-scan.pdf"  # the sender's file name (a child's name?) is dropped
    assert kept.parent.parts[-2:] == (s.ready_review, "returns")
    with app.state.web.sessions() as session:
        row = session.scalars(select(Return).where(Return.file_path.is_not(None))).one()
        assert Path(row.file_path or "") == kept and row.channel == "post"
    # never served back: not linked from any page, not under the static files, no route for it
    assert kept.name not in shown and "Quillfeather consultation" not in shown
    for path in (f"/static/{kept.name}", f"/support/reviews/{s.ready_review}/returns/{kept.name}",
                 f"/documents/{kept.name}"):
        assert b.get(path).status_code == 404, path


@pytest.mark.parametrize(("name", "data", "message"), [
    ("form.pdf", b"#!/bin/sh\necho hello\n", "not a PDF, JPEG or PNG"),
    ("form.pdf", PNG, "the file is a PNG"),
    ("huge.pdf", PDF + b"\x00" * MAX_SCAN_BYTES, "larger than 10 MB")])
def test_a_refused_scan_records_nothing_and_keeps_nothing(
        sent: tuple[Any, Seeded, str, Browser], name: str, data: bytes, message: str) -> None:
    app, s, code, b = sent
    response = _post(b, s.ready_review, code, name, data)
    assert response.status_code == 400 and message in response.text
    assert f'value="{code}"' in response.text
    assert _kept(app) == []
    with app.state.web.sessions() as session:
        assert session.scalars(select(Return)).all() == []
    # the same form can then be recorded with a good scan
    again = _post(b, s.ready_review, code, "form.pdf", PDF)
    assert "recorded as returned" in b.get(again.headers["location"]).text


def test_a_scan_for_a_return_already_recorded_leaves_no_file(
        sent: tuple[Any, Seeded, str, Browser]) -> None:
    app, s, code, b = sent
    _post(b, s.ready_review, code, "first.png", PNG)
    assert len(_kept(app)) == 1
    twice = _post(b, s.ready_review, code, "second.jpg", JPEG)
    assert twice.status_code == 409 and "already recorded" in twice.text
    assert [p.name for p in _kept(app)] == [f"{code}-scan.png"]
    other = _post(b, s.broken_review, code, "third.pdf", PDF)
    assert other.status_code == 409 and len(_kept(app)) == 1


def test_an_oversized_request_is_refused_before_it_is_read(
        sent: tuple[Any, Seeded, str, Browser]) -> None:
    app, s, code, b = sent
    response = b.client.post(f"/support/reviews/{s.ready_review}/returns",
                             content=b"x", headers={"Content-Length": str(64 * 1024 * 1024),
                                                    "Content-Type": "multipart/form-data"})
    assert response.status_code == 413
    assert _kept(app) == []
