"""`iro escalate …` and `iro escalations`: the IRO's dispute resolution, from the command line.

Notices are not sent here: each command plans dispatch rows and the workers send them (the store
is the truth). Heavy imports stay inside the commands so `iro --help` stays fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import AppContext, app_context
from workers.cli.options import check_format, format_metavar, optional_date
from workers.inputs.csvcells import safe_row

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workers.escalation.service import EscalationService
    from workers.store.models import Escalation

FORMATS = ("table", "csv", "json")
ON_OPTION = typer.Option("--on", metavar="DATE", help="The date it happened, YYYY-MM-DD [today].")
FORMAT_OPTION = typer.Option("--format", metavar=format_metavar(FORMATS), help="Output format.")
ID_ARGUMENT = typer.Argument(metavar="ID", help="The escalation's number (ESC-<ID>).")


def _service(app: AppContext, session: Session) -> EscalationService:
    from workers.escalation.policy import Policy
    from workers.escalation.service import EscalationService

    policy = Policy.from_rules(app.rules.escalation, app.calendar)
    return EscalationService(session, policy, app.directory, clock=app.clock)


def _run(
    ctx: typer.Context,
    on: str | None,
    action: str,
    fn: Callable[[EscalationService, dt.date | None], Escalation],
) -> None:
    """Open a session, run ``fn(service, --on)``, commit; keep the audit of a refusal and
    re-raise."""
    from workers.errors import RefusedError
    from workers.escalation.service import commit_refusal, escalation_ref

    app = app_context(ctx)
    day = optional_date(on, "--on")
    with app.sessions() as session:
        svc = _service(app, session)
        try:
            row = fn(svc, day)
        except RefusedError:
            commit_refusal(session)
            raise
        session.commit()
        due = f"; response due {row.response_due_on}" if row.response_due_on else ""
        typer.echo(
            f"{escalation_ref(row.id)} {action}: stage {row.stage}, {row.status}{due}; "
            f"{len(svc.planned)} notice(s) planned"
        )


def raise_cmd(
    ctx: typer.Context,
    child_ref: Annotated[str, typer.Argument(metavar="CHILD_REF", help="The child's reference.")],
    concern: Annotated[str, typer.Option("--concern", metavar="TEXT", help="What the concern is.")],
    category: Annotated[
        str, typer.Option("--category", metavar="CATEGORY", help="A category from rules.yaml.")
    ],
    stage: Annotated[
        str | None,
        typer.Option("--stage", metavar="STAGE", help="Start at this stage [the first]."),
    ] = None,
    review: Annotated[
        str | None, typer.Option("--review", metavar="REVIEW_REF", help="The review it arose at.")
    ] = None,
    iro: Annotated[
        str | None, typer.Option("--iro", metavar="EMAIL", help="Default: the child's IRO.")
    ] = None,
    on: Annotated[str | None, ON_OPTION] = None,
) -> None:
    """Raise an escalation and plan its stage notice to the stage's recipients."""
    _run(
        ctx,
        on,
        "raised",
        lambda svc, day: svc.raise_(
            child_ref,
            concern=concern,
            category=category,
            stage=stage,
            review_ref=review,
            iro_email=iro,
            on=day,
        ),
    )


def respond(
    ctx: typer.Context,
    escalation_id: Annotated[int, ID_ARGUMENT],
    text: Annotated[str, typer.Option("--text", metavar="TEXT", help="The manager's response.")],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Who responded.")] = "",
    on: Annotated[str | None, ON_OPTION] = None,
) -> None:
    """Record a manager's response at the current stage."""
    _run(ctx, on, "response recorded",
         lambda svc, day: svc.respond(escalation_id, text=text, by=by, on=day))


def advance(
    ctx: typer.Context,
    escalation_id: Annotated[int, ID_ARGUMENT],
    to: Annotated[
        str | None, typer.Option("--to", metavar="STAGE", help="Bypass to this later stage.")
    ] = None,
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Default: the IRO.")] = "",
    on: Annotated[str | None, ON_OPTION] = None,
) -> None:
    """Move to the next stage (or bypass to --to), planning that stage's notice."""
    _run(ctx, on, "advanced", lambda svc, day: svc.advance(escalation_id, to=to, by=by, on=day))


