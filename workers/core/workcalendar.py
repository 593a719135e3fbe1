"""Working days: England and Wales bank holidays, local closures, statutory vs internal counting.

Pure: no I/O. Bank holidays come from the ``holidays`` package (``country_holidays("GB",
subdiv="ENG")``), which matches GOV.UK's published list (https://www.gov.uk/bank-holidays),
substitute days and one-off holidays included; the tests check it year by year.

Two kinds of counting:

* **statutory** — the Care Planning, Placement and Case Review (England) Regulations 2010, reg 33,
  counts a "working day" as any day other than a Saturday, Sunday, Christmas Day, Good Friday or a
  bank holiday (reg 2(1)). A council's own closure days never extend a statutory timescale.
* **internal** — the council's own deadlines (letters, reminders, write-ups) also skip the local
  closure days configured in rules.yaml (typically between Christmas and New Year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

import holidays
from dateutil.relativedelta import relativedelta

from workers.errors import ConfigError

if TYPE_CHECKING:
    from workers.config.offsets import Offset

_ONE_DAY = dt.timedelta(days=1)


class CalendarRulesLike(Protocol):
    """What ``from_rules`` needs of ``workers.config.rules.CalendarRules``."""

    @property
    def country(self) -> str: ...

    @property
    def subdivision(self) -> str: ...

    def closure_days(self) -> frozenset[dt.date]: ...


class WorkingCalendar:
    """Counts working days forwards and backwards, statutory or internal."""

    def __init__(
        self,
        country: str = "GB",
        subdivision: str = "ENG",
        closures: Iterable[dt.date] = (),
    ) -> None:
        try:
            self._holidays = holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as exc:
            raise ConfigError(
                f"calendar: no bank holiday calendar for country {country!r} "
                f"subdivision {subdivision!r}; use e.g. country 'GB', subdivision 'ENG'"
            ) from exc
        self.country = country
        self.subdivision = subdivision
        self.closures: frozenset[dt.date] = frozenset(closures)
        self._off_cache: dict[tuple[int, bool], frozenset[dt.date]] = {}

    @classmethod
    def from_rules(cls, calendar_rules: CalendarRulesLike) -> WorkingCalendar:
        return cls(
            calendar_rules.country,
            calendar_rules.subdivision,
            calendar_rules.closure_days(),
        )

    def is_bank_holiday(self, d: dt.date) -> bool:
        return d in self._holidays

    def is_working_day(self, d: dt.date, statutory: bool = False) -> bool:
        """Monday to Friday, not a bank holiday and, unless ``statutory``, not a closure day."""
        if d.weekday() >= 5 or d in self._holidays:
            return False
        return statutory or d not in self.closures

    def add(self, d: dt.date, n: int, statutory: bool = False) -> dt.date:
        """The date ``n`` working days after ``d`` (``n`` < 0: before; ``n`` == 0: ``d`` itself).

        ``d`` itself is never counted, so 1 working day after a Friday is the Monday.
        """
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            d += step
            if self.is_working_day(d, statutory):
                remaining -= 1
        return d

    def between(self, a: dt.date, b: dt.date, statutory: bool = False) -> int:
        """Working days after ``a`` up to and including ``b``; negative when ``b`` is before ``a``.

        The inverse of ``add``: ``add(a, between(a, b)) == b`` whenever ``b`` is a working day.
        For ``b`` < ``a`` the days counted are ``b`` up to but excluding ``a``.
        """
        if b == a:
            return 0
        if b > a:
            return self._count(a + _ONE_DAY, b, statutory)
        return -self._count(b, a - _ONE_DAY, statutory)

    def _count(self, first: dt.date, last: dt.date, statutory: bool) -> int:
        """Working days in ``first``..``last`` inclusive: weekdays by arithmetic, less the weekday
        holidays (and closures) inside, so a six-month span costs no more than a week."""
        if last < first:
            return 0
        weeks, rest = divmod((last - first).days + 1, 7)
        start = first.weekday()
        weekdays = weeks * 5 + sum(1 for i in range(rest) if (start + i) % 7 < 5)
        days_off = sum(
            1
            for year in range(first.year, last.year + 1)
            for d in self._weekdays_off(year, statutory)
            if first <= d <= last
        )
        return weekdays - days_off

    def _weekdays_off(self, year: int, statutory: bool) -> frozenset[dt.date]:
        key = (year, statutory)
        if key not in self._off_cache:
            # asking about one date fills in that whole year (holidays' ``expand=True``)
            _ = dt.date(year, 1, 1) in self._holidays
            off = {d for d in self._holidays if d.year == year and d.weekday() < 5}
            if not statutory:
                off |= {d for d in self.closures if d.year == year and d.weekday() < 5}
            self._off_cache[key] = frozenset(off)
        return self._off_cache[key]

    @staticmethod
    def add_months(d: dt.date, n: int) -> dt.date:
        """Calendar months as reg 33 means "not more than six months": the same day of the month,
        or the month's last day when it has no such day (31 August + 6 months = 28/29 February)."""
        return d + relativedelta(months=n)

    def apply(self, offset: Offset, anchor_date: dt.date, statutory: bool = False) -> dt.date:
        """The date ``offset`` (``15 working days before review``) gives from ``anchor_date``."""
        n = offset.signed
        if offset.unit == "working_days":
            return self.add(anchor_date, n, statutory)
        if offset.unit == "days":
            return anchor_date + dt.timedelta(days=n)
        if offset.unit == "weeks":
            return anchor_date + dt.timedelta(weeks=n)
        return self.add_months(anchor_date, n)
