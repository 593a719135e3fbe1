"""`iro worker`, `iro scheduler`, `iro run` and `iro dispatches`: running and watching the queue.

Heavy imports (dramatiq, sqlalchemy) stay inside the commands so `iro --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workers.cli import queue_status
from workers.cli.context import app_context
from workers.cli.options import format_metavar

if TYPE_CHECKING:
    import dramatiq
    from sqlalchemy.orm import Session, sessionmaker

    from workers.config.settings import Settings
    from workers.core.clock import Clock
    from workers.queue.scheduler import Scheduler


# How long a stopping worker process waits for the letters in hand (then for its consumers): with
# LibreOffice's 3 s to close and dramatiq's own second or two, within `docker stop`'s 10 s.
SHUTDOWN_TIMEOUT_MS = 4_000


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.command("run")(run)
    dispatches_app = typer.Typer(
        help="List dispatches and why they failed; retry one; resume after a pause.",
        invoke_without_command=True,
    )
    dispatches_app.callback()(dispatches)
    dispatches_app.command("retry")(retry)
    dispatches_app.command("resume")(resume)
    dispatches_app.command("status")(queue_status.status)
    app.add_typer(dispatches_app, name="dispatches")


def worker(
    ctx: typer.Context,
    processes: Annotated[int | None, typer.Option(
        metavar="N", help="Worker processes, one a core [worker.processes in service.yaml].",
    )] = None,
    threads: Annotated[int | None, typer.Option(
        metavar="N", help="Threads in each process [worker.threads in service.yaml].",
    )] = None,
) -> int:
    """Run dramatiq worker processes that send dispatches (needs IRO_REDIS_URL)."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    from workers.errors import ConfigError

    context = app_context(ctx)
    settings = context.settings  # fail here, once, on a bad config
    if not settings.redis_url:
        raise ConfigError(
            "`iro worker` needs a queue shared with the scheduler: set IRO_REDIS_URL, "
            "or use `iro run` for the in-process queue"
        )
    # dramatiq's worker processes import workers.queue.worker_entry, which reads these variables
    # (the
    # thread count sizes each process's LibreOffice pool)
    threads = threads or settings.worker.threads
    os.environ["IRO_CONFIG_DIR"] = str(context.config_dir)
    os.environ["IRO_WORKER_THREADS"] = str(threads)
    args = make_argument_parser().parse_args(
        [
            "workers.queue.worker_entry",
            "--processes", str(processes or settings.worker.processes),
            "--threads", str(threads),
            # a letter still in hand after this goes back to the queue when its claim lapses:
            # the process must be gone within the 10 s `docker stop` allows
            "--worker-shutdown-timeout", str(SHUTDOWN_TIMEOUT_MS),
            "--skip-logging" if not context.debug else "--verbose",
        ]
    )
    return int(dramatiq_main(args) or 0)


def scheduler(ctx: typer.Context) -> None:
    """Run the periodic jobs (enqueue due dispatches, reconcile, scans) every tick."""
    context = app_context(ctx)
    settings = context.settings
    from workers.queue import actors
    from workers.queue.broker import make_broker

    broker = make_broker(settings)
    actors.declare(broker)
    make_scheduler(settings, context.sessions, broker, context.clock).run_forever()


def run(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="Do what is due now (scans, then send), print a "
                                          "summary, exit; a letter that must wait is left for "
                                          "the next run.")
    ] = False,
) -> None:
    """Scheduler and worker in one process (the embedded default: SQLite, in-process queue)."""
    from workers.store.session import upgrade

    context = app_context(ctx)
    settings = context.settings
    upgrade(settings.database_url)
    if once:
        from workers.queue.once import run_once

        _print_summary(context.sessions, run_once(settings, context.sessions, context.clock))
        return
    _, sched, running = embedded(settings, context.sessions, context.clock)
    try:
        sched.run_forever()
    finally:
        running.stop()


def embedded(
    settings: Settings, sessions: sessionmaker[Session], clock: Clock
) -> tuple[dramatiq.Broker, Scheduler, Any]:
    """Broker, scheduler and running worker threads in this process (`iro run`, and
    `iro web --with-worker`); the caller stops the workers (``.stop()``)."""
    from workers.queue import actors
    from workers.queue.broker import make_broker, start_embedded_worker

    broker = make_broker(settings)
    actors.declare(broker)
    actors.use(lambda: actors.build_dispatcher(settings, clock))
    scheduler = make_scheduler(settings, sessions, broker, clock)
    return broker, scheduler, start_embedded_worker(broker, settings.worker.threads)


def make_scheduler(
    settings: Settings, sessions: sessionmaker[Session], broker: dramatiq.Broker, clock: Clock
) -> Scheduler:
    from workers.mail.pause import default_pause_hooks
    from workers.queue import actors
    from workers.queue.assembly import install
    from workers.queue.ledger import LOST_AFTER_SECONDS, STUCK_AFTER_SECONDS, make_ledger
    from workers.queue.outcomes import lease_seconds
    from workers.queue.scheduler import Scheduler

    install()
    lease = lease_seconds(settings.scheduler.reconcile_after_seconds)
    ledger = make_ledger(broker, actors.QUEUE)
    return Scheduler(
        sessions=sessions,
        enqueue=lambda ids: actors.enqueue(broker, ids, lease=lease),
        enqueue_urgent=lambda ids: actors.enqueue(broker, ids, lease=lease, urgent=True),
        holding=ledger.holding,
        lost_after=LOST_AFTER_SECONDS,
        in_hands=ledger.in_hands,
        stuck_after=STUCK_AFTER_SECONDS,
        tick_seconds=settings.scheduler.tick_seconds,
        reconcile_after=settings.scheduler.reconcile_after_seconds,
        lease=lease,
        is_paused=default_pause_hooks().is_paused,
        clock=clock,
    )


