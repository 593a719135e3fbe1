"""`iro returns` for a person's steps on one return or inbox message (issue 16 §3): record a
posted return after checking it against the paper, undo one, confirm an emailed one's sender,
and the unmatched inbox messages with their "dealt with" mark.

Output carries references, roles, codes and dates only; a sender's address is shown only to
the person confirming it, never logged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from workers.cli.context import app_context
from workers.cli.options import optional_date
from workers.errors import BadInputError
from workers.returns.changes import ReturnFacts


def show_facts(facts: ReturnFacts, received: str | None = None) -> None:
    """What to check against the paper (or the email) before a change is made."""
    typer.echo(f"form {facts.code}: review {facts.review_ref} (child {facts.child_initials}), "
               f"participant {facts.participant_ref}, role {facts.role.replace('_', ' ')}")
    if received:
        typer.echo(f"  received on {received}")
    if facts.received_on:
        typer.echo(f"  recorded as returned on {facts.received_on.isoformat()} by "
                   f"{facts.channel}" + (f" from {facts.sender}" if facts.sender else ""))


def checked(confirm: bool, question: str, what: str) -> None:
    """Go on with --confirm, or when a person at a terminal says yes; else nothing is done."""
    if confirm:
        return
    if sys.stdin.isatty() and typer.confirm(question, default=False):
        return
    raise BadInputError(f"nothing was {what}: check the review, participant and role above "
                        "against the paper and run again with --confirm")


def record(ctx: typer.Context, code: str, received: str | None, file: Path | None,
           confirm: bool, actor: str) -> None:
    from workers.returns.changes import facts as facts_of
    from workers.returns.posted import check_posted, record_posted
    from workers.store.models import Review

    app = app_context(ctx)
    day = optional_date(received, "--received") or app.clock.today()
    if file is not None and not file.is_file():
        raise BadInputError(f"--file {file}: no such file")
    with app.sessions() as session:
        letter, _, facts = facts_of(session, code)
        check_posted(session, letter, day, app.clock.today())
        show_facts(facts, day.isoformat())
        checked(confirm, "Does the paper show this review, participant and role?", "recorded")
        review = session.get(Review, letter.review_id)
        assert review is not None
        done = record_posted(session, app.settings.documents_dir, letter, review,
                             received_on=day, scan=(file.name, file.read_bytes()) if file else None,
                             actor=actor)
    typer.echo(f"form {done.code} recorded as returned on {day.isoformat()}"
               + (f"; {done.reminders_called_off} reminders called off"
                  if done.reminders_called_off else "")
               + f"; undo with `iro returns undo {done.code} --reason TEXT`")


def undo(ctx: typer.Context, code: str, reason: str | None, confirm: bool, actor: str) -> None:
    from workers.returns.changes import facts as facts_of
    from workers.returns.changes import undo as undo_return

    app = app_context(ctx)
    if not (reason or "").strip():
        raise BadInputError("undo needs --reason TEXT (why; kept in the audit, no names)")
    with app.sessions() as session:
        show_facts(facts_of(session, code)[2])
        checked(confirm, "Undo this return?", "undone")
        done = undo_return(session, code, reason=reason or "", now=app.clock.now(), actor=actor)
        session.commit()
    typer.echo(f"the return of form {done.facts.code} was undone: it counts as not returned"
               + (f"; {done.reminders} reminders planned again" if done.reminders else ""))
    if done.file_path:
        typer.echo(f"  its file stays with the case: {done.file_path}")


def confirm_sender(ctx: typer.Context, code: str, actor: str) -> None:
    from workers.returns.changes import confirm_sender as confirm_it

    app = app_context(ctx)
    with app.sessions() as session:
        facts = confirm_it(session, code, now=app.clock.now(), actor=actor)
        session.commit()
    typer.echo(f"the return of form {facts.code} is confirmed as {facts.participant_ref}'s")


def to_confirm(ctx: typer.Context) -> None:
    from rich.console import Console
    from rich.table import Table

    from workers.returns.changes import to_confirm as waiting

    with app_context(ctx).sessions() as session:
        rows = waiting(session)
    if not rows:
        typer.echo("no returns wait for their sender to be confirmed")
        return
    table = Table(title="Returns filed from an address that is not the participant's")
    for col in ("form", "review", "participant", "role", "received", "sender"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(r.code, r.review_ref, r.participant_ref, r.role,
                      r.received_on.isoformat() if r.received_on else "", r.sender or "unknown")
    Console(width=160).print(table)
    typer.echo("when it is theirs: iro returns confirm CODE; when it is not: "
               "iro returns undo CODE --reason TEXT")


def list_unmatched(ctx: typer.Context, everything: bool, page: int, *, reason: str | None = None,
                   start: str | None = None, end: str | None = None,
                   search: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from workers.returns.unmatched import REASONS, Wanted, listed

    per_page = 50
    wanted = Wanted(show="all" if everything else "waiting", reason=(reason or "").strip(),
                    first=optional_date(start, "--from"), last=optional_date(end, "--to"),
                    search=" ".join((search or "").split()))
    with app_context(ctx).sessions() as session:
        rows, total = listed(session, wanted, offset=(page - 1) * per_page, limit=per_page)
    if not total:
        filtered = wanted.reason or wanted.first or wanted.last or wanted.search
        typer.echo("no unmatched inbox messages" + ("" if everything else " waiting")
                   + (" that match" if filtered else ""))
        return
    pages = -(-total // per_page)
    # Sender's domain and dates only: the sender's name and the subject may name a child.
    table = Table(title=f"Inbox messages left for a person (page {page} of {pages}, "
                        f"{total} in all)")
    for col in ("id", "received", "sent", "sender domain", "attachments", "why", "codes",
                "Message-ID", "dealt with"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(str(r.id), f"{r.received_at:%Y-%m-%d %H:%M}" if r.received_at else "",
                      f"{r.sent_at:%Y-%m-%d %H:%M}" if r.sent_at else "", r.sender_domain,
                      str(r.attachments), REASONS.get(r.reason, r.reason), r.codes, r.message_id,
                      f"{r.dealt_with_at:%Y-%m-%d} {r.dealt_with_by}" if r.dealt_with_at else "")
    Console(width=180).print(table)
    if not everything:
        typer.echo("once read and dealt with in the mailbox: iro returns dealt-with ID")


def dealt_with(ctx: typer.Context, item: str, note: str | None, actor: str) -> None:
    from workers.cli.options import parse_int
    from workers.returns.unmatched import dealt_with as mark

    app = app_context(ctx)
    with app.sessions() as session:
        row = mark(session, parse_int(item, "ID", 1, 2**31 - 1), now=app.clock.now(),
                   actor=actor, note=note or "")
        session.commit()
        typer.echo(f"unmatched message {row.id} marked dealt with")
