"""The report's figures against a year whose figures are known by construction, table by table,
on SQLite and PostgreSQL; and a small hand-counted case for the looked-after population sweep."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_child, make_review, postgres_store, sqlite_store
from sqlalchemy.orm import Session, sessionmaker

from benchmarks.synthetic_year import Spec, load
from workers.report import queries
from workers.report.annual import build_report
from workers.report.figures import AnnualReport, Period

YEAR = Period(dt.date(2025, 4, 1), dt.date(2026, 3, 31))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> sessionmaker[Session]:
    if request.param == "sqlite":
        return sqlite_store(tmp_path)
    return postgres_store(request.getfixturevalue("pg_database"))


@pytest.fixture
def year(store: sessionmaker[Session]) -> tuple[AnnualReport, AnnualReport]:
    with store() as session:
        data = load(session, Spec(start=YEAR.start, children=300, reviews=850, iros=5))
        session.commit()
    expected = data.expected()
    with store() as session:
        return build_report(session, YEAR), expected


def test_population(year: tuple[AnnualReport, AnnualReport]) -> None:
    got, want = year
    assert got.population == want.population
    assert want.population.fewest < want.population.most  # the data does move


def test_reviews_held_in_timescale_and_per_iro_month(
    year: tuple[AnnualReport, AnnualReport],
) -> None:
    got, want = year
    assert got.reviews == want.reviews
    assert got.reviews.held == 850
    assert len(got.reviews.iros) == 5 and len(got.reviews.months) == 12


def test_write_up(year: tuple[AnnualReport, AnnualReport]) -> None:
    got, want = year
    assert got.write_up == want.write_up
    assert got.write_up.reviews == 850  # the decisions deadlines and last year's are not counted


def test_participation(year: tuple[AnnualReport, AnnualReport]) -> None:
    got, want = year
    assert got.participation == want.participation
    # 850 reviews cycle PN0..PN7, PN1, none: 85 of each slot
    assert got.participation.by_code == {
        "PN0": 85, "PN1": 170, "PN2": 85, "PN3": 85, "PN4": 85, "PN5": 85, "PN6": 85,
        "PN7": 85, "not recorded": 85,
    }
    assert got.participation.over_four == 680 and got.participation.took_part == 595


def test_consultation_and_questionnaire_returns(year: tuple[AnnualReport, AnnualReport]) -> None:
    got, want = year
    assert got.consultation == want.consultation
    assert got.questionnaires == want.questionnaires
    assert {r.role for r in got.consultation} == {
        "child", "parent", "carer", "social_worker", "guardian",
    }


def test_escalations_beside_earlier_years(year: tuple[AnnualReport, AnnualReport]) -> None:
    got, want = year
    assert got.escalations == want.escalations
    assert [e.period.label for e in got.escalations] == ["2025/26", "2024/25", "2023/24"]
    this_year = got.escalations[0]
    # children 0, 8, …, 296: 38 children; 0 and 64, 128, 192, 256 open
    assert this_year.children == 38 and this_year.open == 5


def test_population_sweep_by_hand(store: sessionmaker[Session]) -> None:
    """Four children, counted day by day by hand over a ten-day period."""
    period = Period(dt.date(2025, 6, 1), dt.date(2025, 6, 10))
    d = dt.date
    with store() as session:
        make_child(session, looked_after_since=d(2024, 1, 1))  # in care throughout
        make_child(session, looked_after_since=d(2024, 1, 1), ceased_on=d(2025, 6, 3))
        make_child(session, looked_after_since=d(2025, 6, 3))  # in on the day the other leaves
        make_child(session, looked_after_since=d(2025, 6, 5), ceased_on=d(2025, 6, 8))
        make_child(session, looked_after_since=d(2025, 6, 6))
        make_child(session, looked_after_since=d(2025, 7, 1))  # after the period
        make_child(session, looked_after_since=d(2023, 1, 1), ceased_on=d(2025, 5, 31))
        make_child(session, looked_after_since=d(2025, 6, 4), ceased_on=d(2025, 6, 4))  # same day
        session.commit()
        # day:   1 2 3 4 5 6 7 8 9 10
        # count: 2 2 2 2 3 4 4 3 3 3
        got = queries.population(session, period)
    assert (got.at_start, got.fewest, got.most, got.at_end) == (2, 2, 4, 3)
    assert (got.admissions, got.leavers) == (4, 3)


def test_empty_store_reports_zeros(store: sessionmaker[Session]) -> None:
    with store() as session:
        report = build_report(session, YEAR)
    assert report.population.most == 0 and report.reviews.held == 0
    assert report.reviews.in_timescale_pct is None and report.write_up.average_working_days is None
    assert report.escalations[0].children == 0 and len(report.escalations) == 1


def test_reviews_outside_the_period_are_not_counted(store: sessionmaker[Session]) -> None:
    with store() as session:
        make_review(session, held_on=dt.date(2025, 3, 31), in_timescale=True)
        make_review(session, held_on=dt.date(2025, 4, 1), in_timescale=False)
        make_review(session, held_on=dt.date(2026, 3, 31), in_timescale=True)
        make_review(session, held_on=dt.date(2026, 4, 1), in_timescale=True)
        make_review(session)  # planned, not held
        session.commit()
        got = queries.reviews(session, YEAR)
    assert (got.held, got.timescale_known, got.in_timescale) == (2, 2, 1)
    assert got.in_timescale_pct == 50.0
