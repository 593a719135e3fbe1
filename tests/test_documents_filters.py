"""UK dates, times and names as letters print them."""

from __future__ import annotations

import datetime as dt

import pytest

from workers.documents import filters


@pytest.mark.parametrize(("value", "expected"), [
    (dt.date(2026, 3, 15), "15 March 2026"),
    (dt.datetime(2026, 3, 5, 10, 30), "5 March 2026"),
    ("2026-01-01", "1 January 2026"),
    (None, ""),
    ("", ""),
])
def test_uk_date(value: object, expected: str) -> None:
    assert filters.uk_date(value) == expected


def test_uk_day_date() -> None:
    assert filters.uk_day_date(dt.date(2026, 3, 16)) == "Monday 16 March 2026"


def test_stored_utc_times_are_said_in_london_time() -> None:
    # meetings are stored in UTC: a 10am meeting in June is 09:00Z, and 00:30 BST the day before
    assert filters.uk_time(dt.datetime(2027, 6, 10, 9, 0, tzinfo=dt.UTC)) == "10am"
    assert filters.uk_day_date(dt.datetime(2027, 6, 10, 23, 30, tzinfo=dt.UTC)) == (
        "Friday 11 June 2027"
    )
    assert filters.uk_date("2027-06-10T23:30:00+00:00") == "11 June 2027"
    assert filters.uk_time(dt.datetime(2027, 1, 10, 9, 0, tzinfo=dt.UTC)) == "9am"  # GMT


@pytest.mark.parametrize(("value", "expected"), [
    (dt.time(10, 30), "10:30am"),
    (dt.time(14, 0), "2pm"),
    (dt.time(12, 0), "12 noon"),
    (dt.time(0, 0), "midnight"),
    (dt.time(0, 15), "12:15am"),
    (dt.datetime(2026, 3, 5, 9, 5), "9:05am"),
    (None, ""),
])
def test_uk_time(value: object, expected: str) -> None:
    assert filters.uk_time(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("Zoë Łukasz-Smith", "Z.Ł."),
    ("Sam", "S."),
    ("sam de la cruz", "S.C."),
    ("", ""),
])
def test_initials(value: str, expected: str) -> None:
    assert filters.initials(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("JANE O'NEIL-SMITH", "Jane O'Neil-Smith"),
    ("zoë łukasz", "Zoë Łukasz"),
    ("McDonald", "McDonald"),
    ("van der Berg", "van der Berg"),
    ("SMITH AND SONS", "Smith and Sons"),
])
def test_title_case_safe(value: str, expected: str) -> None:
    assert filters.title_case_safe(value) == expected


def test_given_name_and_join_lines() -> None:
    assert filters.given_name("Zoë Anne Łukasz") == "Zoë"
    assert filters.join_lines(["Civic Centre", "", "EX1 3UH"]) == "Civic Centre, EX1 3UH"
    assert filters.join_lines("a\nb") == "a, b"


def test_wrong_type_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="uk_date expects a date"):
        filters.uk_date(42)


@pytest.mark.parametrize(("venue", "role", "expected"), [
    ("Room 2, Civic Centre", "parent", "in Room 2, Civic Centre"),
    ("Meeting Room 3, Bromley Civic Centre", "social_worker",
     "in Meeting Room 3, Bromley Civic Centre"),
    ("Bromley Civic Centre, Meeting Room 3", "parent", "at Bromley Civic Centre, Meeting Room 3"),
    ("Homerton Library", "carer", "at Homerton Library"),
    ("", "parent", "venue to be confirmed"),
    (None, "child", "venue to be confirmed"),
    ("Carer's home", "carer", "at your home"),
    ("Foster home", "child", "at your home"),
    ("foster carers home", "parent", "at the carer's home"),
    ("Placement", "social_worker", "at the carer's home"),
])
def test_venue_for_each_reader(venue: object, role: str, expected: str) -> None:
    from workers.documents.filters import venue_for

    assert venue_for(venue, role) == expected


def test_nobreak_keeps_a_form_code_whole_and_the_matcher_still_reads_it() -> None:
    from workers.documents.filters import nobreak
    from workers.mailout.codes import find_codes

    printed = nobreak("C-7K3F Q9XM")
    assert printed == "C\u20117K3F\u00a0Q9XM" and nobreak(None) == ""
    assert find_codes(f"Reference: {nobreak('C-7K3FQ9XM')}") == ["C-7K3FQ9XM"]
