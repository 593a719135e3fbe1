"""The print batch with real LibreOffice: one PDF grouped by recipient, each on a new sheet, a
manifest without names, mark-printed records them sent; a returned form's reminder is not
printed."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from mailout_support import TODAY, make_config
from pypdf import PdfReader
from sqlalchemy import select

from workers.core.clock import london_moment
from workers.errors import RefusedError
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.printing import build_batch, mark_printed
from workers.mailout.service import run_mailout
from workers.returns import service
from workers.store.models import AuditEvent, Dispatch, PrintBatch


def mode(path: Path | None) -> int:
    assert path is not None
    return path.stat().st_mode & 0o777


@pytest.mark.libreoffice
def test_print_batch_round(tmp_path: Path, soffice: str) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s)  # child and parent by post
        ref, parent_id = review.ref, review.participants[1].id
        s.commit()
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    today = TODAY  # the day the mail-out ran (make_config's clock)
    result = build_batch(sessions, cfg, today)
    assert result.batch_id is not None and result.letters == 2
    pdf = PdfReader(str(result.pdf_path))
    assert len(pdf.pages) == result.pages and result.pages % 2 == 0
    with open(result.manifest_path or "", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["kind"] for r in rows] == [INVITATION_KIND] * 2
    assert all(int(r["first_page"]) % 2 == 1 for r in rows)  # each on a new sheet
    pages = [page.extract_text() for page in pdf.pages]
    text = "".join(pages)
    assert "BR1 1AA" in text  # the window address is printed
    # duplex: every document (letter, form, instructions) starts on the front of a sheet
    starts = [n for n, page in enumerate(pages, start=1) if "Page 1 of" in page]
    assert len(starts) == 6 and all(n % 2 == 1 for n in starts), starts
    # and no sheet carries only a closing line
    for page in pages:
        if "Thank you!" in page:
            body = [ln for ln in page.splitlines() if ln.strip() and "OFFICIAL" not in ln
                    and not ln.startswith("Our reference")]
            assert len(body) > 3, body
    manifest_text = Path(result.manifest_path or "").read_text()
    assert "Test " not in manifest_text and "Acacia" not in manifest_text
    # children's letters: for this account's eyes only, whatever the umask
    assert mode(result.pdf_path) == mode(result.manifest_path) == 0o600
    assert mode(Path(cfg.settings.print_dir)) == 0o700
    assert build_batch(sessions, cfg, today).batch_id is None  # nothing twice
    assert mark_printed(sessions, result.batch_id, now=london_moment(today)) == 2
    with pytest.raises(RefusedError):
        mark_printed(sessions, result.batch_id, now=london_moment(today))
    with sessions() as s:
        batch = s.get(PrintBatch, result.batch_id)
        assert batch is not None and batch.printed_at is not None
        printed = s.scalars(select(Dispatch).where(Dispatch.print_batch_id == batch.id)).all()
        assert {d.state for d in printed} == {"sent"}
        # each letter records the address it was printed with (issue 16)
        assert {d.sent_to for d in printed} == {"12 Acacia Avenue\nBromley\nKent\nBR1 1AA"}
        actions = [e.action for e in s.scalars(select(AuditEvent))]
        assert actions.count("dispatch.printed") == 2
        # the parent's form comes back by post: their reminder is never printed
        parent_letter = next(d for d in printed if d.participant_id == parent_id)
        service.record_return(s, parent_letter, received_on=today, channel="post")
        s.commit()
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND,
                                                     Dispatch.channel == "post")).all()
        due = max(d.due_at for d in reminders).date()
    later = build_batch(sessions, cfg, due)
    assert later.letters == 1  # only the child's reminder
