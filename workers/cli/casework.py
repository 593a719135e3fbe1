"""`iro dispatches cancel` and `iro dispatches resend`: one letter called off, or sent again to the
participant's corrected contact (workers.casework.letters). Output carries ids and references only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from workers.cli.actor import ActorOption, actor_of
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
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT",
                                        help="Why (kept in the audit; no names or addresses).")],
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
