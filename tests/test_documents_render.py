"""Every kind renders hostile values faithfully, into well-formed Word XML."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from test_documents_support import assert_xml_valid, docx_text

from workers.documents.catalogue import KINDS
from workers.documents.emails import render_email
from workers.documents.engine import DocumentEngine
from workers.documents.environment import make_environment
from workers.documents.examples import example_context
from workers.documents.fieldpaths import used_fields

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates_docx"
LONG_NAME = ("Zoë Łukasz " * 30)[:300].strip()
assert len(LONG_NAME) >= 299

# path -> hostile value; list items are set on the first element.
HOSTILE: dict[str, Any] = {
    "recipient.name": "Smith & Sons <Fostering>",
    "recipient.salutation": "Dear Mr O'Neil & \"Partner\"",
    "recipient.organisation": "",
    "child.full_name": "Zoë Łukasz-O'Neil \"Jr\"",
    "child.given_name": "Zoë",
    "child.placement": "Smith & Sons <Fostering> Ltd",
    "child.legal_status": "",
    "iro.name": LONG_NAME,
    "review.venue": "",
    "escalation.concern": "Line one & <two>\nLine \"three\" O'Neil",
    "escalation.category": "Delay & <drift>",
    "enclosures[].title": "Form & <notes> \"A\"",
    "participants[].name": "O'Neil & <Sons>",
    "previous_decisions[].action": "Check \"quotes\" & <tags>",
    "form.reference_code": "IRO-<&>-1",
}
DOCX_KINDS = [k for k, v in KINDS.items() if v.format == "docx"]
EMAIL_KINDS = [k for k, v in KINDS.items() if v.format == "email"]


def hostile_context(kind: str) -> dict[str, Any]:
    ctx = copy.deepcopy(example_context(kind))
    for path, value in HOSTILE.items():
        head, _, leaf = path.rpartition(".")
        if "[]" in head:
            listname = head.removesuffix("[]")
            target = ctx.get(listname)
            if target:
                target[0][leaf] = value
            continue
        node = ctx.get(head)
        if isinstance(node, dict) and leaf in node:
            node[leaf] = value
    return ctx


@pytest.fixture(scope="module")
def engine() -> DocumentEngine:
    return DocumentEngine(TEMPLATES)


def _used(engine: DocumentEngine, kind: str) -> set[str]:
    env = make_environment()
    compiled = engine.compiled(engine.template_path(kind))
    return {f for part in compiled.parts for f in used_fields(env.parse(part.source))}


@pytest.mark.parametrize("kind", DOCX_KINDS)
def test_hostile_values_render_faithfully(engine: DocumentEngine, kind: str) -> None:
    data = engine.render(kind, hostile_context(kind))
    assert_xml_valid(data)
    text = docx_text(data)
    used = _used(engine, kind)
    expected = [v for p, v in HOSTILE.items() if v and p in used]
    assert expected, f"{kind} uses none of the hostile fields"
    from workers.documents.filters import nobreak

    for value in expected:  # a form code prints with non-breaking hyphens (|nobreak)
        assert value in text or nobreak(value) in text, f"{kind}: {value!r} missing or altered"
    assert "&amp;" not in text and "&lt;" not in text  # not escaped twice


def test_child_wording_differs_from_parent(engine: DocumentEngine) -> None:
    ctx = example_context("invitation")
    parent = docx_text(engine.render("invitation", ctx))
    ctx["recipient"] = {**ctx["recipient"], "role": "child", "is_child": True,
                        "salutation": "Dear Sam"}
    child = docx_text(engine.render("invitation", ctx))
    assert "You are invited to your review" in child and "Best wishes" in child
    assert "Invitation to a looked after review for Sam Smith" in parent
    assert "Yours sincerely" in parent and "You are invited to your review" not in parent


@pytest.mark.parametrize("role", ["carer", "social_worker", "guardian", "other"])
def test_every_role_gets_its_own_paragraph(engine: DocumentEngine, role: str) -> None:
    ctx = example_context("invitation")
    ctx["recipient"] = {**ctx["recipient"], "role": role}
    text = docx_text(engine.render("invitation", ctx))
    marker = {"carer": "As Sam's carer", "social_worker": "Please send me your report",
              "guardian": "children's guardian", "other": "because of your work with"}[role]
    assert marker in text


def test_header_footer_and_table_loop(engine: DocumentEngine) -> None:
    ctx = example_context("invitation")
    text = docx_text(engine.render("invitation", ctx))
    assert "Example Borough Council" in text  # first-page header
    assert "Our reference: R-1042" in text  # later-page header
    assert "OFFICIAL-SENSITIVE" in text
    for item in ctx["enclosures"]:
        assert item["title"] in text and item["action"] in text


def test_newlines_in_a_value_become_line_breaks(engine: DocumentEngine) -> None:
    ctx = hostile_context("escalation_deputy_manager")
    text = docx_text(engine.render("escalation_deputy_manager", ctx))
    assert "Line one & <two>\nLine \"three\" O'Neil" in text


def test_empty_lists_render(engine: DocumentEngine) -> None:
    ctx = example_context("invitation")
    ctx["enclosures"] = []
    ctx["recipient"] = {**ctx["recipient"], "address_lines": [], "postcode": ""}
    text = docx_text(engine.render("invitation", ctx))
    assert "What is enclosed" not in text
    rec = example_context("review_record")
    rec["previous_decisions"] = []
    # a later review whose previous record is not in the store: named, with rows to fill
    rec["previous_review"] = {"first": False, "held_on": dt.date(2026, 7, 9), "known": False}
    rec["previous_blank_rows"] = [1, 2, 3]
    text = docx_text(engine.render("review_record", rec))
    assert "Previous decisions: see the record of 9 July 2026" in text
    assert "no previous decisions" not in text
    rec["previous_review"] = {"first": True, "held_on": None, "known": False}
    rec["previous_blank_rows"] = []
    assert "first review: there are no previous decisions" in docx_text(
        engine.render("review_record", rec))


def test_cache_is_reused_and_refreshed(tmp_path: Path, engine: DocumentEngine) -> None:
    import shutil

    path = tmp_path / "invitation.docx"
    shutil.copy(TEMPLATES / "invitation.docx", path)
    own = DocumentEngine(tmp_path)
    first = own.compiled(path)
    assert own.compiled(path) is first
    shutil.copy(TEMPLATES / "reminder.docx", path)
    assert own.compiled(path) is not first


@pytest.mark.parametrize("kind", EMAIL_KINDS)
def test_emails_render_values_verbatim_and_no_names_in_subject(kind: str) -> None:
    ctx = hostile_context(kind)
    mail = render_email(TEMPLATES, kind, ctx)
    assert "Zoë Łukasz-O'Neil" not in mail.subject and LONG_NAME not in mail.subject
    assert ctx["child"]["initials"] in mail.subject
    assert "&amp;" not in mail.body  # plain text is not HTML-escaped
    if "recipient" in ctx and kind != "email_escalation":
        assert ctx["recipient"]["salutation"] in mail.body


def test_the_same_letter_renders_to_the_same_bytes_in_any_second(
    engine: DocumentEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time
    import zipfile

    ctx = example_context("invitation")
    first = engine.render("invitation", ctx)
    monkeypatch.setattr(zipfile.time, "time", lambda: time.time() + 3600)  # an hour on
    assert engine.render("invitation", ctx) == first
