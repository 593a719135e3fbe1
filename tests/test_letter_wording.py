"""What the letters say about sending a form back: the return address names the service, the
envelope (reply-paid or the postage it needs, service.yaml ``post:``), and the privacy notice
naming the council as data controller (UK GDPR Art. 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from mailout_support import make_config
from test_documents_support import docx_text

from workers.mailout.documents import render_letter

# A form code as letters print it: non-breaking hyphens, so it never splits across two lines
PRINTED = "IRO\u2011AB12\u2011CD"


def _documents(tmp_path: Path, **env: str) -> dict[str, str]:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path, **env)
    with sessions() as s:
        review = make_case(s)
        parent = review.participants[1]
        docs = render_letter(cfg, review.child, review, parent, form="consultation_parent",
                             code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5))
        docs += render_letter(cfg, review.child, review, parent, form="consultation_parent",
                              code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5), reminder=True)
    return {kind: " ".join(docx_text(data).split()) for kind, data in docs}


@pytest.mark.parametrize("reply_paid", [False, True])
def test_return_address_names_the_service_and_says_what_postage(tmp_path: Path,
                                                                reply_paid: bool) -> None:
    text = _documents(tmp_path, IRO_POST_REPLY_PAID=str(reply_paid).lower(),
                      IRO_POST_POSTAGE="a second class stamp")
    address = "Independent Reviewing Service Civic Centre Stockwell Close Exampleton EX1 3UH"
    assert address in text["return_instructions"]
    assert ("Independent Reviewing Service, Civic Centre, Stockwell Close, Exampleton, EX1 3UH"
            in text["reminder"])
    assert "A fresh copy of the form is enclosed" in text["reminder"]
    for kind in ("return_instructions", "reminder"):
        assert ("envelope provided" in text[kind]) is reply_paid, kind
        assert ("a second class stamp" in text[kind]) is not reply_paid, kind


def test_return_instructions_carry_the_privacy_notice(tmp_path: Path) -> None:
    text = _documents(tmp_path, IRO_LETTERHEAD_NAME="Exampleshire County Council",
                      IRO_LETTERHEAD_PRIVACY_NOTICE="www.exampleshire.gov.uk/privacy")
    notice = text["return_instructions"]
    assert "Exampleshire County Council is the data controller" in notice
    assert "privacy notice at www.exampleshire.gov.uk/privacy" in notice


def test_email_subject_is_the_templates_subject_line(tmp_path: Path) -> None:
    import shutil

    from mailout_support import ROOT
    from sqlalchemy import select

    from workers.mailout.compose import letter_message, letter_parts
    from workers.mailout.service import run_mailout
    from workers.store.models import Dispatch, Participant

    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates_docx", templates)
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    cfg = make_config(tmp_path, IRO_TEMPLATES_DIR=str(templates))
    run_mailout(sessions, cfg, ref)

    def subject() -> str:
        with sessions() as s:
            dispatch = s.scalars(select(Dispatch).join(
                Participant, Dispatch.participant_id == Participant.id).where(
                Participant.role == "carer", Dispatch.reference_code.is_not(None))).one()
            review, child, person = letter_parts(s, dispatch)
            message = letter_message(cfg, dispatch, review, child, person, reply_to=None)
            return f"{message.subject}|{dispatch.reference_code}"

    text, code = subject().split("|")
    assert text == f"Review on 12 January 2027 - ref {ref} (Z.O.) - form {code}"
    email = templates / "email_invitation.txt"
    lines = email.read_text(encoding="utf-8").splitlines(keepends=True)
    email.write_text("Subject: Your child's review {{ review.ref }} - form "
                     "{{ form.reference_code }}\n" + "".join(lines[1:]), encoding="utf-8")
    assert subject().split("|")[0] == f"Your child's review {ref} - form {code}"


@pytest.mark.parametrize(("venue", "role", "wording"), [
    ("Room 2, Civic Centre", "parent", "at 10am, in Room 2, Civic Centre."),
    ("", "parent", "at 10am, venue to be confirmed."),
    ("Carer's home", "carer", "at 10am, at your home."),
    ("Carer's home", "parent", "at 10am, at the carer's home."),
])
def test_invitation_says_where_the_meeting_is_for_its_reader(tmp_path: Path, venue: str,
                                                             role: str, wording: str) -> None:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    with sessions() as s:
        review = make_case(s, given_name="Zoë")
        review.venue = venue
        person = next(p for p in review.participants if p.role == role)
        docs = render_letter(cfg, review.child, review, person, form=None, code=None,
                             return_by=dt.date(2027, 1, 5))
    text = " ".join(docx_text(docs[0][1]).split())
    assert wording in text
    assert " at Room" not in text


@pytest.mark.parametrize(("born", "present", "absent"), [
    # 5 at the meeting: a short letter, no codes, no table, a grown-up helps
    (dt.date(2021, 6, 1), ["A grown-up can help you", "It is called a review"],
     [PRINTED, "What is enclosed", "Independent Reviewing Officer (IRO)", "booklet back"]),
    # 10: the child's letter with its booklet, no reference code to quote
    (dt.date(2016, 6, 1), ["fill in the booklet", "Please send your booklet back by",
                           "Your booklet"], [PRINTED, "pathway plan", "Child's booklet"]),
    # 16: a young person's letter: pathway plan and personal adviser, no "the adults"
    (dt.date(2010, 6, 1), ["pathway plan", "personal adviser", "Please send your form back by",
                           "Your form: your views"],
     ["the adults", "booklet", PRINTED, "A grown-up"]),
])
def test_the_childs_invitation_by_age(tmp_path: Path, born: dt.date, present: list[str],
                                      absent: list[str]) -> None:
    from workers.mailout.documents import render_letter as render

    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    with sessions() as s:
        review = make_case(s, date_of_birth=born)
        child = review.participants[0]
        assert child.role == "child"
        band = {2021: "4_7", 2016: "8_11", 2010: "16_plus"}[born.year]
        docs = render(cfg, review.child, review, child, form=f"consultation_child_{band}",
                      code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5))
    letter = " ".join(docx_text(docs[0][1]).split())
    for words in present:
        assert words in letter, words
    for words in absent:
        assert words not in letter, words


def test_child_reminder_keeps_the_tone_and_the_iros_contact(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    texts = {}
    with sessions() as s:
        for born in (dt.date(2021, 6, 1), dt.date(2014, 6, 1)):  # 5 and 12 at the meeting
            review = make_case(s, date_of_birth=born)
            child = review.participants[0]
            band = "4_7" if born.year == 2021 else "12_15"
            docs = render_letter(cfg, review.child, review, child, reminder=True,
                                 form=f"consultation_child_{band}", code="IRO-AB12-CD",
                                 return_by=dt.date(2027, 1, 5))
            texts[band] = " ".join(docx_text(docs[0][1]).split())
    for text in texts.values():
        assert "We would still like to hear from you" in text
        assert "ring me on 020 7946 0999" in text and "Best wishes" in text
        assert "Yours sincerely" not in text
    assert PRINTED not in texts["4_7"] and "A grown-up can help you" in texts["4_7"]
    # the child's own words: a fresh copy, who can help; no code to quote, no subject line
    assert PRINTED not in texts["12_15"] and "subject line" not in texts["12_15"]
    assert "There is a fresh copy of your booklet with this letter" in texts["12_15"]


def test_a_carers_address_block_is_their_home_not_their_agency(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    with sessions() as s:
        review = make_case(s)
        carer = next(p for p in review.participants if p.role == "carer")
        other = next(p for p in review.participants if p.role == "other")
        assert carer.organisation == "Smith & Sons Fostering"
        letters = {p.role: " ".join(docx_text(render_letter(
            cfg, review.child, review, p, form=None, code=None,
            return_by=dt.date(2027, 1, 5))[0][1]).split()) for p in (carer, other)}
    assert "Smith & Sons Fostering" not in letters["carer"]
    assert "Virtual School" in letters["other"]  # a professional's organisation stays


def test_every_document_kind_has_a_title_without_the_childs_full_name() -> None:
    from workers.documents.catalogue import KINDS
    from workers.documents.examples import example_context
    from workers.documents.titles import document_title

    kinds = [k.name for k in KINDS.values() if k.format == "docx"]
    # every letter, form and notice, the casework and record letters included
    assert {"invitation", "consultation_parent", "escalation_cafcass", "change_of_arrangements",
            "review_cancelled", "escalation_resolved", "record_child_letter"} <= set(kinds)
    for kind in kinds:
        ctx = example_context(kind)
        title = document_title(kind, ctx)
        assert title and "None" not in title and "Sam Smith" not in title, (kind, title)
        assert title.lower() != kind.replace("_", " "), (kind, title)  # not its file name


def test_parent_and_carer_forms_ask_what_the_review_needs(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    with sessions() as s:
        review = make_case(s)
        forms, letters = {}, {}
        for role in ("parent", "carer"):
            person = next(p for p in review.participants if p.role == role)
            docs = dict(render_letter(cfg, review.child, review, person,
                                      form=f"consultation_{role}", code="IRO-AB12-CD",
                                      return_by=dt.date(2027, 1, 5)))
            forms[role] = " ".join(docx_text(docs[f"consultation_{role}"]).split())
            letters[role] = " ".join(docx_text(docs["invitation"]).split())
    # the carer's letter names the child as the carer knows them; the parent's in full
    assert "looked after review for Zoë Dear" in letters["carer"]
    assert "looked after review for Zoë O'Neil" in letters["parent"]
    for text in forms.values():
        assert "Will you come to the review?" in text
        assert "020 7946 0999" in text  # the IRO's phone as well as email
        # a form that goes back by post or email names the child by given name and initials
        assert "Child Zoë (Z.O.)" in text and "O'Neil" not in text
    assert "interpreter (which language)" in forms["parent"]
    assert "Do you agree with the care plan?" in forms["parent"]
    assert "should not be shared with the other parent, the carers or Zoë" in forms["parent"]
    assert "Relationship to Zoë" in forms["parent"]
    for words in ("Delegated authority", "How settled is the placement", "Your view of the "
                  "care plan", "Fostering agency or service", "Supervising social worker"):
        assert words in forms["carer"], words


@pytest.mark.parametrize("band", ["4_7", "8_11", "12_15", "16_plus"])
def test_every_booklet_asks_the_same_core_questions(band: str) -> None:
    from mailout_support import ROOT

    from workers.documents.engine import shared_engine
    from workers.documents.examples import example_context

    kind = f"consultation_child_{band}"
    text = " ".join(docx_text(shared_engine(ROOT / "templates_docx").render(
        kind, example_context(kind))).split())
    for words in ("Who helped me fill this in?", "Is there anything I do not want shared? "
                  "Who with?", "Would you like to come to your", "When Thursday 5 March 2026 "
                  "at 10:30am", "Where in Room 2, Civic Centre",
                  "My IRO Alex Morgan, 020 8000 0123, alex.morgan@council.example.gov.uk"):
        assert words in text, words
    assert ("advocate" in text) is (band != "4_7")
    assert ("My reference" in text) is (band != "4_7")  # no admin table for the youngest


def test_return_instructions_by_reader(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    texts = {}
    with sessions() as s:
        review = make_case(s, date_of_birth=dt.date(2014, 6, 1))  # 12 at the meeting
        for role, form in (("child", "consultation_child_12_15"),
                           ("social_worker", "consultation_social_worker"),
                           ("parent", "consultation_parent")):
            person = next(p for p in review.participants if p.role == role)
            docs = dict(render_letter(cfg, review.child, review, person, form=form,
                                      code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5)))
            texts[role] = " ".join(docx_text(docs["return_instructions"]).split())
    child = texts["child"]
    assert "How to send your booklet back" in child and "bring it to your meeting" in child
    for words in ("Your reference", "subject line", "scan", "data controller"):
        assert words not in child, words
    assert "give it to your social worker" not in texts["social_worker"]
    assert "bring it to the review meeting" in texts["social_worker"]
    assert "give it to your social worker" in texts["parent"]
    assert "Your reference: " + PRINTED in texts["parent"]


def test_the_enclosures_table_has_no_empty_cell(tmp_path: Path) -> None:
    import io

    from docx import Document

    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path)
    with sessions() as s:
        review = make_case(s, date_of_birth=dt.date(2014, 6, 1))  # 12 at the meeting
        for role in ("child", "parent", "carer", "social_worker"):
            person = next(p for p in review.participants if p.role == role)
            form = "consultation_child_12_15" if role == "child" else f"consultation_{role}"
            letter = render_letter(cfg, review.child, review, person, form=form,
                                   code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5))[0][1]
            tables = [t for t in Document(io.BytesIO(letter)).tables
                      if t.rows[0].cells[0].text == "Document"]
            assert len(tables) == 1, role
            rows = tables[0].rows[1:]
            assert len(rows) == 2, role  # the form and how to send it back
            for row in rows:
                assert all(cell.text.strip() for cell in row.cells), (role, row.cells[0].text)
