"""The review's decisions sent on their own, before the record (issue 15 §2: "and, separately,
the decisions sent"): `iro review distribute REF --decisions` sends the decisions table from the
store to the record's distribution list — adults a letter of the decisions, the child their own
letter — once the IRO confirms, each copy once, by each person's channel, with the same preflight
and allow-list. Emails go through the real worker path to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
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
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.mailout.documents import MailoutConfig
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.reviews import distribution_compose
from workers.reviews.distribution import DECISIONS_COPY_KIND, DECISIONS_SECTION, distribute
from workers.reviews.notices import NoticeConfig, render_draft_record
from workers.reviews.records import review_by_ref
from workers.reviews.returned_record import keep_record_file, store_decisions
from workers.store.models import AuditEvent, Dispatch

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
TODAY = D("2026-11-23")
IRO = "grace.whitfield@council.example.gov.uk"
PLACEMENT = "Smith & Sons Fostering"
SECTION = "The child and the placement"
MOTHER, FATHER = "mother@council.example.gov.uk", "father@council.example.gov.uk"
SOCIAL_WORKER = "chris.adams@council.example.gov.uk"

Store = tuple[sessionmaker[Session], MailoutConfig]


def _held(tmp_path: Path, *, pdf: bool = False, record: bool = False) -> Store:
    """Review C-400-R3 held, its decisions sent first: the draft with the decisions filled is
    kept and read into the store (as `iro review decisions-sent --file`); with ``record`` the
    completed record is kept too."""
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path, pdf=pdf, today=TODAY)
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
        make_participant(s, review, "social_worker", ref="P-4", name="Chris Adams",
                         email=SOCIAL_WORKER)
        make_participant(s, review, "other", ref="P-5", name="Dr Lee")  # not on the list
    with sessions.begin() as s:
        review = review_by_ref(s, "C-400-R3")
        draft = render_draft_record(s, review, NoticeConfig(
            RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=FixedClock.on(TODAY)))
        filled = fill_decisions(draft, DECISIONS)
        kept = keep_record_file(cfg.settings.documents_dir, review, filled,
                                "record" if record else "decisions")
        if record:
            review.record_file = str(kept)
        store_decisions(s, review, filled, "decisions.docx")
    return sessions, cfg


@pytest.fixture
def decided(tmp_path: Path) -> Store:
    return _held(tmp_path)


@pytest.fixture
def sender(decided: Store, smtp_server: Any) -> Iterator[Dispatcher]:
    """The worker's send path: composer registered, a real SMTP transport."""
    sessions, cfg = decided
    distribution_compose.register(lambda: cfg)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port,
                                         "iro.service@council.example.gov.uk"))
    yield Dispatcher(
        sessions=sessions, transport=transport,
        compose=Composers(ComposeContext(allowed_domains=cfg.allowed_domains, clock=cfg.clock)),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=cfg.clock)
    transport.close()


def _rows(sessions: sessionmaker[Session]) -> list[Dispatch]:
    with sessions() as s:
        return list(s.scalars(select(Dispatch).where(Dispatch.kind == DECISIONS_COPY_KIND)
                              .order_by(Dispatch.key)))


