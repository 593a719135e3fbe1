"""Letters a second end to end against render-only, with the same number of processes, in one run.

    .venv/bin/python benchmarks/pipeline.py [--kind mailout|docx|pdf] [--letters N]
                                            [--rounds R] [--processes P] [--threads T]

End to end: ``pending`` rows in PostgreSQL (a database of its own, dropped afterwards) → the
scheduler's ``enqueue_due`` job (the same code `iro scheduler` runs each tick) moves them to
``queued`` and enqueues their ids on Redis → P `iro worker` processes claim each dispatch, make
its letter, send it to an aiosmtpd server in a process of its own and commit ``sent``. The clock
runs from the enqueue until the server has counted every letter. Render-only: P processes do the
same letters' document work and nothing else. Both sides are warmed up first (templates
compiled, connections open, LibreOffice started). The sides alternate for ``--rounds`` rounds of
``--letters`` new letters each, so a slower spell of the shared machine falls on both; the
figures are over all rounds, and each round's ratio is printed too.

``--kind`` chooses the letter:

- ``mailout`` (the default): what a business support officer's ``iro mailout`` sends. Reviews of
  five participants (child, parent, carer, social worker, guardian) are mailed out by
  ``workers.mailout.service.run_mailout`` itself — preflight, form codes, reminder rows — and the
  workers send each invitation as production does: invitation, consultation form and how to
  return it, converted by the worker process's warm LibreOffice into one PDF pack, with the email
  body from its template. Render-only runs ``workers.mailout.compose.letter_message`` (exactly
  that document work, without store or transport) on the same rows in P processes, each with its
  own warm LibreOffice. The server counts the PDFs: a letter without one fails the run.
- ``docx``: the built-in ``letter`` composer's invitation attached as Word, no LibreOffice; against
  the compiled templates' render alone (under a millisecond), which is smaller than one
  PostgreSQL commit, so this ratio is low by construction (see the README).
- ``pdf``: that one invitation converted to PDF by the warm LibreOffice, both sides.

The last line is ``ratio: <float>`` (end-to-end rate / render-only rate; issue 4 §5 asks ≥ 0.75).
Redis: IRO_BENCH_REDIS (default db 14, flushed); PostgreSQL: IRO_BENCH_PG (an admin URL).

However the run ends — normally, SIGTERM from `timeout`, SIGINT, SIGHUP or even SIGKILL — its
`iro worker` (stopped as `docker stop` stops it), its render-only processes and their
LibreOffice go with it (``workers.host.parent_death``), and its database is dropped (by the SMTP
process, when the benchmark itself was killed outright).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import multiprocessing as mp
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import proc_cpu  # noqa: E402 - benchmarks/, this script's folder
import render_only  # noqa: E402

from workers.host.parent_death import die_with_parent  # noqa: E402

PG_ADMIN = os.environ.get("IRO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("IRO_BENCH_REDIS", "redis://127.0.0.1:6379/14")
MAILBOX = "iro.service@council.example.gov.uk"
DOMAIN = "council.example.gov.uk"
IRO_EMAIL = f"daniel.hughes@{DOMAIN}"  # an IRO in config/directory.yaml: the letters name them
IRO = str(Path(sys.executable).with_name("iro"))
TEMPLATES = ROOT / "templates_docx"


def free_port() -> int:
    with socket.socket() as s:  # aiosmtpd cannot take port 0
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_process(port: int, count: Any, pdfs: Any, ready: Any, parent: int,
                 database: str) -> None:
    """A counting SMTP server in its own process (it still shares the machine's cores).

    It outlives the benchmark only to clear up after it: killed outright, the benchmark cannot
    drop its database, so this process does when it learns of the death."""
    from aiosmtpd.controller import Controller

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # for sigwait below
    die_with_parent(parent)  # SIGTERM, which it waits for, if the benchmark is killed

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            if b"Content-Type: application/pdf" in envelope.original_content:
                with pdfs.get_lock():
                    pdfs.value += 1
            with count.get_lock():
                count.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})
    controller.stop()
    if os.getppid() != parent:
        drop_database(database)


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


ROLES = ("child", "parent", "carer", "social_worker", "guardian")  # a form each but the guardian


def make_letters(sessions: Any, n: int, kind: str) -> list[int]:
    """``n`` letters due now, made as ``--kind`` says; returns their dispatch ids."""
    if kind == "mailout":
        return make_mailout(sessions, n)
    return make_invitations(sessions, n, kind == "pdf")


def make_mailout(sessions: Any, n: int) -> list[int]:
    """Reviews six weeks ahead with a participant of each role, by email; each review mailed out
    by ``run_mailout`` (all its invitations due now, its reminders weeks later)."""
    from sqlalchemy import select

    from workers.core.clock import SYSTEM_CLOCK
    from workers.mailout.documents import load_config
    from workers.mailout.plan import INVITATION_KIND
    from workers.mailout.service import run_mailout
    from workers.store.models import Child, Dispatch, Participant, Review

    cfg = load_config(ROOT / "config")
    tag = uuid.uuid4().hex[:6]
    on = SYSTEM_CLOCK.today() + dt.timedelta(days=42)
    refs = []
    with sessions() as session:
        for r in range(-(-n // len(ROLES))):
            child = Child(ref=f"C-{tag}-{r}", given_name="Bench", family_name="O'Mark",
                          date_of_birth=on.replace(year=on.year - 9), team="north",
                          looked_after_since=dt.date(2024, 1, 8), iro_email=IRO_EMAIL,
                          placement="Smith & Sons Fostering")
            review = Review(ref=f"R-{tag}-{r}", child=child, sequence=2, due_on=on,
                            scheduled_at=dt.datetime.combine(on, dt.time(10), dt.UTC),
                            venue="Civic Centre, Room 2", iro_email=IRO_EMAIL)
            roles = ROLES[:n - r * len(ROLES)]
            session.add_all([child, review, *(
                Participant(ref=f"P-{tag}-{r}-{i}", review=review, role=role, channel="email",
                            name=f"Bench {role.replace('_', ' ')} {i}",
                            email=f"{role}.{r}.{tag}@{DOMAIN}")
                for i, role in enumerate(roles))])
            refs.append(review.ref)
        session.commit()
    for ref in refs:
        run_mailout(sessions, cfg, ref)
    with sessions() as session:
        return list(session.scalars(
            select(Dispatch.id).where(Dispatch.kind == INVITATION_KIND,
                                      Dispatch.key.like(f"R-{tag}-%")).order_by(Dispatch.id)))


def make_invitations(sessions: Any, n: int, pdf: bool) -> list[int]:
    """One review, ``n`` carers invited by email, each a ``pending`` letter due now."""
    from workers.core.clock import SYSTEM_CLOCK
    from workers.store.models import Child, Dispatch, Participant, Review

    tag = uuid.uuid4().hex[:6]
    with sessions() as session:
        child = Child(ref=f"C-{tag}", given_name="Bench", family_name="O'Mark",
                      date_of_birth=dt.date(2015, 5, 1), looked_after_since=dt.date(2024, 1, 8),
                      team="north", iro_email=IRO_EMAIL, placement="Smith & Sons Fostering")
        session.add(child)
        session.flush()
        review = Review(ref=f"R-{tag}", child=child, sequence=2, due_on=dt.date(2027, 3, 15),
                        scheduled_at=dt.datetime(2027, 3, 12, 10, 0, tzinfo=dt.UTC),
                        venue="Civic Centre, Room 2", iro_email=child.iro_email)
        session.add(review)
        session.flush()
        people = [Participant(ref=f"P-{tag}-{i}", review=review, role="carer", channel="email",
                              name=f"Carer {i}", email=f"carer{i}.{tag}@{DOMAIN}")
                  for i in range(n)]
        session.add_all(people)
        session.flush()
        rows = [Dispatch(key=f"{review.ref}/invitation/{p.ref}", kind="letter", channel="email",
                         review_id=review.id, participant_id=p.id, recipient=p.email or "",
                         reference_code=f"B{tag}{i}", state="pending",
                         due_at=SYSTEM_CLOCK.now(), params={"pdf": True} if pdf else {})
                for i, p in enumerate(people)]
        session.add_all(rows)
        session.commit()
        return [r.id for r in rows]


def wait_for(count: Any, target: int, timeout: float, sessions: Any) -> None:
    deadline = time.monotonic() + timeout
    while count.value < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {count.value} of {target} letters arrived in {timeout:.0f} s; "
                             f"dispatches: {_states(sessions)}")
        time.sleep(0.01)  # the harness polls; its own CPU is not the pipeline's


def _states(sessions: Any) -> str:
    """Counts by state and the first failure's reason (ids and codes only), to say why."""
    from sqlalchemy import func, select

    from workers.store.models import Dispatch

    with sessions() as session:
        counts = dict(session.execute(select(Dispatch.state, func.count())
                                      .group_by(Dispatch.state)).all())
        error = session.scalar(select(Dispatch.last_error).where(Dispatch.last_error.is_not(None))
                               .limit(1))
    return f"{counts}; last error: {error}"


# -- render-only ------------------------------------------------------------------------------


def _letters(session: Any, ids: list[int]) -> Iterator[tuple[Any, Any, Any]]:
    """(dispatch, review, participant) of each letter, in ``session``."""
    from workers.store.models import Dispatch, Participant, Review

    for dispatch_id in ids:
        d = session.get(Dispatch, dispatch_id)
        assert d is not None
        review = session.get(Review, d.review_id)
        person = session.get(Participant, d.participant_id)
        assert review is not None and person is not None
        yield d, review, person


def mailout_rows(sessions: Any, ids: list[int]) -> list[tuple[Any, ...]]:
    """(dispatch, review, child, participant) of each letter, loaded and detached."""
    with sessions() as session:
        out = [(d, review, review.child, person) for d, review, person in _letters(session, ids)]
        session.expunge_all()
    return out


def letter_contexts(sessions: Any, ids: list[int]) -> list[dict[str, Any]]:
    """The contexts the ``letter`` composer fills the invitation with, built in advance."""
    from workers.core.clock import SYSTEM_CLOCK
    from workers.queue.compose import ComposeContext, invitation_context

    today = SYSTEM_CLOCK.today()  # the composer's date
    context = ComposeContext(allowed_domains=(DOMAIN,), templates_dir=TEMPLATES)
    with sessions() as session:
        return [invitation_context(review, person, context, today)
                for _, review, person in _letters(session, ids)]


def render_side(sessions: Any, ids: list[int], args: argparse.Namespace) -> Measured:
    """The same letters' document work alone, in ``args.processes`` processes."""
    from workers.config.settings import load_settings

    settings = load_settings(ROOT / "config")
    lo = settings.libreoffice
    if args.kind == "docx":
        rate = render_only.docx(letter_contexts(sessions, ids), args.processes, TEMPLATES)
        seconds = len(ids) / rate
        # its processes are busy throughout
        return Measured(len(ids), seconds, {"render processes": args.processes * seconds})
    work: Any
    if args.kind == "mailout":
        items: list[Any] = mailout_rows(sessions, ids)
        work = functools.partial(render_only.MailoutLetter, ROOT / "config")
    else:
        items = letter_contexts(sessions, ids)
        work = functools.partial(render_only.InvitationPdf, TEMPLATES, lo.soffice,
                                 lo.timeout_seconds, settings.runtime_dir)
    rate, used = render_only.with_office(items, args.processes, work, lo.timeout_seconds)
    return Measured(len(ids), len(ids) / rate,
                    {name: ms * len(ids) / 1000 for name, ms in used.items()})


@dataclass
class Measured:
    """Letters, the seconds they took, and the CPU seconds each part spent on them."""

    letters: int = 0
    seconds: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)

    def __iadd__(self, other: Measured) -> Measured:
        self.letters += other.letters
        self.seconds += other.seconds
        for name, used in other.cpu.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + used
        return self

    @property
    def rate(self) -> float:
        return self.letters / self.seconds

    def cpu_ms(self) -> dict[str, float]:
        return {name: 1000 * used / self.letters for name, used in self.cpu.items()}


