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

from workers.clock import london_moment
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
