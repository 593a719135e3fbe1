"""`iro midway record`: the IRO's midway check between reviews (annual report 2013-14 §7.3).

Checks fall due on their own (the scheduler's midway scan plans them and reminds the IRO);
`iro deadlines` lists those due and overdue as "midway".
"""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import optional_date


def record(
    ctx: typer.Context,
    child_ref: Annotated[str, typer.Argument(metavar="CHILD", help="The child's reference.")],
    outcome: Annotated[str, typer.Option(
        "--outcome", metavar="on_track|concern",
        help="on_track: the decisions are being carried out; concern: they are not.")],
    note: Annotated[str, typer.Option("--note", metavar="TEXT",
                                      help="What you found (kept with the check).")] = "",
    escalate: Annotated[str | None, typer.Option(
        "--escalate", metavar="CATEGORY",
        help="With --outcome concern: raise an informal escalation in the same step "
             "(a rules.yaml escalation category, e.g. delay_in_review_decisions).")] = None,
    by: Annotated[str, typer.Option("--by", metavar="EMAIL",
                                    help="Who checked. Default: the child's IRO.")] = "",
    on: Annotated[str | None, typer.Option(
        "--on", metavar="DATE", help="The day of the check, YYYY-MM-DD [today].")] = None,
) -> None:
    """Record the midway check that follows CHILD's latest review: its reminders stop, and a
    concern can become an informal escalation at once (--escalate)."""
    from workers.cli.escalations import _service
    from workers.documents.contexts import Letterhead
    from workers.midway.service import record as record_check
    from workers.reviews.notices import NoticeConfig

    app = app_context(ctx)
    today = app.clock.today()
    day = optional_date(on, "--on") or today
    cfg = NoticeConfig(
        app.rules, app.directory, app.calendar, app.settings.templates_dir,
        app.settings.mailbox.display_name,
        letterhead=Letterhead.from_settings(app.settings.letterhead), clock=app.clock,
    )
    with app.sessions() as session:
        done = record_check(
            session, cfg, child_ref=child_ref, outcome=outcome, note=note, by=by, on=day,
            today=today, escalations=_service(app, session) if escalate else None,
            category=escalate,
        )
        session.commit()
    late = "" if day <= done.due_on else f" (due {done.due_on.isoformat()})"
    raised = f"; escalation ESC-{done.escalation_id} raised" if done.escalation_id else ""
    typer.echo(f"{child_ref}: midway check after {done.review_ref} recorded on {day.isoformat()}"
               f" as {outcome.replace('_', ' ')}{late}{raised}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Midway checks between reviews: record what the IRO found.",
                        no_args_is_help=True)
    group.command("record")(record)
    app.add_typer(group, name="midway")
