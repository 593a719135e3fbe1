"""Broken templates and bad values give errors naming template, part, field and template text."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from docxtpl import RichText
from markupsafe import Markup

from workers.documents.engine import DocumentEngine
from workers.documents.examples import example_context
from workers.documents.validation import check_path, check_templates
from workers.errors import EXIT_TEMPLATE, TemplateError

ROOT = Path(__file__).resolve().parent.parent
IRO = Path(sys.executable).with_name("iro")


def make_docx(path: Path, *paragraphs: str, header: str = "") -> Path:
    doc = Document()
    for text in paragraphs:
        doc.add_paragraph(text)
    if header:
        doc.sections[0].header.paragraphs[0].text = header
    doc.save(str(path))
    return path


def render(tmp_path: Path, context: dict[str, object], *paragraphs: str) -> bytes:
    path = make_docx(tmp_path / "t.docx", *paragraphs)
    return DocumentEngine(tmp_path).render_file(path, context)


def test_missing_field_names_template_field_and_text(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as err:
        render(tmp_path, {"child": {"given_name": "Sam"}},
               "Intro", "Dear {{ child.given_name }}, your review is on {{ review.date }}.")
    msg = str(err.value)
    assert msg.startswith("t.docx:word/document.xml: missing field")
    assert "'date'" in msg or "'review'" in msg
    assert "your review is on {{ review.date }}" in msg
    assert "Sam" not in msg  # template text only, never the filled-in values


def test_missing_top_level_field(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"missing field 'iro'.*Contact \{\{ iro.name \}\}"):
        render(tmp_path, {}, "Contact {{ iro.name }} today")


def test_syntax_error_is_reported_at_compile(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"t.docx:word/document.xml: .*Dear \{\{ name"):
        render(tmp_path, {"name": "x"}, "Dear {{ name ", "more")


def test_unknown_filter(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="unknown filter 'uk_dat'"):
        render(tmp_path, {"d": "2026-01-01"}, "On {{ d|uk_dat }}")


def test_error_in_header_names_the_header_part(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "h.docx", "body", header="Ref {{ letter.reference }}")
    with pytest.raises(TemplateError, match=r"h.docx:word/header\d*.xml: missing field 'letter'"):
        DocumentEngine(tmp_path).render_file(path, {})


def test_sandbox_blocks_internals(tmp_path: Path) -> None:
    with pytest.raises(TemplateError):
        render(tmp_path, {"x": "a"}, "{{ x.__class__.__mro__[1].__subclasses__() }}")


def test_richtext_in_plain_tag_is_caught_not_dropped(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"rich text was placed with \{\{ \}\}.*note"):
        render(tmp_path, {"note": RichText("bold words", bold=True)}, "See {{ note }} here")
    data = render(tmp_path, {"note": RichText("bold words", bold=True)}, "See {{r note }} here")
    from test_documents_support import docx_text

    assert "bold words" in docx_text(data)


def test_plain_text_in_rich_tag_is_caught(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"placed with \{\{r \}\}"):
        render(tmp_path, {"note": "plain"}, "See {{r note }} here")


def test_markup_that_breaks_xml_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as err:
        render(tmp_path, {"bad": Markup("<w:b>")}, "Intro", "Value: {{ bad }} end")
    msg = str(err.value)
    assert "not valid XML" in msg and "bad" in msg and "Value: {{ bad }} end" in msg


def test_a_control_character_names_the_field_that_holds_it(tmp_path: Path) -> None:
    # The paragraph's first field (here `name`) is not the culprit: the value of `venue` is.
    with pytest.raises(TemplateError) as err:
        render(tmp_path, {"name": "Ann", "review": {"venue": "Room\x0b3"}}, "Intro",
               "Dear {{ name }}, at {{ review.venue }}")
    msg = str(err.value)
    assert "not valid XML" in msg and "review.venue" in msg and "name," not in msg


def test_not_a_docx(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    path.write_text("not a zip")
    with pytest.raises(TemplateError, match="x.docx: cannot open as a Word document"):
        DocumentEngine(tmp_path).render_file(path, {})


def test_unknown_kind() -> None:
    with pytest.raises(TemplateError, match="unknown document kind 'invitatoin'"):
        DocumentEngine(ROOT / "templates_docx").render("invitatoin", {})


# --- validation (`iro templates check`) -------------------------------------------------------

@pytest.fixture
def templates_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "templates"
    shutil.copytree(ROOT / "templates_docx", dest)
    return dest


def test_shipped_templates_pass() -> None:
    assert check_templates(ROOT / "templates_docx") == []


@pytest.mark.parametrize(("paragraph", "expected"), [
    ("Dear {{ recipient.name ", "reminder.docx:word/document.xml: "),
    ("Dear {{ recipient.nmae }}", "field 'recipient.nmae' is not in the catalogue"),
    ("On {{ letter.date|uk_dat }}", "unknown filter 'uk_dat'"),
    ("{{ recipient.name|safe }}", "the |safe filter is not allowed"),
    ("{% for e in escalation.history %}{{ e.date }}{% endfor %}", "escalation.history[].date"),
])
def test_broken_template_is_reported_with_exit_4(
    templates_copy: Path, paragraph: str, expected: str
) -> None:
    make_docx(templates_copy / "reminder.docx", "Intro", paragraph)
    problems = [str(p) for p in check_path(templates_copy)]
    assert problems and all(p.startswith("reminder.docx:") for p in problems)
    assert any(expected in p for p in problems), problems
    run = subprocess.run([str(IRO), "templates", "check", str(templates_copy)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == EXIT_TEMPLATE
    assert any(line.startswith("reminder.docx:word/document.xml: ")
               for line in run.stderr.splitlines()), run.stderr


def test_missing_template_and_stray_file(templates_copy: Path) -> None:
    (templates_copy / "invitation.docx").unlink()
    make_docx(templates_copy / "invitaton.docx", "x")
    problems = [str(p) for p in check_path(templates_copy)]
    assert "invitation.docx:-: template missing from " + str(templates_copy) in problems
    assert any(p.startswith("invitaton.docx:-: matches no document kind") for p in problems)


def test_email_subject_with_a_name_is_refused(templates_copy: Path) -> None:
    path = templates_copy / "email_writeup_overdue.txt"
    text = path.read_text().replace("Subject: Overdue:", "Subject: {{ child.full_name }} Overdue:")
    path.write_text(text)
    problems = [str(p) for p in check_path(templates_copy)]
    assert any(p.startswith("email_writeup_overdue.txt:subject: field child.full_name puts a "
                            "name in the subject") for p in problems)


def test_trial_render_catches_a_field_missing_from_example_data(
    templates_copy: Path, tmp_path: Path
) -> None:
    examples = tmp_path / "examples"
    shutil.copytree(ROOT / "examples" / "template-data", examples)
    common = (examples / "_common.yaml").read_text().replace("  venue: Room 2, Civic Centre\n", "")
    (examples / "_common.yaml").write_text(common)
    problems = [str(p) for p in check_templates(templates_copy, ["invitation"],
                                                examples_dir=examples)]
    assert problems and "missing field 'venue'" in problems[0]


def test_cli_check_ok_and_render(tmp_path: Path) -> None:
    run = subprocess.run([str(IRO), "templates", "check", "templates_docx"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    out = tmp_path / "letter.docx"
    run = subprocess.run([str(IRO), "templates", "render", "reminder", "--data",
                          "examples/template-data/reminder.yaml", "-o", str(out)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    from test_documents_support import docx_text

    assert "IRO\u20117KQ2\u2011PX" in docx_text(out.read_bytes())  # never split: U+2011
    ctx = example_context("reminder")
    assert ctx["form"]["reference_code"] == "IRO-7KQ2-PX"


def test_docs_catalogue_is_current() -> None:
    from workers.documents.catalogue_doc import catalogue_markdown

    assert (ROOT / "docs" / "templates.md").read_text(encoding="utf-8") == catalogue_markdown(), (
        "docs/templates.md is stale: python -m workers.documents.catalogue_doc > docs/templates.md"
    )
