"""`iro survey`: the stakeholder survey (annual report §9.4). Start it; key paper answers.

Output names people by case-record reference and role only, never by name or address.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import app_context
from workers.cli.options import parse_date
from workers.errors import BadInputError

if TYPE_CHECKING:
    from workers.cli.context import AppContext
    from workers.survey.fillable import Returned

survey_app = typer.Typer(help="The stakeholder survey: questionnaires to carers, social workers "
                              "and Children's Guardians, and their answers.",
                         no_args_is_help=True)


@survey_app.command("start")
def start_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", metavar="YEAR",
                                      help="The survey's name, a reporting year like 2026-27.")],
    closes: Annotated[str, typer.Option("--closes", metavar="DATE",
                                        help="Last day answers are taken (YYYY-MM-DD).")],
    roles: Annotated[str, typer.Option("--roles", metavar="LIST",
                                       help="Comma-separated: carer,social_worker,guardian.")
                     ] = "carer,social_worker,guardian",
    start_on: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                                 help="Reviews held from (default: the "
                                                      "year's 1 April).")] = None,
    end_on: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                               help="Reviews held to (default: 31 March).")
                      ] = None,
    by: Annotated[str, typer.Option("--by", metavar="EMAIL",
                                    help="Who asked for it (the audit names them).")] = "cli",
    dry_run: Annotated[bool, typer.Option("--dry-run",
                                          help="Show who would be asked; plan nothing.")] = False,
) -> None:
    """Send one questionnaire to every person of those roles who had a child reviewed in the
    year (once each, however many children), with a reminder before it closes to those who
    have not answered. Refused, with nothing planned, if any address may not be used."""
    from workers.survey import start as service
    from workers.survey.questions import load_survey

    app = app_context(ctx)
    if (start_on is None) != (end_on is None):
        raise BadInputError("give both --from and --to, or neither (then --name's year)")
    if start_on is not None and end_on is not None:
        period = (parse_date(start_on, "--from"), parse_date(end_on, "--to"))
    else:
        period = service.financial_year(name)
    request = service.StartRequest(name.strip(), service.parse_roles(roles),
                                   parse_date(closes, "--closes"), period)
    cfg = load_survey(app.config_dir / "survey.yaml")
    secret = app.settings.survey.link_secret
    cafcass = app.directory.stage_managers.get("cafcass")
    from sqlalchemy.exc import IntegrityError

    from workers.errors import RefusedError

    with app.sessions() as session:
        try:
            result = service.start(
                session, cfg, app.calendar, request,
                allowed_domains=app.settings.email.allowed_domains,
                cafcass_address=cafcass.email if cafcass else None,
                link_secret=secret.get_secret_value() if secret else None,
                now=app.clock.now(), actor=by, dry_run=dry_run,
                max_address_lines=app.settings.post.max_address_lines,
            )
            if not dry_run:
                session.commit()
        except IntegrityError:  # another start of the same survey wrote first
            raise RefusedError(f"survey {request.name}: another `iro survey start` ran at the "
                               "same time; run it again to ask anyone it did not") from None
    counts = {r: sum(1 for x in result.planned if x.role == r) for r in request.roles}
    verb = "would ask" if dry_run else "asked"
    typer.echo(f"survey {request.name}: {verb} {len(result.planned)} "
               f"({', '.join(f'{r} {n}' for r, n in counts.items())}); "
               f"{result.already} asked before")
    via = sum(1 for x in result.planned if x.via == "cafcass")
    if via:
        typer.echo(f"  {via} guardian(s) through CAFCASS")
    posted = sum(1 for x in result.planned if x.channel == "post")
    if posted:
        typer.echo(f"  {posted} by post (the print batch prints their questionnaires)")
    typer.echo(f"  reminder on {result.reminder_on.isoformat()}" if result.reminder_on
               else "  no reminder: its date is already past")
    for left in result.not_asked:
        typer.echo(f"  not asked: {left}")


@survey_app.command("key")
def key_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The survey, e.g. 2026-27.")],
    answers: Annotated[str, typer.Option("--answers", metavar="LIST",
                                         help='e.g. "Q1=Always,Q5=Good,Q6=N/A" (questions in '
                                              "config/survey.yaml; blank ones left out).")
                       ] = "",
    file: Annotated[Path | None, typer.Option(
        "--file", metavar="FILE", help="A returned fillable questionnaire, PDF or Word (`iro "
                                       "survey form`, or a posted one): its ticks (and a "
                                       "posted one's code) are read.")] = None,
    role: Annotated[str, typer.Option("--role", metavar="ROLE",
                                      help="carer, social_worker or guardian (with --code: "
                                           "the form's own).")] = "",
    code: Annotated[str, typer.Option("--code", metavar="CODE",
                                      help="The return code printed on a posted questionnaire "
                                           "(e.g. ABCDE-FGHJK): marks that person answered, "
                                           "so their reminder stops.")] = "",
    by: Annotated[str, typer.Option("--by", metavar="EMAIL",
                                    help="Who keyed it in (the audit names them).")] = "cli",
) -> None:
    """Key in a paper questionnaire's answers (anonymous: stored with no one's name)."""
    from workers.survey.answers import key_paper, parse_answers

    app = app_context(ctx)
    if (file is None) == (not answers):
        raise BadInputError("give the answers with --answers, or a returned form with --file")
    given = parse_answers(answers)
    if file is not None:
        returned = _read_returned(app, name.strip(), file)
        given, role, code = returned.answers, returned.role, returned.code or code
        if not given:
            raise BadInputError(f"--file {file}: nothing is ticked on it")
    secret = app.settings.survey.link_secret if code else None
    with app.sessions() as session:
        keyed = key_paper(session, name.strip(), role.strip() or None, given, actor=by,
                          today=app.clock.today(), code=code.strip() or None,
                          secret=secret.get_secret_value() if secret else None)
        session.commit()
    marked = "; the person it was posted to is marked as answered" if code else ""
    typer.echo(f"survey {name.strip()}: {keyed} answers recorded ({len(given)} given){marked}")


def _read_returned(app: AppContext, name: str, file: Path) -> Returned:
    from workers.survey.answers import asked, survey_named
    from workers.survey.fillable import read_returned
    from workers.survey.word_form import read_word_form

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise BadInputError(f"--file {file}: cannot read it: {exc.strerror}") from None
    with app.sessions() as session:
        survey = survey_named(session, name)
        # by content, not by name: a .docx is a zip (PK), a PDF starts %PDF
        read = read_word_form if data.startswith(b"PK") else read_returned
        returned = read(data, lambda _name, role: asked(survey, role))
    if returned.survey != name:
        raise BadInputError(f"--file {file}: it is a questionnaire of survey {returned.survey}, "
                            f"not {name}")
    return returned


@survey_app.command("form")
def form_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The survey, e.g. 2026-27.")],
    role: Annotated[str, typer.Option("--role", metavar="ROLE",
                                      help="carer, social_worker or guardian.")],
    output: Annotated[Path, typer.Option("-o", "--output", metavar="FILE",
                                         help="Where to write it: FILE.pdf for a "
                                              "fillable PDF, FILE.docx for a Word form.")],
) -> None:
    """A blank questionnaire for ROLE as a fillable PDF or a Word form with check boxes, for
    someone to pass on by email; the returned file is keyed with `iro survey key NAME --file
    FILE` (anonymous: it marks no one)."""
    from workers.cli.mailout import config_of
    from workers.cli.options import check_output
    from workers.survey.posting import fillable_form, word_form

    kind = output.suffix.lower()
    if kind not in (".pdf", ".docx"):
        raise BadInputError(f"-o {output}: name it .pdf (a fillable PDF) or .docx (a Word form)")
    check_output(output)
    app = app_context(ctx)
    make = word_form if kind == ".docx" else fillable_form
    with app.sessions() as session:
        data = make(config_of(app), session, name.strip(), role.strip())
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise BadInputError(f"-o {output}: cannot write: {exc.strerror}") from None
    typer.echo(f"wrote {output}: the {role.strip()} questionnaire of survey {name.strip()}, "
               f"{'a Word form' if kind == '.docx' else 'fillable'}")


@survey_app.command("status")
def status_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The survey, e.g. 2026-27.")],
) -> None:
    """How a survey stands, by role: asked, sent, answered, reminders. Counts only."""
    from workers.errors import NotFoundError
    from workers.survey.counts import status

    app = app_context(ctx)
    with app.sessions() as session:
        found = status(session, name.strip())
    if found is None:
        raise NotFoundError(f"no survey named {name.strip()!r}; start one with `iro survey start`")
    survey, roles = found
    typer.echo(f"survey {survey.name}: started {survey.started_on.isoformat()}, closes "
               f"{survey.closes_on.isoformat()}")
    for r in roles:
        reminders = ", ".join(f"{state} {n}" for state, n in sorted(r.reminders.items()))
        typer.echo(f"  {r.role}: asked {r.asked}, sent {r.sent}, answered by link "
                   f"{r.returned_by_link}, answers received {r.answers} (web and paper); "
                   f"reminders: {reminders or 'none'}")


def register(app: typer.Typer) -> None:
    app.add_typer(survey_app, name="survey")
