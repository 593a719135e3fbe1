"""`iro dispatches cancel` and `iro dispatches resend`: one letter called off, or sent again to the
participant's corrected contact (workers.casework.letters). Output carries ids and references only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from workers.cli.actor import ActorOption, ReasonOption, actor_of
from workers.cli.context import app_context


class Channel(StrEnum):
    email = "email"
    post = "post"


DispatchId = Annotated[int, typer.Argument(metavar="ID",
                                           help="The dispatch's id, as `iro dispatches` lists it.")]


def register_dispatches(dispatches_app: typer.Typer) -> None:
    dispatches_app.command("cancel")(cancel)
    dispatches_app.command("resend")(resend)


def cancel(
    ctx: typer.Context,
    dispatch_id: DispatchId,
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Cancel a letter that has not gone (an invitation takes its pending reminders with it)."""
    from workers.casework.letters import cancel as cancel_letter

    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        done = cancel_letter(session, dispatch_id, reason=reason, now=app.clock.now(), actor=who)
        session.commit()
    typer.echo(f"dispatch {dispatch_id}: cancelled"
               + (f", with its {len(done.reminders)} pending reminders" if done.reminders else ""))
    if done.print_batch_id is not None:
        typer.echo(f"it is in print batch {done.print_batch_id}, built but not posted: take its "
                   f"pages out (the manifest lists dispatch {dispatch_id}) before posting")


def resend(
    ctx: typer.Context,
    dispatch_id: DispatchId,
    by: Annotated[Channel | None, typer.Option(
        "--by", metavar="email|post",
        help="How to send it again [the participant's recorded channel].")] = None,
    actor: ActorOption = None,
) -> None:
    """Send a failed or bounced letter again, to the contact the case record holds now."""
    from workers.casework.letters import resend as resend_letter
    from workers.cli.mailout import config_of

    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        new = resend_letter(session, dispatch_id, channel=by.value if by else None,
                            allowed_domains=config_of(app).allowed_domains,
                            now=app.clock.now(), actor=who)
        session.commit()
        new_id, channel = new.id, new.channel
    then = ("the print batch takes it" if channel == "post"
            else "the scheduler will send it")
    typer.echo(f"dispatch {dispatch_id}: resent by {channel} as dispatch {new_id}; {then}")


def register(app: typer.Typer) -> None:
    people = typer.Typer(help="Correct a participant's contact, or withdraw them from the case.",
                         no_args_is_help=True)
    people.command("correct")(correct)
    people.command("withdraw")(withdraw)
    app.add_typer(people, name="participants")


ReviewRef = Annotated[str, typer.Argument(metavar="REVIEW_REF", help="The review's reference.")]
PersonRef = Annotated[str, typer.Argument(metavar="PARTICIPANT_REF",
                                          help="The participant's reference on that review.")]


def correct(
    ctx: typer.Context,
    review_ref: ReviewRef,
    participant_ref: PersonRef,
    email: Annotated[str | None, typer.Option("--email", metavar="ADDRESS",
                                              help="The corrected email address.")] = None,
    address: Annotated[str | None, typer.Option(
        "--address", metavar="LINES", help="Postal address, lines separated by newlines or |.")
    ] = None,
    postcode: Annotated[str | None, typer.Option("--postcode", metavar="POSTCODE",
                                                 help="The corrected postcode.")] = None,
    channel: Annotated[Channel | None, typer.Option(
        "--channel", metavar="email|post", help="How they are to be written to.")] = None,
    confirmed: Annotated[bool | None, typer.Option(
        "--confirmed/--not-confirmed", metavar="",
        help="The personal email address is confirmed.")] = None,
    actor: ActorOption = None,
) -> None:
    """Correct a contact; letters not yet gone follow it (after the mail-out's checks)."""
    from workers.casework.corrections import correct_contact
    from workers.cli.mailout import config_of

    changes: dict[str, object] = {}
    if email is not None:
        changes["email"] = email.strip() or None
    if address is not None:
        changes["address"] = "\n".join(ln.strip() for ln in address.replace("|", "\n")
                                       .splitlines() if ln.strip()) or None
    if postcode is not None:
        changes["postcode"] = " ".join(postcode.upper().split()) or None
    if channel is not None:
        changes["channel"] = channel.value
    if confirmed is not None:
        changes["email_confirmed"] = confirmed
    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        done = correct_contact(session, review_ref, participant_ref, changes,
                               allowed_domains=config_of(app).allowed_domains,
                               now=app.clock.now(), actor=who)
        session.commit()
        lines = [str(r) for r in done]
    for line in lines or [f"{participant_ref}: nothing changed"]:
        typer.echo(line)


def withdraw(
    ctx: typer.Context,
    review_ref: ReviewRef,
    participant_ref: PersonRef,
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Withdraw a participant from the case: their letters not yet gone are cancelled."""
    from workers.casework.corrections import withdraw_participant

    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        done = withdraw_participant(session, review_ref, participant_ref, reason=reason,
                                    today=app.clock.today(), now=app.clock.now(), actor=who)
        session.commit()
        lines = [str(w) for w in done]
    for line in lines:
        typer.echo(line)


def register_review(review_app: typer.Typer) -> None:
    review_app.command("move")(move)
    review_app.command("cancel")(cancel_review)


def _print_change(ref: str, what: str, lines: list[str]) -> None:
    typer.echo(f"review {ref}: {what}")
    for line in lines:
        typer.echo(f"  {line}")


def move(
    ctx: typer.Context,
    review_ref: ReviewRef,
    date: Annotated[str | None, typer.Option("--date", metavar="DATE",
                                             help="The new day, YYYY-MM-DD.")] = None,
    time: Annotated[str | None, typer.Option("--time", metavar="HH:MM",
                                             help="The new time, London.")] = None,
    venue: Annotated[str | None, typer.Option("--venue", metavar="TEXT",
                                              help="The new venue.")] = None,
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="The new day is right, though a weekend or bank holiday.")] = False,
    actor: ActorOption = None,
) -> None:
    """Move a planned review's meeting: letters not yet gone follow, those already invited get
    a change of arrangements letter, reminders move with it."""
    import datetime as dt

    from workers.casework.meetings import move_review
    from workers.cli.mailout import config_of
    from workers.cli.options import optional_date
    from workers.errors import BadInputError

    if date is None and time is None and venue is None:
        raise BadInputError("give --date, --time or --venue (or several)")
    at = None
    if time is not None:
        try:
            at = dt.time.fromisoformat(time.strip())
        except ValueError:
            raise BadInputError(f"--time: expected HH:MM, got {time!r}") from None
    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        done = move_review(session, config_of(app), review_ref,
                           date=optional_date(date, "--date"), time=at, venue=venue,
                           today=app.clock.today(), now=app.clock.now(), actor=who,
                           confirm=confirm)
        session.commit()
    _print_change(review_ref, "meeting moved", done.lines())


def cancel_review(
    ctx: typer.Context,
    review_ref: ReviewRef,
    reason: ReasonOption,
    actor: ActorOption = None,
) -> None:
    """Cancel a planned review: letters not yet gone are cancelled, those already invited get a
    cancellation letter."""
    from workers.casework.meetings import cancel_review as cancel_it
    from workers.cli.mailout import config_of

    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        done = cancel_it(session, config_of(app), review_ref, reason=reason,
                         now=app.clock.now(), actor=who)
        session.commit()
    _print_change(review_ref, "cancelled", done.lines())
