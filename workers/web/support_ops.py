"""Business support: failed and bounced letters (retry), the day's print batch, CSV import.

Each action calls the service the CLI calls (``dispatching.retry``, ``printing.build_batch`` and
``mark_printed``, ``importer``) with the signed-in user's email as the audit actor.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import func, select

from workers.errors import BadInputError, ImportRowError, NotFoundError, ServiceUnavailableError
from workers.store import audit
from workers.web import queries
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.errorpages import Id
from workers.web.pages import flash, render
from workers.web.security import require

if TYPE_CHECKING:
    from workers.web.jobs import Jobs

router = APIRouter(prefix="/support")
Support = Annotated[User, Depends(require("business_support"))]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


@router.get("/dispatches")
def failed(request: Request, user: Support) -> Response:
    from workers.web.listing import read_listing

    ctx = web_context(request)
    listing = read_listing(request.query_params, sorts=queries.FAILED_SORTS,
                           default_sort="updated",
                           choices={"state": ("failed", "bounced"), "channel": ("email", "post")},
                           texts=("q",))
    if "dir" not in request.query_params:  # the newest failures first unless asked otherwise
        listing = replace(listing, descending=True)
    with ctx.sessions() as session:
        page = queries.failed_page(session, listing)
    return render(request, "support/dispatches.html", page=page, listing=listing)


@router.post("/dispatches/{dispatch_id}/retry")
def retry(request: Request, dispatch_id: Id, user: Support) -> Response:
    from workers.queue.retries import retry as retry_dispatch

    ctx = web_context(request)
    with ctx.sessions() as session:
        previous = retry_dispatch(session, dispatch_id, now=ctx.clock.now(), actor=user.email)
        session.commit()
    flash(request, f"Letter {dispatch_id} (was {previous}) will be sent again on the next run.")
    return RedirectResponse("/support/dispatches", status_code=303)


@router.get("/print")
def print_page(request: Request, user: Support) -> Response:
    from workers.mailout.printing import day_end

    ctx = web_context(request)
    today = ctx.today()
    with ctx.sessions() as session:
        batches = queries.print_batches(session)
        waiting = queries.postal_letters_waiting(session, day_end(today))
    return render(request, "support/print.html", batches=batches, waiting=waiting, today=today,
                  job=_jobs(request).get("print-batch"))


@router.post("/print/build")
def build(request: Request, user: Support) -> Response:
    """Start building the day's batch in the background; the print page shows its progress."""
    from workers.mailout.documents import pdf_enabled
    from workers.web.jobs import print_batch_work

    ctx = web_context(request)
    if not pdf_enabled(ctx.mailout):  # said now, not after the page has begun to wait
        raise ServiceUnavailableError(
            "a print batch needs LibreOffice to make the PDF; install libreoffice-writer-nogui "
            "(make system-deps)")
    job = _jobs(request).start("print-batch", user.email,
                               print_batch_work(ctx, ctx.today(), user.email))
    if job is None:
        flash(request, "A print batch is being built already; its progress is below.", "warn")
    return RedirectResponse("/support/print", status_code=303)


def _jobs(request: Request) -> Jobs:
    from workers.web.jobs import jobs_of

    return jobs_of(request)


@router.get("/print/job")
def print_job(request: Request, user: Support) -> Response:
    """The progress fragment the print page polls (htmx) while a batch is built: 204 while
    nothing has changed, so the live region is rewritten (and read out) only on news."""
    from workers.web.jobs import job_fragment

    return job_fragment(request, _jobs(request).get("print-batch"), "print", "/support/print/job")


