"""Escalation notices read as each reader reads them (issue 15 §3): the addressee, each person
copied, CAFCASS; raised at the first stage, straight at a later one, back-dated, referred and
resolved. Every notice is composed from the store with the shipped templates and the attached
.docx is read back as text with python-docx."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import docx
import pytest
from factories import make_child, sqlite_store
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_escalation_service import (
    CAFCASS,
    CONCERN,
    DEPUTY,
    GROUP,
    IRO,
    TEAM_MANAGER,
    shipped,
)

from workers.core.clock import FixedClock
from workers.documents.engine import DocumentEngine
from workers.escalation.notices import EscalationComposers
from workers.escalation.planned import NOTICE_KIND, OUTCOME_KIND
from workers.escalation.service import BACKDATED_HOLD, EscalationService
from workers.mail.message import OutgoingMessage
from workers.queue.compose import ComposeContext
from workers.store.models import Dispatch

ROOT = Path(__file__).resolve().parent.parent
D = dt.date
RAW_KEYS = ("referred_cafcass", "timed_out", "bypassed", "deputy_manager", "group_manager",
            "social_worker", "team_manager", "ceiling_passed")


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.fixture
def store(tmp_path: Path) -> sessionmaker[Session]:
    return sqlite_store(tmp_path)


def svc(session: Session, today: dt.date) -> EscalationService:
    policy, directory = shipped()
    return EscalationService(session, policy, directory, clock=FixedClock.on(today))


def compose(
    store: sessionmaker[Session], today: dt.date, *, key_part: str = ""
) -> dict[str, OutgoingMessage]:
    """Every planned (not called off) message whose key contains ``key_part``: key → message."""
    policy, directory = shipped()
    composers = EscalationComposers(policy, directory, DocumentEngine(ROOT / "templates_docx"))
    out = {}
    with store() as session:
        for d in session.scalars(select(Dispatch).order_by(Dispatch.id)):
            if d.state == "cancelled" or key_part not in d.key:
                continue
            fn: Any = {NOTICE_KIND: composers.notice, OUTCOME_KIND: composers.outcome}.get(
                d.kind, composers.alert)
            out[d.key] = fn(session, d, ComposeContext(clock=FixedClock.on(today)))
    return out


def attachment_text(message: OutgoingMessage) -> str:
    (attachment,) = message.attachments
    return docx_text(attachment.content)


def by_reader(messages: dict[str, OutgoingMessage], stage: str) -> dict[str, OutgoingMessage]:
    return {m.to: m for k, m in messages.items() if f"/stage/{stage}/" in k}


def test_the_addressee_and_each_copy_read_one_notice(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        esc = svc(session, D(2026, 3, 2)).raise_(child.ref, concern=CONCERN,
                                                 category="pep_not_recorded")
        svc(session, D(2026, 3, 4)).advance(esc.id)
    deputy = by_reader(compose(store, D(2026, 3, 4)), "deputy_manager")
    assert set(deputy) == {DEPUTY, IRO, TEAM_MANAGER}
    texts = {to: attachment_text(m) for to, m in deputy.items()}
    # the same notice for every reader, addressed to the deputy manager, with who has a copy
    assert texts[DEPUTY] == texts[IRO] == texts[TEAM_MANAGER]
    text = texts[DEPUTY]
    assert "Dear Martin Greene," in text
    assert "Dear Daniel Hughes" not in text and "Dear Samuel Adeyemi" not in text
    assert "Copy to:" in text
    assert "Samuel Adeyemi, team manager" in text
    assert "Daniel Hughes, Independent Reviewing Officer" in text
    assert "copy\n" not in text.lower()  # "copy" is no one's job title
    # what happened: from the team manager at the informal stage, on the dates it happened
    assert ("The concern was with Samuel Adeyemi (Informal resolution with the team manager) "
            "from 2 March 2026 and has not been resolved, so on 4 March 2026 I escalated it to "
            "you.") in text
    # the next stage, its manager and the day it goes there without a response (due Wed 11th)
    assert "Please respond to me in writing by 11 March 2026" in text
    assert ("If I have no response by 11 March 2026, I will escalate the concern to Olivia "
            "Bennett (Formal stage 2 - group manager) on 12 March 2026.") in text
    assert "IRO Handbook 2010, chapter 6, §6.2" in text and "chapter 7" not in text
    # steps so far in words, with a summary
    assert "Concern raised" in text and "Escalated to the next stage" in text
    assert "Sent to Samuel Adeyemi" in text
    assert "2 stages so far, no response yet" in text
    assert not any(key in text for key in RAW_KEYS)

    # the covering emails: the addressee is asked to respond; a copy says why, and asks nothing
    ask = deputy[DEPUTY].body_text
    assert ask.startswith("Dear Martin Greene,") and "Please respond by 11 March 2026" in ask
    assert "goes to Formal stage 2 - group manager (Olivia Bennett) on 12 March 2026" in ask
    for to, why in ((IRO, "you raised this escalation"),
                    (TEAM_MANAGER, "the concern was with you at an earlier stage")):
        body = deputy[to].body_text
        assert deputy[to].subject.endswith("(copy for information)")
        assert body.startswith(f"Dear {'Daniel Hughes' if to == IRO else 'Samuel Adeyemi'},")
        assert "sent to Martin Greene, Deputy manager" in body and why in body
        assert "Please respond" not in body and "no response is needed from you" in body


def test_raised_straight_at_the_group_manager_says_so(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        svc(session, D(2026, 3, 2)).raise_(child.ref, concern=CONCERN, category="other",
                                           stage="group_manager")
    group = by_reader(compose(store, D(2026, 3, 2)), "group_manager")
    assert set(group) == {GROUP, IRO, TEAM_MANAGER, DEPUTY}
    text = attachment_text(group[GROUP])
    assert "Dear Olivia Bennett," in text
    assert "I am raising this concern with you directly at this stage" in text
    assert "not been resolved at the previous stage" not in text
    assert "Richard Osei (Formal stage 3 - head of service) on 10 March 2026" in text
    assert "1 stage so far, no response yet" in text
    assert not any(key in text for key in RAW_KEYS)
    # the managers of the stages passed over were never sent the concern: their copies say so
    for to, stage in ((DEPUTY, "Formal stage 1 - deputy manager"),
                      (TEAM_MANAGER, "Informal resolution with the team manager")):
        body = group[to].body_text
        assert f"the concern went past your stage ({stage}) without coming to you" in body
        assert "was with you" not in body


def test_a_back_dated_history_sends_only_the_current_stage(
    store: sessionmaker[Session],
) -> None:
    today = D(2026, 3, 20)  # entered after the fact: raised 2 March, moved on 4 and 11 March
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        esc = svc(session, today).raise_(child.ref, concern=CONCERN, category="other",
                                         on=D(2026, 3, 2))
        svc(session, today).advance(esc.id, on=D(2026, 3, 4))
        svc(session, today).advance(esc.id, on=D(2026, 3, 11))
        esc_id = esc.id
    with store() as session:
        rows = session.scalars(select(Dispatch).where(Dispatch.escalation_id == esc_id)).all()
        live = {d.key.split("/")[2] for d in rows if d.state != "cancelled"}
        called_off = {d.key.split("/")[2] for d in rows if d.state == "cancelled"}
        held = {d.due_at for d in rows if d.state != "cancelled"}
    assert live == {"group_manager"} and called_off == {"informal", "deputy_manager"}
    start = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)
    assert all(when >= start + BACKDATED_HOLD for when in held)  # waits for the rest of it
    # the ladder moving on the next day tells no one of deadlines gone before it was entered
    with store.begin() as session:
        t = svc(session, D(2026, 3, 23)).tick(svc(session, D(2026, 3, 23)).get(esc_id))
    assert t.notices == ()
    messages = compose(store, today)
    assert {m.to for m in messages.values()} == {GROUP, IRO, TEAM_MANAGER, DEPUTY}
    text = attachment_text(by_reader(messages, "group_manager")[GROUP])
    # the history as it was; the response asked for from the day the notice goes (5 working
    # days after 20 March), never a date already gone
    assert "Please respond to me in writing by 27 March 2026" in text
    assert "2 March 2026" in text and "4 March 2026" in text and "11 March 2026" in text
    assert "Martin Greene (Formal stage 1 - deputy manager) from 4 March 2026" in text


def test_the_cafcass_referral_is_a_letter_to_cafcass(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO,
                           legal_status="Interim care order (s38), care proceedings")
        esc = svc(session, D(2026, 3, 2)).raise_(child.ref, concern=CONCERN, category="other")
        svc(session, D(2026, 3, 4)).advance(esc.id, to="group_manager")
        svc(session, D(2026, 3, 6)).refer_cafcass(esc.id)
        esc_id = esc.id
    letters = by_reader(compose(store, D(2026, 3, 6)), "cafcass")
    assert CAFCASS in letters and GROUP in letters and IRO in letters
    text = attachment_text(letters[CAFCASS])
    assert attachment_text(letters[GROUP]) == text  # the group manager's copy is the same
    assert "Referral to CAFCASS: ESC-" in text and "Dear CAFCASS IRO referrals," in text
    assert "21 Bloomsbury Street" in text  # the address in directory.yaml
    assert "Zoë O'Neil" in text and "Interim care order (s38), care proceedings" in text
    assert CONCERN in text
    assert "continues alongside this referral: it is now at Formal stage 2 - group manager" in text
    assert "Referred to CAFCASS" in text and "6 March 2026" in text
    assert "Escalated straight to a later stage" in text
    assert "020 7946 0101" in text and IRO in text  # the IRO's contact
    assert "Response due by" not in text and "respond by" not in text.lower()
    assert "Olivia Bennett, group manager" in text  # copied, in the letter's own list
    assert not any(key in text for key in RAW_KEYS)
    copy = letters[GROUP].body_text
    assert "copy of escalation notice" in copy and "sent to CAFCASS IRO referrals" in copy
    assert "Please respond" not in copy
    assert f"ESC-{esc_id}" in letters[CAFCASS].subject and "Zoë" not in letters[CAFCASS].subject


def test_resolving_tells_everyone_who_had_a_notice(store: sessionmaker[Session]) -> None:
    with store.begin() as session:
        child = make_child(session, team="north_lac", iro_email=IRO)
        esc = svc(session, D(2026, 3, 2)).raise_(child.ref, concern=CONCERN, category="other")
        svc(session, D(2026, 3, 4)).advance(esc.id)
        svc(session, D(2026, 3, 6)).resolve(esc.id, outcome="PEP meeting booked for 10 March",
                                            by=IRO)
    outcomes = compose(store, D(2026, 3, 6), key_part="/outcome/")
    assert {m.to for m in outcomes.values()} == {IRO, TEAM_MANAGER, DEPUTY}
    texts = []
    for m in outcomes.values():
        assert m.subject.endswith(": resolved")
        assert "was resolved on 6 March 2026 at Formal stage 1 - deputy manager" in m.body_text
        assert "by Daniel Hughes" in m.body_text and "in the attached note" in m.body_text
        assert "PEP meeting booked" not in m.body_text and "Birch" not in m.body_text
        text = attachment_text(m)
        texts.append(text)
        assert "Escalation resolved: ESC-" in text and "PEP meeting booked for 10 March" in text
        assert ("nothing more is needed from you" in text
                or (m.to == IRO and "the outcome you recorded" in text)) and "Resolved" in text
        assert "resolved on 6 March 2026 at Formal stage 1 - deputy manager." in text
        assert "now at" not in text
        assert not any(key in text for key in RAW_KEYS)
    assert len(texts) == 3  # each addressed to its own reader
    # the IRO who resolved it is not told he is "told because he had a notice"
    mine = next(m for m in outcomes.values() if m.to == IRO)
    assert "This is the note of the outcome you recorded" in mine.body_text
    assert "This is the note of the outcome you recorded" in attachment_text(mine)
    assert "You are told because" not in mine.body_text
    others = [m for m in outcomes.values() if m.to != IRO]
    assert all("You are told because you had a notice" in m.body_text for m in others)
    assert any("Dear Martin Greene," in t for t in texts)
    assert any("Dear Samuel Adeyemi," in t for t in texts)
