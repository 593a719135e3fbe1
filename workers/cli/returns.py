"""`iro returns`: who was sent what, reminded and returned; a posted return recorded; the inbox
messages left for a person; rates by role.

Output carries references, roles, codes and dates only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import optional_date


def register(app: typer.Typer) -> None:
    app.command("returns")(returns)


def returns(
    ctx: typer.Context,
    what: Annotated[str | None, typer.Argument(
        metavar="REVIEW_REF|record|unmatched",
        help="A review's returns; `record CODE` for a form that came by post; `unmatched` for "
             "inbox messages left for a person.")] = None,
    code: Annotated[str | None, typer.Argument(
        metavar="CODE", help="record: the reference code printed on the form.")] = None,
    received: Annotated[str | None, typer.Option("--received", metavar="DATE",
                                                 help="record: the day it came, YYYY-MM-DD "
                                                      "[today].")] = None,
    file: Annotated[Path | None, typer.Option("--file", metavar="FILE",
                                              help="record: the scanned form.")] = None,
    summary: Annotated[bool, typer.Option("--summary", help="Return rates by role.")] = False,
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="summary: reviews held from this day, "
                                                   "YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                            help="summary: to this day, inclusive.")] = None,
) -> None:
    """Consultation returns: per review, record a posted one, or rates by role (--summary)."""
    from workers.errors import BadInputError

    words = [w for w in (what, code) if w is not None]
    if summary:
        return _summary(ctx, start, end)
    if words[:1] == ["record"] and len(words) == 2:
        return _record(ctx, words[1], received, file)
    if words[:1] == ["unmatched"] and len(words) == 1:
        return _unmatched(ctx)
    if len(words) == 1:
        return _review(ctx, words[0])
    raise BadInputError("usage: iro returns REVIEW_REF | iro returns record CODE [--received D] "
                        "[--file F] | iro returns unmatched | "
                        "iro returns --summary --from D --to D")


def _record(ctx: typer.Context, code: str, received: str | None, file: Path | None) -> None:
    from workers.errors import BadInputError
    from workers.returns import service
    from workers.store.models import Review

    app = app_context(ctx)
    day = optional_date(received, "--received") or app.clock.today()
    if file is not None and not file.is_file():
        raise BadInputError(f"--file {file}: no such file")
    with app.sessions() as session:
        letter = service.dispatch_by_code(session, code)
        review = session.get(Review, letter.review_id)
        assert review is not None
        kept = (service.keep_file(app.settings.documents_dir, letter, review, file.name,
                                  file.read_bytes()) if file else None)
        done = service.record_return(session, letter, received_on=day, channel="post",
                                     file_path=kept, actor="cli")
        session.commit()
    typer.echo(f"form {done.code} recorded as returned on {day.isoformat()}"
               + (f"; {done.reminders_called_off} reminders called off"
                  if done.reminders_called_off else ""))


def _review(ctx: typer.Context, review_ref: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from workers.core.clock import LONDON
    from workers.returns.report import review_returns

    with app_context(ctx).sessions() as session:
        rows, rate = review_returns(session, review_ref)
    table = Table(title=f"Returns for review {review_ref}")
    for col in ("participant", "role", "channel", "form", "state", "sent", "reminded",
                "returned"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.participant_ref, r.role, r.channel, r.form_code or "-", r.state,
                      r.sent_at.astimezone(LONDON).date().isoformat() if r.sent_at else "",
                      ", ".join(d.isoformat() for d in r.reminded),
                      f"{r.returned_on.isoformat()} ({r.returned_by})" if r.returned_on else "")
    console = Console()
    console.print(table)
    shown = f"{rate.rate:.0%}" if rate.rate is not None else "n/a (no form sent yet)"
    console.print(f"return rate: {rate.returned} of {rate.sent} forms sent ({shown})")


def _summary(ctx: typer.Context, start: str | None, end: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from workers.errors import BadInputError
    from workers.returns.report import summary

    first, last = optional_date(start, "--from"), optional_date(end, "--to")
    if first is None or last is None or first > last:
        raise BadInputError("--summary needs --from and --to (YYYY-MM-DD), --from first")
    with app_context(ctx).sessions() as session:
        rates = summary(session, first, last)
    table = Table(title=f"Return rates by role, reviews {first} to {last}")
    for col in ("role", "forms sent", "returned", "rate"):
        table.add_column(col)
    for r in rates:
        table.add_row(r.role, str(r.sent), str(r.returned),
                      f"{r.rate:.0%}" if r.rate is not None else "")
    Console().print(table)


def _unmatched(ctx: typer.Context) -> None:
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import select

    from workers.store.models import AuditEvent

    with app_context(ctx).sessions() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "inbox.unmatched")
                                 .order_by(AuditEvent.at)).all()
        rows = [(e.details.get("received_at") or f"{e.at:%Y-%m-%dT%H:%M}",
                 e.details.get("sent_at") or "", e.details.get("sender_domain") or "",
                 str(e.details.get("attachments", "")), e.details.get("reason", ""),
                 e.details.get("message_id", "")) for e in events]
    if not rows:
        typer.echo("no unmatched inbox messages")
        return
    # Sender's domain and dates only: the sender's name and the subject may name a child.
    table = Table(title="Inbox messages left for a person")
    for col in ("received", "sent", "sender domain", "attachments", "why", "Message-ID"):
        table.add_column(col, overflow="fold")
    for received, sent, domain, attachments, reason, message_id in rows:
        table.add_row(str(received)[:16].replace("T", " "), str(sent)[:16].replace("T", " "),
                      domain, attachments, reason, message_id)
    Console(width=160).print(table)
