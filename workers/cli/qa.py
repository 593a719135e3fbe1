"""`iro qa`: the IRO manager's quality assurance (annual report 2013-14 §9.2-9.3): chairing
observations and record audits against the agreed standards in config/audit.yaml.

Output names IROs by name and reviews by reference; notes are never printed back.
"""

from __future__ import annotations

from typing import Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import optional_date

qa_app = typer.Typer(help="Quality assurance: chairing observations and record audits.",
                     no_args_is_help=True)

ByOption = Annotated[str, typer.Option(
    "--by", metavar="EMAIL", help="Who did it (the audit names them). Default: the IRO "
                                  "manager in directory.yaml.")]
OnOption = Annotated[str | None, typer.Option("--on", metavar="DATE",
                                              help="The day, YYYY-MM-DD [today].")]
NoteOption = Annotated[str, typer.Option("--note", metavar="TEXT",
                                         help="For the manager's own file (not in the audit).")]


@qa_app.command("observe")
def observe(
    ctx: typer.Context,
    iro: Annotated[str, typer.Argument(metavar="IRO", help="The IRO's email (directory.yaml).")],
    on: OnOption = None,
    review: Annotated[str | None, typer.Option(
        "--review", metavar="REF", help="The review they chaired (held that day).")] = None,
    note: NoteOption = "",
    by: ByOption = "",
) -> None:
    """Record that IRO was observed chairing a review (each IRO at least once a year)."""
    from workers.qa.due import next_due
    from workers.qa.service import record_observation
    from workers.qa.standards import load_audit

    app = app_context(ctx)
    today = app.clock.today()
    day = optional_date(on, "--on") or today
    months = load_audit(app.config_dir / "audit.yaml").observation_months
    with app.sessions() as session:
        row = record_observation(session, app.directory, iro_email=iro, on=day, today=today,
                                 by=by or app.directory.iro_manager.email, note=note,
                                 review_ref=review)
        session.commit()
        email = row.iro_email
    name = app.directory.iro_names().get(email, email)
    again = next_due(day, months)
    typer.echo(f"observation of {name} on {day.isoformat()} recorded; next due by "
               f"{again.isoformat() if again else '?'}")


@qa_app.command("audit")
def audit_record(
    ctx: typer.Context,
    review: Annotated[str, typer.Argument(metavar="REVIEW_REF",
                                          help="The review whose record was audited.")],
    standard: Annotated[list[str], typer.Option(
        "--standard", metavar="KEY=met|partly|not_met",
        help="A standard of config/audit.yaml and its rating; repeat for each standard.")],
    on: OnOption = None,
    note: NoteOption = "",
    by: ByOption = "",
) -> None:
    """Record an audit of a review record against the agreed standards (config/audit.yaml)."""
    from workers.qa.service import record_audit
    from workers.qa.standards import RATINGS, load_audit, parse_pairs

    app = app_context(ctx)
    today = app.clock.today()
    standards = load_audit(app.config_dir / "audit.yaml")
    with app.sessions() as session:
        row = record_audit(session, standards, review_ref=review, ratings=parse_pairs(standard),
                           on=optional_date(on, "--on") or today, today=today,
                           by=by or app.directory.iro_manager.email, note=note)
        session.commit()
        counts = {r: list(row.ratings.values()).count(r) for r in RATINGS}
    typer.echo(f"audit of {review.strip()} recorded: " + ", ".join(
        f"{n} {r.replace('_', ' ')}" for r, n in counts.items()))


@qa_app.command("status")
def status(ctx: typer.Context) -> None:
    """Each IRO's latest chairing observation and when the next is due; the latest audits."""
    from workers.qa.due import observations, recent_audits
    from workers.qa.standards import load_audit

    app = app_context(ctx)
    today = app.clock.today()
    months = load_audit(app.config_dir / "audit.yaml").observation_months
    names = app.directory.iro_names()
    with app.sessions() as session:
        lines = observations(session, names, months)
        audits = recent_audits(session, limit=10)
    typer.echo(f"chairing observations (each IRO every {months} months):")
    for o in lines:
        last = o.last_on.isoformat() if o.last_on else "never"
        state = "DUE" if o.is_due(today) else f"next by {o.due_on.isoformat() if o.due_on else ''}"
        typer.echo(f"  {o.name}: last observed {last}; {state}")
    typer.echo(f"latest record audits: {len(audits)}")
    for a in audits:
        who = names.get(a.iro_email, a.iro_email)
        typer.echo(f"  {a.audited_on.isoformat()} {a.review_ref} ({who}): met {a.met}, "
                   f"partly {a.partly}, not met {a.not_met}")


def register(app: typer.Typer) -> None:
    app.add_typer(qa_app, name="qa")
