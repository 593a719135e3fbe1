"""The rules and settings in force as rich tables, for `iro config check`.

Pure presentation: it takes loaded models and returns tables. Secrets are shown only as
"set"/"not set". The people listed are staff from directory.yaml, never case data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, SecretStr
from rich.table import Table

from workers.config.directory import Directory
from workers.config.rules import Rules
from workers.config.settings import Settings, env_name, iter_leaves


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def rules_tables(rules: Rules, directory: Directory) -> Iterator[Table]:
    yield _calendar(rules)
    yield _timescales(rules)
    yield from _mailout(rules)
    yield _write_up(rules, directory)
    yield _escalation(rules, directory)
    yield _categories(rules)
    yield _consultation(rules)
    yield _participation(rules)


def _calendar(rules: Rules) -> Table:
    import holidays

    cal = rules.calendar
    bank = holidays.country_holidays(cal.country, subdiv=cal.subdivision)
    table = _table(
        f"Calendar: bank holidays {cal.country}-{cal.subdivision}; local closures "
        "(internal deadlines only, never statutory)",
        "closure from",
        "to",
        "working days closed",
        "reason",
    )
    for closure in cal.closures:
        working = [d for d in closure.days() if d.weekday() < 5 and d not in bank]
        table.add_row(
            closure.start.isoformat(),
            closure.end.isoformat(),
            f"{len(working)} ({', '.join(_day(d) for d in working)})",
            closure.reason,
        )
    if not cal.closures:
        table.add_row("-", "-", "0", "no local closures")
    return table


def _day(d: dt.date) -> str:
    return d.strftime("%a %d %b %Y")


def _timescales(rules: Rules) -> Table:
    table = _table(
        "Review timescales (statutory: reg 33, Care Planning Regulations 2010)", "review", "due"
    )
    rt = rules.review_timescales
    table.add_row("first", str(rt.first))
    table.add_row("second", str(rt.second))
    table.add_row("subsequent", str(rt.subsequent))
    return table


def _mailout(rules: Rules) -> Iterator[Table]:
    m = rules.mailout
    table = _table("Mail-out", "what", "when")
    table.add_row("invitations", str(m.invitations))
    table.add_row("consultation forms", str(m.consultation_forms))
    table.add_row("return by", str(m.return_by))
    yield table
    reminders = _table("Mail-out reminders", "when", "to", "only if not returned")
    for reminder in m.reminders:
        reminders.add_row(
            str(reminder.at),
            ", ".join(reminder.to),
            "yes" if reminder.only_if_not_returned else "no",
        )
    if not m.reminders:
        reminders.add_row("-", "no reminders", "-")
    yield reminders


def _write_up(rules: Rules, directory: Directory) -> Table:
    w = rules.write_up
    who = _who(w.overdue_notice_to, directory)
    table = _table(
        f"Write-up deadlines (overdue notice to {who} the working day after)",
        "document",
        "due",
        "reminders to the IRO",
    )
    for name, deadline in (("decisions", w.decisions), ("review record", w.record)):
        table.add_row(name, str(deadline.due), "; ".join(str(r) for r in deadline.reminders) or "-")
    return table


def _who(key: str, directory: Directory) -> str:
    person = directory.resolve(key)
    return f"{key} ({person.email})" if person else f"{key} (from the case record)"


def _escalation(rules: Rules, directory: Directory) -> Table:
    esc = rules.escalation
    table = _table(
        f"Escalation stages (total no more than {esc.total_ceiling})",
        "#",
        "stage",
        "title",
        "recipients",
        "response due",
        "template",
        "on timeout",
    )
    for i, stage in enumerate(esc.stages, start=1):
        table.add_row(
            str(i),
            stage.key,
            stage.title,
            "\n".join(_who(key, directory) for key in stage.recipients),
            str(stage.response_due) if stage.response_due else "-",
            stage.template,
            "advance" if stage.auto_advance_on_timeout else "tell the IRO",
        )
    return table


def _categories(rules: Rules) -> Table:
    table = _table("Escalation categories", "key", "title")
    for category in rules.escalation.categories:
        table.add_row(category.key, category.title)
    return table


def _consultation(rules: Rules) -> Table:
    table = _table(
        "Consultation forms (the child's booklet by age on the review date)", "for", "template"
    )
    for band in rules.consultation.age_bands:
        ages = f"{band.min_age}+" if band.max_age is None else f"{band.min_age}-{band.max_age}"
        table.add_row(f"child aged {ages}", band.template)
    youngest = min((b.min_age for b in rules.consultation.age_bands), default=None)
    if youngest:
        table.add_row(f"child under {youngest}", "none")
    for role in rules.roles:
        if role != "child":
            table.add_row(role, rules.consultation.forms.get(role, "none"))
    return table


def _participation(rules: Rules) -> Table:
    table = _table("Participation codes (SSDA903)", "code", "meaning")
    for code, meaning in rules.participation_codes.items():
        table.add_row(code, meaning)
    return table


def settings_table(settings: Settings) -> Table:
    table = _table(
        f"Service settings (config folder {settings.config_dir})", "setting", "value", "variable"
    )
    for path, _annotation in iter_leaves(Settings):
        value: Any = settings
        for key in path:
            value = getattr(value, key)
        table.add_row(".".join(path), _show(value), env_name(path))
    rate = settings.rate_limit_per_minute
    table.add_row("(effective rate limit)", f"{rate}/minute" if rate else "none", "")
    return table


def _show(value: Any) -> str:
    if isinstance(value, SecretStr):
        return "set"
    if value is None:
        return "not set"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, BaseModel):
        return value.__class__.__name__
    return str(value)
