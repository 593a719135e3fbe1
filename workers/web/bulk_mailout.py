"""Many reviews' mail-outs as one background job (the mail-outs due page).

Each review is its own ``run_mailout`` — its own preflight and its own short transaction, as
`iro mailout` does — so a review that fails the checks is kept with its reasons and the others
go on; nothing is held open between reviews, so other people's saves (and the sending thread,
on the embedded SQLite store) are never kept waiting. Every queued mail-out is audited with the
person by ``run_mailout``; the job itself is audited once with its counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workers.errors import BadInputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from workers.web.context import WebContext
    from workers.web.jobs import Job


def reasons(error: BadInputError) -> tuple[str, ...]:
    """A refusal's lines without its list marks (the first says what was refused)."""
    return tuple(line.strip().lstrip("- ") for line in str(error).splitlines() if line.strip())


def mailout_work(ctx: WebContext, refs: list[str], actor: str) -> Callable[[Job], None]:
    from workers.mailout.service import run_mailout
    from workers.store import audit

    def work(job: Job) -> None:
        queued = already = 0
        job.advance(0, len(refs))
        for n, ref in enumerate(refs, 1):
            try:
                result = run_mailout(ctx.sessions, ctx.mailout, ref, actor=actor)
            except BadInputError as exc:  # refused at preflight, held meanwhile, no meeting…
                job.failures.append((ref, reasons(exc)))
            else:
                queued += bool(result.created)
                already += not result.created
            job.advance(n, len(refs))
        with ctx.sessions() as session:
            audit.record(session, "mailout.bulk", "review", None, actor=actor,
                         reviews=len(refs), queued=queued, already=already,
                         refused=len(job.failures))
            session.commit()
        job.message = (f"Invitations queued for {queued} of {len(refs)} reviews"
                       + (f"; {already} had been queued already" if already else "")
                       + (f"; {len(job.failures)} refused (listed below, nothing of them was "
                          "sent)" if job.failures else "") + ".")

    return work
