"""Context builders turn store rows into what the templates read, and refuse mixed-up cases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_documents_support import docx_text

from workers.documents import contexts
from workers.documents.catalogue import KINDS
from workers.documents.engine import DocumentEngine
from workers.documents.fieldpaths import unknown_fields
from workers.errors import RefusedError
from workers.store.models import Child, Escalation, Participant, Review

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str = ""


def rows() -> tuple[Child, Review, Participant]:
    child = Child(id=1, ref="C-1", given_name="Zoë", family_name="Łukasz-O'Neil",
                  date_of_birth=dt.date(2014, 6, 1), looked_after_since=dt.date(2024, 1, 5),
                  team="cic2", iro_email="a@x", placement="Smith & Sons <Fostering>",
                  legal_status="")
    review = Review(id=7, ref="R-7", child_id=1, sequence=3, due_on=dt.date(2026, 3, 10),
                    scheduled_at=dt.datetime(2026, 3, 5, 14, 0), venue="", iro_email="a@x",
                    participation="PN1")
    part = Participant(id=3, review_id=7, ref="P-3", role="carer", name="Mrs Priya Patel",
                       organisation="Smith & Sons <Fostering>", address="1 High St\n\nExampleton",
                       postcode="EX1 1AA", channel="post", relationship_to_child="Foster carer")
    return child, review, part


COMMON = contexts.Common(contexts.Letterhead(), Person("Alex Morgan", "alex@council.example"),
                         dt.date(2026, 2, 12))
FORM = contexts.FormReturn("IRO-AB12", dt.date(2026, 3, 2), "iro@council.example", ("Civic",))


def _leaves(ctx: dict[str, object], prefix: str = "") -> set[str]:
    out = set()
    for key, value in ctx.items():
        path = f"{prefix}{key}"
        out.add(path)
        if isinstance(value, dict):
            out |= _leaves(value, path + ".")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out |= _leaves(value[0], path + "[].")
    return out


def test_letter_context_matches_catalogue_and_renders() -> None:
    child, review, part = rows()
    ctx = contexts.letter(child, review, part, COMMON, form=FORM,
                          enclosures=[contexts.Enclosure("Form", "Return it")])
    assert ctx["child"]["age"] == 11 and ctx["child"]["initials"] == "Z.Ł."
    assert ctx["review"]["ordinal"] == "third"
    assert ctx["recipient"]["address_lines"] == ["1 High St", "Exampleton"]
    declared = KINDS["invitation"].field_names()
    assert unknown_fields(_leaves(ctx), declared) == []
    missing = [f for f in declared if f not in _leaves(ctx)]
    assert missing == [], missing
    text = docx_text(DocumentEngine(ROOT / "templates_docx").render("invitation", ctx))
    # to the carer by given name (the letter goes to a family home); in full to anyone else
    assert "review for Zoë\n" in text and "Łukasz-O'Neil" not in text and "2pm" in text
    # a carer's letter goes to their home, without the agency; a professional's shows it, escaped
    assert "Smith & Sons <Fostering>" not in text
    part.role = "other"
    ctx = contexts.letter(child, review, part, COMMON, form=FORM)
    text = docx_text(DocumentEngine(ROOT / "templates_docx").render("invitation", ctx))
    assert "Smith & Sons <Fostering>" in text
    assert "Zoë Łukasz-O'Neil" in text


def test_a_participant_of_another_review_is_refused() -> None:
    child, review, part = rows()
    part.review_id = 99
    with pytest.raises(RefusedError, match="P-3 is not invited to review R-7"):
        contexts.letter(child, review, part, COMMON, form=FORM)
    review.child_id = 2
    with pytest.raises(RefusedError, match="does not belong to child C-1"):
        contexts.review_record(child, review, [], COMMON)


def test_review_record_context_renders() -> None:
    child, review, part = rows()
    part.attended = True
    ctx = contexts.review_record(
        child, review, [part], COMMON, returned_ids=[3],
        previous_decisions=[contexts.PreviousDecision(1, "Dental check", "Carer", "1 month")],
        participation_codes={"PN1": "Attends and speaks for self"})
    assert ctx["participants"][0]["views_in_writing"] is True
    assert ctx["participation"] == {"code": "PN1", "meaning": "Attends and speaks for self"}
    text = docx_text(DocumentEngine(ROOT / "templates_docx").render("review_record", ctx))
    assert "Dental check" in text and "Mrs Priya Patel" in text and "Received" in text


def test_escalation_notice_context_renders() -> None:
    child, _, _ = rows()
    esc = Escalation(id=17, child_id=1, iro_email="a@x", category="pep_not_recorded",
                     concern="PEP & <plan> missing", stage="group_manager",
                     raised_on=dt.date(2026, 2, 2), stage_started_on=dt.date(2026, 2, 9),
                     response_due_on=dt.date(2026, 2, 16))
    ctx = contexts.escalation_notice(
        child, esc, COMMON, recipient=Person("Pat Jones", "pat@x"),
        recipient_title="Group Manager", stage_title="Group manager",
        category_title="PEP not recorded", ceiling_on=dt.date(2026, 3, 2),
        history=[contexts.HistoryItem(dt.date(2026, 2, 2), "Informal alert", "raised")])
    text = docx_text(DocumentEngine(ROOT / "templates_docx").render(
        "escalation_group_manager", ctx))
    assert "PEP & <plan> missing" in text and "ESC-17" in text and "Pat Jones" in text
    esc.child_id = 5
    with pytest.raises(RefusedError):
        contexts.escalation_notice(child, esc, COMMON, recipient=Person("P", "p@x"),
                                   recipient_title="", stage_title="", category_title="",
                                   ceiling_on=dt.date(2026, 3, 2))


def test_rules_template_names_exist_in_the_catalogue() -> None:
    rules_path = ROOT / "config" / "rules.yaml"
    if not rules_path.exists():
        pytest.skip("config/rules.yaml not written yet")
    from workers.config.rules import load_rules

    rules = load_rules(rules_path)
    names = {band.template for band in rules.consultation.age_bands}
    names |= set(rules.consultation.forms.values())
    names |= {stage.template for stage in rules.escalation.stages}
    assert names - set(KINDS) == set()
