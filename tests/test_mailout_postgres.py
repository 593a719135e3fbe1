"""The mail-out on PostgreSQL: two mail-outs of one review started at the same moment (threads)
give exactly one set of dispatches; a full round over Redis (dramatiq worker threads) to a real
SMTP server, the messages parsed and their attachments opened; replies and a bounce come back."""

from __future__ import annotations

import io
import re
import threading
import zipfile
from pathlib import Path

import pytest
from factories import make_case, postgres_store
from fakes.smtp import SmtpServer
from mailout_support import make_config
from sqlalchemy import func, select

from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.mailout import compose
from workers.mailout.service import MailoutResult, run_mailout
from workers.queue import actors
from workers.queue.broker import make_redis_broker, start_embedded_worker
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.queue.scheduler import Scheduler
from workers.store.models import AuditEvent, Dispatch

MAILBOX = "iro.service@council.example.gov.uk"
ALLOWED = ("council.example.gov.uk", "nhs.net", "cafcass.gov.uk", "school.example.sch.uk")


@pytest.mark.postgres
def test_two_mailouts_at_once_make_one_set(pg_database: str, tmp_path: Path) -> None:
    sessions = postgres_store(pg_database)
    with sessions() as s:
        ref = make_case(s).ref
        s.commit()
    cfg = make_config(tmp_path)
    start = threading.Barrier(4)
    results: list[MailoutResult] = []
    errors: list[BaseException] = []

    def go() -> None:
        start.wait()
        try:
            results.append(run_mailout(sessions, cfg, ref))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(r.created for r in results) == [0, 0, 0, 10]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Dispatch)) == 10
        assert s.scalar(select(func.count()).where(AuditEvent.action == "mailout.queued")) == 1


@pytest.mark.postgres
@pytest.mark.redis
def test_full_round_on_postgres_redis_smtp(pg_database: str, redis_url: str, tmp_path: Path,
                                           smtp_server: SmtpServer) -> None:
    sessions = postgres_store(pg_database)
    with sessions() as s:
        review = make_case(s)
        ref = review.ref
        s.commit()
    cfg = make_config(tmp_path)
    compose.register(lambda: cfg)
    result = run_mailout(sessions, cfg, ref)
    emails = [letter for letter in result.plan.letters if letter.channel == "email"]
    broker = make_redis_broker(redis_url, namespace="iro-test-mailout")
    actors.declare(broker)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port, MAILBOX))
    actors.use(lambda: Dispatcher(
        sessions=sessions, transport=transport,
        compose=Composers(ComposeContext(allowed_domains=ALLOWED, reply_to=MAILBOX)),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False)))
    worker = start_embedded_worker(broker, threads=4)
    try:
        # the mail-out's day: its letters are due, its reminders weeks later are not
        sched = Scheduler(sessions=sessions, tick_seconds=60, reconcile_after=30, lease=30,
                          enqueue=lambda ids: actors.enqueue(broker, ids, lease=30),
                          clock=cfg.clock)
        assert sched.run_now(["enqueue_due"])["enqueue_due"] == len(emails)
        broker.join(actors.QUEUE)
        # a second scheduler pass and a second mail-out send nothing more
        assert run_mailout(sessions, cfg, ref).created == 0
        sched.run_now(["enqueue_due"])
        broker.join(actors.QUEUE)
    finally:
        worker.stop()
        broker.flush_all()
        transport.close()
    messages = smtp_server.wait_for(len(emails))
    assert len(smtp_server.received) == len(emails) == 4  # carer, sw, guardian, other
    for msg in messages:
        subject = str(msg["Subject"])
        assert re.fullmatch(rf"Review on 12 January 2027 - ref {ref} \(Z\.O\.\)"
                            r"( - form C-\w{8})?", subject), subject
        assert msg["Reply-To"] == MAILBOX
        for part in msg.iter_attachments():
            data = part.get_content()
            with zipfile.ZipFile(io.BytesIO(data)) as docx:  # a real Word file
                xml = "".join(docx.read(n).decode() for n in docx.namelist()
                              if n.startswith("word/") and n.endswith(".xml"))
            assert "{{" not in xml and "<w:body>" in xml  # filled in, well formed
            code = re.search(r"C-\w{8}", subject)
            if code and "consultation" in (part.get_filename() or ""):
                # the form carries its code (printed with non-breaking hyphens)
                assert code.group(0) in xml.replace("\u2011", "-")
    with sessions() as s:
        states = dict(s.execute(select(Dispatch.channel, func.count()).where(
            Dispatch.state == "sent").group_by(Dispatch.channel)).all())
        assert states == {"email": 4}
        assert s.scalar(select(func.count()).where(AuditEvent.action == "dispatch.sent")) == 4
