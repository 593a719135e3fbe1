"""`iro dispatches retry --failed`: many failed letters queued again in one step, narrowed by
when they failed and why; each re-queue audited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import sqlite_store, sqlite_url
from mailout_support import CONFIG
from sqlalchemy import select, update
from test_config_cli import run_iro
from test_queue_dispatching import make_letters

from workers.core.clock import SYSTEM_CLOCK
from workers.store.models import AuditEvent, Dispatch


def iro(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    done = run_iro(tmp_path, "dispatches", "retry", *args, IRO_CONFIG_DIR=str(CONFIG),
                   IRO_DATABASE_URL=sqlite_url(tmp_path))
    return done.returncode, " ".join(done.stdout.split()), done.stderr


def test_failed_letters_are_queued_again_by_when_and_why(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    old, converter, refused, bounced, fine = make_letters(sessions, 5)
    now = SYSTEM_CLOCK.now()
    with sessions() as session:
        for dispatch_id, state, error, when in (
            (old, "failed", "LibreOffice produced an empty PDF", now - dt.timedelta(days=9)),
            (converter, "failed", "LibreOffice produced an empty PDF", now),
            (refused, "failed", "the server refused the recipient address (SMTP [550])", now),
            (bounced, "bounced", "undeliverable", now),
        ):
            session.execute(update(Dispatch).where(Dispatch.id == dispatch_id).values(
                state=state, last_error=error, updated_at=when))
        session.commit()

    since = (now - dt.timedelta(days=2)).date().isoformat()
    code, out, err = iro(tmp_path, "--failed", "--since", since, "--reason", "empty pdf")
    assert code == 0, err
    assert out.startswith("1 failed dispatches are pending again") and str(converter) in out

    code, out, _ = iro(tmp_path, "--failed")
    assert code == 0 and out.startswith("2 failed dispatches")  # the older one and the 550
    with sessions() as session:
        states = dict(session.execute(select(Dispatch.id, Dispatch.state)).all())
        retried = session.scalars(select(AuditEvent.subject_id)
                                  .where(AuditEvent.action == "dispatch.retried")).all()
    assert states == {old: "pending", converter: "pending", refused: "pending",
                      bounced: "bounced", fine: "queued"}
    assert sorted(retried) == sorted([converter, old, refused])


def test_one_id_or_failed_never_both_or_neither(tmp_path: Path) -> None:
    sqlite_store(tmp_path)
    for args in ((), ("1", "--failed"), ("1", "--reason", "x")):
        code, _, err = iro(tmp_path, *args)
        assert code == 2 and "--failed" in err, args
