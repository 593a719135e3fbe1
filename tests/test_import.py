"""`iro import reviews`: the example imports on SQLite and PostgreSQL, twice without change; every
kind of bad file names its line and column, and leaves the store exactly as it was."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from factories import postgres_store, postgres_url, sqlite_store, sqlite_url
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from workers.cli.main import main
from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.workcalendar import WorkingCalendar
from workers.errors import ImportRowError
from workers.importer.format import COLUMNS
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.importer.upsert import ImportSummary, upsert_plan
from workers.store.models import AuditEvent, Child, Participant, Review
from workers.store.session import upgrade

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "reviews.csv"
CONFIG = ROOT / "config"
Row = dict[str, str]


@pytest.fixture(scope="module")
def context() -> ImportContext:
    rules = load_rules(CONFIG / "rules.yaml")
    directory = load_directory(CONFIG / "directory.yaml")
    return ImportContext(
        roles=frozenset(rules.roles),
        teams=frozenset(t.key for t in directory.teams),
        iro_emails=frozenset(p.email for p in directory.iros),
        timescales=rules.review_timescales,
        calendar=WorkingCalendar.from_rules(rules.calendar),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    if request.param == "sqlite":
        sessions = sqlite_store(tmp_path)
    else:
        sessions = postgres_store(request.getfixturevalue("pg_database"))
    yield sessions
    sessions.kw["bind"].dispose()


def example_rows() -> list[Row]:
    with EXAMPLE.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def to_csv(rows: list[Row], columns: list[str] | None = None, newline: str = "\n") -> bytes:
    out = io.StringIO()
    names = columns or [c.name for c in COLUMNS]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator=newline, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def run_import(
    sessions: sessionmaker[Session], data: bytes, context: ImportContext
) -> ImportSummary:
    plan = parse_reviews_csv(data, "reviews.csv", context)
    with sessions.begin() as session:
        return upsert_plan(session, plan)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, object]:
    """Everything an import may touch: row counts and every updated_at."""
    with sessions() as s:
        return {
            "counts": [
                s.scalar(select(func.count()).select_from(m))
                for m in (Child, Review, Participant, AuditEvent)
            ],
            "stamps": sorted(
                str(x)
                for m in (Child, Review, Participant)
                for x in s.scalars(select(m.updated_at))
            ),
        }


def test_example_imports_and_reimport_changes_nothing(
    store: sessionmaker[Session], context: ImportContext
) -> None:
    data = EXAMPLE.read_bytes()
    first = run_import(store, data, context)
    assert (first.children.created, first.reviews.created, first.participants.created) == (8, 8, 39)
    before = snapshot(store)
    second = run_import(store, data, context)
    assert not second.changed
    assert (second.children.unchanged, second.reviews.unchanged) == (8, 8)
    assert second.participants.unchanged == 39
    assert snapshot(store) == before

    with store() as s:
        zoe = s.scalars(select(Child).where(Child.ref == "C-1001")).one()
        assert (zoe.given_name, zoe.family_name) == ("Zoë", "O'Neil")
        review = zoe.reviews[0]
        assert review.scheduled_at == dt.datetime(2027, 1, 7, 10, 0, tzinfo=dt.UTC)
        assert review.due_on == dt.date(2027, 1, 9)  # 6 months after 9 July 2026 (reg 33)
        carer = next(p for p in review.participants if p.role == "carer")
        assert carer.organisation == "Smith & Sons Fostering"
        assert carer.address == "14 Acacia Avenue\nBromley\nKent"  # quoted multi-line field
        mother = next(p for p in review.participants if p.ref == "P-5002")
        assert mother.address == "Flat 3, Elm Court\n27 High Street\nPenge\nLondon"
        assert (mother.postcode, mother.channel, mother.email) == ("SE20 7QZ", "post", None)
        # first review: 20 statutory working days after 16 Nov 2026
        first_review = s.scalars(select(Review).where(Review.ref == "R-1004-1")).one()
        assert first_review.due_on == dt.date(2026, 12, 14)
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 1
        event = s.scalars(select(AuditEvent)).one()
        assert event.action == "import.reviews"
        assert event.details["participants"] == {"created": 39, "updated": 0, "unchanged": 0}


def test_the_example_covers_every_role_and_age_band(context: ImportContext) -> None:
    plan = parse_reviews_csv(EXAMPLE.read_bytes(), "reviews.csv", context)
    assert {p.role for p in plan.participants} == set(context.roles)
    rules = load_rules(CONFIG / "rules.yaml")
    bands = set()
    for review in plan.reviews.values():
        child = plan.children[review.child_ref]
        on = review.scheduled_at.date()
        age = (
            on.year
            - child.date_of_birth.year
            - ((on.month, on.day) < (child.date_of_birth.month, child.date_of_birth.day))
        )
        band = rules.age_band_for(age)
        bands.add(band.key if band else "under 4")
    assert bands == {"under 4", "4-7", "8-11", "12-15", "16+"}


def test_a_changed_value_updates_only_that_record(
    store: sessionmaker[Session], context: ImportContext
) -> None:
    rows = example_rows()
    run_import(store, to_csv(rows), context)
    rows[1]["postcode"] = "SE20 7QA"
    summary = run_import(store, to_csv(rows), context)
    assert (summary.participants.updated, summary.participants.unchanged) == (1, 38)
    assert (summary.children.updated, summary.reviews.updated) == (0, 0)


def test_bom_and_windows_line_endings_import(
    store: sessionmaker[Session], context: ImportContext
) -> None:
    data = b"\xef\xbb\xbf" + to_csv(example_rows(), newline="\r\n")
    summary = run_import(store, data, context)
    assert summary.participants.created == 39


def _set(index: int, **changes: str) -> Callable[[list[Row]], None]:
    def mutate(rows: list[Row]) -> None:
        rows[index].update(changes)

    return mutate


def _set_child(ref: str, **changes: str) -> Callable[[list[Row]], None]:
    def mutate(rows: list[Row]) -> None:
        for row in rows:
            if row["child_ref"] == ref:
                row.update(changes)

    return mutate


# line 2 is the first data row (P-5001, C-1001); line 3 the second (P-5002).
BROKEN = {
    "impossible date": (
        _set(0, review_date="2027-02-30"),
        "line 2, column review_date: not a real date",
    ),
    "date in a strange format": (
        _set(0, looked_after_since="4th March 2024"),
        "line 2, column looked_after_since: expected a date as YYYY-MM-DD",
    ),
    "unknown role": (
        _set(1, role="grandparent"),
        "line 3, column role: unknown role 'grandparent'",
    ),
    "invalid email": (
        _set(1, channel="email", email="mary.o'neil@@example"),
        "line 3, column email: not a valid email address",
    ),
    "email channel without email": (
        _set(1, channel="email"),
        "line 3, column email: is empty, but channel is email",
    ),
    "postal with no address": (
        _set(1, address=""),
        "line 3, column address: is empty, but channel is post",
    ),
    "postal with no postcode": (
        _set(1, postcode=""),
        "line 3, column postcode: is empty, but channel is post",
    ),
    "bad postcode": (_set(1, postcode="SE20"), "line 3, column postcode: not a UK postcode"),
    "child with no IRO": (
        _set_child("C-1001", iro_email=""),
        "line 2, column iro_email: is empty: every child needs an IRO",
    ),
    "IRO not in the directory": (
        _set_child("C-1001", iro_email="someone@council.example.gov.uk"),
        "line 2, column iro_email: someone@council.example.gov.uk is not an IRO",
    ),
    "review before looked after": (
        _set_child("C-1001", looked_after_since="2027-01-08", previous_review_date=""),
        "line 2, column review_date: is before the child became looked after",
    ),
    "conflicting child details": (
        _set(1, child_dob="2018-05-15"),
        "line 3, column child_dob: differs from line 2 for child C-1001",
    ),
    "conflicting review details": (
        _set(1, review_time="11:00"),
        "line 3, column review_date: differs from line 2 for review",
    ),
    "unknown team": (
        _set_child("C-1001", team="west_lac"),
        "line 2, column team: unknown team 'west_lac'",
    ),
    "unknown channel": (
        _set(0, channel="fax"),
        "line 2, column channel: expected one of email, post",
    ),
    "later review without previous date": (
        _set_child("C-1001", previous_review_date=""),
        "line 2, column previous_review_date: is empty: review 2 and later count",
    ),
    "bad time": (_set(0, review_time="25:00"), "line 2, column review_time: not a real time"),
    "duplicate participant": (
        _set(1, participant_ref="P-5001"),
        "line 3, column participant_ref: P-5001 appears twice",
    ),
    "missing name": (_set(0, name=""), "line 2, column name: is empty"),
    "ref too long": (
        _set(0, participant_ref="P" * 41),
        "line 2, column participant_ref: is longer than 40 characters",
    ),
}


@pytest.mark.parametrize("mutate,expected", BROKEN.values(), ids=list(BROKEN))
def test_a_broken_row_names_line_and_column_and_writes_nothing(
    store: sessionmaker[Session],
    context: ImportContext,
    mutate: Callable[[list[Row]], None],
    expected: str,
) -> None:
    run_import(store, EXAMPLE.read_bytes(), context)
    before = snapshot(store)
    rows = example_rows()
    for row in rows:  # every other row changes, so a partial import would show
        row["venue"] = "Somewhere else"
    mutate(rows)
    with pytest.raises(ImportRowError) as info:
        run_import(store, to_csv(rows), context)
    message = str(info.value)
    assert message.startswith("reviews.csv: ") and "nothing was imported" in message
    assert expected in message
    assert snapshot(store) == before


FILE_LEVEL = {
    "empty file": (b"", "line 1: the file is empty"),
    "only blank lines": (b"\n\r\n  \n", "line 1: the file is empty"),
    "header only": (to_csv([]), "line 2: no participant rows after the header"),
    "missing column": (
        to_csv(example_rows(), [c.name for c in COLUMNS if c.name != "role"]),
        "line 1, column role: missing from the header",
    ),
    "unknown column": (
        to_csv(example_rows()).replace(b"channel\n", b"chanel\n", 1),
        "line 1, column chanel: unknown column",
    ),
    "ragged row": (
        to_csv(example_rows()[:2]) + b"C-1001,Zo\xc3\xab\n",
        "line 4: 2 fields, but the header has 25",
    ),
    "not UTF-8": (
        to_csv(example_rows()[:2]).replace("Zoë".encode(), "Zoë".encode("latin-1")),
        "line 2: not UTF-8: save it as CSV UTF-8 from Excel",
    ),
}


@pytest.mark.parametrize("data,expected", FILE_LEVEL.values(), ids=list(FILE_LEVEL))
def test_a_broken_file_is_named_and_writes_nothing(
    store: sessionmaker[Session], context: ImportContext, data: bytes, expected: str
) -> None:
    before = snapshot(store)
    with pytest.raises(ImportRowError, match="^reviews.csv: ") as info:
        run_import(store, data, context)
    assert expected in str(info.value)
    assert snapshot(store) == before


def test_line_numbers_count_multi_line_fields_and_crlf(context: ImportContext) -> None:
    rows = example_rows()
    rows[3]["role"] = "uncle"  # 4th record starts on line 7: record 3 spans lines 4-6
    for newline in ("\n", "\r\n"):
        with pytest.raises(ImportRowError) as info:
            parse_reviews_csv(to_csv(rows, newline=newline), "reviews.csv", context)
        assert "line 7, column role: unknown role 'uncle'" in str(info.value)


def test_errors_never_echo_personal_values(context: ImportContext) -> None:
    rows = example_rows()
    rows[0]["child_dob"] = "Zoë's birthday"
    rows[1].update(channel="email", email="mary-at-home")
    with pytest.raises(ImportRowError) as info:
        parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    message = str(info.value)
    assert "column child_dob" in message and "column email" in message
    assert "Zoë" not in message and "mary-at-home" not in message


def test_every_error_is_reported_at_once(context: ImportContext) -> None:
    rows = example_rows()
    rows[0]["role"] = "uncle"
    rows[-1]["review_date"] = "soon"
    with pytest.raises(ImportRowError) as info:
        parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    assert "2 errors" in str(info.value)
    assert "line 2, column role" in str(info.value) and "column review_date" in str(info.value)


def test_store_level_conflicts_roll_back_everything(
    store: sessionmaker[Session], context: ImportContext
) -> None:
    run_import(store, EXAMPLE.read_bytes(), context)
    with store.begin() as s:
        s.scalars(select(Review).where(Review.ref == "R-1008-3")).one().status = "held"
    before = snapshot(store)
    rows = example_rows()
    for row in rows:
        row["venue"] = "Moved"  # changes every review, including the held one
    with pytest.raises(
        ImportRowError, match="R-1008-3 is already held; the import would change venue"
    ):
        run_import(store, to_csv(rows), context)
    assert snapshot(store) == before
    # a review ref that belongs to another child in the store
    rows = [row for row in example_rows() if row["child_ref"] == "C-1002"]
    for row in rows:
        row["review_ref"] = "R-1001-5"
    with pytest.raises(ImportRowError, match="R-1001-5 belongs to another child"):
        run_import(store, to_csv(rows), context)
    assert snapshot(store) == before


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return postgres_url(request.getfixturevalue("pg_database"))


def test_cli_imports_then_rejects_a_bad_file_with_exit_2(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("IRO_DATABASE_URL", store_url)
    args = ["--config", str(CONFIG), "import", "reviews"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, str(EXAMPLE)])
    assert exit_info.value.code == 2
    assert "run `iro db upgrade` first" in capsys.readouterr().err
    upgrade(store_url)
    main([*args, str(EXAMPLE)])
    out = capsys.readouterr().out
    assert "children" in out and "39 rows" in out
    bad = tmp_path / "bad.csv"
    rows = example_rows()
    rows[2]["role"] = "aunt"
    bad.write_bytes(to_csv(rows))
    with pytest.raises(SystemExit) as exit_info:
        main([*args, str(bad)])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "line 4, column role: unknown role 'aunt'" in err
    main([*args, "--dry-run", str(EXAMPLE)])
    assert "39 rows OK" in capsys.readouterr().out
