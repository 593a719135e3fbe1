"""Parsing one CSV field: dates, times, emails, postcodes, yes/no. Pure; raise ValueError(reason).

Reasons never contain the value of a personal column: ``rows`` decides whether to echo it.
"""

from __future__ import annotations

import datetime as dt
import re

from workers.inputs import postcodes

# Deliberately plain: one @, no spaces, a dotted domain. Deliverability is the mail server's call.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_TRUE = frozenset({"yes", "y", "true", "1"})
_FALSE = frozenset({"no", "n", "false", "0", ""})


def parse_date(text: str) -> dt.date:
    """ISO ``2026-12-03`` or UK ``03/12/2026`` (day first, as UK exports write it)."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
            day = dt.date.fromisoformat(value)
        elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", value, re.ASCII):
            day = dt.datetime.strptime(value, "%d/%m/%Y").date()
        else:
            raise ValueError("expected a date as YYYY-MM-DD or DD/MM/YYYY") from None
    except ValueError as exc:
        raise ValueError(str(exc) if "expected" in str(exc) else "not a real date") from None
    # Deadlines add months and working days to it: keep far from Python's year 1 and 9999.
    if not 1900 <= day.year <= 2199:
        raise ValueError("is out of range: give a date from 1900 to 2199")
    return day


def parse_time(text: str) -> dt.time:
    """24-hour ``HH:MM``."""
    value = text.strip()
    if not re.fullmatch(r"\d{1,2}:\d{2}", value):
        raise ValueError("expected a 24-hour time as HH:MM")
    hours, minutes = (int(part) for part in value.split(":"))
    if hours > 23 or minutes > 59:
        raise ValueError("not a real time of day")
    return dt.time(hours, minutes)


def parse_email(text: str) -> str:
    value = text.strip()
    if not _EMAIL.match(value) or ".." in value:
        raise ValueError("not a valid email address")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def parse_postcode(text: str) -> str:
    """A UK postcode, normalised to upper case with one space: ``br1 1aa`` → ``BR1 1AA``."""
    return postcodes.normalise(text)  # the mail-out's own rule, so import never lets one past


def parse_yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("expected yes or no")


def parse_positive_int(text: str) -> int:
    value = text.strip()
    # ASCII digits only (isdigit() also takes "٣"), and no bigger than a review count can be
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value[:6]) <= 999 \
            or len(value) > 3:
        raise ValueError("expected a whole number from 1 to 999")
    return int(value)


def parse_address(text: str) -> str:
    """Address lines separated by `` | `` or newlines, stored one line per line."""
    lines = [line.strip() for part in text.splitlines() for line in part.split("|")]
    return "\n".join(line for line in lines if line)
