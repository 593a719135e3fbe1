"""`iro correct held|return|posted`: a date entered wrongly, corrected by the review's IRO, an IRO
manager or business support (issue 16 §5), the clocks recomputed, old and new in the audit.

Who may is read from the actor (``--actor`` or ``IRO_ACTOR``): their web account's role, or their
place in directory.yaml.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.actor import ActorOption, actor_of
from workers.cli.context import app_context
from workers.cli.options import parse_date

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workers.casework.redate import Corrector

correct_app = typer.Typer(help="Correct a date entered wrongly (audited, old and new).",
                          no_args_is_help=True)
NewDate = Annotated[str, typer.Option("--date", metavar="DATE", help="The right day, YYYY-MM-DD.")]


@correct_app.command("held")
def held(
    ctx: typer.Context,
    review_ref: Annotated[str, typer.Argument(
        metavar="REVIEW_REF", help="The review, as `iro caseload` lists it.")],
    date: NewDate,
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="The day is right, though before the previous review, far from the "
        "planned meeting, or not a working day.")] = False,
    actor: ActorOption = None,
) -> None:
    """The day a review was held: the write-up deadlines and their notices, the next review's
    date and invitation day and the midway check follow it."""
    from workers.casework.redate import correct_held, corrector

    app = app_context(ctx)
    with app.sessions() as session:
        done = correct_held(session, app.rules, app.directory, app.calendar, review_ref,
                            parse_date(date, "--date"),
                            who=corrector(session, app.directory, actor_of(actor)),
                            today=app.clock.today(), now=app.clock.now(), confirm=confirm)
        session.commit()
    typer.echo(f"review {done.review_ref}: held {done.old.isoformat()} → {done.new.isoformat()}")
    for line in done.lines():
        typer.echo(f"  {line}")


@correct_app.command("return")
def returned(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="FORM_CODE", help="The code on the form.")],
    date: NewDate,
    actor: ActorOption = None,
) -> None:
    """The day a consultation form came back."""
    from workers.casework.redate import correct_return

    old, new = _correct(ctx, actor, lambda s, who, today: correct_return(
        s, code, parse_date(date, "--date"), who=who, today=today))
    typer.echo(f"form {code}: returned {old.isoformat()} → {new.isoformat()}")


@correct_app.command("posted")
def posted(
    ctx: typer.Context,
    batch_id: Annotated[int, typer.Argument(
        metavar="BATCH_ID", help="The print batch, as `iro print-batch` printed it.")],
    date: NewDate,
    actor: ActorOption = None,
) -> None:
    """The day a print batch was posted: the batch and its letters' sent dates."""
    from workers.casework.redate import correct_posted

    old, new = _correct(ctx, actor, lambda s, who, today: correct_posted(
        s, batch_id, parse_date(date, "--date"), who=who, today=today))
    typer.echo(f"print batch {batch_id}: posted {old.isoformat()} → {new.isoformat()}")


def _correct(ctx: typer.Context, actor: str | None,
             apply: Callable[[Session, Corrector, dt.date], tuple[dt.date, dt.date]]
             ) -> tuple[dt.date, dt.date]:
    """One correction in one transaction, by the actor with their roles."""
    from workers.casework.redate import corrector

    app = app_context(ctx)
    with app.sessions() as session:
        done = apply(session, corrector(session, app.directory, actor_of(actor)),
                     app.clock.today())
        session.commit()
    return done


def register(app: typer.Typer) -> None:
    app.add_typer(correct_app, name="correct")
