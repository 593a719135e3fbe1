"""A corpus of hostile input (issue 17 §3), each through the real `iro` console script where a
person would meet it: the exit code, the one-line message, and nothing written outside the
folder the command was run in. The pure guards are tested beside it, case by case."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from test_config_cli import run_iro  # the console script, with no IRO_* from this shell

from workers.documents.emails import refuse_names_in_subject
from workers.errors import BadInputError, TemplateError
from workers.inputs.csvcells import safe_cell, safe_row
from workers.inputs.paths import inside
from workers.inputs.postcodes import is_postcode, normalise
from workers.inputs.refs import ref_problem
from workers.inputs.text import control_problem

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "reviews.csv"
TEMPLATES = ROOT / "templates_docx"


# ---- the pure guards ------------------------------------------------------------------------

@pytest.mark.parametrize("ref", ["C-1001", "R_1.2", "a", "9" * 40, "P-5001.b"])
def test_refs_that_are_identifiers_pass(ref: str) -> None:
    assert ref_problem(ref) is None


@pytest.mark.parametrize(("ref", "said"), [
    ("../../x", "starts with '.'"), (".hidden", "starts with '.'"), ("-1", "starts with '-'"),
    ("R-1/mailout/P-1", "character other than"), ("a?b", "character other than"),
    ("a#b", "character other than"), ("a b", "character other than"),
    ("C\\1", "character other than"), ("Zoë", "character other than"),
    ("x" * 41, "longer than 40"), ("", "is empty"),
])
def test_refs_that_are_not_identifiers_are_refused(ref: str, said: str) -> None:
    problem = ref_problem(ref)
    assert problem is not None and said in problem


@pytest.mark.parametrize("text", ["a\x00b", "a\x0bb", "\x1b[31mred", "a\ufffeb", "a\x85b",
                                  "a\x7fb"])
def test_control_characters_are_refused_everywhere(text: str) -> None:
    assert control_problem(text) is not None
    assert control_problem(text, multiline=False) is not None


def test_names_refuse_form_feed_bel_and_line_breaks_free_text_keeps_them() -> None:
    assert control_problem("Line one\nline two\tend") is None
    for name in ("Ann\x0cSmith", "Ann\x07", "Ann\nSmith"):
        assert control_problem(name, multiline=False) is not None
    assert "U+000C" in (control_problem("a\x0cb") or "")


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
                                  "=HYPERLINK(\"http://x\")"])
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert safe_cell(cell) == "'" + cell


def test_ordinary_cells_and_numbers_are_left_alone() -> None:
    assert safe_row({"a": "C-1", "b": -3, "c": 2.5, "d": "", "e": None}) == \
        {"a": "C-1", "b": -3, "c": 2.5, "d": "", "e": None}


def test_paths_built_from_data_stay_inside_their_folder(tmp_path: Path) -> None:
    assert inside(tmp_path, "R-1", "P-1-1-invitation.docx") == tmp_path / "R-1" / \
        "P-1-1-invitation.docx"
    for parts in (("..", "x"), ("../../etc",), ("/etc/passwd",), ("R-1", "..", ".."), ("",),
                  ("a\x00b",)):
        with pytest.raises(BadInputError, match="would leave"):
            inside(tmp_path, *parts)


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "link").symlink_to(tmp_path.parent)
    with pytest.raises(BadInputError):
        inside(tmp_path / "docs", "link", "x")


def test_postcodes_follow_the_mail_outs_rule_at_import_too() -> None:
    from workers.importer.values import parse_postcode
    from workers.mailout import preflight

    assert preflight.is_postcode is is_postcode  # one rule, not two
    assert normalise("br1 2ab") == "BR1 2AB" == parse_postcode(" BR12AB ")
    for bad in ("QQ1 1AA", "BR1 2AC", "XYZ", "BR1 2A"):  # Q first, C in the inward code
        assert not is_postcode(bad)
        with pytest.raises(ValueError, match="not a UK postcode"):
            parse_postcode(bad)


@pytest.mark.parametrize("subject", [
    "Escalation to the group manager: C-1001 (Z.O.)", "Informal alert for review in March",
    "Alert: the IRO manager asks for a response",
])
def test_short_surnames_do_not_refuse_subjects_that_contain_their_letters(subject: str) -> None:
    refuse_names_in_subject("email_escalation.txt", subject, ["Ma", "Al", "Zo"])


@pytest.mark.parametrize("subject", ["Review for Ma: C-1", "al's review", "Re: C-1 (Zoë O'Neil)"])
def test_a_name_as_a_whole_word_in_a_subject_is_refused(subject: str) -> None:
    with pytest.raises(TemplateError, match="carries a person's name"):
        refuse_names_in_subject("email_escalation.txt", subject, ["Ma", "Al", "O'Neil"])


# ---- through the `iro` command --------------------------------------------------------------

def _sandbox(tmp_path: Path) -> tuple[Path, Path]:
    """A folder to run in, inside one that must stay empty apart from it."""
    outer = tmp_path / "outer"
    work = outer / "work"
    work.mkdir(parents=True)
    return outer, work


def _nothing_outside(outer: Path) -> None:
    assert sorted(p.name for p in outer.iterdir()) == ["work"]


def _env(work: Path) -> dict[str, str]:
    return {"IRO_CONFIG_DIR": str(ROOT / "config"),
            "IRO_DATABASE_URL": f"sqlite:///{work / 'iro.sqlite3'}"}


def _csv_with(column: str, value: str, row: int = 0) -> bytes:
    with EXAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    names = list(rows[0])
    rows[row][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


IMPORT_CORPUS = [
    ("child_ref", "../../x", "starts with '.'"),
    ("child_ref", "-rf", "starts with '-'"),
    ("review_ref", "R-1/mailout/P-1", "character other than"),
    ("participant_ref", "P?1#2", "character other than"),
    ("review_ref", ".R", "starts with '.'"),
    ("child_ref", "C" * 41, "longer than 40"),
    ("name", "Ann\x0cSmith", "U+000C"),
    ("name", "Bell\x07", "U+0007"),
    ("child_family_name", "O\x00Neil", "U+0000"),
    ("venue", "Room\x0b3", "U+000B"),
    ("organisation", "\x1b[2Jx", "U+001B"),
    ("relationship", "x\ufffe", "U+FFFE"),
    ("postcode", "BR1 2AC", "not a UK postcode"),
    ("review_date", "9999-12-31", "out of range"),
    ("looked_after_since", "0001-01-01", "out of range"),
    ("review_number", "99999999999999999999", "from 1 to 999"),
    ("review_number", "\u0665", "from 1 to 999"),
]


@pytest.mark.parametrize(("column", "value", "said"), IMPORT_CORPUS)
def test_import_refuses_hostile_values_by_line_and_column(
    tmp_path: Path, column: str, value: str, said: str
) -> None:
    outer, work = _sandbox(tmp_path)
    (work / "reviews.csv").write_bytes(_csv_with(column, value))
    env = _env(work)
    assert run_iro(work, "db", "upgrade", **env).returncode == 0
    result = run_iro(work, "import", "reviews", "reviews.csv", **env)
    assert result.returncode == 2, result.stderr
    assert f"line 2, column {column}: " in result.stderr and said in result.stderr
    assert "nothing was imported" in result.stderr
    assert "unexpected error" not in result.stderr
    if column in {"name", "child_family_name"}:
        assert value not in result.stderr  # personal values are never echoed
    _nothing_outside(outer)


@pytest.mark.parametrize(("option", "text"), [("--concern", "bad\x0bconcern"),
                                              ("--concern", "\x1b]0;pwned\x07")])
def test_escalation_text_with_control_characters_is_refused(
    tmp_path: Path, option: str, text: str
) -> None:
    outer, work = _sandbox(tmp_path)
    (work / "reviews.csv").write_bytes(EXAMPLE.read_bytes())
    env = _env(work)
    assert run_iro(work, "db", "upgrade", **env).returncode == 0
    assert run_iro(work, "import", "reviews", "reviews.csv", **env).returncode == 0
    result = run_iro(work, "escalate", "raise", "C-1001", option, text,
                     "--category", "delay_in_review_decisions", **env)
    assert result.returncode == 2, result.stderr
    assert f"{option} holds the control character" in result.stderr
    _nothing_outside(outer)


def test_resolve_outcome_and_response_with_control_characters_are_refused() -> None:
    import datetime as dt

    from workers.config.rules import load_rules
    from workers.core.workcalendar import WorkingCalendar
    from workers.escalation import machine as m
    from workers.escalation.policy import Policy

    rules = load_rules(ROOT / "config" / "rules.yaml")
    policy = Policy.from_rules(rules.escalation, WorkingCalendar.from_rules(rules.calendar))
    day = dt.date(2026, 12, 3)
    t = m.raise_escalation(policy, iro_email="i@x.gov.uk", category="delay_in_review_decisions",
                           concern="Placement plan", on=day)
    with pytest.raises(BadInputError, match="--text holds the control character U\\+001B"):
        m.respond(policy, t.state, text="ok\x1b", by="m@x.gov.uk", on=day)
    with pytest.raises(BadInputError, match="--outcome holds the control character U\\+0000"):
        m.resolve(policy, t.state, by="i@x.gov.uk", outcome="done\x00", on=day,
                  iro_manager="boss@x.gov.uk")


def test_cells_a_spreadsheet_would_run_are_written_as_text(tmp_path: Path) -> None:
    outer, work = _sandbox(tmp_path)
    text = EXAMPLE.read_text(encoding="utf-8")
    assert "C-1001,Zoë,O'Neil," in text
    (work / "reviews.csv").write_text(text.replace("C-1001,Zoë,O'Neil,",
                                                   "C-1001,=HYPERLINK(1),O'Neil,"),
                                      encoding="utf-8")
    env = _env(work)
    assert run_iro(work, "db", "upgrade", **env).returncode == 0
    assert run_iro(work, "import", "reviews", "reviews.csv", **env).returncode == 0
    result = run_iro(work, "deadlines", "--on", "2026-12-03", "--format", "csv", **env)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    initials = {r["child_ref"]: r["initials"] for r in rows}
    assert initials["C-1001"] == "'=.O."  # the initial "=" would start a formula
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())
    _nothing_outside(outer)


COMMAND_CORPUS = [
    (("calendar", "add", "9999-12-30", "5"), 2, "out of range; give a date from 1900"),
    (("calendar", "add", "2026-01-01", "99999999999999999999"), 2, "N: "),
    (("calendar", "add", "2026-01-01", "\u0663"), 2, "written with 0-9"),
    (("calendar", "between", "0001-01-01", "2026-01-01"), 2, "out of range"),
    (("report", "--from", "2026-04-01", "--to", "2027-03-31", "--format", "csv",
      "-o", "missing/folder/r.csv"), 2, "does not exist; create it first"),
    (("report", "--from", "2026-04-01", "--to", "2027-03-31", "--earlier-years", "10000000"),
     2, "--earlier-years: expected 0 to 50"),
]


@pytest.mark.parametrize(("args", "code", "said"), COMMAND_CORPUS)
def test_out_of_range_values_are_one_line_errors(
    tmp_path: Path, args: tuple[str, ...], code: int, said: str
) -> None:
    outer, work = _sandbox(tmp_path)
    result = run_iro(work, *args, **_env(work))
    assert result.returncode == code, result.stderr
    assert said in result.stderr
    assert "unexpected error" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2  # one message (rich may wrap once)
    assert not (work / "missing").exists()
    _nothing_outside(outer)


# ---- configuration --------------------------------------------------------------------------

def _config(tmp_path: Path) -> Path:
    import shutil

    folder = tmp_path / "outer" / "work" / "config"
    shutil.copytree(ROOT / "config", folder)
    return folder


def test_a_stage_template_that_does_not_exist_is_refused_with_its_line(tmp_path: Path) -> None:
    folder = _config(tmp_path)
    rules = folder / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    line = text[: text.index("template: escalation_informal")].count("\n") + 1
    rules.write_text(text.replace("template: escalation_informal", "template: escalation_informl"),
                     encoding="utf-8")
    result = run_iro(folder.parent, "config", "check", IRO_CONFIG_DIR=str(folder))
    assert result.returncode == 2, result.stderr
    assert f"rules.yaml:{line}:" in result.stderr
    assert "unknown template 'escalation_informl'" in result.stderr
    assert "escalation_informal" in result.stderr  # the list says what was meant


def test_a_yaml_alias_bomb_is_refused_not_expanded(tmp_path: Path) -> None:
    folder = _config(tmp_path)
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        bomb.append(f"{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, "
                    f"*{prev}, *{prev}, *{prev}, *{prev}]")
    rules = folder / "rules.yaml"
    rules.write_text("\n".join(bomb) + "\n" + rules.read_text(encoding="utf-8"),
                     encoding="utf-8")
    result = run_iro(folder.parent, "config", "check", IRO_CONFIG_DIR=str(folder))
    assert result.returncode == 2, result.stderr
    assert "alias bomb" in result.stderr
    assert "unexpected error" not in result.stderr


# ---- templates --------------------------------------------------------------------------------

def _repack(source: Path, target: Path, *, drop: str | None = None,
            add: dict[str, bytes] | None = None,
            edit: dict[str, tuple[bytes, bytes]] | None = None) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w",
                                                          zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename == drop:
                continue
            data = src.read(info)
            if edit and info.filename in edit:
                old, new = edit[info.filename]
                assert old in data
                data = data.replace(old, new, 1)
            out.writestr(info, data)
        for name, data in (add or {}).items():
            out.writestr(name, data)
    return target


def _check(tmp_path: Path, make: str) -> tuple[int, str]:
    outer, work = _sandbox(tmp_path)
    target = work / "invitation.docx"
    source = TEMPLATES / "invitation.docx"
    if make == "docm":
        _repack(source, target, add={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0macro"},
                edit={"[Content_Types].xml": (
                    b"application/vnd.openxmlformats-officedocument.wordprocessingml."
                    b"document.main+xml",
                    b"application/vnd.ms-word.document.macroEnabled.main+xml")})
    elif make == "activex":  # a web browser control where a tick box would be
        target = work / "consultation_parent.docx"
        _repack(TEMPLATES / "consultation_parent.docx", target, edit={
            "word/activeX/activeX1.xml": (b"{8BD21D40-EC42-11CE-9E0D-00AA006002F3}",
                                          b"{8856F961-340A-11D0-A96B-00C04FD705A2}")})
    elif make == "no-document":
        _repack(source, target, drop="word/document.xml")
    elif make == "doctype":
        _repack(source, target, edit={"word/document.xml": (
            b"?>", b"?><!DOCTYPE w [<!ENTITY lol \"lol\">]>")})
    elif make == "bomb":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr("word/document.xml", b"<a/>")
            out.writestr("word/media/big.bin", b"\0" * (80 * 1024 * 1024))
    elif make == "not-zip":
        target.write_bytes(b"MZ this is no zip")
    result = run_iro(work, "templates", "check", str(target))
    _nothing_outside(outer)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize(("make", "said"), [
    ("docm", "macro-enabled document"),
    ("activex", "only text boxes and check boxes"),
    ("no-document", "no word/document.xml"),
    ("doctype", "DOCTYPE declaration is not allowed"),
    ("bomb", "a zip bomb"),
    ("not-zip", "cannot open as a Word document"),
])
def test_templates_check_refuses_hostile_packages(tmp_path: Path, make: str, said: str) -> None:
    code, out = _check(tmp_path, make)
    assert code == 4, out
    assert said in out
    assert "unexpected error" not in out


@pytest.mark.parametrize("subject", ["{{ child['full_name'] }} review",
                                     "{% set n = child.given_name %}{{ n }} review",
                                     "Review {{ recipient.name|upper }}"])
def test_templates_check_refuses_a_name_field_in_an_email_subject(
    tmp_path: Path, subject: str
) -> None:
    outer, work = _sandbox(tmp_path)
    source = (TEMPLATES / "email_invitation.txt").read_text(encoding="utf-8")
    body = source.partition("\n")[2]
    target = work / "email_invitation.txt"
    target.write_text(f"Subject: {subject}\n{body}", encoding="utf-8")
    result = run_iro(work, "templates", "check", str(target))
    assert result.returncode == 4, result.stdout + result.stderr
    assert "puts a name in the subject" in result.stdout + result.stderr
    _nothing_outside(outer)


# ---- paths built from data ------------------------------------------------------------------

def test_a_stored_ref_of_dot_dot_cannot_write_a_preview_outside_its_folder(tmp_path: Path) -> None:
    # A row written before refs were checked (or by another door): the path is checked again.
    from factories import make_case, sqlite_store
    from mailout_support import make_config

    from workers.mailout.service import run_mailout

    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s)
        review.ref = "../../escaped"
        s.commit()
    out = tmp_path / "box" / "preview"
    out.mkdir(parents=True)
    with pytest.raises(BadInputError, match="would leave"):
        run_mailout(sessions, make_config(tmp_path), "../../escaped", dry_run_dir=out)
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "box" / "escaped").exists()
    assert list(out.iterdir()) == []


def test_a_returned_scan_stays_in_the_documents_folder(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from workers.returns.service import keep_file

    docs = tmp_path / "box" / "documents"
    docs.mkdir(parents=True)
    letter = SimpleNamespace(reference_code="ABC-123")
    for child, review in (("../../..", "R-1"), ("C-1", "../../../x"), ("/etc", "R-1")):
        case = SimpleNamespace(ref=review, child=SimpleNamespace(ref=child))
        with pytest.raises(BadInputError, match="would leave"):
            keep_file(docs, letter, case, "form.pdf", b"%PDF")  # type: ignore[arg-type]
    assert sorted(p.name for p in (tmp_path / "box").iterdir()) == ["documents"]
    assert list(docs.iterdir()) == []
    kept = keep_file(docs, letter, SimpleNamespace(ref="R-1", child=SimpleNamespace(ref="C-1")),
                     "../../form.pdf", b"%PDF")  # type: ignore[arg-type]
    assert kept == docs / "C-1" / "R-1" / "returns" / "ABC-123-form.pdf"
