"""Business support, a print batch voided or printed again (issue 16 §1), from buttons on the
print batches page, each behind a confirmation.

The same services as `iro print void` and `iro print reprint` (workers.mailout.batch_changes),
with the signed-in user's email as the audit actor. A reprint renders every letter again, so it
runs as the page's background job, with the build's progress bar.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from workers.errors import BadInputError, NotFoundError
from workers.web import confirm
from workers.web.accounts import User
from workers.web.context import WebContext, web_context
from workers.web.errorpages import Id
from workers.web.jobs import Job
from workers.web.pages import flash
from workers.web.security import require

router = APIRouter(prefix="/support")
Support = Annotated[User, Depends(require("business_support"))]
BACK = "/support/print"


@router.post("/print/{batch_id}/void")
def void(request: Request, batch_id: Id, user: Support, reason: Annotated[str, Form()] = "",
         never_posted: Annotated[str, Form()] = "",
         confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.mailout.batch_changes import void as void_batch
    from workers.store.models import PrintBatch

    ctx = web_context(request)
    never = never_posted == "yes"
    try:
        if not reason.strip():
            raise BadInputError("Say why the batch is voided (e.g. printer jammed); nothing "
                                "was changed.")
        with ctx.sessions() as session:
            if not confirm.is_confirmed(confirmed):
                batch = session.get(PrintBatch, batch_id)
                if batch is None:
                    raise NotFoundError(f"no print batch {batch_id}")
                what = ("Its letters will be recorded as never posted and wait for the next "
                        "batch." if never else "Its letters will wait for the next batch.")
                return confirm.ask(
                    request, question=f"Void print batch {batch_id}?",
                    detail=f"{what}\nIts PDF and manifest will be removed from the print "
                           "folder: destroy any copies already printed.",
                    yes=f"Yes, void batch {batch_id}", back=BACK,
                    fields=[("reason", reason), ("never_posted", never_posted)])
            done = void_batch(session, batch_id, reason=reason, never_posted=never,
                              now=ctx.clock.now(), actor=user.email)
            session.commit()
    except BadInputError as exc:
        flash(request, str(exc), "error")
        return RedirectResponse(BACK, status_code=303)
    flash(request, f"Print batch {batch_id} voided: {done.letters} letters wait for the next "
                   "batch.")
    return RedirectResponse(BACK, status_code=303)


@router.post("/print/{batch_id}/reprint")
def reprint(request: Request, batch_id: Id, user: Support,
            confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.web.support_ops import _jobs

    ctx = web_context(request)
    if not confirm.is_confirmed(confirmed):
        return confirm.ask(
            request, question=f"Print batch {batch_id} again?",
            detail="The same letters, to the same addresses, in a new PDF; the old PDF is "
                   "removed. Destroy any copies of it already printed.",
            yes=f"Yes, reprint batch {batch_id}", back=BACK)
    job = _jobs(request).start("print-batch", user.email, _work(ctx, batch_id, user.email))
    if job is None:
        flash(request, "A print batch is being built already; its progress is below.", "warn")
    return RedirectResponse(BACK, status_code=303)


def _work(ctx: WebContext, batch_id: int, actor: str) -> Callable[[Job], None]:
    from workers.mailout.batch_changes import reprint as reprint_batch

    def work(job: Job) -> None:
        done = reprint_batch(ctx.sessions, ctx.mailout, batch_id, now=ctx.clock.now(),
                             actor=actor, progress=job.advance)
        job.batch_id = batch_id
        job.message = (f"Print batch {batch_id} reprinted: {done.letters} letters, "
                       f"{done.pages} pages. Download it below.")

    return work
