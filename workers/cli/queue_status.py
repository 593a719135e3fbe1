"""`iro dispatches status`: what to monitor — the pause flag, the mail server's back-off, dispatches
by state, and the queues.

Exit codes for monitoring scripts: 0 all well; 3 sending is paused (a person must fix the
credentials and run `iro dispatches resume`); 4 there are failed dispatches or dead letters.
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
    """Sending paused?, the mail server's back-off, dispatches by state, and the queues (waiting,
    urgent, retrying, dead letters, live workers)."""
    import json

    from sqlalchemy import func, select

    from workers import actors
    from workers.broker import make_broker, queue_health
    from workers.mail import pause
    from workers.mail.backoff import make_backoff
    from workers.store.models import Dispatch, utcnow

    context = app_context(ctx)
    with context.sessions() as session:
        paused = pause.state(session)
        states = {str(s): int(n) for s, n in session.execute(
            select(Dispatch.state, func.count()).group_by(Dispatch.state))}
    broker = make_broker(context.settings)
    settings = context.settings
    queue = queue_health(broker, actors.QUEUE, actors.URGENT_QUEUE) if settings.redis_url else None
    # Without Redis each process keeps its own back-off: there is none to show from here.
    backoff = (round(make_backoff(settings).remaining(settings.mailbox.address, utcnow()), 1)
               if settings.redis_url else None)
    report: dict[str, Any] = {
        "paused": None if paused is None else {"since": paused.since.isoformat(timespec="seconds"),
                                               "reason": paused.reason},
        "backoff_seconds": backoff,
        "dispatches": states,
        "queue": queue,
    }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    if paused is not None:
        raise typer.Exit(EXIT_PAUSED)
    if states.get("failed", 0) or (queue or {}).get("dead_letters", 0):
        raise typer.Exit(EXIT_FAILURES)


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
    if report["queue"] is None:
        console.print("queue: in-process (no IRO_REDIS_URL)")
        return
    queue = Table("queue", "count")
    for name, count in report["queue"].items():
        queue.add_row(name.replace("_", " "), str(count))
    console.print(queue)
