"""Building a print batch holds no write transaction while it makes the PDF: on the SQLite store
others can save meanwhile (it used to hold one for the whole minute and their saves failed
with `database is locked`), and a build that fails lets its letters go to the next batch."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from factories import make_case, sqlite_store
from mailout_support import TODAY, make_config
from sqlalchemy import select

from workers.core.clock import london_moment
from workers.errors import ConverterError, RefusedError
from workers.mailout import printing
from workers.mailout.printing import build_batch, mark_printed
from workers.mailout.service import run_mailout
from workers.store.models import Dispatch, PrintBatch


def _planned(tmp_path: Path, soffice: str) -> tuple[Any, Any]:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref  # the child and the parent by post
        s.commit()
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    return sessions, cfg


@pytest.mark.libreoffice
def test_others_can_save_while_a_batch_is_made(tmp_path: Path, soffice: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    sessions, cfg = _planned(tmp_path, soffice)
    database = str(sessions.kw["bind"].url.database)
    saved: list[str] = []
    real_pack = printing.pack

    def pack_while_someone_saves(*args: Any, **kwargs: Any) -> Any:
        # another user's save, on its own connection, with no patience for a lock
        with sqlite3.connect(database, timeout=0.5) as other:
            other.execute("UPDATE children SET placement = 'moved' WHERE id = 1")
        saved.append("saved")
        return real_pack(*args, **kwargs)

    monkeypatch.setattr(printing, "pack", pack_while_someone_saves)
    result = build_batch(sessions, cfg, TODAY)
    assert result.letters == 2 and saved == ["saved", "saved"]


@pytest.mark.libreoffice
def test_a_failed_build_lets_its_letters_go_to_the_next(tmp_path: Path, soffice: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    sessions, cfg = _planned(tmp_path, soffice)
    real_pack = printing.pack

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ConverterError("LibreOffice stopped answering")

    monkeypatch.setattr(printing, "pack", broken)
    with pytest.raises(ConverterError):
        build_batch(sessions, cfg, TODAY)
    with sessions() as s:
        assert s.scalars(select(PrintBatch)).all() == []
        assert {d.print_batch_id for d in s.scalars(
            select(Dispatch).where(Dispatch.channel == "post"))} == {None}
    monkeypatch.setattr(printing, "pack", real_pack)
    again = build_batch(sessions, cfg, TODAY)
    assert again.letters == 2


def test_an_unfinished_batch_is_never_marked_printed(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        s.add(PrintBatch(batch_date=TODAY))  # a build killed before its PDF was written
        s.commit()
    with pytest.raises(RefusedError, match="never finished"):
        mark_printed(sessions, 1, now=london_moment(TODAY))


@pytest.mark.libreoffice
def test_the_page_builds_the_batch_in_the_background_with_progress(
        tmp_path: Path, soffice: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import re
    import threading
    import time

    from web_client import Browser, make_app
    from web_seed import SUPPORT

    app, seeded = make_app(tmp_path, pdf=True)
    b = Browser(app)
    b.sign_in(SUPPORT)
    b.get("/support")  # a fresh session's form token
    b.post(f"/support/reviews/{seeded.ready_review}/send")
    assert "<strong>2</strong> postal letters" in b.get("/support/print").text
    go = threading.Event()
    real_pack = printing.pack

    def held_back(*args: Any, **kwargs: Any) -> Any:
        go.wait(60)  # the first letter waits until the test has looked at the page
        return real_pack(*args, **kwargs)

    monkeypatch.setattr(printing, "pack", held_back)
    assert b.post("/support/print/build").status_code == 303
    for _ in range(600):  # the request came back at once; the letters are claimed first
        if "0 of 2 letters" in b.get("/support/print/job").text:
            break
        time.sleep(0.1)
    page = b.get("/support/print").text
    assert "Building the print batch: 0 of 2 letters" in page
    assert '<progress max="2" value="0" aria-label="Print batch built">' in page
    # the live region stays put: the poll replaces the details beside it, and answers 204
    # while nothing has changed, so a screen reader hears each change once
    assert '<p id="print-status" class="job-status" role="status" aria-live="polite">' in page
    assert 'hx-target="#print-detail"' in page
    seen = re.search(r'/support/print/job\?seen=([^"]+)"', page)
    assert seen and b.get(f"/support/print/job?seen={seen.group(1)}").status_code == 204
    again = b.post("/support/print/build")
    assert "being built already" in b.get(again.headers["location"]).text
    go.set()
    for _ in range(600):
        fragment = b.get("/support/print/job").text
        if "Building" not in fragment:
            break
        time.sleep(0.1)
    assert "Print batch 1: 2 letters" in fragment and "/support/print/1/batch.pdf" in fragment
    assert "hx-get" not in fragment  # polling stops when it is done
    with app.state.web.sessions() as s:
        assert len(s.scalars(select(PrintBatch)).all()) == 1
