"""The draft record has every section the IRO Handbook expects, pre-filled where the store knows
(issue 15 §1): who was invited, who came, whose views came in writing and whose did not; the
child's participation code in words, advocate and the question of seeing the child beforehand;
parents', carers' and professionals' views each a section of their own (so one can be withheld);
the plans with the pathway plan marked for a child of 16; delegated authority; open escalations;
the next review by reg 33; who receives the record, how, and a column for anything withheld.
The rendered draft is read back as text with python-docx.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import docx
import pytest
from factories import make_child, make_participant, make_review, sqlite_store
from sqlalchemy.orm import Session, sessionmaker

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService
from workers.reviews.notices import NoticeConfig, render_draft_record
from workers.reviews.record_sections import headings, without_sections
from workers.reviews.records import review_by_ref
from workers.store.models import Dispatch, Participant, Return

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
TODAY = D("2026-12-03")
RULES = load_rules(ROOT / "config" / "rules.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
CAL = WorkingCalendar.from_rules(RULES.calendar)
IRO = "grace.whitfield@council.example.gov.uk"


def _returned(s: Session, p: Participant, on: dt.date) -> None:
    d = Dispatch(key=f"{p.review.ref}/form/{p.ref}", kind="consultation", channel=p.channel,
                 review_id=p.review_id, participant_id=p.id, state="sent",
                 due_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    s.add(d)
    s.flush()
    s.add(Return(dispatch_id=d.id, received_on=on, channel=p.channel))


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        child = make_child(s, ref="C-400", given_name="Kai", family_name="Brennan",
                           date_of_birth=D("2010-05-20"), iro_email=IRO, team="north_lac")
        review = make_review(s, child, ref="C-400-R3", sequence=3, due_on=D("2026-12-10"),
                             iro_email=IRO, status="held", held_on=D("2026-12-02"),
                             participation="PN5",
                             scheduled_at=dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC))
        kid = make_participant(s, review, "child", ref="P-1", name="Kai Brennan",
                               relationship_to_child="self", channel="post", attended=False)
        mum = make_participant(s, review, "parent", ref="P-2", name="Ann Brennan",
                               relationship_to_child="mother", attended=True)
        make_participant(s, review, "parent", ref="P-3", name="Tom Brennan",
                         relationship_to_child="father", attended=False)
        carer = make_participant(s, review, "carer", ref="P-4", name="Rita Shah",
                                 relationship_to_child="foster_carer", attended=True)
        make_participant(s, review, "social_worker", ref="P-5", name="Chris Adams",
                         attended=True)
        make_participant(s, review, "other", ref="P-6", name="Lee Ford",
                         relationship_to_child="advocate", organisation="Coram Voice",
                         attended=True)
        make_participant(s, review, "other", ref="P-7", name="Pat Green",
                         organisation="Virtual School", attended=False)
        _returned(s, kid, D("2026-11-25"))
        _returned(s, mum, D("2026-11-24"))
        _returned(s, carer, D("2026-11-26"))
        policy = Policy.from_rules(RULES.escalation, CAL)
        EscalationService(s, policy, DIRECTORY, clock=FixedClock.on(TODAY)).raise_(
            "C-400", concern="PEP late", category="pep_not_recorded", on=D("2026-11-20"))
    return sessions


def _draft(sessions: sessionmaker[Session]) -> bytes:
    cfg = NoticeConfig(RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=FixedClock.on(TODAY))
    with sessions() as s:
        return render_draft_record(s, review_by_ref(s, "C-400-R3"), cfg)


def docx_text(content: bytes) -> str:
    """The body as a reader meets it: paragraphs and table cells in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    document = docx.Document(io.BytesIO(content))
    out: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            out.append(block.text)
        elif isinstance(block, Table):
            out += [c.text for r in block.rows for c in r.cells]
    return "\n".join(out)


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start):text.index(end, text.index(start))]


