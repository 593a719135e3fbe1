"""Voiding and reprinting a print batch (issue 16 §1) with real LibreOffice: a reprint is the
same letters to the same addresses in a new PDF; a voided batch's letters go in the next batch;
a posted batch is voided only to record its letters were never posted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from mailout_support import TODAY, make_config
from pypdf import PdfReader
from sqlalchemy import select

from workers.core.clock import london_moment
from workers.errors import BadInputError, RefusedError
from workers.mailout.batch_changes import reprint, void
from workers.mailout.printing import build_batch, mark_printed
from workers.mailout.service import run_mailout
from workers.store.models import AuditEvent, Dispatch, Participant, PrintBatch

BSO = "bso@council.example.gov.uk"


@pytest.mark.libreoffice
def test_reprint_void_and_the_next_batch(tmp_path: Path, soffice: str) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s)  # child and parent by post
        ref, parent_id = review.ref, review.participants[1].id
        s.commit()
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    now = london_moment(TODAY)
    first = build_batch(sessions, cfg, TODAY, actor=BSO)
    assert first.batch_id is not None and first.letters == 2 and first.pdf_path
    batch_id = first.batch_id

    again = reprint(sessions, cfg, batch_id, now=now, actor=BSO)
    assert again.letters == 2 and again.pages == first.pages
    assert again.pdf_path != first.pdf_path and not first.pdf_path.exists()
    assert len(PdfReader(str(again.pdf_path)).pages) == first.pages
    assert "BR1 1AA" in "".join(p.extract_text() for p in PdfReader(str(again.pdf_path)).pages)
    with sessions() as s:
        batch = s.get(PrintBatch, batch_id)
        assert batch is not None and batch.reprints == 1 and batch.pdf_path == str(again.pdf_path)
        letters = s.scalars(select(Dispatch).where(Dispatch.print_batch_id == batch_id)).all()
        assert {d.sent_to for d in letters} == {"12 Acacia Avenue\nBromley\nKent\nBR1 1AA"}
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "print_batch.reprinted"))
        assert event.actor == BSO
        # the parent moves: a reprint would print an address that is not the one recorded
        parent = s.get(Participant, parent_id)
        assert parent is not None
        parent.address, parent.postcode = "3 New Road\nBromley", "BR2 9ZZ"
        s.commit()
    rendered: list[int] = []
    with pytest.raises(RefusedError, match="address on the case changed"):
        reprint(sessions, cfg, batch_id, now=now, actor=BSO,
                progress=lambda done, total: rendered.append(done))
    assert rendered == []  # refused before a letter was rendered
    assert again.pdf_path.exists()  # nothing changed by the refusal

    with sessions() as s, pytest.raises(BadInputError, match="--reason"):
        void(s, batch_id, reason="", now=now, actor=BSO)
    with sessions() as s:
        done = void(s, batch_id, reason="parent moved", now=now, actor=BSO)
        s.commit()
    assert done.letters == 2 and not done.was_posted and not again.pdf_path.exists()
    with pytest.raises(RefusedError, match="voided"):
        mark_printed(sessions, batch_id, now=now)

    # the next batch takes them, with the parent's new address
    second = build_batch(sessions, cfg, TODAY, actor=BSO)
    assert second.batch_id not in (None, batch_id) and second.letters == 2
    assert "BR2 9ZZ" in "".join(p.extract_text() for p in PdfReader(str(second.pdf_path)).pages)
    assert second.batch_id is not None
    assert mark_printed(sessions, second.batch_id, now=now, actor=BSO) == 2
    with sessions() as s, pytest.raises(RefusedError, match="--never-posted"):
        void(s, second.batch_id, reason="x", now=now, actor=BSO)
    with sessions() as s:
        gone = void(s, second.batch_id, reason="envelopes never left the office",
                    never_posted=True, now=now + dt.timedelta(hours=1), actor=BSO)
        s.commit()
        assert gone.was_posted and gone.letters == 2
        rows = s.scalars(select(Dispatch).where(Dispatch.id.in_(
            [d.id for d in letters]))).all()
        assert {(d.state, d.sent_at, d.print_batch_id) for d in rows} == {("pending", None, None)}
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "print_batch.voided"))
        assert [(e.actor, e.details["was_posted"]) for e in events] == [(BSO, False), (BSO, True)]
    assert build_batch(sessions, cfg, TODAY).letters == 2  # and they go once more


@pytest.mark.libreoffice
def test_the_page_reprints_a_batch_in_the_background(tmp_path: Path, soffice: str) -> None:
    import time

    from web_client import Browser, make_app
    from web_seed import SUPPORT

    app, seeded = make_app(tmp_path, pdf=True)
    b = Browser(app)
    b.sign_in(SUPPORT)
    b.get("/support")
    b.post(f"/support/reviews/{seeded.ready_review}/send")

    def finished() -> str:
        for _ in range(900):
            fragment = b.get("/support/print/job").text
            if "Building" not in fragment:
                return fragment
            time.sleep(0.1)
        raise AssertionError("the print job did not finish")

    b.post("/support/print/build")
    assert "Print batch 1: 2 letters" in finished()
    with app.state.web.sessions() as s:
        batch = s.get(PrintBatch, 1)
        assert batch is not None
        old = Path(batch.pdf_path)
    asked = b.post("/support/print/1/reprint")
    assert asked.status_code == 200 and "Yes, reprint batch 1" in asked.text
    assert b.post("/support/print/1/reprint", {"confirmed": "yes"}).status_code == 303
    fragment = finished()
    assert "Print batch 1 reprinted: 2 letters" in fragment, fragment
    assert "/support/print/1/batch.pdf" in fragment
    with app.state.web.sessions() as s:
        batch = s.get(PrintBatch, 1)
        assert batch is not None and batch.reprints == 1 and not old.exists()
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "print_batch.reprinted"))
        assert event.actor == SUPPORT
    assert b.get("/support/print/1/batch.pdf").content.startswith(b"%PDF")
