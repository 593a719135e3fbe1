"""The IRO replies to the draft record email with the completed record attached (issue 15 §1),
end to end with real parts: `iro run --once` sends the draft over SMTP (aiosmtpd) and polls the
inbox over IMAP; the IRO fills the very attachment it sent, as in Word, and replies. The reply
is held — nothing read, no clock stopped — until the IRO confirms it on the command line
(`iro review recorded REF --from-reply --by`) or on the review's page; then the decisions are
read as for an upload. Replies from anyone else, forged, or without a .docx stay unmatched; an
unconfirmed one is deleted by the periodic run. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from clock_env import as_of
from factories import sqlite_url
from fakes.imap_server import FakeImapServer, imap_server  # noqa: F401 - the fixture
from fakes.smtp import SmtpServer
from mailout_support import CONFIG, ROOT
from sqlalchemy import select
from test_config_cli import run_iro
from test_review_record_decisions import DECISIONS, fill_decisions
from web_client import STORES, TODAY, Browser, make_app, store_url
from web_seed import IRO, IRO_MANAGER, OTHER_IRO, Seeded

from workers.core.clock import london_moment
from workers.mail.mime import DISPATCH_HEADER
from workers.store.models import (
    AuditEvent,
    Deadline,
    Dispatch,
    RecordReply,
    Review,
    ReviewDecision,
    UnmatchedMessage,
)

ARRIVED = london_moment(TODAY, dt.time(8, 45))  # the reply reached the inbox that morning


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded, str]:
    url = store_url(request)
    app, seeded = make_app(tmp_path, database_url=url)
    return app, seeded, url or sqlite_url(tmp_path)


def iro(tmp_path: Path, url: str, day: dt.date, *args: str, at: dt.time | None = None,
        **env: str) -> tuple[int, str, str]:
    done = run_iro(tmp_path, *args, IRO_CONFIG_DIR=str(CONFIG), IRO_DATABASE_URL=url,
                   IRO_TEMPLATES_DIR=str(ROOT / "templates_docx"),
                   IRO_DOCUMENTS_DIR=str(tmp_path / "documents"),
                   IRO_PRINT_DIR=str(tmp_path / "print"), IRO_OUTBOX_DIR=str(tmp_path / "outbox"),
                   **(as_of(day, at) if at else as_of(day)), **env)
    return done.returncode, " ".join(done.stdout.split()), " ".join(done.stderr.split())


def run_once(tmp_path: Path, url: str, smtp: SmtpServer, imap: FakeImapServer,
             day: dt.date = TODAY, at: dt.time | None = None, **env: str) -> str:
    """What the scheduler does: send what is due over SMTP, poll the inbox over IMAP."""
    code, out, err = iro(tmp_path, url, day, "run", "--once", IRO_TRANSPORT="smtp",
                         IRO_SMTP_HOST=smtp.host, IRO_SMTP_PORT=str(smtp.port),
                         IRO_SMTP_TIMEOUT_SECONDS="5", IRO_IMAP_HOST="127.0.0.1",
                         IRO_IMAP_PORT=str(imap.port), IRO_IMAP_SECURITY="none",
                         IRO_IMAP_USERNAME=imap.username, IRO_IMAP_PASSWORD=imap.password,
                         at=at, **env)
    assert code == 0, err
    return out


def draft_email(smtp: SmtpServer, review_ref: str) -> EmailMessage:
    (sent,) = [m for m in smtp.messages if str(m[DISPATCH_HEADER]) == f"{review_ref}/review_record"]
    return sent


def reply(draft: EmailMessage, sender: str, *, attach: bytes | None, name: str = "record.docx",
          in_reply_to: str | None = None, message_id: str) -> bytes:
    """A reply as a mail client writes one: Re: subject, In-Reply-To and References."""
    original = in_reply_to if in_reply_to is not None else str(draft["Message-ID"])
    msg = EmailMessage()
    msg["From"], msg["To"] = f"Someone <{sender}>", "iro.service@council.example.gov.uk"
    msg["Subject"] = "RE: " + str(draft["Subject"])
    msg["Message-ID"], msg["Date"] = message_id, "Tue, 01 Dec 2026 08:44:00 +0000"
    if original:
        msg["In-Reply-To"], msg["References"] = original, original
    msg.set_content("Completed record attached.\n\n> The draft review record is attached")
    if attach is not None:
        subtype = "pdf" if name.endswith(".pdf") else \
            "vnd.openxmlformats-officedocument.wordprocessingml.document"
        msg.add_attachment(attach, maintype="application", subtype=subtype, filename=name)
    return msg.as_bytes()


def completed(draft: EmailMessage) -> bytes:
    """The IRO fills the draft the email carried, in Word."""
    (part,) = list(draft.iter_attachments())
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return fill_decisions(content, DECISIONS)


def sent_and_replied(tmp_path: Path, url: str, smtp: SmtpServer, imap: FakeImapServer,
                     review_ref: str) -> EmailMessage:
    """The draft goes; the IRO's reply and four others arrive; the next run polls them."""
    said, at = run_once(tmp_path, url, smtp, imap), None
    for hour in (11, 13):  # a send deferred on a busy machine goes at a later tick, as it would
        if any(str(m[DISPATCH_HEADER]) == f"{review_ref}/review_record" for m in smtp.messages):
            break
        at = dt.time(hour)
        said += " | " + run_once(tmp_path, url, smtp, imap, at=at)
    assert any(str(m[DISPATCH_HEADER]) == f"{review_ref}/review_record"
               for m in smtp.messages), said
    draft = draft_email(smtp, review_ref)
    assert str(draft["To"]) == IRO
    record = completed(draft)
    imap.deliver(reply(draft, IRO, attach=record, message_id="<mine@pc.example>"), ARRIVED)
    # the same file, quoting the draft, from someone outside
    imap.deliver(reply(draft, "a.parent@example.net", attach=record,
                       message_id="<outside@example.net>"), ARRIVED)
    # the right domain, the draft's Message-ID copied from a forwarded copy: another person
    imap.deliver(reply(draft, OTHER_IRO, attach=record, message_id="<forged@pc.example>"),
                 ARRIVED)
    # the IRO's reply without the record, and one with the record that answers nothing of ours
    imap.deliver(reply(draft, IRO, attach=b"%PDF-1.4", name="scan.pdf",
                       message_id="<nodocx@pc.example>"), ARRIVED)
    imap.deliver(reply(draft, IRO, attach=record, in_reply_to="<other@pc.example>",
                       message_id="<notours@pc.example>"), ARRIVED)
    run_once(tmp_path, url, smtp, imap, at=at)
    return draft


