"""`iro report` through the real console script on a synthetic year in SQLite: every format, the
docx opened with python-docx and rendered by LibreOffice, and bad input named."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from factories import sqlite_store, sqlite_url

from benchmarks.synthetic_year import Spec, load
from workers.report.figures import AnnualReport
from workers.report.table import Table
from workers.report.tables import report_tables, show

ROOT = Path(__file__).resolve().parent.parent
YEAR = ("--from", "2025-04-01", "--to", "2026-03-31")


@pytest.fixture(scope="module")
def year(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, AnnualReport]:
    tmp = tmp_path_factory.mktemp("report")
    sessions = sqlite_store(tmp)
    with sessions() as session:
        data = load(session, Spec(children=120, reviews=400, iros=4))
        session.commit()
    return tmp, sqlite_url(tmp), data.expected()


def expected_tables(report: AnnualReport) -> list[Table]:
    """The tables the CLI must show: the known figures, with the shipped code meanings."""
    from workers.config.rules import load_rules

    codes = load_rules(ROOT / "config" / "rules.yaml").participation_codes
    return report_tables(report, dict(codes))


def iro(setup: tuple[Path, str, AnnualReport], *args: str) -> subprocess.CompletedProcess[str]:
    _tmp, url, _expected = setup
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(ROOT / "config"), "report", *args],
        capture_output=True, text=True, env={**os.environ, "IRO_DATABASE_URL": url},
        timeout=120, cwd=ROOT,
    )


def test_table_shows_every_section(year: tuple[Path, str, AnnualReport]) -> None:
    done = iro(year, *YEAR)
    assert done.returncode == 0, done.stderr
    for title in ("Looked after children", "Reviews held", "Reviews per month",
                  "Reviews per IRO", "Review records written up",
                  "Participation of children over 4", "Participation by code",
                  "Consultation returns by role", "Children whose cases IROs escalated"):
        assert title in done.stdout
    assert "Synthetic" not in done.stdout  # counts, never names


def test_csv_holds_the_known_figures(year: tuple[Path, str, AnnualReport]) -> None:
    done = iro(year, *YEAR, "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    got = {(r["table"], r["row"], r["column"]): r["value"] for r in rows}
    want = year[2]
    assert got[("population", "Most on any day", "Children")] == str(want.population.most)
    assert got[("reviews", "Reviews held", "Figure")] == "400"
    assert got[("reviews", "% within statutory timescales", "Figure")] == str(
        want.reviews.in_timescale_pct)
    carer = next(r for r in want.consultation if r.role == "carer")
    assert got[("consultation", "carer", "Returned")] == str(carer.returned)
    assert got[("escalations", "Children where issues were escalated", "2025/26")] == str(
        want.escalations[0].children)


def test_json_tables_match_the_expected_tables(year: tuple[Path, str, AnnualReport]) -> None:
    done = iro(year, *YEAR, "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["period"] == {"start": "2025-04-01", "end": "2026-03-31", "label": "2025/26"}
    got = {t["key"]: [tuple(r) for r in t["rows"]] for t in doc["tables"]}
    for table in expected_tables(year[2]):
        assert got[table.key] == list(table.rows), table.key
    assert doc["figures"]["reviews"]["held"] == 400


def test_docx_tables_and_charts(year: tuple[Path, str, AnnualReport]) -> None:
    from docx import Document

    out = year[0] / "report.docx"
    done = iro(year, *YEAR, "--format", "docx", "-o", str(out))
    assert done.returncode == 0, done.stderr
    doc = Document(str(out))
    texts = [p.text for p in doc.paragraphs]
    assert "Independent Reviewing Officer service: figures for 2025/26" in texts
    assert not any("{{" in t or "{%" in t for t in texts)
    expected = expected_tables(year[2])
    assert len(doc.tables) == len(expected)
    for table in expected:
        word = next(t for t in doc.tables
                    if [r.cells[0].text for r in t.rows[1:]] == [str(r[0]) for r in table.rows]
                    and tuple(c.text for c in t.rows[0].cells) == table.headers)
        cells = [tuple(c.text for c in row.cells) for row in word.rows[1:]]
        assert cells == [tuple(show(c) for c in row) for row in table.rows], table.key
    assert len(doc.inline_shapes) == 2  # reviews per IRO per month, escalations by stage


@pytest.mark.libreoffice
def test_docx_renders_to_pdf(year: tuple[Path, str, AnnualReport], soffice: str) -> None:
    from pypdf import PdfReader

    out = year[0] / "render" / "report.docx"
    out.parent.mkdir()  # -o into a missing folder is refused (tests/test_hostile_inputs.py)
    done = iro(year, *YEAR, "--format", "docx", "-o", str(out))
    assert done.returncode == 0, done.stderr
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{year[0] / 'lo-profile'}",
         "--convert-to", "pdf", "--outdir", str(out.parent), str(out)],
        check=True, capture_output=True, timeout=180,
    )
    text = "".join(page.extract_text() for page in PdfReader(str(out.with_suffix(".pdf"))).pages)
    assert "Consultation returns by role" in text and "2025/26" in text
    assert "{{" not in text
    # the 15-column year by IRO keeps its headers' words whole ("Avera / ge a / mont / h" was)
    assert re.search(r"Average a\s+month", text), text


@pytest.mark.parametrize(("args", "message"), [
    (("--from", "2025-13-01", "--to", "2026-03-31"), "--from"),
    (("--from", "2025-04-01", "--to", "2025-03-31"), "before --from"),
    ((*YEAR, "--format", "pdf"), "--format"),
    ((*YEAR, "--format", "docx"), "-o FILE"),
])
def test_bad_input_is_named(
    year: tuple[Path, str, AnnualReport], args: tuple[str, ...], message: str
) -> None:
    done = iro(year, *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_docx_of_an_empty_year_has_tables_and_no_empty_charts(tmp_path: Path) -> None:
    from docx import Document

    sqlite_store(tmp_path)
    out = tmp_path / "empty.docx"
    done = iro((tmp_path, sqlite_url(tmp_path), None), *YEAR,  # type: ignore[arg-type]
               "--format", "docx", "-o", str(out))
    assert done.returncode == 0, done.stderr
    doc = Document(str(out))
    first = doc.tables[0]
    assert [r.cells[1].text for r in first.rows[1:]] == ["0"] * 6
    assert len(doc.inline_shapes) == 0
