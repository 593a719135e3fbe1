"""The working-day calendar against GOV.UK's published bank holidays and hand-worked examples."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from workers.config.offsets import parse_offset
from workers.core.workcalendar import WorkingCalendar
from workers.errors import ConfigError

D = dt.date.fromisoformat
DATA = Path(__file__).parent / "data" / "govuk_bank_holidays_england_wales.csv"

# A council that closes on the working days between Christmas and New Year (as rules.yaml may say).
CLOSURES = [D("2025-12-29"), D("2025-12-30"), D("2025-12-31"), D("2026-01-02")] + [
    D("2026-12-29"),
    D("2026-12-30"),
    D("2026-12-31"),
]


def _govuk() -> dict[int, set[dt.date]]:
    by_year: dict[int, set[dt.date]] = defaultdict(set)
    with DATA.open(newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        for row in rows:
            d = D(row["date"])
            by_year[d.year].add(d)
    return by_year


GOVUK = _govuk()


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar(closures=CLOSURES)


def test_data_file_covers_2018_to_2027_with_the_one_off_holidays() -> None:
    assert sorted(GOVUK) == list(range(2018, 2028))
    everything = set().union(*GOVUK.values())
    for one_off in ("2020-05-08", "2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08"):
        assert D(one_off) in everything


@pytest.mark.parametrize("year", range(2018, 2028))
def test_bank_holidays_match_govuk(cal: WorkingCalendar, year: int) -> None:
    # GOV.UK lists the weekdays offices close (substitute days instead of weekend holidays), so
    # compare with the weekdays in the year that the calendar does not count as working days
    # for statutory purposes (closures do not apply there).
    start = dt.date(year, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range((dt.date(year + 1, 1, 1) - start).days)]
    not_working = {d for d in days if d.weekday() < 5 and not cal.is_working_day(d, statutory=True)}
    assert not_working == GOVUK[year]


def test_closures_count_only_internally(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(D("2025-12-29"), statutory=True)
    assert not cal.is_working_day(D("2025-12-29"), statutory=False)
    assert not cal.is_working_day(D("2025-12-25"), statutory=True)
    assert not cal.is_working_day(D("2025-12-27"), statutory=True)  # a Saturday


# (start, n, statutory, expected) — each worked out by hand, with the days counted.
ADD_CASES = [
    # Fri 19 Dec 2025: 22,23,24 (3); 25,26 BH; 29,30,31 (6); 1 Jan BH; 2 (7); 5-9 (12);
    # 12-16 (17); 19,20,21 (20). The issue's own example.
    ("2025-12-19", 20, True, "2026-01-21"),
    # internal: 22,23,24 (3); 29-31 closed; 1 BH; 2 closed; 5-9 (8); 12-16 (13); 19-23 (18); 26,27
    ("2025-12-19", 20, False, "2026-01-27"),
    # Mon 15 Dec 2025, 15 days. statutory: 16-19 (4); 22-24 (7); 29-31 (10); 2 Jan (11); 5-8 (15)
    ("2025-12-15", 15, True, "2026-01-08"),
    # internal: 16-19 (4); 22-24 (7); closure; 5-9 Jan (12); 12,13,14 (15)
    ("2025-12-15", 15, False, "2026-01-14"),
    # Fri 18 Dec 2026. statutory: 21-24 (4); 25 BH, 28 BH (Boxing Day substitute); 29-31 (7);
    # 1 Jan BH; 4,5,6 (10)
    ("2026-12-18", 10, True, "2027-01-06"),
    # internal: 21-24 (4); 29-31 closed; 4-8 Jan (9); 11 (10)
    ("2026-12-18", 10, False, "2027-01-11"),
    # backwards from Mon 5 Jan 2026. statutory: 2 Jan (1); 1 BH; 31 (2); 30 (3)
    ("2026-01-05", -3, True, "2025-12-30"),
    # internal: 2 closed, 1 BH, 31-29 closed, 28/27 weekend, 26/25 BH; 24 (1), 23 (2), 22 (3)
    ("2026-01-05", -3, False, "2025-12-22"),
    ("2025-06-06", 1, True, "2025-06-09"),  # Friday → Monday
    ("2025-06-07", 0, True, "2025-06-07"),  # n = 0 is the date itself, even a Saturday
    ("2025-06-07", 1, False, "2025-06-09"),  # Saturday → Monday
    ("2025-06-09", -1, False, "2025-06-06"),  # Monday → Friday
    ("2025-04-17", 1, True, "2025-04-22"),  # Thursday before Easter → Tuesday after
    ("2023-05-05", 1, True, "2023-05-09"),  # over the coronation holiday
    ("2022-06-01", 1, True, "2022-06-06"),  # over the Platinum Jubilee Thursday and Friday
    ("2020-05-07", 1, True, "2020-05-11"),  # over VE day (Friday 8 May 2020)
]


@pytest.mark.parametrize(("start", "n", "statutory", "expected"), ADD_CASES)
def test_add(cal: WorkingCalendar, start: str, n: int, statutory: bool, expected: str) -> None:
    assert cal.add(D(start), n, statutory) == D(expected)


# (a, b, statutory, expected)
BETWEEN_CASES = [
    ("2025-12-19", "2026-01-21", True, 20),
    # internal: 22-24 (3); 5-9 (8); 12-16 (13); 19,20,21 (16)
    ("2025-12-19", "2026-01-21", False, 16),
    # backwards counts b up to but excluding a: 19 Dec (1); 22-24 (4); 29-31 (7); 2 Jan (8);
    # 5-9 (13); 12-16 (18); 19,20 (20)
    ("2026-01-21", "2025-12-19", True, -20),
    ("2025-12-15", "2026-01-14", False, 15),
    ("2025-12-15", "2026-01-14", True, 19),  # 15 to 8 Jan, then 9, 12, 13, 14
    ("2025-06-06", "2025-06-06", True, 0),
    ("2025-06-06", "2025-06-07", True, 0),  # Friday → Saturday: no working day passed
    ("2025-06-06", "2025-06-09", True, 1),
]


@pytest.mark.parametrize(("a", "b", "statutory", "expected"), BETWEEN_CASES)
def test_between(cal: WorkingCalendar, a: str, b: str, statutory: bool, expected: int) -> None:
    assert cal.between(D(a), D(b), statutory) == expected


@pytest.mark.parametrize("statutory", [True, False])
def test_between_inverts_add_over_two_christmases(cal: WorkingCalendar, statutory: bool) -> None:
    start = D("2025-11-20")
    for i in range(0, 420, 3):
        a = start + dt.timedelta(days=i)
        for n in (-23, -6, -1, 0, 1, 2, 7, 21):
            b = cal.add(a, n, statutory)
            assert cal.between(a, b, statutory) == n, (a, n)
            if cal.is_working_day(b, statutory):
                assert cal.add(a, cal.between(a, b, statutory), statutory) == b


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-08-31", 6, "2026-02-28"),  # no 31 February: the month's last day
        ("2023-08-31", 6, "2024-02-29"),  # leap year
        ("2025-01-31", 3, "2025-04-30"),
        ("2025-11-30", 3, "2026-02-28"),
        ("2025-03-15", 6, "2025-09-15"),
        ("2026-02-28", -6, "2025-08-28"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert WorkingCalendar.add_months(D(start), months) == D(expected)


@pytest.mark.parametrize(
    ("offset", "anchor", "statutory", "expected"),
    [
        # back from Wed 14 Jan 2026, internal: 13,12 (2); 9-5 (7); closure + holidays;
        # 24,23,22 (10); 19-15 (15)
        ("15 working days before review", "2026-01-14", False, "2025-12-15"),
        # statutory: 13,12 (2); 9-5 (7); 2 Jan (8); 31-29 (11); 24-22 (14); 19 (15)
        ("15 working days before review", "2026-01-14", True, "2025-12-19"),
        ("10 days after held", "2025-12-25", False, "2026-01-04"),
        ("2 weeks before review", "2026-01-01", False, "2025-12-18"),
        ("6 months after previous_review", "2025-08-31", True, "2026-02-28"),
        ("1 working day after due", "2025-12-24", False, "2026-01-05"),
    ],
)
def test_apply(
    cal: WorkingCalendar, offset: str, anchor: str, statutory: bool, expected: str
) -> None:
    assert cal.apply(parse_offset(offset), D(anchor), statutory) == D(expected)


def test_unknown_subdivision_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="subdivision 'XXX'"):
        WorkingCalendar("GB", "XXX")


# --- the `iro calendar` command, run as people run it -----------------------------------------

RULES_YAML = """\
calendar:
  closures:
    - {start: 2025-12-29, end: 2026-01-02, reason: Christmas closure 2025}