def _print_summary(sessions: sessionmaker[Session], ids: set[int]) -> None:
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, select

    from workers.store.models import Dispatch

    table = Table(title=f"{len(ids)} dispatches processed")
    table.add_column("state")
    table.add_column("count", justify="right")
    with sessions() as session:
        rows = session.execute(
            select(Dispatch.state, func.count())
            .where(Dispatch.id.in_(ids))
            .group_by(Dispatch.state)
            .order_by(Dispatch.state)
        ).all()
    for state, count in rows:
        table.add_row(state, str(count))
    Console().print(table)


# -- iro dispatches ----------------------------------------------------------------------------

COLUMNS = ("id", "key", "kind", "channel", "state", "attempts", "due_at", "sent_at", "last_error")


def dispatches(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only failed and bounced.")] = False,
    fmt: Annotated[Format, typer.Option(
        "--format", metavar=format_metavar(tuple(Format)), help="Output format.",
    )] = Format.table,
    limit: Annotated[int, typer.Option(metavar="N", help="At most this many, newest first.")] = 200,
) -> None:
    """List dispatches (ids and references only) and why any failed."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from workers.store.models import Dispatch

    query = select(Dispatch).order_by(Dispatch.id.desc()).limit(limit)
    if failed:
        query = query.where(Dispatch.state.in_(("failed", "bounced")))
    with app_context(ctx).sessions() as session:
        rows = [_as_dict(d) for d in session.scalars(query)]
    _emit(rows, fmt)


def _as_dict(d: Any) -> dict[str, Any]:
    out = {c: getattr(d, c) for c in COLUMNS}
    for c in ("due_at", "sent_at"):
        out[c] = out[c].isoformat(timespec="seconds") if out[c] else ""
    out["last_error"] = out["last_error"] or ""
    return out


def _emit(rows: list[dict[str, Any]], fmt: Format) -> None:
    import csv
    import json
    import sys

    if fmt is Format.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*COLUMNS)
        for r in rows:
            table.add_row(*(str(r[c]) for c in COLUMNS))
        Console().print(table)


def retry(
    ctx: typer.Context,
    dispatch_id: Annotated[int | None, typer.Argument(
        metavar="[ID]", help="The dispatch's id, as `iro dispatches` lists it.",
    )] = None,
    failed: Annotated[bool, typer.Option(
        "--failed", help="Every failed dispatch (narrowed by --since and --reason), not one id.",
    )] = False,
    since: Annotated[str | None, typer.Option(
        metavar="DATE", help="With --failed: only those that failed on or after this day.",
    )] = None,
    reason: Annotated[str | None, typer.Option(
        metavar="TEXT", help="With --failed: only those whose last error contains this text.",
    )] = None,
) -> None:
    """Queue a failed (or stuck) dispatch again, or with --failed every failed one; the
    scheduler sends them on its next tick. Bounced letters need a corrected address first."""
    from workers.cli.options import optional_date
    from workers.core.clock import london_moment
    from workers.errors import BadInputError
    from workers.queue.retries import retry as retry_dispatch
    from workers.queue.retries import retry_failed

    if (dispatch_id is None) == (not failed):
        raise BadInputError("give one dispatch ID, or --failed (with --since / --reason)")
    if dispatch_id is not None and (since or reason):
        raise BadInputError("--since and --reason go with --failed, not with an ID")
    app = app_context(ctx)
    day = optional_date(since, "--since")
    with app.sessions() as session:
        if dispatch_id is not None:
            previous = retry_dispatch(session, dispatch_id, now=app.clock.now(), actor="cli")
            session.commit()
            typer.echo(f"dispatch {dispatch_id}: pending (was {previous}); "
                       "the scheduler will send it")
            return
        ids = retry_failed(session, now=app.clock.now(), actor="cli", reason=reason,
                           since=london_moment(day, dt.time(0)) if day else None)
        session.commit()
    typer.echo(f"{len(ids)} failed dispatches are pending again; the scheduler will send them"
               + (f": {', '.join(map(str, ids[:20]))}{' …' if len(ids) > 20 else ''}"
                  if ids else ""))


def resume(ctx: typer.Context) -> None:
    """Lift the pause set after an authentication failure; queued dispatches go again."""
    from sqlalchemy import update

    from workers.mail.pause import lift_pause
    from workers.store import audit
    from workers.store.models import Dispatch

    app = app_context(ctx)
    with app.sessions() as session:
        was_paused = lift_pause(session)
        now = app.clock.now()
        # back to pending, so the next tick enqueues them at once instead of after reconcile_after
        count = session.execute(
            update(Dispatch).where(Dispatch.state == "queued")
            .values(state="pending", due_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if was_paused:
            audit.record(session, "sending.resumed", "service", None, requeued=count)
        session.commit()
    typer.echo("sending resumed" if was_paused else "sending was not paused",)
    typer.echo(f"{count} queued dispatches will be sent on the scheduler's next tick")
