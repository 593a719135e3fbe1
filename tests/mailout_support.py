"""Shared set-up for the mail-out, print and returns tests: the shipped rules and a config."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from factories import IRO_EMAIL

from workers.config.directory import Person, load_directory
from workers.config.rules import load_rules
from workers.config.settings import load_settings
from workers.core.clock import FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.mailout.documents import MailoutConfig

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
RULES = load_rules(CONFIG / "rules.yaml")
# the shipped directory, and the IRO the factories' cases name (a mail-out refuses an IRO
# missing from the directory)
_SHIPPED = load_directory(CONFIG / "directory.yaml")
DIRECTORY = _SHIPPED.model_copy(update={"iros": [
    *_SHIPPED.iros, Person(name="Iris Test", email=IRO_EMAIL, phone="020 7946 0999")]})
CAL = WorkingCalendar.from_rules(RULES.calendar)
TODAY = dt.date(2026, 12, 1)  # factories' reviews meet on 12 Jan 2027


def make_config(tmp_path: Path, *, pdf: bool = False, today: dt.date = TODAY,
                **env: str) -> MailoutConfig:
    environ: dict[str, Any] = {
        "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx"),
        "IRO_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "IRO_PRINT_DIR": str(tmp_path / "print"),
        "IRO_OUTBOX_DIR": str(tmp_path / "outbox"),
        "IRO_RUNTIME_DIR": str(tmp_path / "run"),
        **env,
    }
    settings = load_settings(CONFIG, environ=environ)
    return MailoutConfig(RULES, DIRECTORY, CAL, settings, pdf=pdf, clock=FixedClock.on(today))
