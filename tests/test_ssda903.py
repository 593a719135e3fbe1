"""`iro import 903` and `iro export 903-reviews` through the real console script, on a made-up
extract of a few hundred children in the return's exact format (short breaks, leavers, a child
who came back into care, one looked after since before the extract), on SQLite and PostgreSQL:
deadlines against hand-worked reg 33 dates, rule errors by file and line with nothing written,
the XML giving what the CSV gives, and the export read back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from factories import postgres_url, sqlite_url
from sqlalchemy import func, select, update
from test_config_cli import run_iro  # the console script, with no IRO_* from this shell

from workers.store.models import CarePeriod, Child, Review
from workers.store.session import open_store

ROOT = Path(__file__).resolve().parent.parent
ON = "2026-10-01"
HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = ("CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
            "PL_POST,URN")
REVIEWS = "CHILD,DOB,REVIEW,REVIEW_CODE"

# (CHILD, DOB, [(DECOM, RNE, LS, DEC, REC)], [(REVIEW, REVIEW_CODE)])
HAND_WORKED = [
    # since Mon 4 Mar 2024; 1st review due 20 working days on (Good Friday and Easter Monday
    # skipped) = 3 Apr 2024, held 1 Apr; 2nd within 3 months = 1 Jul 2024, held then; 3rd
    # within 6 months of it. A placement move (RNE P) does not start a new period.
    ("A1", "14/05/2018", [("04/03/2024", "S", "C2", "", ""), ("10/02/2025", "P", "C2", "", "")],
     [("01/04/2024", "PN1"), ("01/07/2024", "PN2"), ("09/07/2026", "PN1")]),
    # since Tue 1 Sep 2026, 1st review 25 Sep; next within 3 months: 25 Dec 2026
    ("B2", "01/02/2024", [("01/09/2026", "S", "C2", "", "")], [("25/09/2026", "PN0")]),
    # short breaks only (V3, V4): not tracked
    ("S3", "01/01/2015", [("01/05/2026", "S", "V3", "03/05/2026", "E41"),
                          ("01/06/2026", "S", "V4", "02/06/2026", "E41")], []),
    # left care 10 Jun 2026 (DEC): closed
    ("L4", "01/01/2012", [("01/01/2025", "S", "C2", "10/06/2026", "E4A")],
     [("20/01/2025", "PN3")]),
    # no review yet, since Mon 7 Sep 2026: 1st due 20 working days on = 5 Oct 2026
    ("N5", "03/03/2019", [("07/09/2026", "S", "E1", "", "")], []),
    # back in care on Thu 1 Oct 2026 after leaving in March 2025: reg 33 starts again, 1st due
    # 29 Oct 2026 (not 3 months after the review of the earlier period)
    ("R6", "05/05/2010", [("01/01/2025", "S", "C2", "01/03/2025", "E13"),
                          ("01/10/2026", "S", "C2", "", "")], [("20/01/2025", "PN4")]),
    # looked after since before the extract (first episode is a placement move): the review
    # seen is at least the 2nd, so the next is 6-monthly: 10 Nov 2026
    ("U7", "06/06/2011", [("15/04/2026", "P", "C2", "", "")], [("10/05/2026", "PN5")]),
    # the same, with its review seen before its first episode in the extract: 6 months on
    ("U8", "06/06/2011", [("15/04/2026", "P", "C2", "", "")], [("10/03/2026", "PN5")]),
]
EXPECTED_DUE = {"A1": "2027-01-09", "B2": "2026-12-25", "N5": "2026-10-05",
                "R6": "2026-10-29", "U7": "2026-11-10", "U8": "2026-09-10"}
FILLERS = 300


def _filler(n: int) -> tuple[str, str, list[tuple[str, ...]], list[tuple[str, str]]]:
    """A child looked after since a Monday in 2025 with one or two reviews, or short breaks."""
    month = 1 + n % 9
    child = f"F{n:04d}"
    if n % 10 == 0:
        return child, "02/02/2012", [(f"05/{month:02d}/2025", "S", "V3", f"06/{month:02d}/2025",
                                      "E41")], []
    reviews = [(f"20/{month + 1:02d}/2025", f"PN{1 + n % 7}")]
    if n % 3:
        reviews.append((f"10/{month + 3:02d}/2025", "PN7"))
    return child, "02/02/2012", [(f"05/{month:02d}/2025", "S", "C2", "", "")], reviews


def extract(extra: list[tuple[str, str, list[tuple[str, ...]], list[tuple[str, str]]]]
            | None = None) -> dict[str, str]:
    children = HAND_WORKED + [_filler(n) for n in range(FILLERS)] + (extra or [])
    header = [HEADER] + [f"{c},1,{dob},WBRI,,," for c, dob, _, _ in children]
    episodes = [EPISODES] + [f"{c},{d},{rne},{ls},N1,U1,PR1,{dec},{rec},,BR1,BR2,SC012345"
                             for c, _, eps, _ in children for d, rne, ls, dec, rec in eps]
    reviews = [REVIEWS] + [f"{c},{dob},{day},{code}" for c, dob, _, rs in children
                           for day, code in rs]
    return {"header.csv": "\r\n".join(header) + "\r\n",
            "episodes.csv": "\r\n".join(episodes) + "\r\n",
            "reviews.csv": "\r\n".join(reviews) + "\r\n"}


def _xml(children: list[tuple[str, str, list[tuple[str, ...]], list[tuple[str, str]]]]) -> str:
    def iso(day: str) -> str:  # xs:date, as the XML writes it
        return "-".join(reversed(day.split("/"))) if day else ""

    parts = ["<?xml version='1.0' encoding='utf-8'?>", "<EXPSSDA903>"]
    for child, dob, eps, reviews in children:
        parts.append(f"<CHILD><HEADER><CHILD>{child}</CHILD><SEX>1</SEX><DOB>{dob}</DOB>"
                     "<ETHNIC>WBRI</ETHNIC></HEADER><EPISODES>")
        for d, rne, ls, dec, rec in eps:
            parts.append(f"<EPISODE><DECOM>{iso(d)}</DECOM><RNE>{rne}</RNE><LS>{ls}</LS>"
                         f"<DEC>{iso(dec)}</DEC><REC>{rec}</REC></EPISODE>")
        parts.append("</EPISODES><REVIEWS>")
        for day, code in reviews:
            parts.append(f"<AREVIEW><REVIEW>{day}</REVIEW><REVIEW_CODE>{code}</REVIEW_CODE>"
                         "</AREVIEW>")
        parts.append("</REVIEWS></CHILD>")
    parts.append("</EXPSSDA903>")
    return "\n".join(parts)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return postgres_url(request.getfixturevalue("pg_database"))


def _iro(tmp_path: Path, url: str, *args: str) -> tuple[int, str, str]:
    result = run_iro(tmp_path, *args, IRO_DATABASE_URL=url,
                     IRO_CONFIG_DIR=str(ROOT / "config"))
    return result.returncode, result.stdout, result.stderr


def _write(folder: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_bytes(text.encode(encoding))
    return folder


def _due(tmp_path: Path, url: str) -> dict[str, str]:
    code, out, err = _iro(tmp_path, url, "deadlines", "--on", ON, "--format", "json")
    assert code == 0, err
    return {i["child_ref"]: i["due_on"] for i in json.loads(out)["items"]
            if i["kind"] == "review_due"}


def test_import_gives_reg_33_dates_worked_by_hand(tmp_path: Path, url: str) -> None:
    folder = _write(tmp_path / "903", extract())
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    code, out, err = _iro(tmp_path, url, "import", "903", str(folder))
    assert code == 0, err
    tracked = 6 + FILLERS - FILLERS // 10  # A1 B2 N5 R6 U7 U8, the fillers without short breaks
    assert "children with short breaks only, not tracked: 31" in " ".join(out.split())
    due = _due(tmp_path, url)
    assert {k: due[k] for k in EXPECTED_DUE} == EXPECTED_DUE
    assert "S3" not in due and "L4" not in due  # short breaks only; left care
    assert len(due) == tracked

    sessions = open_store(url)
    try:
        with sessions() as s:
            l4 = s.scalars(select(Child).where(Child.ref == "L4")).one()
            assert str(l4.ceased_on) == "2026-06-10"
            a1 = {r.held_on.isoformat(): r for r in s.scalars(
                select(Review).join(Child).where(Child.ref == "A1"))}
            assert [(r.sequence, str(r.due_on), r.in_timescale, r.participation)
                    for _, r in sorted(a1.items())] == [
                (1, "2024-04-03", True, "PN1"), (2, "2024-07-01", True, "PN2"),
                (3, "2025-01-01", False, "PN1")]
            periods = s.scalars(select(CarePeriod).join(Child).where(Child.ref == "R6")
                                .order_by(CarePeriod.started_on)).all()
            assert [(str(p.started_on), str(p.ended_on)) for p in periods] == [
                ("2025-01-01", "2025-03-01"), ("2026-10-01", "None")]
            before = s.scalar(select(func.max(Child.updated_at)))
    finally:
        sessions.kw["bind"].dispose()

    # the same files again change nothing
    code, out, err = _iro(tmp_path, url, "import", "903", *(str(p) for p in folder.iterdir()))
    assert code == 0, err
    assert f"│ children        │     0 │       0 │ {tracked + 1:>9} │" in out  # L4 is kept
    sessions = open_store(url)
    try:
        with sessions() as s:
            assert s.scalar(select(func.max(Child.updated_at))) == before
    finally:
        sessions.kw["bind"].dispose()


def test_rules_are_reported_by_file_line_and_rule_and_nothing_is_written(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    files = extract()
    bad = [
        "A1,14/05/2018,31/02/2026,PN1",   # 166
        "A1,14/05/2018,01/03/2026,PN9",   # 167
        "A1,14/05/2018,01/06/2026,PN0",   # 440: PN0 after the 4th birthday
        "B2,01/02/2024,01/10/2026,PN2",   # 441: PN2 before it
        "ZZ9,01/02/2024,01/10/2026,PN0",  # INT08: not in Header
        "A1,15/05/2018,01/08/2026,PN1",   # INT17: DOB differs
    ]
    first = files["reviews.csv"].count("\r\n") + 1
    files["reviews.csv"] += "\r\n".join(bad) + "\r\n"
    folder = _write(tmp_path / "903", files)
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    code, _, err = _iro(tmp_path, url, "import", "903", str(folder))
    assert code == 2, err
    for offset, rule in enumerate(("166", "167", "440", "441", "INT08", "INT17")):
        assert f"reviews.csv: line {first + offset}: rule {rule}: " in err, rule
    assert "6 errors; nothing was imported" in err
    sessions = open_store(url)
    try:
        with sessions() as s:
            assert s.scalar(select(func.count(Child.id))) == 0
    finally:
        sessions.kw["bind"].dispose()


@pytest.mark.parametrize(("damage", "said"), [
    ("no-header-row", "header.csv: line 1: the header is not a 903 table"),
    ("no-header-table", "no Header table among the files"),
    ("utf16", "UTF-16"),
    ("cp1252", "not UTF-8 (Windows-1252?); re-save as CSV UTF-8"),
    ("bad-decom", "episodes.csv: line 2, column DECOM: expected a date as dd/mm/yyyy"),
    ("bad-child", "column CHILD: has a character other than"),
])
def test_broken_extracts_are_refused_with_what_to_do(tmp_path: Path, damage: str,
                                                       said: str) -> None:
    url = sqlite_url(tmp_path)
    files = extract()
    encoding = "utf-8"
    if damage == "no-header-row":
        files["header.csv"] = files["header.csv"].split("\r\n", 1)[1]
    elif damage == "no-header-table":
        del files["header.csv"]
    elif damage == "utf16":
        encoding = "utf-16"
    elif damage == "cp1252":
        files["header.csv"] = files["header.csv"].replace("WBRI", "WBRÉ", 1)
        encoding = "cp1252"
    elif damage == "bad-decom":
        files["episodes.csv"] = files["episodes.csv"].replace("04/03/2024", "2024-03-04", 1)
    elif damage == "bad-child":
        files = {k: v.replace("\r\nA1,", "\r\nA#1,") for k, v in files.items()}
    folder = _write(tmp_path / "903", files, encoding)
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    code, _, err = _iro(tmp_path, url, "import", "903", str(folder))
    assert code == 2, err
    assert said in " ".join(err.split()), err
    assert "unexpected error" not in err


def test_a_bom_is_fine(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    folder = _write(tmp_path / "903", extract(), "utf-8-sig")
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    code, _, err = _iro(tmp_path, url, "import", "903", str(folder))
    assert code == 0, err


def test_the_xml_gives_what_the_csv_gives(tmp_path: Path) -> None:
    children = HAND_WORKED + [_filler(n) for n in range(FILLERS)]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    csv_url, xml_url = sqlite_url(tmp_path / "a"), sqlite_url(tmp_path / "b")
    xml = tmp_path / "903.xml"
    xml.write_text(_xml(children), encoding="utf-8")
    folder = _write(tmp_path / "903", extract())
    for url, source in ((csv_url, folder), (xml_url, xml)):
        assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
        code, _, err = _iro(tmp_path, url, "import", "903", str(source))
        assert code == 0, err
    assert _due(tmp_path, xml_url) == _due(tmp_path, csv_url)


def test_xml_rules_name_the_line_of_the_review(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    xml = tmp_path / "903.xml"
    xml.write_text(_xml([("A1", "14/05/2018", [("04/03/2024", "S", "C2", "", "")],
                          [("01/04/2024", "PN0")])]), encoding="utf-8")
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    code, _, err = _iro(tmp_path, url, "import", "903", str(xml))
    assert code == 2, err
    line = xml.read_text().splitlines().index(
        next(x for x in xml.read_text().splitlines() if "<AREVIEW>" in x)) + 1
    assert f"903.xml: line {line}: rule 440: " in err


def test_export_writes_the_reviews_table_and_reads_back(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    folder = _write(tmp_path / "903", extract())
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    assert _iro(tmp_path, url, "import", "903", str(folder))[0] == 0
    out = tmp_path / "reviews-2025-26.csv"
    code, _, err = _iro(tmp_path, url, "export", "903-reviews", "--year", "2025-26", "-o",
                        str(out))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"]
    source = list(csv.reader(io.StringIO(extract()["reviews.csv"])))[1:]
    wanted = sorted(r for r in source
                    if "2025-04-01" <= "-".join(reversed(r[2].split("/"))) <= "2026-03-31")
    assert sorted(rows[1:]) == wanted and wanted
    # read back: the exported table imports cleanly beside the Header and Episodes tables
    again = _write(tmp_path / "again", {k: v for k, v in extract().items() if k != "reviews.csv"})
    (again / "reviews.csv").write_bytes(out.read_bytes())
    (tmp_path / "c").mkdir()
    code, _, err = _iro(tmp_path, sqlite_url(tmp_path / "c"), "import", "903", "--dry-run",
                        str(again))
    assert code == 0, err


def test_export_refuses_a_year_that_breaks_a_rule_and_writes_nothing(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    folder = _write(tmp_path / "903", extract())
    assert _iro(tmp_path, url, "db", "upgrade")[0] == 0
    assert _iro(tmp_path, url, "import", "903", str(folder))[0] == 0
    sessions = open_store(url)
    try:
        with sessions.begin() as s:  # an IRO recorded PN0 for a 14-year-old
            child = s.scalars(select(Child).where(Child.ref == "U7")).one()
            s.execute(update(Review).where(Review.child_id == child.id)
                      .values(participation="PN0"))
    finally:
        sessions.kw["bind"].dispose()
    out = tmp_path / "reviews.csv"
    code, _, err = _iro(tmp_path, url, "export", "903-reviews", "--year", "2026-27", "-o",
                        str(out))
    assert code == 2, err
    assert "rule 440" in err and "U7" in err and "nothing was written" in err
    assert not out.exists()
    for args, said in ((("--year", "2026-28"), "collection year like 2026-27"),
                       (("--year", "2026-27", "-o", str(tmp_path / "no" / "r.csv")),
                        "does not exist")):
        full = args if "-o" in args else (*args, "-o", str(out))
        code, _, err = _iro(tmp_path, url, "export", "903-reviews", *full)
        assert code == 2 and said in err, err
