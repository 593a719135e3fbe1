"""`iro dispatches status`: what to monitor — the pause flag, the mail server's back-off, dispatches
by state, the periodic jobs' last runs, and the queues.

Exit codes for monitoring scripts: 0 all well; 3 sending is paused (a person must fix the
credentials and run `iro dispatches resume`); 4 something needs a person: a letter failed or
bounced, a dead letter, a periodic job that failed or stopped running (its scheduler died or cannot
reach the database), or no live worker on the Redis queue.
Heavy imports stay inside the command so `iro --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workers.cli.context import app_context

EXIT_PAUSED = 3
EXIT_FAILURES = 4


def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Sending paused?, the mail server's back-off, dispatches by state, each periodic job's last
    run, and the queues (waiting, urgent, retrying, dead letters, live workers). Exits 3 when
    paused, 4 when something needs a person (see the README's "what to monitor")."""
    import json

    from sqlalchemy import func, select

    from workers.mail import pause
    from workers.mail.backoff import make_backoff
    from workers.queue import actors
    from workers.queue.broker import make_broker, queue_health
    from workers.store.models import Dispatch

    context = app_context(ctx)
    now = context.clock.now()
    with context.sessions() as session:
        paused = pause.state(session)
        states = {str(s): int(n) for s, n in session.execute(
            select(Dispatch.state, func.count()).group_by(Dispatch.state))}
        jobs = _jobs(session, context.settings.scheduler.tick_seconds, now)
    broker = make_broker(context.settings)
    settings = context.settings
    queue = queue_health(broker, actors.QUEUE, actors.URGENT_QUEUE) if settings.redis_url else None
    # Without Redis each process keeps its own back-off: there is none to show from here.
    backoff = (round(make_backoff(settings).remaining(settings.mailbox.address, now), 1)
               if settings.redis_url else None)
    report: dict[str, Any] = {
        "paused": None if paused is None else {"since": paused.since.isoformat(timespec="seconds"),
                                               "reason": paused.reason},
        "backoff_seconds": backoff,
        "dispatches": states,
        "jobs": jobs,
        "queue": queue,
    }
    problems = _problems(states, jobs, queue)
    report["problems"] = problems
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if paused is not None:
        raise typer.Exit(EXIT_PAUSED)
    if problems:
        raise typer.Exit(EXIT_FAILURES)


def _jobs(session: Any, tick_seconds: float, now: Any) -> list[dict[str, Any]]:
    """Every periodic job with its last run and whether it is stale (workers.queue.loops)."""
    from workers.queue.assembly import install
    from workers.queue.loops import is_stale, last_runs
    from workers.queue.scheduler import registered_jobs

    install()
    runs = last_runs(session)
    out = []
    for job in sorted(registered_jobs(), key=lambda j: j.name):
        period = job.period or tick_seconds
        last = runs.get(job.name)
        out.append({
            "job": job.name,
            "every_seconds": period,
            "last_run": last.at.isoformat(timespec="seconds") if last else None,
            "seconds_ago": round((now - last.at).total_seconds()) if last else None,
            "failed": last.error if last and not last.ok else None,
            "stale": is_stale(last, period, now),
        })
    return out


def _problems(states: dict[str, int], jobs: list[dict[str, Any]],
              queue: dict[str, int] | None) -> list[str]:
    """What a person must look at, one line each (empty: all well)."""
    out = [f"{states[s]} {s} dispatches: see `iro dispatches --failed`"
           for s in ("failed", "bounced") if states.get(s)]
    for job in jobs:
        if job["stale"]:
            when = f"last ran {job['seconds_ago']} s ago" if job["last_run"] else "never ran"
            out.append(f"periodic job {job['job']} {when}: is `iro scheduler` running and "
                       "reaching the database?")
        elif job["failed"]:
            out.append(f"periodic job {job['job']} failed on its last run ({job['failed']}): "
                       "see the scheduler's log")
    if queue is not None:
        if queue.get("dead_letters"):
            out.append(f"{queue['dead_letters']} dead letters on the queue")
        if not queue.get("live_workers"):
            out.append("no live `iro worker` on the queue: start the workers")
    return out


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    paused = report["paused"]
    console.print(f"sending paused since {paused['since']}: {paused['reason']}" if paused
                  else "sending: not paused")
    if report["backoff_seconds"]:
        console.print(f"mail server back-off: every worker waits {report['backoff_seconds']:g} s "
                      "more (the server asked; nothing fails)")
    table = Table("dispatches", "count")
    for state, count in sorted(report["dispatches"].items()):
        table.add_row(state, str(count))
    console.print(table)
    jobs = Table("periodic job", "every", "last run", "state")
    for job in report["jobs"]:
        state = ("STALE" if job["stale"] else f"failed ({job['failed']})" if job["failed"]
                 else "ok")
        last = f"{job['last_run']} ({job['seconds_ago']} s ago)" if job["last_run"] else "never"
        jobs.add_row(job["job"], f"{job['every_seconds']:g} s", last, state)
    console.print(jobs)
    if report["queue"] is None:
        console.print("queue: in-process (no IRO_REDIS_URL)")
    else:
        queue = Table("queue", "count")
        for name, count in report["queue"].items():
            queue.add_row(name.replace("_", " "), str(count))
        console.print(queue)
    for problem in report["problems"]:
        console.print(f"[bold red]needs a person:[/] {problem}", highlight=False)