def test_the_decisions_reach_each_person_once_by_their_channel(
    decided: Store, sender: Dispatcher, smtp_server: Any
) -> None:
    sessions, cfg = decided
    shown = distribute(sessions, cfg, "C-400-R3", withhold={}, leave_out=["P-4"],
                       confirm=False, actor=IRO, decisions=True)
    assert [(c.key, c.channel, c.child_letter) for c in shown.copies] == [
        ("C-400-R3/decisions/P-1", "post", True),
        ("C-400-R3/decisions/P-2", "email", False),
        ("C-400-R3/decisions/P-3", "email", False)]  # the social worker left out, Dr Lee not on it
    assert _rows(sessions) == []  # nothing without the IRO's confirmation

    done = distribute(sessions, cfg, "C-400-R3", withhold={}, leave_out=["P-4"], confirm=True,
                      actor=IRO, decisions=True)
    again = distribute(sessions, cfg, "C-400-R3", withhold={}, leave_out=["P-4"], confirm=True,
                       actor=IRO, decisions=True)
    assert (done.created, again.created, len(_rows(sessions))) == (3, 0, 3)
    assert again.existing == {c.key for c in done.copies}
    with sessions() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_decisions.distributed")).all()
        assert [(e.actor, e.details["copies"]) for e in events] == [(IRO, 3), (IRO, 0)]
        planned = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "dispatch.planned")).all()
        assert {e.actor for e in planned} == {IRO} and len(planned) == 3

    emails = [d.id for d in _rows(sessions) if d.channel == "email"]
    assert [sender.process(i).kind for i in emails] == ["sent", "sent"]
    assert [sender.process(i).kind for i in emails] == ["skipped", "skipped"]  # never twice
    received = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in received) == [FATHER, MOTHER]
    for message in received:
        assert message["Subject"] == (
            "Review decisions C-400-R3 for Z.O., review held 18 November 2026")
        assert "Zoë" not in message["Subject"]
        body = message.get_body(("plain",)).get_content()
        assert ("Attached are the decisions of the looked after review held on 18 November "
                "2026 (reference C-400-R3)") in body
        assert "The full record of the review will follow." in body
        assert "not included" not in body
        (part,) = list(message.iter_attachments())
        assert part.get_filename() == "C-400-R3-review-decisions.docx"
        text = docx_text(part.get_content())
        assert "The decisions of the review" in text and "Dear " in text
        for outcome, action, who, when, _ in DECISIONS:
            assert outcome in text and action in text and who in text and when in text
        assert "PEP signed off" not in text  # the indicator is the IRO's, not the letter's
        assert PLACEMENT not in text
    assert len(smtp_server.messages) == 2
    with sessions() as s:
        states = {d.key: d.state for d in s.scalars(select(Dispatch))}
    assert states["C-400-R3/decisions/P-1"] == "pending"  # the child's letter: the print batch


def test_the_childs_decisions_letter_goes_into_the_print_batch(tmp_path: Path) -> None:
    from pypdf import PdfReader

    from workers.mailout.printing import build_batch

    sessions, cfg = _held(tmp_path, pdf=True)
    distribute(sessions, cfg, "C-400-R3", withhold={}, confirm=True, actor=IRO, decisions=True)
    batch = build_batch(sessions, cfg, TODAY)
    assert batch.letters == 1 and batch.pdf_path is not None
    text = "\n".join(page.extract_text() for page in PdfReader(str(batch.pdf_path)).pages)
    assert "What we decided at your review" in text and "Dear Zoë" in text
    assert "Book a dental check-up" in text and "BR1 1AA" in text
    assert "C-400-R3/decisions/P-1" in Path(str(batch.manifest_path)).read_text()


def test_a_parent_the_decisions_are_withheld_from_gets_none(tmp_path: Path) -> None:
    sessions, cfg = _held(tmp_path, record=True)
    shown = distribute(sessions, cfg, "C-400-R3", confirm=True, actor=IRO, decisions=True,
                       withhold={"P-3": [DECISIONS_SECTION], "P-2": [SECTION]})
    assert shown.not_sent == ("P-3",)
    # the mother's placement section is withheld from the record; the decisions carry none of it
    assert [(c.participant_ref, c.withheld) for c in shown.copies] == [
        ("P-1", ()), ("P-2", ()), ("P-4", ())]
    assert [d.key for d in _rows(sessions)] == [
        "C-400-R3/decisions/P-1", "C-400-R3/decisions/P-2", "C-400-R3/decisions/P-4"]
    with sessions() as s:
        (event,) = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review_decisions.distributed")).all()
        assert event.details["not_sent"] == ["P-3"]


def test_a_recipient_outside_the_allow_list_stops_every_decisions_copy(decided: Store) -> None:
    sessions, cfg = decided
    with sessions.begin() as s:
        review = review_by_ref(s, "C-400-R3")
        (father,) = [p for p in review.participants if p.ref == "P-3"]
        father.email = "sam@example.com"  # a personal address, not confirmed
    with pytest.raises(PreflightError, match="P-3 .parent.: email domain is not on the allow"):
        distribute(sessions, cfg, "C-400-R3", withhold={}, confirm=True, actor=IRO,
                   decisions=True)
    assert _rows(sessions) == []


def test_no_decisions_copies_before_the_decisions_are_in_the_store(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        make_review(s, make_child(s), ref="R-1", status="held", held_on=D("2026-11-18"))
    with pytest.raises(RefusedError, match="no decisions are in the store yet; give them with "
                                           "`iro review decisions-sent R-1"):
        distribute(sessions, make_config(tmp_path), "R-1", withhold={}, confirm=True,
                   actor=IRO, decisions=True)