def test_every_section_the_handbook_expects_is_there_and_prefilled(
    sessions: sessionmaker[Session],
) -> None:
    content = _draft(sessions)
    text = docx_text(content)
    assert headings(content) == [
        "The child and the placement", "The review",
        "Who was invited, who attended, whose views came in writing",
        "The child's views and how they were given", "Parents' views", "Carers' views",
        "Professionals' views", "The plans", "Delegated authority",
        "Escalations open for the child", "Decisions of the previous review",
        "Decisions of this review (SMART)", "The next review", "Who receives this record"]
    child = _between(text, "The child's views and how", "Parents' views")
    assert "PN5 Child does not attend physically but briefs an advocate" in child
    assert "Attended the meeting\nNo" in child
    assert "Views in writing\nKai Brennan (child, form returned 25 November 2026)" in child
    assert "Advocate (name, or none)\nLee Ford (Coram Voice)" in child
    assert "Did the IRO see the child before the meeting? When?" in child
    parents = _between(text, "Parents' views", "Carers' views")
    assert "Invited\nAnn Brennan (mother), Tom Brennan (father)" in parents
    assert "Attended\nAnn Brennan (mother)" in parents
    assert "Views in writing\nAnn Brennan (mother, form returned 24 November 2026)" in parents
    assert "No written views from\nTom Brennan (father)" in parents
    carers = _between(text, "Carers' views", "Professionals' views")
    assert "Rita Shah (foster carer, form returned 26 November 2026)" in carers
    pros = _between(text, "Professionals' views", "The plans")
    assert "Invited\nChris Adams (social worker), Pat Green (Virtual School)" in pros
    assert "Attended\nChris Adams (social worker)" in pros
    assert "Views in writing\nNone received" in pros
    assert "Lee Ford" not in pros  # the advocate is the child's voice, not a professional's view
    plans = _between(text, "The plans", "Delegated authority")
    for plan in ("Care plan", "Placement plan", "Personal education plan (PEP)",
                 "Health assessment", "Pathway plan (16 and over)", "Permanence plan"):
        assert plan in plans
    assert "Required: the child is 16" in plans
    assert "What the carers may decide day to day" in text
    assert "ESC-1" in _between(text, "Escalations open", "Decisions of the previous")
    assert "Next review due by (reg 33)\n2 June 2027" in text
    copies = _between(text, "Who receives this record", "Signed:")
    assert "Kai Brennan\nchild\nTheir own letter of the decisions, by post" in copies
    assert "Ann Brennan\nparent\nThe record, by email" in copies
    assert "Pat Green\nother\nNo copy from the service" in copies
    assert "Sections withheld, and why" in copies
    for raw in ("social_worker", "foster_carer", "self\n", "None\n"):
        assert raw not in text


def test_one_parents_views_can_be_withheld_from_the_other(
    sessions: sessionmaker[Session],
) -> None:
    content = _draft(sessions)
    copy = docx_text(without_sections(content, ["Parents' views"]))
    assert "Parents' views\nThis section is not included in your copy" in copy
    assert "Tom Brennan (father)" not in _between(copy, "Parents' views", "Carers' views")
    assert "Rita Shah (foster carer, form returned" in copy  # the carers' section stays


def test_the_draft_email_says_how_to_return_the_record(sessions: sessionmaker[Session]) -> None:
    """The email says both ways back: upload, or a reply with the record attached, held until
    the IRO confirms it (docs/record-and-escalations.md says why)."""
    from workers.reviews.notices import _email

    cfg = NoticeConfig(RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=FixedClock.on(TODAY))
    with sessions() as s:
        text = _email(cfg, "email_review_record", review_by_ref(s, "C-400-R3"), what="record",
                      due_on=D("2026-12-23"), decisions_due_on=D("2026-12-09"))
    assert "upload it on the review's page in the IRO service (Reviews, C-400-R3)" in text.body
    assert "or reply to this email with the completed record attached" in text.body
    assert "one not confirmed within 30 days is deleted" in text.body
    assert "do not reply" not in text.body
    assert "Kai" not in text.subject