def _state(app: Any, review_ref: str) -> tuple[list[RecordReply], int, Deadline, list[str]]:
    with app.state.web.sessions() as s:
        review = s.scalars(select(Review).where(Review.ref == review_ref)).one()
        replies = list(s.scalars(select(RecordReply).order_by(RecordReply.id)))
        decisions = len(s.scalars(select(ReviewDecision).where(
            ReviewDecision.review_id == review.id)).all())
        record = s.scalars(select(Deadline).where(Deadline.review_id == review.id,
                                                  Deadline.kind == "record")).one()
        unmatched = sorted(s.scalars(select(UnmatchedMessage.message_id)))
        s.expunge_all()
        return replies, decisions, record, unmatched


def _events(app: Any, action: str) -> list[AuditEvent]:
    with app.state.web.sessions() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.id)))
        s.expunge_all()
        return rows


def test_the_iros_reply_is_held_then_confirmed_on_the_command_line(
        site: tuple[Any, Seeded, str], tmp_path: Path, smtp_server: SmtpServer,
        imap_server: FakeImapServer) -> None:  # noqa: F811
    app, s, url = site
    sent_and_replied(tmp_path, url, smtp_server, imap_server, s.held_review)

    (held,), decisions, record, unmatched = _state(app, s.held_review)
    assert held.state == "held" and held.message_id == "<mine@pc.example>"
    kept = Path(held.file_path or "")
    assert kept.is_file() and kept.parent.name == "record-replies"
    assert decisions == 0 and record.met_on is None  # nothing read, no clock stopped
    # every other reply is left for a person, as before
    assert unmatched == ["<forged@pc.example>", "<nodocx@pc.example>", "<notours@pc.example>",
                         "<outside@example.net>"]
    inbox = [m.raw for m in imap_server.folder("INBOX").messages]
    assert len(inbox) == 4 and not any(b"<mine@pc.example>" in raw for raw in inbox)
    (event,) = _events(app, "record.reply_held")
    assert "pc.example" not in str(event.details) and IRO not in str(event.details)
    assert "record.docx" not in str(event.details)  # no sender, no file name
    with app.state.web.sessions() as ss:
        assert IRO not in str([tuple(r) for r in ss.execute(select(RecordReply.__table__))])

    # another IRO may not confirm it, nor a shell login that names nobody; the chair may
    code, _, err = iro(tmp_path, url, TODAY, "review", "recorded", s.held_review, "--from-reply",
                       "--by", OTHER_IRO)
    assert code == 2 and "only the IRO chairing it or the IRO manager" in err
    code, _, err = iro(tmp_path, url, TODAY, "review", "recorded", s.held_review, "--from-reply")
    assert code == 2 and "give --by EMAIL" in err
    code, out, err = iro(tmp_path, url, TODAY, "review", "recorded", s.held_review,
                         "--from-reply", "--by", IRO)
    assert code == 0, err
    assert "record written" in out and "2 decision(s) read from the record" in out

    (held,), decisions, record, _ = _state(app, s.held_review)
    assert held.state == "confirmed" and held.decided_by == IRO and held.file_path is None
    assert not kept.exists()  # the held copy goes; the record is kept as an upload is
    assert decisions == len(DECISIONS) and record.met_on == TODAY
    assert [e.actor for e in _events(app, "record.reply_confirmed")] == [IRO]
    assert [e.actor for e in _events(app, "review_record.returned")] == [IRO]
    code, _, err = iro(tmp_path, url, TODAY, "review", "recorded", s.held_review, "--from-reply",
                       "--by", IRO)
    assert code != 0 and "no record emailed back is waiting" in err


