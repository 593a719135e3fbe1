"""What every command needs, loaded once and only when asked for.

The config folder comes from ``--config`` or ``IRO_CONFIG_DIR`` (default ``./config``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from workers.core.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.config.settings import Settings
    from workers.core.workcalendar import WorkingCalendar


def default_config_dir() -> Path:
    return Path(os.environ.get("IRO_CONFIG_DIR", "config"))


@dataclass
class AppContext:
    config_dir: Path = field(default_factory=default_config_dir)
    debug: bool = False
    clock: Clock = SYSTEM_CLOCK  # every command's today and now (workers.core.clock)

    @cached_property
    def settings(self) -> Settings:
        from workers.config.settings import load_settings

        return load_settings(self.config_dir)

    @cached_property
    def rules(self) -> Rules:
        from workers.config.rules import load_rules

        return load_rules(self.config_dir / "rules.yaml")

    @cached_property
    def directory(self) -> Directory:
        from workers.config.directory import load_directory

        return load_directory(self.config_dir / "directory.yaml")

    @cached_property
    def calendar(self) -> WorkingCalendar:
        from workers.core.workcalendar import WorkingCalendar

        return WorkingCalendar.from_rules(self.rules.calendar)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from workers.store.session import open_store

        return open_store(self.settings.database_url)


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext set up by the top-level callback."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        ctx.find_root().obj = obj
    return obj
