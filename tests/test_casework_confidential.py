"""Issue 16 §2, a confidential placement address: rendered for every role, every letter and email a
participant can be sent, the carers' address appears in none made for someone it is withheld from
(the venue at the carer's home reads as the fixed phrase); a template that would show it is refused
by the preflight naming the document and field; the CSV import carries both flags."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from docx import Document
from factories import make_child, make_participant, make_review, sqlite_store
from mailout_support import ROOT, RULES, TODAY, make_config
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_import import context, example_rows, to_csv  # noqa: F401 - context is a fixture

from workers.casework.confidential import VENUE_WITHHELD, docx_text, withheld_from
from workers.documents.contexts import with_mailbox
from workers.documents.emails import render_email
from workers.errors import PreflightError
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.importer.upsert import upsert_plan
from workers.mailout.documents import MailoutConfig, letter_context
from workers.mailout.service import run_mailout
from workers.store.models import Participant, Review

STREET, POSTCODE = "14 Larkspur Crescent", "BR6 0QJ"
CARERS_HOME = f"{STREET}\nOrpington\nKent"
VENUE = f"Carer's home, {STREET}, Orpington {POSTCODE}"
LETTERS = ("invitation", "reminder", "return_instructions", "change_of_arrangements",
           "review_cancelled")


def confidential_case(sessions: sessionmaker[Session], placement: str = "Foster placement") -> str:
    with sessions() as s:
        child = make_child(s, placement=placement)
        review = make_review(s, child, venue=VENUE, placement_confidential=True)
        make_participant(s, review, "child", email=None, channel="post", address=CARERS_HOME,
                         postcode=POSTCODE)
        make_participant(s, review, "carer", address=CARERS_HOME, postcode=POSTCODE)
        make_participant(s, review, "parent", channel="post")  # mother: withheld by role
        make_participant(s, review, "parent", placement_withheld=False)  # father: a court allows
        make_participant(s, review, "social_worker")
        make_participant(s, review, "guardian", email="guardian@cafcass.gov.uk")
        make_participant(s, review, "other", organisation="Virtual School",
                         placement_withheld=True)  # e.g. a relative's advocate
        s.commit()
        return review.ref


def _found(text: str) -> bool:
    flat = " ".join(text.casefold().split())
    return STREET.casefold() in flat or POSTCODE.casefold() in flat


def rendered_for(cfg: MailoutConfig, review: Review, person: Participant) -> dict[str, str]:
    """Every letter and email body this person can be sent, as text."""
    form = (RULES.age_band_for(10).template if person.role == "child"  # type: ignore[union-attr]
            else RULES.form_for(person.role))
    ctx = letter_context(cfg, review.child, review, person, form=form, code="C-ABCDEFGH",
                         return_by=dt.date(2027, 1, 5))
    ctx["previous"] = {"scheduled_at": dt.datetime(2027, 1, 5, 10), "venue_changed": True}
    kinds = [*LETTERS, *([form] if form else [])]
    out = {kind: docx_text(cfg.engine.render(kind, ctx)) for kind in kinds}
    mailbox = with_mailbox(ctx, "IRO service", is_reminder=False, is_cancellation=False)
    for kind in ("email_invitation", "email_casework"):
        out[kind] = render_email(cfg.settings.templates_dir, kind, mailbox).body
    return out


def test_every_document_for_every_role_keeps_the_address_from_whom_it_is_withheld(
        tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    ref = confidential_case(sessions)
    cfg = make_config(tmp_path)
    seen: dict[str, bool] = {}
    with sessions() as s:
        review = s.scalars(select(Review).where(Review.ref == ref)).one()
        for person in review.participants:
            documents = rendered_for(cfg, review, person)
            withheld = withheld_from(review, person)
            label = f"{person.role}/{person.placement_withheld}"
            seen[label] = withheld
            for kind, text in documents.items():
                if withheld:
                    assert not _found(text), (label, kind)
                    assert "carer's home" not in text.casefold() or VENUE_WITHHELD in text, kind
            if withheld:
                assert VENUE_WITHHELD in documents["invitation"]
                assert VENUE_WITHHELD in documents["email_invitation"]
                assert VENUE_WITHHELD in documents["change_of_arrangements"]
            else:  # the others are told where the meeting is
                assert STREET in documents["invitation"], label
    assert seen == {"child/None": False, "carer/None": False, "parent/None": True,
                    "parent/False": False, "social_worker/None": False,
                    "guardian/None": False, "other/True": True}
    # and the real mail-out passes its preflight and queues them
    assert run_mailout(sessions, cfg, ref).created > 0


def test_preflight_refuses_a_template_that_would_reveal_it(tmp_path: Path) -> None:
    # a member of staff adds the placement to the invitation in Word; the child's placement
    # description on the case record carries the address
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates_docx", templates)
    doc = Document(str(templates / "invitation.docx"))
    doc.add_paragraph("Where the child lives: {{ child.placement }}")
    doc.save(str(templates / "invitation.docx"))
    sessions = sqlite_store(tmp_path)
    ref = confidential_case(sessions, placement=f"Foster placement, {STREET}")
    cfg = make_config(tmp_path, IRO_TEMPLATES_DIR=str(templates))
    with pytest.raises(PreflightError) as refused:
        run_mailout(sessions, cfg, ref)
    message = str(refused.value)
    assert "(parent): template: invitation: child.placement would reveal the confidential " \
        "placement address" in message
    assert "(other): template: invitation: child.placement" in message
    assert "(carer)" not in message and "(social_worker)" not in message
    assert STREET not in message and POSTCODE not in message  # the refusal does not repeat it
    assert run_mailout(sessions, make_config(tmp_path), ref).created > 0  # shipped ones pass


def test_the_import_carries_both_flags(tmp_path: Path, context: ImportContext) -> None:  # noqa: F811
    rows = example_rows()
    for row in rows:
        if row["review_ref"] == "R-1001-5":
            row["placement_confidential"] = "yes"
            if row["participant_ref"] == "P-5002":
                row["placement_withheld"] = "yes"
    plan = parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        upsert_plan(s, plan)
    with sessions() as s:
        flags = {r.ref: r.placement_confidential for r in s.scalars(select(Review))}
        assert flags["R-1001-5"] is True and not any(v for k, v in flags.items()
                                                     if k != "R-1001-5")
        withheld = {p.ref: p.placement_withheld for p in s.scalars(
            select(Participant).join(Review).where(Review.ref == "R-1001-5"))}
        assert withheld["P-5002"] is True and withheld["P-5001"] is None
    rows[0]["placement_withheld"] = "perhaps"
    with pytest.raises(Exception, match="column placement_withheld"):
        parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    assert TODAY.year == 2026


@pytest.mark.libreoffice
def test_the_print_batch_keeps_it_off_the_mothers_pages_and_the_manifest(
        tmp_path: Path, soffice: str) -> None:
    import csv

    from pypdf import PdfReader

    from workers.mailout.printing import build_batch

    sessions = sqlite_store(tmp_path)
    ref = confidential_case(sessions)
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    result = build_batch(sessions, cfg, TODAY)
    assert result.letters == 2  # the child (at the placement) and the mother, by post
    with sessions() as s:
        mother = s.scalars(select(Participant).where(Participant.role == "parent",
                                                     Participant.channel == "post")).one().ref
    pdf = PdfReader(str(result.pdf_path))
    manifest_text = Path(result.manifest_path or "").read_text(encoding="utf-8")
    assert not _found(manifest_text)
    rows = list(csv.DictReader(manifest_text.splitlines()))
    for row in rows:
        first, count = int(row["first_page"]), int(row["pages"])
        text = "".join(pdf.pages[n].extract_text() for n in range(first - 1, first - 1 + count))
        if row["participant_ref"] == mother:
            assert not _found(text) and "your social worker will arrange" in " ".join(text.split())
        else:
            assert POSTCODE in text  # the child's own letter, through the window