def test_the_iro_confirms_or_discards_on_the_review_page(
        site: tuple[Any, Seeded, str], tmp_path: Path, smtp_server: SmtpServer,
        imap_server: FakeImapServer) -> None:  # noqa: F811
    app, s, url = site
    draft = sent_and_replied(tmp_path, url, smtp_server, imap_server, s.held_review)
    imap_server.deliver(reply(draft, IRO, attach=b"not a word file",
                              message_id="<second@pc.example>"), ARRIVED)
    run_once(tmp_path, url, smtp_server, imap_server)
    first, second = _state(app, s.held_review)[0]
    page_url = f"/iro/reviews/{s.held_review}"

    other = Browser(app)
    assert other.sign_in(OTHER_IRO).status_code == 303
    other.get("/iro")
    assert other.post(f"{page_url}/record-reply/{first.id}/confirm", {}).status_code == 403

    b = Browser(app)
    assert b.sign_in(IRO).status_code == 303
    page = b.get(page_url).text
    assert page.count("This is my record") == 2 and "Not mine — discard" in page
    assert "it is deleted after 31 Dec 2026 08:45" in page  # 30 days, as shipped
    no_token = b.client.post(f"{page_url}/record-reply/{first.id}/confirm", data={})
    assert no_token.status_code == 403  # CSRF, as every other form
    assert _state(app, s.held_review)[1] == 0

    gone = b.post(f"{page_url}/record-reply/{second.id}/discard", {})
    assert "discarded" in b.get(gone.headers["location"]).text
    done = b.post(f"{page_url}/record-reply/{first.id}/confirm", {})
    text = b.get(done.headers["location"]).text
    assert "2 decision(s) read from it" in text and "This is my record" not in text
    (first, second), decisions, record, _ = _state(app, s.held_review)
    assert (first.state, second.state) == ("confirmed", "discarded")
    assert first.decided_by == second.decided_by == IRO
    assert decisions == len(DECISIONS) and record.met_on == TODAY
    assert [e.actor for e in _events(app, "record.reply_discarded")] == [IRO]
    assert [e.actor for e in _events(app, "record.reply_confirmed")] == [IRO]