# -- end to end ----------------------------------------------------------------------------------


class Pipeline:
    """`iro worker` processes and this process's scheduler job, warmed up; ``round`` measures."""

    def __init__(self, url: str, args: argparse.Namespace, count: Any, port: int,
                 smtp_pid: int) -> None:
        self.url, self.args, self.count, self.smtp_pid = url, args, count, smtp_pid
        self.env = {**os.environ, "IRO_DATABASE_URL": url, "IRO_REDIS_URL": REDIS,
                    "IRO_TRANSPORT": "smtp", "IRO_SMTP_HOST": "127.0.0.1",
                    "IRO_SMTP_PORT": str(port), "IRO_MAILBOX_ADDRESS": MAILBOX,
                    "IRO_TEMPLATES_DIR": str(TEMPLATES), "IRO_EMAIL_ALLOWED_DOMAINS": DOMAIN}
        self.office = args.kind != "docx"
        self.delivered = 0

    def __enter__(self) -> Pipeline:
        from workers.cli.worker import make_scheduler
        from workers.config.settings import load_settings
        from workers.core.clock import SYSTEM_CLOCK
        from workers.queue import actors
        from workers.queue.broker import make_broker
        from workers.store.session import open_store

        os.environ.update(self.env)  # this process's scheduler reads the same settings
        settings = load_settings(ROOT / "config")
        self.sessions = open_store(self.url)
        broker = make_broker(settings)
        actors.declare(broker)
        self.scheduler = make_scheduler(settings, self.sessions, broker, SYSTEM_CLOCK)
        me = os.getpid()
        self.worker = subprocess.Popen(
            [IRO, "--config", str(ROOT / "config"), "worker", "--processes",
             str(self.args.processes), "--threads", str(self.args.threads)],
            env=self.env, start_new_session=True,
            # killed any way at all, the benchmark stops its worker as `docker stop` would
            preexec_fn=lambda: die_with_parent(me))  # safe: this process has no threads
        warm = self.args.processes * self.args.threads * 4
        self._send(make_letters(self.sessions, warm, self.args.kind))
        return self

    def _send(self, ids: list[int]) -> None:
        self.scheduler.run_now(["enqueue_due"])
        self.delivered += len(ids)
        wait_for(self.count, self.delivered, 600 + (3 * len(ids) if self.office else 0),
                 self.sessions)

    def round(self, n: int) -> tuple[list[int], Measured]:
        """``n`` new letters from the enqueue until the SMTP server has counted every one."""
        ids = make_letters(self.sessions, n, self.args.kind)
        python, soffice = proc_cpu.split_office(proc_cpu.group(self.worker.pid))
        parts = {"iro worker processes": python, "SMTP server": [self.smtp_pid],
                 "PostgreSQL (this database)": proc_cpu.postgres(self.url.rsplit("/", 1)[1]),
                 "this process (scheduler job)": [os.getpid()]}
        if self.office:
            parts["LibreOffice (the workers')"] = soffice
        before = {name: proc_cpu.cpu(pids) for name, pids in parts.items()}
        started = time.perf_counter()
        self._send(ids)
        seconds = time.perf_counter() - started
        used = {name: proc_cpu.cpu(pids) - before[name] for name, pids in parts.items()}
        _check_sent(self.sessions, ids)
        return ids, Measured(len(ids), seconds, used)

    def __exit__(self, *exc: object) -> None:
        # to the main process only, as `docker stop` does: it stops its worker processes, which
        # close their LibreOffice (a SIGTERM to the whole group makes dramatiq kill them at once)
        self.worker.send_signal(signal.SIGTERM)
        self.worker.wait(60)
        time.sleep(1)
        # a LibreOffice that outlived its worker process (it was seen once) goes with its group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)


