"""The completed record sent to the people entitled to it once the IRO confirms (issue 15 §2):
a section withheld from one parent is not in that parent's copy, the child gets a letter of
their own with the decisions in plain words, nothing goes without --confirm, a recipient outside
the allow-list stops the whole send, and a second run plans nothing twice. Copies are composed
from the store and one is sent through a real SMTP server; documents are read as text."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_participant, make_review, sqlite_store
from mailout_support import make_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_documents_support import docx_text
from test_review_record_decisions import CAL, DECISIONS, DIRECTORY, RULES, fill_decisions

from workers.core.clock import FixedClock
from workers.errors import PreflightError, RefusedError
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.mailout.documents import MailoutConfig
from workers.queue.compose import ComposeContext
from workers.reviews.distribution import RECORD_COPY_KIND, copy_document, distribute
from workers.reviews.distribution_compose import compose_copy
from workers.reviews.notices import NoticeConfig, render_draft_record
from workers.reviews.record_sections import WITHHELD_NOTE
from workers.reviews.records import review_by_ref
from workers.reviews.returned_record import keep_record_file, store_decisions
from workers.store.models import AuditEvent, Dispatch, Participant

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
TODAY = D("2026-12-01")
IRO = "grace.whitfield@council.example.gov.uk"
PLACEMENT = "Smith & Sons Fostering"
SECTION = "The child and the placement"
MOTHER, FATHER = "mother@council.example.gov.uk", "father@council.example.gov.uk"


@pytest.fixture
def held(tmp_path: Path) -> tuple[sessionmaker[Session], MailoutConfig]:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path, today=TODAY)
    with sessions.begin() as s:
        child = make_child(s, ref="C-400", given_name="Zoë", family_name="O'Neil", iro_email=IRO,
                           team="north_lac", date_of_birth=D("2016-03-14"), placement=PLACEMENT)
        review = make_review(s, child, ref="C-400-R3", sequence=3, due_on=D("2026-11-20"),
                             iro_email=IRO, status="held", held_on=D("2026-11-18"))
        make_participant(s, review, "child", ref="P-1", name="Zoë O'Neil", channel="post")
        make_participant(s, review, "parent", ref="P-2", name="Jo O'Neil", email=MOTHER,
                         relationship_to_child="mother")
        make_participant(s, review, "parent", ref="P-3", name="Sam O'Neil", email=FATHER,
                         relationship_to_child="father")
        make_participant(s, review, "social_worker", ref="P-4", name="Chris Adams")
        make_participant(s, review, "other", ref="P-5", name="Dr Lee")  # not on the list
    with sessions.begin() as s:
        review = review_by_ref(s, "C-400-R3")
        draft = render_draft_record(s, review, NoticeConfig(
            RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=FixedClock.on(TODAY)))
        completed = fill_decisions(draft, DECISIONS)  # as `iro review recorded --file` keeps it
        review.record_file = str(keep_record_file(cfg.settings.documents_dir, review, completed))
        store_decisions(s, review, completed, "record.docx")
    return sessions, cfg


def _rows(sessions: sessionmaker[Session]) -> list[Dispatch]:
    with sessions() as s:
        return list(s.scalars(select(Dispatch).where(Dispatch.kind == RECORD_COPY_KIND)
                              .order_by(Dispatch.key)))


def test_each_reader_gets_their_copy_once_the_iro_confirms(
    held: tuple[sessionmaker[Session], MailoutConfig], smtp_server: Any
) -> None:
    sessions, cfg = held
    shown = distribute(sessions, cfg, "C-400-R3", withhold={"P-3": [SECTION]}, confirm=False,
                       actor=IRO)
    assert [(c.participant_ref, c.channel, c.withheld) for c in shown.copies] == [
        ("P-1", "post", ()), ("P-2", "email", ()), ("P-3", "email", (SECTION,)),
        ("P-4", "email", ())]
    assert _rows(sessions) == []  # nothing without the IRO's confirmation

    done = distribute(sessions, cfg, "C-400-R3", withhold={"P-3": [SECTION]}, confirm=True,
                      actor=IRO)
    assert done.created == 4
    again = distribute(sessions, cfg, "C-400-R3", withhold={"P-3": [SECTION]}, confirm=True,
                       actor=IRO)
    assert again.created == 0 and len(_rows(sessions)) == 4  # exactly once
    with sessions() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_record.distributed")).all()
        assert [(e.actor, e.details["copies"]) for e in events] == [(IRO, 4), (IRO, 0)]

    context = ComposeContext(clock=FixedClock.on(TODAY),
                             allowed_domains=cfg.allowed_domains)
    texts = {}
    with sessions() as s:
        for d in _rows(sessions):
            if d.channel != "email":
                continue
            message = compose_copy(s, s.get(Dispatch, d.id), cfg, context)
            (attachment,) = message.attachments
            texts[message.to] = (message, docx_text(attachment.content))
    mother, father = texts[MOTHER], texts[FATHER]
    # the section withheld from the father is not in his copy; it is in the mother's
    assert PLACEMENT in mother[1] and WITHHELD_NOTE not in mother[1]
    assert PLACEMENT not in father[1] and WITHHELD_NOTE in father[1]
    assert SECTION in father[1]  # the heading stays, saying it is not included
    assert DECISIONS[0][1] in father[1]  # the rest of the record is there
    assert "not included in your copy: The child and the placement" in father[0].body_text
    assert "not included" not in mother[0].body_text
    for message, _ in texts.values():
        assert "Zoë" not in message.subject and "O'Neil" not in message.subject

    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port,
                                         "iro.service@council.example.gov.uk"))
    transport.send(father[0])
    transport.close()
    (received,) = smtp_server.wait_for(1)
    (part,) = list(received.iter_attachments())
    assert PLACEMENT not in docx_text(part.get_content())

    # the child's copy: a letter of their own, the decisions in plain words
    with sessions() as s:
        review = review_by_ref(s, "C-400-R3")
        child = s.scalars(select(Participant).where(Participant.ref == "P-1")).one()
        name, letter = copy_document(cfg, s, review, child, ())
    text = docx_text(letter)
    assert name.endswith("what-we-decided.docx")
    assert "What we decided at your review" in text and "Dear Zoë," in text
    assert "Update the personal education plan" in text and "Designated teacher" in text
    assert "review held on" not in text.lower() and "Outcome indicator" not in text
    from docx import Document

    assert Document(io.BytesIO(letter)).core_properties.title == "What we decided at Zoë's review"


def test_a_recipient_outside_the_allow_list_stops_the_whole_send(
    held: tuple[sessionmaker[Session], MailoutConfig],
) -> None:
    sessions, cfg = held
    with sessions.begin() as s:
        father = s.scalars(select(Participant).where(Participant.ref == "P-3")).one()
        father.email = "sam@example.com"  # a personal address, not confirmed
    with pytest.raises(PreflightError, match="P-3 .parent.: email domain is not on the allow"):
        distribute(sessions, cfg, "C-400-R3", withhold={}, confirm=True, actor=IRO)
    assert _rows(sessions) == []


def test_a_withheld_section_must_be_one_the_record_has(
    held: tuple[sessionmaker[Session], MailoutConfig],
) -> None:
    sessions, cfg = held
    with pytest.raises(Exception, match="no section 'Placement' in the record; its sections"):
        distribute(sessions, cfg, "C-400-R3", withhold={"P-3": ["Placement"]}, confirm=True,
                   actor=IRO)
    with pytest.raises(Exception, match="not on review C-400-R3's case record: P-9"):
        distribute(sessions, cfg, "C-400-R3", withhold={}, leave_out=["P-9"], confirm=True,
                   actor=IRO)
    assert _rows(sessions) == []


def test_no_copies_before_the_completed_record_is_kept(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        make_review(s, make_child(s), ref="R-1", status="held", held_on=D("2026-11-18"))
    with pytest.raises(RefusedError, match="the completed record is not kept yet"):
        distribute(sessions, make_config(tmp_path), "R-1", withhold={}, confirm=True, actor=IRO)


def test_a_postal_copy_goes_into_the_print_batch(
    held: tuple[sessionmaker[Session], MailoutConfig], tmp_path: Path
) -> None:
    from pypdf import PdfReader

    from workers.mailout.printing import build_batch

    sessions, _ = held
    cfg = make_config(tmp_path, pdf=True, today=TODAY)
    distribute(sessions, cfg, "C-400-R3", withhold={}, confirm=True, actor=IRO)
    batch = build_batch(sessions, cfg, TODAY)
    assert batch.letters == 1 and batch.pdf_path is not None  # the child's letter, by post
    text = "\n".join(page.extract_text() for page in PdfReader(str(batch.pdf_path)).pages)
    assert "What we decided at your review" in text and "BR1 1AA" in text
    assert "C-400-R3/record/P-1" in Path(str(batch.manifest_path)).read_text()


def test_a_section_the_iro_marked_withheld_in_the_record_is_taken_out(
    held: tuple[sessionmaker[Session], MailoutConfig],
) -> None:
    import docx

    sessions, cfg = held
    with sessions() as s:
        path = Path(str(review_by_ref(s, "C-400-R3").record_file))
    document = docx.Document(str(path))
    (table,) = [t for t in document.tables if "withheld" in t.rows[0].cells[-1].text.lower()]
    (row,) = [r for r in table.rows if r.cells[0].text == "Sam O'Neil"]
    row.cells[-1].paragraphs[0].add_run(f"{SECTION}: placement withheld by court order")
    document.save(str(path))
    shown = distribute(sessions, cfg, "C-400-R3", withhold={}, confirm=False, actor=IRO)
    assert {c.participant_ref: c.withheld for c in shown.copies}["P-3"] == (SECTION,)
    assert {c.participant_ref: c.withheld for c in shown.copies}["P-2"] == ()