@router.post("/print/{batch_id}/printed")
def printed(request: Request, batch_id: Id, user: Support,
            confirmed: Annotated[str, Form()] = "") -> Response:
    from workers.mailout.printing import mark_printed
    from workers.store.models import Dispatch, PrintBatch
    from workers.web import confirm

    ctx = web_context(request)
    if not confirm.is_confirmed(confirmed):
        with ctx.sessions() as session:
            batch = session.get(PrintBatch, batch_id)
            if batch is None:
                raise NotFoundError(f"no print batch {batch_id}")
            letters = session.scalar(select(func.count()).select_from(Dispatch).where(
                Dispatch.print_batch_id == batch_id, Dispatch.state == "pending")) or 0
        return confirm.ask(
            request, question=f"Record print batch {batch_id} as printed and posted?",
            detail=f"Its {letters} letters will be recorded as sent today, each in the audit "
                   "trail. Do this only once the envelopes have gone into the post.",
            yes=f"Yes, record {letters} letters as posted", back="/support/print")
    count = mark_printed(ctx.sessions, batch_id, now=ctx.clock.now(), actor=user.email)
    flash(request, f"Print batch {batch_id}: {count} letters recorded as posted.")
    return RedirectResponse("/support/print", status_code=303)


@router.get("/print/{batch_id}/{part}")
def download(request: Request, batch_id: Id, part: str, user: Support) -> Response:
    from workers.store.models import PrintBatch

    if part not in ("batch.pdf", "manifest.csv"):
        raise NotFoundError(f"print batch {batch_id} has no {part}")
    ctx = web_context(request)
    with ctx.sessions() as session:
        batch = session.get(PrintBatch, batch_id)
        if batch is None:
            raise NotFoundError(f"no print batch {batch_id}")
        path = Path(batch.pdf_path if part == "batch.pdf" else batch.manifest_path)
        audit.record(session, "print_batch.downloaded", "print_batch", batch_id,
                     actor=user.email, part=part)
        session.commit()
    if not path.is_file():
        raise NotFoundError(f"print batch {batch_id}: its file is no longer in the print folder")
    media = "application/pdf" if part == "batch.pdf" else "text/csv"
    return FileResponse(path, media_type=media,
                        filename=f"print-{batch.batch_date.isoformat()}-batch-{batch_id}-{part}")


@router.get("/import")
def import_page(request: Request, user: Support) -> Response:
    return render(request, "support/import.html", errors=None, summary=None, source=None,
                  dry_run=False, rows=0)


@router.post("/import")
async def import_file(request: Request, user: Support, file: Annotated[UploadFile, File()],
                      dry_run: Annotated[bool, Form()] = False) -> Response:
    from starlette.concurrency import run_in_threadpool

    data = await file.read(MAX_UPLOAD_BYTES + 1)
    name = Path(file.filename or "upload.csv").name
    if len(data) > MAX_UPLOAD_BYTES:
        raise BadInputError(f"{name}: larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
    return await run_in_threadpool(_import, request, user, name, data, dry_run)


def _import(request: Request, user: User, name: str, data: bytes, dry_run: bool) -> Response:
    from sqlalchemy.exc import IntegrityError

    from workers.importer.rows import ImportContext, parse_reviews_csv
    from workers.importer.upsert import upsert_plan

    ctx = web_context(request)
    context = ImportContext.from_config(ctx.rules, ctx.directory, ctx.calendar)
    try:
        plan = parse_reviews_csv(data, name, context)
    except ImportRowError as exc:
        lines = str(exc).splitlines()
        return render(request, "support/import.html", status=400, errors=lines, summary=None,
                      source=name, dry_run=dry_run, rows=0)
    summary, casework = None, []
    if not dry_run:
        from workers.casework.imports import after_import

        try:
            with ctx.sessions.begin() as session:
                summary = upsert_plan(session, plan, actor=user.email)
                casework = after_import(session, summary, ctx.mailout,
                                        today=ctx.today(), now=ctx.clock.now(), actor=user.email)
        except IntegrityError:
            raise BadInputError(f"{name}: another change to the same records happened at the "
                                "same time; nothing was imported: import it again") from None
    return render(request, "support/import.html", errors=None, summary=summary, source=name,
                  dry_run=dry_run, rows=plan.rows, casework=[*plan.warnings, *casework])