def resolve(
    ctx: typer.Context,
    escalation_id: Annotated[int, ID_ARGUMENT],
    outcome: Annotated[
        str, typer.Option("--outcome", metavar="TEXT", help="How it was resolved.")
    ],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="The IRO or IRO manager.")],
    on: Annotated[str | None, ON_OPTION] = None,
) -> None:
    """Close it. Only the IRO who raised it, or the IRO manager, may; others are refused."""
    _run(ctx, on, "resolved", lambda svc, day: svc.resolve(escalation_id, outcome=outcome, by=by,
                                                        on=day))


def refer_cafcass(
    ctx: typer.Context,
    escalation_id: Annotated[int, ID_ARGUMENT],
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Default: the IRO.")] = "",
    on: Annotated[str | None, ON_OPTION] = None,
) -> None:
    """Refer to CAFCASS, alongside the internal process (the stage does not change)."""
    _run(ctx, on, "referred to CAFCASS",
         lambda svc, day: svc.refer_cafcass(escalation_id, by=by, on=day))


def escalations(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only open escalations.")] = False,
    child: Annotated[
        str | None, typer.Option("--child", metavar="CHILD_REF", help="Only this child's.")
    ] = None,
    fmt: Annotated[str, FORMAT_OPTION] = "table",
    on: Annotated[
        str | None,
        typer.Option("--on", metavar="DATE", help="Count up to this date, YYYY-MM-DD [today]."),
    ] = None,
) -> None:
    """List escalations with stage, working days at stage and in total."""
    if ctx.invoked_subcommand is not None:
        return
    check_format(fmt, FORMATS)
    from sqlalchemy import select

    from workers.escalation.views import LIST_FIELDS, list_row
    from workers.store.models import Child, Escalation

    app = app_context(ctx)
    today = optional_date(on, "--on") or app.clock.today()
    with app.sessions() as session:
        svc = _service(app, session)
        query = select(Escalation, Child.ref).join(Child, Child.id == Escalation.child_id)
        if open_only:
            query = query.where(Escalation.status == "open")
        if child:
            query = query.where(Child.ref == child)
        rows = [
            list_row(svc.policy, esc, ref, today).as_dict()
            for esc, ref in session.execute(query.order_by(Escalation.id))
        ]
    _print(rows, list(LIST_FIELDS), fmt, "Escalations")


def _print(rows: list[dict[str, object]], fields: list[str], fmt: str, title: str) -> None:
    if fmt == "json":
        import json

        typer.echo(json.dumps(rows, indent=2))
    elif fmt == "csv":
        import csv
        import sys

        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(safe_row(row) for row in rows)  # formula-safe for Excel
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for name in fields:
            table.add_column(name.replace("_", " "))
        for row in rows:
            table.add_row(*(str(row[name]) for name in fields))
        Console(width=200).print(table)


def show(
    ctx: typer.Context,
    escalation_id: Annotated[int, ID_ARGUMENT],
    fmt: Annotated[str, FORMAT_OPTION] = "table",
) -> None:
    """The history of one escalation: every step, with who and when."""
    check_format(fmt, FORMATS)
    from dataclasses import asdict

    from workers.escalation.service import escalation_ref
    from workers.escalation.views import history
    from workers.store.models import Child

    app = app_context(ctx)
    with app.sessions() as session:
        row = _service(app, session).get(escalation_id)
        lines = [asdict(x) for x in history(row)]
        title = f"{escalation_ref(row.id)} ({row.category}, {row.status})"
        # what the escalation is about: shown to the person at the terminal, never logged
        child = session.get(Child, row.child_id)
        summary = (
            f"child {child.ref if child else row.child_id}, raised "
            f"{row.raised_on} by {row.iro_email}; stage {row.stage}, response due "
            f"{row.response_due_on or '-'}\nconcern: {row.concern}"
        )
    if fmt == "table":
        from workers.escalation.wording import action_words

        typer.echo(summary)
        lines = [{**x, "action": action_words(str(x["action"]))} for x in lines]  # for people
    _print(lines, ["on", "action", "stage", "by", "text"], fmt, title)


def register(app: typer.Typer) -> None:
    escalate = typer.Typer(
        help="Raise and move on escalations (dispute resolution).", no_args_is_help=True
    )
    escalate.command("raise")(raise_cmd)
    escalate.command("respond")(respond)
    escalate.command("advance")(advance)
    escalate.command("resolve")(resolve)
    escalate.command("refer-cafcass")(refer_cafcass)
    app.add_typer(escalate, name="escalate")
    listing = typer.Typer(help="List escalations, or show one's history.")
    listing.callback(invoke_without_command=True)(escalations)
    listing.command("show")(show)
    app.add_typer(listing, name="escalations")
