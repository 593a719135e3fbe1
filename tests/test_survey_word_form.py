"""The questionnaire as a Word form (issue 20 §1): `iro survey form -o FILE.docx` writes one with
a check-box content control over each ☐ (w14:checkbox, tagged by question), built from the
survey's questions; ticked as Word ticks (w14:checked = 1, the ☒ glyph) and keyed with `iro survey
key --file`, its answers are stored apart from anyone and Appendix A counts them. Two ticks in
one question, or a Word file that is not one of ours, are refused with nothing stored.

Counted by hand: the shipped carer questions Q1-Q6 (survey.yaml); ticked Q1 "Usually" (its second
box) and Q5 "Fair" (its third): Appendix A's carer table then counts Q1 Usually 1, Q5 Fair 1 and
Q1 Always 0; no invitation is marked as returned (a form handed out marks no one).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from clock_env import as_of
from factories import sqlite_store, sqlite_url
from lxml import etree
from sqlalchemy import func, select
from survey_support import ALLOWED, CAFCASS, CAL, SECRET, SURVEY, D
from test_survey_post import BSO, seed

from workers.core.clock import LONDON
from workers.store.models import SurveyInvitation, SurveyResponse
from workers.survey.counts import survey_results
from workers.survey.report import appendix_tables
from workers.survey.start import StartRequest, financial_year, start
from workers.survey.word_form import W14

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W, "w14": W14}


def tick(form: bytes, *tags: str) -> bytes:
    """As Word does when a box is clicked: w14:checked to 1 and the glyph to ☒."""
    package = zipfile.ZipFile(io.BytesIO(form))
    body = etree.fromstring(package.read("word/document.xml"))
    for tag in tags:
        [sdt] = body.xpath(f"//w:sdt[w:sdtPr/w:tag/@w:val='{tag}']", namespaces=NS)
        sdt.find("w:sdtPr/w14:checkbox/w14:checked", NS).set(f"{{{W14}}}val", "1")
        sdt.find("w:sdtContent//w:t", NS).text = "\u2612"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in package.infolist():
            data = package.read(item.filename)
            copy.writestr(item, etree.tostring(body, xml_declaration=True, encoding="UTF-8",
                                               standalone=True)
                          if item.filename == "word/document.xml" else data)
    return out.getvalue()


@pytest.fixture
def run(tmp_path: Path, config_copy: Path):  # type: ignore[no-untyped-def]
    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions() as s:
        start(s, SURVEY, CAL, StartRequest("2026-27", ("carer",), D("2027-01-29"),
                                           financial_year("2026-27")),
              allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
              now=dt.datetime(2026, 12, 7, 9, tzinfo=LONDON), actor=BSO)
        s.commit()

    def iro(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(Path(sys.executable).with_name("iro")), "--config", str(config_copy), *args],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "IRO_DATABASE_URL": sqlite_url(tmp_path),
                 "IRO_SURVEY_LINK_SECRET": SECRET, "IRO_RUNTIME_DIR": str(tmp_path / "run"),
                 **as_of(D("2027-01-11"))})

    return sessions, iro


def test_word_form_ticked_and_read_back(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sessions, iro = run
    blank = tmp_path / "carer.docx"
    made = iro("survey", "form", "2026-27", "--role", "carer", "-o", str(blank))
    assert made.returncode == 0, made.stderr
    assert "a Word form" in made.stdout
    form = blank.read_bytes()
    body = etree.fromstring(zipfile.ZipFile(io.BytesIO(form)).read("word/document.xml"))
    tags = body.xpath("//w:sdt[w:sdtPr/w14:checkbox]/w:sdtPr/w:tag/@w:val", namespaces=NS)
    asked = SURVEY.questions("carer")
    assert tags == [f"{q.key}/{n}" for q in asked for n in range(len(SURVEY.scale_of(q)))]
    assert sorted({t.split("/")[0] for t in tags}) == [f"Q{n}" for n in range(1, 7)]
    cells = ["".join(p.itertext()) for p in body.xpath("//w:tc/w:p", namespaces=NS)]
    assert cells[:2] == ["\u2610\u00a0Always", "\u2610\u00a0Usually"]  # the box, its answer
    assert "Return code" not in "".join(body.itertext())  # handed out: it marks no one

    back = tmp_path / "returned.docx"
    back.write_bytes(tick(form, "Q1/1", "Q5/2"))
    keyed = iro("survey", "key", "2026-27", "--file", str(back), "--by", BSO)
    assert keyed.returncode == 0, keyed.stderr
    assert "carer answers recorded (2 given)" in keyed.stdout
    with sessions() as s:
        assert s.scalars(select(SurveyResponse.answers)).one() == {"Q1": "Usually", "Q5": "Fair"}
        assert s.scalars(select(SurveyInvitation.returned_on)).all() == [None, None]
        results = survey_results(s, D("2026-04-01"), D("2027-03-31"))
    assert results is not None
    table = next(t for t in appendix_tables(results) if t.key == "survey_carer")
    counts = {row[0]: row[1] for row in table.rows}
    assert (counts["Q1 Usually"], counts["Q5 Fair"], counts["Q1 Always"]) == (1, 1, 0)

    untouched = iro("survey", "key", "2026-27", "--file", str(blank))
    assert untouched.returncode == 2 and "nothing is ticked on it" in untouched.stderr


def test_two_ticks_or_a_stranger_refused_with_nothing_stored(  # type: ignore[no-untyped-def]
        run, tmp_path: Path) -> None:
    sessions, iro = run
    blank = tmp_path / "carer.docx"
    assert iro("survey", "form", "2026-27", "--role", "carer", "-o", str(blank)).returncode == 0
    twice = tmp_path / "twice.docx"
    twice.write_bytes(tick(blank.read_bytes(), "Q1/0", "Q2/1", "Q2/3"))
    refused = iro("survey", "key", "2026-27", "--file", str(twice))
    assert refused.returncode == 2, refused.stderr
    assert "question 2 (Q2" in refused.stderr and "2 boxes ticked" in refused.stderr
    stranger = tmp_path / "letter.docx"
    document = docx.Document()
    document.add_paragraph("\u2612 Always")
    document.save(str(stranger))
    unknown = iro("survey", "key", "2026-27", "--file", str(stranger))
    assert unknown.returncode == 2 and "not one of the service's Word questionnaires" in (
        unknown.stderr)
    wrong = iro("survey", "form", "2026-27", "--role", "carer", "-o", str(tmp_path / "x.odt"))
    assert wrong.returncode == 2 and "name it .pdf" in wrong.stderr
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0
