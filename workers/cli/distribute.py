"""`iro review distribute REF`: the completed record to those entitled to it, once the IRO
confirms. Without --confirm it shows who would get what, by which channel, with what withheld;
nothing is planned until the IRO runs it again with --confirm. With --decisions only the
review's decisions go, to the same list by the same rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.context import app_context

if TYPE_CHECKING:
    from workers.reviews.distribution import Distribution


def distribute(
    ctx: typer.Context,
    review_ref: Annotated[str, typer.Argument(metavar="REVIEW_REF", help="The review.")],
    withhold: Annotated[
        list[str] | None,
        typer.Option("--withhold", metavar="P_REF=HEADING",
                     help="Leave this section of the record out of this person's copy "
                          "(repeat as needed)."),
    ] = None,
    leave_out: Annotated[
        list[str] | None,
        typer.Option("--leave-out", metavar="P_REF", help="Send this person no copy."),
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="The IRO confirms the list: plan the sends.")
    ] = False,
    by: Annotated[str, typer.Option("--by", metavar="EMAIL", help="Who confirms.")] = "cli",
    decisions: Annotated[
        bool, typer.Option("--decisions",
                           help="Send only the review's decisions (from the store), before "
                                "the record.")
    ] = False,
) -> None:
    """Send the completed record to the child (a letter of their own), parents, carers and the
    social worker, each by their channel, with withheld sections taken out."""
    from workers.cli.mailout import config_of
    from workers.reviews.distribution import distribute as run
    from workers.reviews.distribution import parse_withhold

    app = app_context(ctx)
    result = run(app.sessions, config_of(app), review_ref,
                 withhold=parse_withhold(withhold or []), leave_out=leave_out or [],
                 confirm=confirm, actor=by, decisions=decisions)
    show(result, decisions)


def show(result: Distribution, decisions: bool, again: str = "run this again") -> None:
    """Who gets what by which channel; ``again`` says how the IRO confirms."""
    document = "review decisions" if decisions else "review record"
    for c in result.copies:
        what = "letter of what was decided" if c.child_letter else document
        left = f"; withheld: {'; '.join(c.withheld)}" if c.withheld else ""
        state = " (already planned)" if c.key in result.existing else ""
        typer.echo(f"  {c.participant_ref} {c.role.replace('_', ' ')}: {what} by "
                   f"{c.channel}{left}{state}")
    for ref in result.not_sent:
        typer.echo(f"  {ref}: no copy (the decisions are withheld from them)")
    if not result.confirmed:
        typer.echo(f"review {result.review_ref}: {len(result.copies)} copies would go; nothing "
                   f"is sent until you {again} with --confirm")
        return
    typer.echo(f"review {result.review_ref}: {result.created} copies planned; the workers send "
               "email copies and `iro print-batch` prints postal ones")
