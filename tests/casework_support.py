"""What the casework tests share: a review mailed out on SQLite, and a dispatcher that sends its
letters (mail-out and casework notices alike) to the test SMTP server, both at noon on TODAY."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from fakes.smtp import SmtpServer
from mailout_support import TODAY, make_config
from sqlalchemy.orm import Session, sessionmaker

from workers.casework import notices as casework_notices
from workers.core.clock import FixedClock, london_moment
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.mailout import compose as mailout_compose
from workers.mailout.documents import MailoutConfig
from workers.mailout.service import run_mailout
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher

BSO = "bso.one@council.example.gov.uk"
NOW = london_moment(TODAY, dt.time(12))  # after the mail-out (make_config: 09:30)
Case = tuple[sessionmaker[Session], MailoutConfig, str]


@pytest.fixture
def case(tmp_path: Path) -> Case:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    cfg = make_config(tmp_path)
    run_mailout(sessions, cfg, ref)
    return sessions, cfg, ref


@pytest.fixture
def send(case: Case, smtp_server: SmtpServer) -> Iterator[Dispatcher]:
    sessions, cfg, _ = case
    mailout_compose.register(lambda: cfg)
    casework_notices.register(lambda: cfg)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port,
                                         "iro.service@council.example.gov.uk"))
    yield Dispatcher(
        sessions=sessions, transport=transport,
        compose=Composers(ComposeContext(allowed_domains=cfg.allowed_domains,
                                         clock=FixedClock(NOW))),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=FixedClock(NOW))
    transport.close()
