"""`iro review held|recorded|decisions-sent|schedule` and `iro caseload`.

Heavy imports (SQLAlchemy, the store) stay inside the commands so `iro --help` stays fast.
Output names reviews and children by reference and initials only.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.actor import ActorOption, actor_of
from workers.cli.context import AppContext, app_context
from workers.cli.options import check_iro, parse_date
from workers.errors import BadInputError, ConfigError

if TYPE_CHECKING:
    from workers.reviews.caseload import Caseload

DateOption = Annotated[
    str, typer.Option("--date", metavar="DATE", help="The day it happened, YYYY-MM-DD.")
]
ReviewRef = Annotated[str, typer.Argument(metavar="REVIEW_REF", help="The review's reference.")]


def _check_store(app: AppContext) -> None:
    from workers.store.session import current_revision, display_url

    url = app.settings.database_url
    if current_revision(url) is None:
        raise ConfigError(
            f"the store at {display_url(url)} has no tables yet: run `iro db upgrade`"
        )


def held(
    ctx: typer.Context,
    review_ref: ReviewRef,
    date: DateOption,
    participation: Annotated[
        str | None,
        typer.Option("--participation", metavar="PN0..PN7", help="How the child took part."),
    ] = None,
    attended: Annotated[
        list[str] | None,
        typer.Option(
            "--attended",
            metavar="ROLE_OR_ID",
            help="Who came: a participant ref or a role (repeat the option).",
        ),
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="The date is right, though it is before the "
                           "previous review, far from the planned meeting, or not a working day.")
    ] = False,
    actor: ActorOption = None,
) -> None:
    """Record a review meeting: start the write-up clocks, send the draft record to the IRO,
    plan the reminders and plan the next review with its invitation round."""
    from workers.reviews.service import mark_held

    held_on = parse_date(date, "--date")
    app = app_context(ctx)
    _check_store(app)
    with app.sessions() as session:
        result = mark_held(
            session,
            app.rules,
            app.directory,
            app.calendar,
            review_ref,
            held_on,
            participation=participation,
            attended=attended or (),
            today=app.clock.today(),
            now=app.clock.now(),
            actor=actor_of(actor),
            confirm=confirm,
        )
        session.commit()
        review, plan = result.review, result.plan
        timing = (
            "in timescale"
            if plan.timeliness.in_timescale
            else f"OUT OF TIMESCALE, {plan.timeliness.days_late} days late"
        )
        typer.echo(f"review {review.ref} held {held_on.isoformat()} ({timing})")
        for clock in plan.clocks:
            reminders = ", ".join(d.isoformat() for d in clock.reminders) or "none"
            typer.echo(
                f"  {clock.kind} due {clock.due_on.isoformat()} (reminders {reminders}; "
                f"overdue notice {clock.overdue_on.isoformat()})"
            )
        typer.echo(f"  draft record to the IRO; {result.dispatches_planned} notices planned")
        if result.next_review is not None and plan.next is not None:
            typer.echo(
                f"  next review {result.next_review.ref} ({plan.next.kind}) due "
                f"{plan.next.due_on.isoformat()}; invitations from "
                f"{plan.next.invitations_on.isoformat()}"
            )
        else:
            typer.echo("  no next review: the child has ceased to be looked after")


def _stop(ctx: typer.Context, review_ref: str, date: str, kind: str, actor: str) -> None:
    from workers.reviews.service import stop_writeup

    met_on = parse_date(date, "--date")
    app = app_context(ctx)
    _check_store(app)
    with app.sessions() as session:
        stop = stop_writeup(session, app.calendar, review_ref, kind,  # type: ignore[arg-type]
                            met_on, today=app.clock.today(), actor=actor)
        session.commit()
    verdict = "in time" if stop.in_time else "LATE"
    typer.echo(
        f"review {review_ref}: {kind} {met_on.isoformat()}, "
        f"{stop.working_days_taken} working days after the meeting ({verdict})"
    )


RecordFile = Annotated[
    Path | None,
    typer.Option("--file", metavar="RECORD.docx",
                 help="The record with its decisions table filled: kept with the case, its "
                      "decisions read back."),
]


RecordedActor = Annotated[str | None, typer.Option(
    "--actor", "--by", metavar="EMAIL", envvar="IRO_ACTOR", show_envvar=True,
    help="Who is making this change, for the audit [IRO_ACTOR, else your login]; with "
         "--from-reply, the IRO chairing the review or the IRO manager.")]


def recorded(
    ctx: typer.Context,
    review_ref: ReviewRef,
    date: Annotated[str, typer.Option(
        "--date", metavar="DATE",
        help="The day it happened, YYYY-MM-DD (with --from-reply: the day it was emailed, "
             "unless given).")] = "",
    file: RecordFile = None,
    from_reply: Annotated[bool, typer.Option(
        "--from-reply",
        help="Confirm the record the IRO emailed back (a reply to the draft email, held "
             "until confirmed): kept and read as --file would.")] = False,
    actor: RecordedActor = None,
) -> None:
    """The review record was written: stop its clock; with --file, keep the record and read its
    decisions table into the store (the next review's draft carries them); with --from-reply,
    the same for the record the IRO emailed back."""
    if from_reply:
        from workers.cli.record_reply import confirm_reply

        if file is not None:
            raise BadInputError("give --file or --from-reply, not both")
        app = app_context(ctx)
        _check_store(app)
        confirm_reply(app, review_ref, parse_date(date, "--date") if date else None,
                      actor_of(actor))
        return
    if not date:
        raise BadInputError("--date is needed: the day the record was written (YYYY-MM-DD)")
    if file is None:
        _stop(ctx, review_ref, date, "record", actor_of(actor))
        return
    _returned(ctx, review_ref, date, file, "record", actor_of(actor))


def _returned(ctx: typer.Context, review_ref: str, date: str, file: Path, kind: str,
              actor: str) -> None:
    from workers.errors import RecordUnreadableError
    from workers.reviews.returned_record import record_returned

    written_on = parse_date(date, "--date")
    if not file.is_file():
        raise BadInputError(f"--file {file}: no such file")
    app = app_context(ctx)
    _check_store(app)
    with app.sessions() as session:
        done = record_returned(
            session, app.calendar, app.settings.documents_dir, review_ref,
            written_on=written_on, name=file.name, content=file.read_bytes(),
            today=app.clock.today(), actor=actor, kind=kind,  # type: ignore[arg-type]
        )
        session.commit()
    if done.clock_stopped:
        verdict = "in time" if done.in_time else "LATE"
        typer.echo(f"review {done.review_ref}: {kind} {written_on.isoformat()}, "
                   f"{done.working_days_taken} working days after the meeting ({verdict})")
    typer.echo(f"review {done.review_ref}: {kind} kept at {done.kept_at}")
    if done.problem:
        raise RecordUnreadableError(
            f"{done.problem}. No decisions were stored for {done.review_ref}; the file is kept, "
            f"and `iro review {'recorded' if kind == 'record' else 'decisions-sent'}` with "
            "--file again reads a corrected one"
        )
    typer.echo(f"review {done.review_ref}: {done.decisions} decision(s) read from the {kind}")


def decisions_sent(
    ctx: typer.Context,
    review_ref: ReviewRef,
    date: DateOption,
    file: RecordFile = None,
    actor: ActorOption = None,
    distribute: Annotated[
        bool, typer.Option("--distribute",
                           help="Then show who the decisions go to, as `iro review distribute "
                                "REF --decisions` does (nothing is sent without --confirm).")
    ] = False,
) -> None:
    """The review's decisions were sent out (within 5 working days; the record follows): stop
    their clock; with --file, keep the draft with its decisions table filled and read them into
    the store, so they are counted before the record comes."""
    if file is None:
        _stop(ctx, review_ref, date, "decisions", actor_of(actor))
    else:
        _returned(ctx, review_ref, date, file, "decisions", actor_of(actor))
    if distribute:
        from workers.cli.distribute import show
        from workers.cli.mailout import config_of
        from workers.reviews.distribution import distribute as plan

        app = app_context(ctx)
        shown = plan(app.sessions, config_of(app), review_ref, withhold={}, confirm=False,
                     actor=actor_of(actor), decisions=True)
        show(shown, True, again=f"run `iro review distribute {shown.review_ref} --decisions`")


def schedule(
    ctx: typer.Context,
    child_ref: Annotated[
        str, typer.Argument(metavar="CHILD_REF", help="The child's reference.")
    ],
    date: DateOption,
    time: Annotated[
        str, typer.Option("--time", metavar="HH:MM", help="Meeting time, London.")
    ] = "10:00",
) -> None:
    """Bring the child's next review forward (an earlier review); its statutory date stays."""
    from workers.reviews.service import schedule_early

    on = parse_date(date, "--date")
    try:
        at = dt.time.fromisoformat(time)
    except ValueError:
        raise BadInputError(f"--time: expected HH:MM, got {time!r}") from None
    app = app_context(ctx)
    _check_store(app)
    with app.sessions() as session:
        review = schedule_early(
            session, app.rules, app.calendar, child_ref, on, at=at, today=app.clock.today()
        )
        session.commit()
        typer.echo(
            f"review {review.ref} brought forward to {on.isoformat()} {at:%H:%M} "
            f"(statutory date {review.due_on.isoformat()})"
        )


def caseload(
    ctx: typer.Context,
    iro: Annotated[
        str | None, typer.Option("--iro", metavar="EMAIL", help="Only this IRO.")
    ] = None,
    output: Annotated[
        str, typer.Option("--format", metavar="table|json", help="Output format.")
    ] = "table",
    on: Annotated[
        str | None, typer.Option("--on", metavar="DATE", help="As of this date, not today.")
    ] = None,
) -> None:
    """Each IRO's children: next reviews, write-ups in progress, midway checks due and overdue
    items."""
    if output not in ("table", "json"):
        raise BadInputError(f"--format: expected table or json, got {output!r}")
    today = parse_date(on, "--on") if on else app_context(ctx).clock.today()
    from workers.reviews.caseload import as_json, caseloads
    from workers.store.deadline_queries import due_items

    app = app_context(ctx)
    check_iro(app.directory, iro, app.config_dir)
    _check_store(app)
    with app.sessions() as session:
        items = due_items(
            session, app.calendar, app.rules.review_timescales, today=today, iro_email=iro
        )
    loads = caseloads(items)
    if output == "json":
        typer.echo(json.dumps({"as_of": today.isoformat(), "iros": as_json(loads)}))
    else:
        _tables(loads, today)


def _tables(loads: list[Caseload], today: dt.date) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 160)
    if not loads:
        console.print(f"No children (as of {today.isoformat()}).")
    for load in loads:
        table = Table(
            title=f"{load.iro_email}: {len(load.children)} children, {load.overdue_count} overdue "
            f"(as of {today.isoformat()})",
            title_justify="left",
        )
        for name in ("Child", "Initials", "Next review", "Due", "Write-ups", "Midway check",
                     "Overdue"):
            table.add_column(name)
        for c in load.children:
            table.add_row(
                c.child_ref,
                c.initials,
                c.next_review_ref or "(not planned)",
                c.next_review_due.isoformat() if c.next_review_due else "",
                "\n".join(c.write_ups),
                "\n".join(c.midway),
                "\n".join(c.overdue),
                style="red" if c.overdue else None,
            )
        console.print(table)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="After a review meeting: held, decisions sent, record written, an earlier review.",
        no_args_is_help=True,
    )
    group.command("held")(held)
    group.command("recorded")(recorded)
    group.command("decisions-sent")(decisions_sent)
    group.command("schedule")(schedule)
    from workers.cli import casework  # a meeting moved or cancelled (issue 16)
    from workers.cli.distribute import distribute  # the record to those entitled (issue 15)

    casework.register_review(group)
    group.command("distribute")(distribute)
    from workers.cli.record_reply import discard_reply  # an emailed record, not theirs (issue 15)

    group.command("discard-reply")(discard_reply)
    app.add_typer(group, name="review")
    app.command("caseload")(caseload)