def test_a_reply_that_cannot_be_read_is_kept_with_a_clear_message(
        site: tuple[Any, Seeded, str], tmp_path: Path, smtp_server: SmtpServer,
        imap_server: FakeImapServer) -> None:  # noqa: F811
    app, s, url = site
    run_once(tmp_path, url, smtp_server, imap_server)
    draft = draft_email(smtp_server, s.held_review)
    imap_server.deliver(reply(draft, IRO, attach=b"not a word file",
                              message_id="<bad@pc.example>"), ARRIVED)
    run_once(tmp_path, url, smtp_server, imap_server)
    b = Browser(app)
    assert b.sign_in(IRO_MANAGER).status_code == 303  # the IRO manager covers
    (held,) = _state(app, s.held_review)[0]
    assert "This is my record" in b.get(f"/iro/reviews/{s.held_review}").text
    done = b.post(f"/iro/reviews/{s.held_review}/record-reply/{held.id}/confirm", {})
    text = b.get(done.headers["location"]).text
    assert "The record emailed back: not a Word document (.docx)" in text
    assert "The file is kept with the case; no decisions were stored" in text
    with app.state.web.sessions() as ss:
        review = ss.scalars(select(Review).where(Review.ref == s.held_review)).one()
        assert review.record_file and Path(review.record_file).read_bytes() == b"not a word file"
    assert [e.actor for e in _events(app, "record.reply_confirmed")] == [IRO_MANAGER]


def test_an_unconfirmed_reply_is_deleted_by_the_periodic_run(
        site: tuple[Any, Seeded, str], tmp_path: Path, smtp_server: SmtpServer,
        imap_server: FakeImapServer) -> None:  # noqa: F811
    app, s, url = site
    sent_and_replied(tmp_path, url, smtp_server, imap_server, s.held_review)
    (held,) = _state(app, s.held_review)[0]
    kept = Path(held.file_path or "")
    # files no held reply points to (a poll that died before its commit) go once as old
    old_orphan, new_orphan = kept.with_name("reply-old.docx"), kept.with_name("reply-new.docx")
    for orphan, day in ((old_orphan, TODAY - dt.timedelta(days=30)),
                        (new_orphan, TODAY + dt.timedelta(days=5))):
        orphan.write_bytes(b"a record")
        moment = london_moment(day).timestamp()
        os.utime(orphan, (moment, moment))
    days = {"IRO_MAILBOX_RECORD_REPLY_DAYS": "10"}
    run_once(tmp_path, url, smtp_server, imap_server, TODAY + dt.timedelta(days=9), **days)
    assert kept.is_file() and _state(app, s.held_review)[0][0].state == "held"
    assert not old_orphan.exists() and new_orphan.is_file()
    (swept,) = _events(app, "record.reply_files_swept")
    assert swept.details == {"files": 1, "days": 10}
    run_once(tmp_path, url, smtp_server, imap_server, TODAY + dt.timedelta(days=11), **days)
    (held,), decisions, record, _ = _state(app, s.held_review)
    assert held.state == "expired" and held.file_path is None and not kept.exists()
    assert decisions == 0 and record.met_on is None
    (event,) = _events(app, "record.reply_expired")
    assert event.actor == "system" and event.details["days"] == 10
    code, _, err = iro(tmp_path, url, TODAY + dt.timedelta(days=11), "review", "recorded",
                       s.held_review, "--from-reply", "--by", IRO)
    assert code != 0 and "no record emailed back is waiting" in err


