"""`iro returns`: who was sent what, reminded and returned; rates by role; and a person's steps
(a posted return recorded or undone, a sender confirmed, the unmatched inbox messages dealt with)
in ``workers.cli.returns_changes``.

Output carries references, roles, codes and dates only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.cli.actor import ActorOption, actor_of
from workers.cli.context import app_context
from workers.cli.options import optional_date


def register(app: typer.Typer) -> None:
    app.command("returns")(returns)


def returns(
    ctx: typer.Context,
    what: Annotated[str | None, typer.Argument(
        metavar="REVIEW_REF|record|undo|confirm|to-confirm|unmatched|dealt-with",
        help="A review's returns; `record CODE` for a form that came by post (checked against "
             "the paper first); `undo CODE --reason` for one recorded in error; `confirm CODE` "
             "for an emailed one from an address not the participant's; `to-confirm` lists "
             "those; `unmatched` for inbox messages left for a person; `dealt-with ID`.")] = None,
    code: Annotated[str | None, typer.Argument(
        metavar="CODE|ID", help="The reference code printed on the form, or the unmatched "
                                "message's id.")] = None,
    received: Annotated[str | None, typer.Option("--received", metavar="DATE",
                                                 help="record: the day it came, YYYY-MM-DD "
                                                      "[today].")] = None,
    file: Annotated[Path | None, typer.Option("--file", metavar="FILE",
                                              help="record: the scanned form (PDF, JPEG or "
                                                   "PNG, up to 10 MB), kept with the case.")
                ] = None,
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="record, undo: the review, participant and role shown were checked "
                          "against the paper (else you are asked).")] = False,
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="TEXT",
        help="undo: why (kept in the audit; no names). unmatched: only those not filed for "
             "this reason: no_code, several_codes, already_returned, before_sent, "
             "not_sent, bounce_unmatched.")] = None,
    note: Annotated[str | None, typer.Option(
        "--note", metavar="TEXT", help="dealt-with: what was done (no names).")] = None,
    everything: Annotated[bool, typer.Option(
        "--all", help="unmatched: those dealt with too.")] = False,
    search: Annotated[str | None, typer.Option(
        "--search", metavar="TEXT", help="unmatched: only those whose form codes quoted, "
                                         "sender's domain or Message-ID hold TEXT.")] = None,
    page: Annotated[int, typer.Option(
        "--page", min=1, metavar="N", help="unmatched: the page, 50 a page.")] = 1,
    actor: ActorOption = None,
    summary: Annotated[bool, typer.Option("--summary", help="Return rates by role.")] = False,
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="summary: reviews held from this day; "
                                                   "unmatched: received from this day "
                                                   "(London), YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                            help="summary, unmatched: to this day, "
                                                 "inclusive.")] = None,
) -> None:
    """Consultation returns: per review, record or undo a posted one, confirm a sender, the
    unmatched inbox messages, or rates by role (--summary)."""
    from workers.cli import returns_changes as change
    from workers.errors import BadInputError

    words = [w for w in (what, code) if w is not None]
    verb, arg = (words + [None, None])[:2]
    if summary:
        return _summary(ctx, start, end)
    if len(words) == 2 and arg is not None:
        if verb == "record":
            return change.record(ctx, arg, received, file, confirm, actor_of(actor))
        if verb == "undo":
            return change.undo(ctx, arg, reason, confirm, actor_of(actor))
        if verb == "confirm":
            return change.confirm_sender(ctx, arg, actor_of(actor))
        if verb == "dealt-with":
            return change.dealt_with(ctx, arg, note, actor_of(actor))
    if words == ["unmatched"]:
        return change.list_unmatched(ctx, everything, page, reason=reason, start=start,
                                     end=end, search=search)
    if words == ["to-confirm"]:
        return change.to_confirm(ctx)
    if len(words) == 1 and verb not in VERBS:
        return _review(ctx, words[0])
    raise BadInputError("usage: iro returns REVIEW_REF | iro returns record CODE [--received D] "
                        "[--file F] [--confirm] | iro returns undo CODE --reason TEXT "
                        "[--confirm] | iro returns confirm CODE | iro returns to-confirm | "
                        "iro returns unmatched [--all] [--reason R] [--from D] [--to D] "
                        "[--search T] [--page N] | iro returns dealt-with ID "
                        "[--note TEXT] | iro returns --summary --from D --to D")


VERBS = ("record", "undo", "confirm", "dealt-with", "unmatched", "to-confirm")


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
                      (f"{r.returned_on.isoformat()} ({r.returned_by})"
                       + (", sender to confirm" if r.needs_confirmation else ""))
                      if r.returned_on else "")
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
