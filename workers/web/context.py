"""What every page needs, built once by ``create_app``: settings, rules, directory, store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from workers.core.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.config.settings import Settings
    from workers.core.workcalendar import WorkingCalendar
    from workers.escalation.policy import Policy
    from workers.escalation.service import EscalationService
    from workers.mailout.documents import MailoutConfig
    from workers.reviews.notices import NoticeConfig


@dataclass
class WebContext:
    settings: Settings
    rules: Rules
    directory: Directory
    calendar: WorkingCalendar
    sessions: sessionmaker[Session]
    clock: Clock = SYSTEM_CLOCK  # every page's today and now
    pdf: bool = True  # print batches and packs as PDF (LibreOffice)

    def today(self) -> dt.date:
        return self.clock.today()

    @property
    def mailout(self) -> MailoutConfig:
        from workers.mailout.documents import MailoutConfig

        return MailoutConfig(self.rules, self.directory, self.calendar, self.settings,
                             pdf=self.pdf, clock=self.clock)

    @property
    def notices(self) -> NoticeConfig:
        from workers.documents.contexts import Letterhead
        from workers.reviews.notices import NoticeConfig

        return NoticeConfig(self.rules, self.directory, self.calendar,
                            Path(self.settings.templates_dir),
                            mailbox_name=self.settings.mailbox.display_name,
                            letterhead=Letterhead.from_settings(self.settings.letterhead),
                            clock=self.clock,
                            record_reply_days=self.settings.mailbox.record_reply_days)

    @property
    def policy(self) -> Policy:
        from workers.escalation.policy import Policy

        return Policy.from_rules(self.rules.escalation, self.calendar)

    def escalations(self, session: Session) -> EscalationService:
        """The same service `iro escalate` uses, on ``session`` (the caller commits)."""
        from workers.escalation.service import EscalationService

        return EscalationService(session, self.policy, self.directory, clock=self.clock)


def web_context(request: Request) -> WebContext:
    ctx = request.app.state.web
    assert isinstance(ctx, WebContext)
    return ctx