def test_the_decisions_go_first_from_the_review_page(tmp_path: Path) -> None:
    app, s = make_app(tmp_path)
    b = Browser(app)
    assert b.sign_in(IRO).status_code == 303
    page_url = f"/iro/reviews/{s.held_review}"
    assert "Send the decisions" not in b.get(page_url).text  # none in the store yet
    draft = b.get(f"{page_url}/draft-record.docx").content
    b.client.post(f"{page_url}/record-file", data={"csrf_token": b.csrf, "written_on": ""},
                  files={"record": ("r.docx", io.BytesIO(fill_decisions(draft, DECISIONS)),
                                    "application/octet-stream")})
    assert "Send the decisions" in b.get(page_url).text

    asked = b.post(f"{page_url}/distribute-decisions", {})
    assert asked.status_code == 200 and f"Send review {s.held_review}" in asked.text
    assert "social worker" in asked.text and "Yes, send the decisions" in asked.text
    with app.state.web.sessions() as ss:
        assert ss.scalars(select(Dispatch).where(
            Dispatch.kind == "review_decisions_copy")).all() == []

    other = Browser(app)
    assert other.sign_in(OTHER_IRO).status_code == 303
    other.get("/iro")
    assert other.post(f"{page_url}/distribute-decisions", {"confirmed": "yes"}).status_code == 403

    sent = b.post(f"{page_url}/distribute-decisions", {"confirmed": "yes"})
    assert "copies planned" in b.get(sent.headers["location"]).text
    again = b.post(f"{page_url}/distribute-decisions", {"confirmed": "yes"})
    assert "Nothing new to send" in b.get(again.headers["location"]).text
    with app.state.web.sessions() as ss:
        rows = ss.scalars(select(Dispatch).where(Dispatch.kind == "review_decisions_copy")).all()
        assert rows and all(r.key.startswith(f"{s.held_review}/decisions/") for r in rows)
        events = ss.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_decisions.distributed")).all()
        assert [e.actor for e in events] == [IRO, IRO]


def held_row(app: Any, review_ref: str, kept: Path, content: bytes) -> Path:
    """A reply the poll held for ``review_ref``, its file at ``kept`` (set up without a poll)."""
    from workers.reviews.records import review_by_ref

    kept.write_bytes(content)
    with app.state.web.sessions() as session:
        review = review_by_ref(session, review_ref)
        draft = session.scalars(select(Dispatch)).first()
        assert draft is not None
        session.add(RecordReply(review_id=review.id, dispatch_id=draft.id,
                                message_id=f"<{kept.stem}@pc>", file_path=str(kept),
                                received_at=london_moment(TODAY), state="held"))
        session.commit()
    return kept


def test_two_confirms_at_once_read_the_record_once(site: tuple[Any, Seeded, str]) -> None:
    # a double click or two tabs: both saw the reply held; the second is refused, nothing twice
    from workers.errors import RefusedError
    from workers.reviews import record_replies
    from workers.reviews.records import review_by_ref

    app, s, _ = site
    web = app.state.web
    folder = Path(web.settings.documents_dir) / "held"
    folder.mkdir(parents=True)
    held_row(app, s.held_review, folder / "reply.docx", b"not a word file")  # kept all the same
    first = web.sessions()
    try:
        seen = record_replies._held(first, review_by_ref(first, s.held_review), None)
        with web.sessions() as second:
            record_replies.confirm(second, web.calendar, web.settings.documents_dir,
                                   s.held_review, actor=IRO, today=TODAY,
                                   now=london_moment(TODAY))
            second.commit()
        with pytest.raises(RefusedError, match="a moment ago"):
            record_replies._claim(first, review_by_ref(first, s.held_review), seen, "confirmed")
    finally:
        first.close()
    with web.sessions() as session:
        assert [r.state for r in session.scalars(select(RecordReply))] == ["confirmed"]
        assert len(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "record.reply_confirmed")).all()) == 1


def test_the_iro_discards_an_emailed_record_from_the_command_line(
        site: tuple[Any, Seeded, str], tmp_path: Path) -> None:
    app, s, url = site
    kept = held_row(app, s.held_review, tmp_path / "reply-x.docx", b"a record not theirs")
    for by, said in (((), "give --by EMAIL"), (("--by", OTHER_IRO), "only the IRO chairing")):
        code, _, err = iro(tmp_path, url, TODAY, "review", "discard-reply", s.held_review, *by)
        assert code == 2 and said in err and "may discard" in err
    assert kept.is_file()
    code, out, err = iro(tmp_path, url, TODAY, "review", "discard-reply", s.held_review,
                         "--by", IRO_MANAGER)
    assert code == 0, err
    assert "was discarded; nothing was read from it" in out and not kept.exists()
    (reply,) = _state(app, s.held_review)[0]
    assert reply.state == "discarded" and reply.decided_by == IRO_MANAGER
    assert [e.actor for e in _events(app, "record.reply_discarded")] == [IRO_MANAGER]
