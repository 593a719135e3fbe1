"""Escalation notices end to end: planned rows → composed with the Word template → a real SMTP
server; the attached .docx opened and its text checked."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import docx
import pytest
from factories import make_child, sqlite_store
from sqlalchemy import select
from test_escalation_service import CONCERN, DEPUTY, IRO, TEAM_MANAGER, shipped

from workers.core.clock import FixedClock
from workers.documents.engine import DocumentEngine
from workers.errors import PermanentDeliveryError
from workers.escalation.notices import EscalationComposers
from workers.escalation.service import EscalationService
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.compose import ComposeContext
from workers.store.models import Dispatch

ROOT = Path(__file__).resolve().parent.parent
D = dt.date


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def test_notices_reach_the_smtp_server_with_the_filled_template(
    tmp_path: Path, smtp_server: Any
) -> None:
    policy, directory = shipped()
    store = sqlite_store(tmp_path)
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc = EscalationService(session, policy, directory, clock=FixedClock.on(D(2026, 3, 2)))
        esc = svc.raise_(child.ref, concern=CONCERN, category="pep_not_recorded")
        svc.advance(esc.id, on=D(2026, 3, 4))
        svc.tick(esc, D(2026, 3, 12))  # the deputy manager has not answered: the IRO is told
        esc_id, child_ref = esc.id, child.ref
    composers = EscalationComposers(policy, directory, DocumentEngine(ROOT / "templates_docx"))
    transport = SmtpTransport(
        SmtpConfig(
            host=smtp_server.host,
            port=smtp_server.port,
            mailbox="iro.service@council.example.gov.uk",
        )
    )
    with store() as session:
        rows = session.scalars(select(Dispatch).order_by(Dispatch.id)).all()
        for d in rows:
            fn = composers.notice if d.kind == "escalation_notice" else composers.alert
            transport.send(fn(session, d, ComposeContext(clock=FixedClock.on(D(2026, 3, 12)))))
    messages = smtp_server.wait_for(len(rows))
    assert len(rows) == 2 + 3 + 1 and len(messages) == 6
    by_to = {(m["To"], m["Subject"]): m for m in messages}
    deputy = next(m for (to, _), m in by_to.items() if DEPUTY in to)
    assert deputy["Subject"] == f"Escalation ESC-{esc_id} (Z.O.): Formal stage 1 - deputy manager"
    attachments = list(deputy.iter_attachments())
    assert [a.get_filename() for a in attachments] == [f"ESC-{esc_id}-deputy_manager.docx"]
    text = docx_text(attachments[0].get_content())
    assert CONCERN in text  # the concern is in the document, and only there
    assert child_ref in text
    assert "Martin Greene" in text
    copies = [m for m in messages if "(copy for information)" in m["Subject"]]
    assert sorted(m["To"] for m in copies) == sorted([IRO, TEAM_MANAGER, IRO])
    overdue = [m for m in messages if "response overdue" in m["Subject"]]
    assert [m["To"] for m in overdue] == [IRO]
    for m in messages:
        assert "Birch" not in m["Subject"] and "Zoë" not in m["Subject"]
        assert "Birch" not in m.get_body(preferencelist=("plain",)).get_content()


def test_a_row_pointed_elsewhere_is_refused(tmp_path: Path) -> None:
    policy, directory = shipped()
    store = sqlite_store(tmp_path)
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        esc = EscalationService(session, policy, directory).raise_(
            child.ref, concern=CONCERN, category="other"
        )
        d = session.scalars(select(Dispatch).where(Dispatch.escalation_id == esc.id)).first()
        assert d is not None
        d.recipient = "someone@elsewhere.example"
        composers = EscalationComposers(policy, directory, DocumentEngine(ROOT / "templates_docx"))
        with pytest.raises(PermanentDeliveryError, match="not one directory.yaml gives"):
            composers.notice(session, d, ComposeContext())


def test_installed_escalation_composers_use_the_rules_category_titles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The wiring passes rules.yaml's category titles and the mailbox name to the composers."""
    from workers.queue import assembly, compose

    monkeypatch.setenv("IRO_CONFIG_DIR", "config")
    monkeypatch.setattr(assembly, "_installed", False)
    assembly.install()
    notice = compose.composer_for("escalation_notice")
    owner = notice.__self__  # type: ignore[attr-defined]
    assert owner.category_titles["pep_not_recorded"]
    assert owner.category_titles["pep_not_recorded"] != "pep not recorded"
    assert owner.mailbox_name == "Independent Reviewing Service"
