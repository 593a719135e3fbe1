"""The survey's answer page: ``/survey/<token>``, no sign-in, no personal data shown.

The token (from the one-time link, workers.survey.links) is the only key: the page shows the
questions for the invitation's role from config/survey.yaml and nothing about the person or
any child. The POST checks the CSRF token of the browser's session like every form here, and
the link works once (workers.survey.answers). Errors name nothing.
"""

from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from workers.errors import BadInputError, IroError
from workers.web.context import web_context
from workers.web.pages import render
from workers.web.security import check_csrf

router = APIRouter(prefix="/survey")
FIELD = "q_"  # form field of question Q1: q_Q1


_TOKEN_IN_PATH = re.compile(r"/survey/[A-Za-z0-9_-]+")


class RedactLinks(logging.Filter):
    """Keep one-time link tokens out of the access log: whoever reads the log could answer in
    the person's place."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_PATH.sub("/survey/…", a) if isinstance(a, str) else a
                                for a in record.args)
        return True


def redact_access_log() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactLinks) for f in logger.filters):
        logger.addFilter(RedactLinks())


def _form(request: Request, token: str, *, status: int = 200, error: str = "",
          chosen: dict[str, str] | None = None) -> Response:
    from workers.survey.answers import asked, check_open, invitation_for

    ctx = web_context(request)
    with ctx.sessions() as session:
        invitation, survey = invitation_for(session, token)
        check_open(invitation, survey, ctx.today())
        name, closes_on = survey.name, survey.closes_on
        title = survey.questions[invitation.role]["title"]
        questions = [(q, q["answers"]) for q in asked(survey, invitation.role)]
    return render(request, "survey/form.html", status=status, token=token, title=title,
                  survey_name=name, closes_on=closes_on, questions=questions, field=FIELD,
                  error=error, chosen=chosen or {},
                  service=ctx.settings.mailbox.display_name)


@router.get("/{token}")
def form(request: Request, token: str) -> Response:
    return _form(request, token)


@router.post("/{token}", dependencies=[Depends(check_csrf)])
async def submit(request: Request, token: str) -> Response:
    from starlette.concurrency import run_in_threadpool

    from workers.survey.answers import answer_by_link

    form = await request.form()
    given = {k[len(FIELD):]: str(v) for k, v in form.items() if k.startswith(FIELD)}
    ctx = web_context(request)

    def save() -> None:
        with ctx.sessions() as session:
            answer_by_link(session, token, given, today=ctx.today())
            session.commit()

    try:
        await run_in_threadpool(save)
    except BadInputError as exc:
        if type(exc) is not BadInputError:  # not found or used: the error page
            raise
        return _form(request, token, status=400, error=str(exc), chosen=given)
    except IroError:
        raise
    return render(request, "survey/thanks.html", service=ctx.settings.mailbox.display_name)