def _check_sent(sessions: Any, ids: list[int]) -> None:
    from sqlalchemy import func, select

    from workers.store.models import Dispatch

    deadline = time.monotonic() + 30
    while True:
        with sessions() as session:
            sent = session.scalar(select(func.count()).where(Dispatch.id.in_(ids),
                                                             Dispatch.state == "sent"))
        if sent == len(ids):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{sent} of {len(ids)} dispatches recorded as sent")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("mailout", "docx", "pdf"), default="mailout",
                        help="mailout: the mail-out letter as production sends it, a PDF pack "
                        "(default); docx: the invitation as Word; pdf: the invitation as PDF")
    parser.add_argument("--letters", type=int,
                        help="letters a round on each side (default 1000 for docx, 150 otherwise)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of end to end then render-only (default 3): the two sides "
                        "alternate, so a slower spell of the machine falls on both")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    # `timeout` and `kill` end the run through its finally blocks (workers stopped, database
    # dropped); a SIGKILL cannot, but the children go anyway (workers.host.parent_death)
    render_only.stop_on(signal.SIGTERM, signal.SIGHUP)
    if args.letters is None:
        args.letters = 1000 if args.kind == "docx" else 150
    if args.kind != "docx":
        from workers.config.settings import load_settings
        from workers.documents.pdf import libreoffice_available

        soffice = load_settings(ROOT / "config").libreoffice.soffice
        if not libreoffice_available(soffice):
            raise SystemExit(f"--kind {args.kind} needs LibreOffice ({soffice}); install it with "
                             "scripts/install-system-deps, or use --kind docx")

    import psycopg
    import redis

    from workers.store.session import upgrade

    client = redis.Redis.from_url(REDIS)
    now_ms = time.time() * 1000  # a heartbeat far ahead is a shifted test run's, not a worker
    beats = client.zrangebyscore("iro:__heartbeats__", now_ms - 5000, now_ms + 60_000)
    if beats:  # another run's workers would take this run's messages (and find no such rows)
        raise SystemExit(f"{len(beats)} workers are live on {REDIS}; stop them or set "
                         "IRO_BENCH_REDIS to another database")
    client.flushdb()
    name = f"iro_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"database: {name}", file=sys.stderr, flush=True)
    url = "postgresql+psycopg://" + PG_ADMIN.split("://", 1)[1].rsplit("/", 1)[0] + f"/{name}"
    port = free_port()
    count, pdfs = mp.Value("i", 0), mp.Value("i", 0)
    ready = mp.Event()
    smtp = mp.get_context("fork").Process(target=smtp_process,
                                          args=(port, count, pdfs, ready, os.getpid(), name))
    try:
        upgrade(url)
        smtp.start()
        ready.wait(10)
        e2e, alone, ratios = Measured(), Measured(), []
        with Pipeline(url, args, count, port, smtp.pid or 0) as pipeline:
            for n in range(args.rounds):
                ids, round_e2e = pipeline.round(args.letters)
                if args.kind != "docx" and pdfs.value != count.value:
                    raise SystemExit(f"only {pdfs.value} of {count.value} letters had a PDF "
                                     "attached")
                round_alone = render_side(pipeline.sessions, ids, args)
                e2e += round_e2e
                alone += round_alone
                ratios.append(round_e2e.rate / round_alone.rate)
                print(f"round {n + 1}: end to end {round_e2e.rate:.1f} letters/s, render-only "
                      f"{round_alone.rate:.1f} letters/s, ratio {ratios[-1]:.3f}", file=sys.stderr)
    finally:
        if smtp.pid is not None:
            os.kill(smtp.pid, signal.SIGTERM)
            smtp.join(10)
        drop_database(name)
        client.flushdb()  # this run's workers are stopped: their heartbeats must not block the next
    mode = args.kind
    made = {"mailout": "invitation, form and instructions → one PDF pack (warm LibreOffice)",
            "pdf": "render → PDF (warm LibreOffice)", "docx": "render"}[mode]
    print(f"letters: {e2e.letters} a side ({args.rounds} rounds of {args.letters}), "
          f"processes: {args.processes}, threads: {args.threads}, cores: {os.cpu_count()}, "
          f"mode: {mode}")
    print(f"end to end: {e2e.rate:.1f} letters/s [{mode}] "
          f"(store → Redis → worker → {made} → SMTP)")
    print(f"render-only: {alone.rate:.1f} letters/s [{mode}] ({made}, same processes)")
    print("rounds' ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    for name, ms in alone.cpu_ms().items():
        print(f"CPU a letter render-only [{mode}], {name}: {ms:.2f} ms")
    for name, ms in e2e.cpu_ms().items():
        print(f"CPU a letter end to end [{mode}], {name}: {ms:.2f} ms")
    # steadier than the rates on a shared machine, where the two sides run at different moments
    print(f"CPU ratio [{mode}] (render-only CPU a letter / end-to-end CPU a letter): "
          f"{sum(alone.cpu_ms().values()) / sum(e2e.cpu_ms().values()):.3f}")
    print(f"ratio: {e2e.rate / alone.rate:.3f}")


if __name__ == "__main__":
    main()
