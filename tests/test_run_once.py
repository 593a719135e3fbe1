"""`iro run --once` does what is due now and ends, whatever fails: a letter the mail server
defers is left queued with its time for the next run, never waited for, never sent twice."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import sqlite_store, sqlite_url
from fakes.smtp import SmtpServer
from mailout_support import CONFIG, ROOT
from sqlalchemy import select, update
from test_config_cli import run_iro
from test_queue_dispatching import make_letters

from workers.core.clock import SYSTEM_CLOCK
from workers.store.models import Dispatch


def run_once(tmp_path: Path, smtp_server: SmtpServer, **env: str) -> tuple[int, str, str]:
    # run_iro's own timeout (60 s) fails the test if `--once` does not end
    done = run_iro(tmp_path, "run", "--once", IRO_CONFIG_DIR=str(CONFIG),
                   IRO_DATABASE_URL=sqlite_url(tmp_path), IRO_TRANSPORT="smtp",
                   IRO_SMTP_HOST=smtp_server.host, IRO_SMTP_PORT=str(smtp_server.port),
                   IRO_SMTP_TIMEOUT_SECONDS="5", IRO_OUTBOX_DIR=str(tmp_path / "outbox"),
                   IRO_DOCUMENTS_DIR=str(tmp_path / "documents"),
                   IRO_TEMPLATES_DIR=str(ROOT / "templates_docx"), **env)
    return done.returncode, " ".join(done.stdout.split()), done.stderr


def test_a_deferred_letter_is_left_for_the_next_run_and_then_sent_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    sessions = sqlite_store(tmp_path)
    ids = make_letters(sessions, 3)
    smtp_server.data_reply = "451 4.3.0 try again later"

    code, out, err = run_once(tmp_path, smtp_server)
    assert code == 0, err
    assert "3 dispatches processed" in out and "queued │ 3" in out
    with sessions() as session:
        rows = session.scalars(select(Dispatch).where(Dispatch.id.in_(ids))).all()
        assert {r.state for r in rows} == {"queued"}
        assert all(r.due_at > SYSTEM_CLOCK.now() for r in rows)  # after their back-off
        assert all("451" in (r.last_error or "") for r in rows)

    smtp_server.data_reply = None
    with sessions() as session:  # a back-off is seconds long; under load a run can outlast it
        session.execute(update(Dispatch).values(due_at=SYSTEM_CLOCK.now() + dt.timedelta(hours=1)))
        session.commit()
    code, out, _ = run_once(tmp_path, smtp_server)
    assert code == 0 and "0 dispatches processed" in out  # their time has not come
    assert smtp_server.messages == []

    with sessions() as session:  # as if the back-off had passed
        session.execute(update(Dispatch).values(due_at=SYSTEM_CLOCK.now() - dt.timedelta(1)))
        session.commit()
    code, out, _ = run_once(tmp_path, smtp_server)
    assert code == 0 and "sent │ 3" in out
    assert len(smtp_server.wait_for(3)) == 3
    code, out, _ = run_once(tmp_path, smtp_server)
    assert "0 dispatches processed" in out and len(smtp_server.messages) == 3


def test_a_mailbox_that_is_not_an_address_is_a_configuration_error(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    sessions = sqlite_store(tmp_path)
    make_letters(sessions, 1)
    code, _, err = run_once(tmp_path, smtp_server, IRO_MAILBOX_ADDRESS="iro-service")
    assert code == 2 and "mailbox.address" in err and "'iro-service'" in err
    assert smtp_server.messages == []
