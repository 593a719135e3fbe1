"""The midway reminder carries what the IRO checks (issue 20 §2): the open decisions of the
review the check follows, read from its record; or says none were recorded and where the record
is. Composed by the registered composer and sent through a real SMTP server."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

import pytest
from factories import make_child, make_review, sqlite_store
from fakes.smtp import SmtpServer
from sqlalchemy.orm import Session, sessionmaker
from test_midway import IRO, config, reminders

from workers.core.clock import FixedClock
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.midway import reminder, scan
from workers.queue.compose import ComposeContext
from workers.store.models import Review, ReviewDecision

D = dt.date.fromisoformat
TODAY = D("2026-10-09")  # the reminder's day (test_midway works it out by hand)


def _case(tmp_path: Path, record_file: str | None) -> tuple[sessionmaker[Session], str]:
    sessions = sqlite_store(tmp_path)
    with sessions() as session:
        child = make_child(session, iro_email=IRO, team="north_lac", given_name="Zoë",
                           family_name="O'Neil")
        held = make_review(session, child, sequence=3, status="held", held_on=D("2026-10-01"),
                           due_on=D("2026-10-05"), record_file=record_file)
        make_review(session, child, sequence=4, due_on=D("2026-11-02"), scheduled_at=None)
        session.commit()
        return sessions, held.ref


def _decide(session: Session, review_ref: str) -> None:
    review = session.query(Review).filter_by(ref=review_ref).one()
    rows = [(1, "Book the dental check-up", "Foster carer", "by 30 October 2026", False),
            (2, "Start family time with grandmother", "Social worker", "within 4 weeks", True),
            (3, "Update the personal education plan", "Designated teacher", "by half term",
             False)]
    for number, action, who, when, done in rows:
        session.add(ReviewDecision(review_id=review.id, number=number, action=action,
                                   responsible=who, timescale=when, done=done))
    session.commit()


def _sent(sessions: sessionmaker[Session], smtp_server: SmtpServer) -> EmailMessage:
    scan.scan(sessions, config(D("2026-10-02")), D("2026-10-02"))
    transport = SmtpTransport(SmtpConfig(host=smtp_server.host, port=smtp_server.port,
                                         mailbox="iro.service@council.example.gov.uk"))
    with sessions() as session:
        [dispatch] = reminders(session)
        transport.send(reminder.compose(session, dispatch, config(TODAY),
                                        ComposeContext(clock=FixedClock.on(TODAY))))
    [message] = smtp_server.wait_for(1)
    return message


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")  # as sent: CRLF


def test_lists_the_open_decisions(tmp_path: Path, smtp_server: SmtpServer) -> None:
    sessions, held = _case(tmp_path, None)
    with sessions() as session:
        _decide(session, held)
    message = _sent(sessions, smtp_server)
    body = _body(message)
    assert message["To"] == IRO and "O'Neil" not in message["Subject"]
    assert f"The open decisions from {held}'s record:" in body
    assert ("1. Book the dental check-up\n   Who: Foster carer. By when: by 30 October 2026."
            in body)
    assert ("3. Update the personal education plan\n   Who: Designated teacher. "
            "By when: by half term." in body)
    assert "grandmother" not in body  # done: nothing to check
    assert "No decisions" not in body


@pytest.mark.parametrize(("record_file", "says"), [
    (None, "its completed record has not been uploaded"),
    ("/srv/iro/documents/C-9/R-9/record/record-2.docx",
     "kept with the case documents as C-9/R-9/record/record-2.docx"),
])
def test_says_none_were_recorded_and_where_the_record_is(
        tmp_path: Path, smtp_server: SmtpServer, record_file: str | None, says: str) -> None:
    sessions, held = _case(tmp_path, record_file)
    body = _body(_sent(sessions, smtp_server))
    assert "No decisions were re" in body and held in body
    assert says in body
    assert "open decisions" not in body
