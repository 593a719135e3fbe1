"""`iro review recorded REF --from-reply --by EMAIL`: the IRO confirms the record they emailed
back (a reply to the draft record email, held by the inbox poll): it is then kept and read as
`--file` would (issue 15 §1); `iro review discard-reply REF --by EMAIL`: "not mine", the held
file deleted unread. Only the review's IRO or the IRO manager may do either."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from workers.cli.actor import actor_of
from workers.cli.context import AppContext, app_context
from workers.errors import BadInputError, RecordUnreadableError

if TYPE_CHECKING:
    from workers.store.models import Review


def _check_person(app: AppContext, review: Review, actor: str, what: str) -> None:
    from workers.reviews import record_replies

    # the same people as on the web page; a shell login is neither, so --by is needed
    if not record_replies.may_confirm(actor, review, app.directory.iro_manager.email):
        raise BadInputError(
            f"review {review.ref}: only the IRO chairing it or the IRO manager may {what} the "
            "record they emailed back; give --by EMAIL as one of them")


def confirm_reply(app: AppContext, review_ref: str, written_on: dt.date | None,
                  actor: str) -> None:
    from workers.reviews import record_replies
    from workers.reviews.records import review_by_ref

    with app.sessions() as session:
        review = review_by_ref(session, review_ref)
        _check_person(app, review, actor, "confirm")
        done = record_replies.confirm(
            session, app.calendar, app.settings.documents_dir, review.ref, actor=actor,
            today=app.clock.today(), now=app.clock.now(), written_on=written_on)
        session.commit()
    done.remove_file()
    returned = done.returned
    assert returned is not None  # confirmed
    if returned.clock_stopped:
        verdict = "in time" if returned.in_time else "LATE"
        typer.echo(f"review {returned.review_ref}: record written, "
                   f"{returned.working_days_taken} working days after the meeting ({verdict})")
    typer.echo(f"review {returned.review_ref}: the emailed record (reply {done.reply_id}) is "
               f"confirmed and kept at {returned.kept_at}")
    if returned.problem:
        raise RecordUnreadableError(
            f"{returned.problem}. No decisions were stored for {returned.review_ref}; the file "
            "is kept, and `iro review recorded` with --file reads a corrected one")
    typer.echo(f"review {returned.review_ref}: {returned.decisions} decision(s) read from the "
               "record")


def discard_reply(
    ctx: typer.Context,
    review_ref: Annotated[str, typer.Argument(metavar="REVIEW_REF",
                                              help="The review's reference.")],
    actor: Annotated[str | None, typer.Option(
        "--by", "--actor", metavar="EMAIL", envvar="IRO_ACTOR", show_envvar=True,
        help="The IRO chairing the review or the IRO manager.")] = None,
) -> None:
    """"Not mine": delete the record emailed back for REVIEW_REF, unread (as the review's page
    does); the audit names the person."""
    from workers.reviews import record_replies
    from workers.reviews.records import review_by_ref

    app = app_context(ctx)
    who = actor_of(actor)
    with app.sessions() as session:
        review = review_by_ref(session, review_ref)
        _check_person(app, review, who, "discard")
        done = record_replies.discard(session, review.ref, actor=who, now=app.clock.now())
        session.commit()
    done.remove_file()
    typer.echo(f"review {done.review_ref}: the emailed record (reply {done.reply_id}) was "
               "discarded; nothing was read from it")
