"""Checks across fields of rules.yaml that a field type cannot express.

Each check returns ``(location, reason)`` pairs; the loader turns the location into a file line.
Pure: no I/O. Comparing two offsets is only possible when they count from the same event in the
same unit; otherwise the calendar decides at planning time and nothing is claimed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from workers.config.offsets import Offset

if TYPE_CHECKING:
    from workers.config.rules import Deadline, Rules

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]


class Resolver(Protocol):
    """What the recipients check needs of ``workers.config.directory.Directory``."""

    def resolvable_keys(self) -> frozenset[str]: ...


def _earlier(a: Offset, b: Offset) -> bool | None:
    """Whether ``a`` falls strictly before ``b``; None when only a calendar could tell."""
    if a.anchor != b.anchor or a.unit != b.unit:
        return None
    return a.signed < b.signed


def _zero(offset: Offset, meaning: str) -> str:
    return f"'{offset}' {meaning}: zero makes no sense here; give 1 or more"


def check_rules(rules: Rules) -> list[Finding]:
    return [
        *_calendar(rules),
        *_timescales(rules),
        *_mailout(rules),
        *_write_up(rules),
        *_escalation(rules),
        *_consultation(rules),
        *_duplicates(("roles",), rules.roles),
    ]


def check_recipients(rules: Rules, directory: Resolver) -> list[Finding]:
    """Escalation recipients and the overdue-notice recipient must resolve in directory.yaml."""
    known = directory.resolvable_keys()
    hint = f"expected a key directory.yaml can resolve: {', '.join(sorted(known))}"
    found: list[Finding] = []
    for i, stage in enumerate(rules.escalation.stages):
        for j, key in enumerate(stage.recipients):
            if key not in known:
                found.append(
                    (
                        ("escalation", "stages", i, "recipients", j),
                        f"unknown recipient {key!r}; {hint}",
                    )
                )
    if rules.write_up.overdue_notice_to not in known:
        found.append(
            (
                ("write_up", "overdue_notice_to"),
                f"unknown recipient {rules.write_up.overdue_notice_to!r}; {hint}",
            )
        )
    return found


def _calendar(rules: Rules) -> Iterator[Finding]:
    import holidays

    supported = holidays.list_supported_countries()
    cal = rules.calendar
    if cal.country not in supported:
        yield (
            ("calendar", "country"),
            f"no bank holiday calendar for {cal.country!r}; England uses 'GB'",
        )
    elif cal.subdivision not in supported[cal.country]:
        yield (
            ("calendar", "subdivision"),
            f"unknown subdivision {cal.subdivision!r} of {cal.country}; "
            f"expected one of {', '.join(supported[cal.country])}",
        )
    for i, closure in enumerate(cal.closures):
        if closure.end < closure.start:
            yield (
                ("calendar", "closures", i, "end"),
                f"ends {closure.end} before it starts {closure.start}",
            )


def _timescales(rules: Rules) -> Iterator[Finding]:
    expected = {
        "first": "looked_after",
        "second": "previous_review",
        "subsequent": "previous_review",
    }
    for name, anchor in expected.items():
        offset: Offset = getattr(rules.review_timescales, name)
        if offset.anchor != anchor or offset.direction != "after":
            yield ("review_timescales", name), f"must count after {anchor}, got '{offset}'"
        elif not offset.amount:
            why = _zero(offset, "makes a review due the day it counts from")
            yield ("review_timescales", name), why


def _mailout(rules: Rules) -> Iterator[Finding]:
    m = rules.mailout
    for name in ("invitations", "consultation_forms", "return_by"):
        offset: Offset = getattr(m, name)
        if not offset.amount:
            yield ("mailout", name), _zero(offset, "puts it on the day of the review")
        elif offset.direction != "before":
            yield ("mailout", name), f"must fall before the review, got '{offset}'"
    if _earlier(m.consultation_forms, m.return_by) is False:
        yield (
            ("mailout", "return_by"),
            (f"'{m.return_by}' is not after the forms go out ('{m.consultation_forms}')"),
        )
    for i, reminder in enumerate(m.reminders):
        if _earlier(reminder.at, m.return_by) is False:
            yield (
                ("mailout", "reminders", i, "at"),
                (
                    f"'{reminder.at}' must fall before the return-by date it reminds about "
                    f"('{m.return_by}')"
                ),
            )
        if _earlier(m.consultation_forms, reminder.at) is False:
            yield (
                ("mailout", "reminders", i, "at"),
                (f"'{reminder.at}' must fall after the forms go out ('{m.consultation_forms}')"),
            )
        yield from _roles(rules, ("mailout", "reminders", i, "to"), reminder.to)


def _write_up(rules: Rules) -> Iterator[Finding]:
    for name in ("decisions", "record"):
        deadline: Deadline = getattr(rules.write_up, name)
        base: Loc = ("write_up", name)
        if deadline.due.anchor != "held" or deadline.due.direction != "after":
            yield (*base, "due"), f"must count after held, got '{deadline.due}'"
            continue
        if not deadline.due.amount:
            yield (*base, "due"), _zero(deadline.due, "makes it due on the meeting day")
        for i, reminder in enumerate(deadline.reminders):
            if reminder.anchor == "due":
                ok = reminder.direction == "before" and reminder.amount > 0
            else:
                ok = _earlier(reminder, deadline.due) is not False
            if not ok:
                yield (
                    (*base, "reminders", i),
                    (
                        f"'{reminder}' must fall before the deadline it reminds about "
                        f"('{deadline.due}')"
                    ),
                )
    if not rules.write_up.overdue_notice_to.strip():
        yield ("write_up", "overdue_notice_to"), "must name who is told when a deadline passes"


def _escalation(rules: Rules) -> Iterator[Finding]:
    esc = rules.escalation
    yield from _duplicates(("escalation", "stages"), (s.key for s in esc.stages), "key")
    yield from _duplicates(("escalation", "categories"), (c.key for c in esc.categories), "key")
    if esc.total_ceiling.anchor != "raised" or esc.total_ceiling.direction != "after":
        yield ("escalation", "total_ceiling"), f"must count after raised, got '{esc.total_ceiling}'"
    elif not esc.total_ceiling.amount:
        why = _zero(esc.total_ceiling, "makes it due the day it is raised")
        yield ("escalation", "total_ceiling"), why
    for i, stage in enumerate(esc.stages):
        due = stage.response_due
        if due is not None and (due.direction != "after" or due.anchor != "stage_start"):
            yield (
                ("escalation", "stages", i, "response_due"),
                f"must count after stage_start, got '{due}'",
            )
        elif due is not None and not due.amount:
            yield (
                ("escalation", "stages", i, "response_due"),
                _zero(due, "makes a response due the day the stage starts"),
            )
        if not stage.recipients:
            yield ("escalation", "stages", i, "recipients"), "a stage needs at least one recipient"


def _consultation(rules: Rules) -> Iterator[Finding]:
    bands = rules.consultation.age_bands
    yield from _duplicates(("consultation", "age_bands"), (b.key for b in bands), "key")
    for i, band in enumerate(bands):
        if band.max_age is not None and band.max_age < band.min_age:
            yield (
                ("consultation", "age_bands", i, "max_age"),
                (f"max_age {band.max_age} is below min_age {band.min_age}"),
            )
    for i, band in enumerate(bands):
        for j, other in enumerate(bands[:i]):
            if _overlap(band.min_age, band.max_age, other.min_age, other.max_age):
                yield (
                    ("consultation", "age_bands", i, "min_age"),
                    (
                        f"band {band.key!r} overlaps band {other.key!r} (age_bands[{j}]); "
                        "each age must fall in at most one band"
                    ),
                )
    for role in rules.consultation.forms:
        if role not in rules.roles:
            yield (
                ("consultation", "forms", role),
                (f"unknown role {role!r}; expected one of {', '.join(rules.roles)}"),
            )


def _overlap(a_min: int, a_max: int | None, b_min: int, b_max: int | None) -> bool:
    a_top = a_max if a_max is not None else 10**6
    b_top = b_max if b_max is not None else 10**6
    return a_min <= b_top and b_min <= a_top


def _roles(rules: Rules, loc: Loc, roles: Iterable[str]) -> Iterator[Finding]:
    for j, role in enumerate(roles):
        if role not in rules.roles:
            yield (*loc, j), f"unknown role {role!r}; expected one of {', '.join(rules.roles)}"


def _duplicates(loc: Loc, keys: Iterable[str], field: str | None = None) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            where: Loc = (*loc, i, field) if field else (*loc, i)
            yield where, f"duplicate {key!r} (first at [{seen[key]}]); keys must be unique"
        else:
            seen[key] = i