escalation:
  stages:
    - {key: informal, title: Informal, recipients: [team_manager], template: escalation_informal}
  categories:
    - {key: other, title: Other}
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "rules.yaml").write_text(RULES_YAML, encoding="utf-8")
    return tmp_path


def iro(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["add", "2025-12-19", "20", "--statutory"], "2026-01-21"),  # the example
        (["add", "2025-12-15", "15"], "2026-01-14"),  # internal: the closure counts
        (["add", "2025-12-15", "15", "--statutory"], "2026-01-08"),
        (["add", "2026-01-05", "-3"], "2025-12-22"),  # negative N counts back
        (["add", "2026-01-05", "-3", "--statutory"], "2025-12-30"),
        (["between", "2025-12-19", "2026-01-21", "--statutory"], "20"),
        (["between", "2025-12-19", "2026-01-21"], "16"),
        (["between", "2026-01-21", "2025-12-19", "--statutory"], "-20"),
    ],
)
def test_cli_prints_the_answer(rules_dir: Path, args: list[str], expected: str) -> None:
    done = iro(rules_dir, "calendar", *args)
    assert (done.returncode, done.stdout.strip()) == (0, expected), done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "2025-13-01", "3"], "DATE: expected a date like 2025-12-19, got '2025-13-01'"),
        (["add", "2025-12-01", "three"], "N: expected a whole number"),
        (["between", "2025-12-01", "1/1/2026"], "B: expected a date"),
    ],
)
def test_cli_bad_input_exits_2_naming_the_argument(
    rules_dir: Path, args: list[str], message: str
) -> None:
    done = iro(rules_dir, "calendar", *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_from_the_shipped_rules_closures_count_only_internally() -> None:
    from workers.config.rules import load_rules

    rules = load_rules(Path(__file__).resolve().parent.parent / "config" / "rules.yaml")
    cal = WorkingCalendar.from_rules(rules.calendar)
    closed = rules.calendar.closure_days()
    assert closed, "the shipped rules should show a Christmas closure"
    for d in closed:
        assert not cal.is_working_day(d)
        if d.weekday() < 5 and not cal.is_bank_holiday(d):
            assert cal.is_working_day(d, statutory=True)


@pytest.mark.parametrize("statutory", [True, False])
def test_between_agrees_with_counting_day_by_day_over_long_spans(
    cal: WorkingCalendar, statutory: bool
) -> None:
    # between counts weekdays by arithmetic; check it against the plainest count there is
    start = D("2025-10-01")
    for i in range(0, 200, 7):
        a = start + dt.timedelta(days=i)
        for span in (1, 6, 30, 95, 183, 400):
            b = a + dt.timedelta(days=span)
            days = [a + dt.timedelta(days=k) for k in range(1, span + 1)]
            expected = sum(cal.is_working_day(d, statutory) for d in days)
            assert cal.between(a, b, statutory) == expected, (a, b)
            assert cal.between(b, a, statutory) == -sum(
                cal.is_working_day(d - dt.timedelta(days=1), statutory) for d in days
            ), (b, a)
