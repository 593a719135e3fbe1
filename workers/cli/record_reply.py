"""`iro review recorded REF --from-reply [--by EMAIL]`: the IRO confirms the record they emailed
back (a reply to the draft record email, held by the inbox poll): it is then kept and read as
`--file` would (issue 15 §1). Only the review's IRO or the IRO manager may confirm it."""

from __future__ import annotations

import datetime as dt

import typer

from workers.cli.context import AppContext
from workers.errors import BadInputError, RecordUnreadableError


def confirm_reply(app: AppContext, review_ref: str, written_on: dt.date | None,
                  actor: str) -> None:
    from workers.reviews import record_replies
    from workers.reviews.records import review_by_ref

    with app.sessions() as session:
        review = review_by_ref(session, review_ref)
        # the same people as on the web page; a shell login is neither, so --by is needed
        if not record_replies.may_confirm(actor, review, app.directory.iro_manager.email):
            raise BadInputError(
                f"review {review.ref}: only the IRO chairing it or the IRO manager may confirm "
                "the record they emailed back; give --by EMAIL as one of them")
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
