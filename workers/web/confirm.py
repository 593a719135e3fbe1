"""One confirmation before a step that cannot be undone (mark a batch printed, record a review
as held, advance an escalation, refer it to CAFCASS).

The action's own form posts as before; without ``confirmed=yes`` the server answers with a page
that says what will happen and posts the same fields back with it. Done on the server, so it
holds without JavaScript and for a form sent by hand; nothing changes until the second post.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response

from workers.web.pages import render

CONFIRMED = "confirmed"


def is_confirmed(value: str) -> bool:
    return value == "yes"


def ask(request: Request, *, question: str, detail: str, yes: str, back: str,
        fields: Iterable[tuple[str, str]] = (), final: bool = True) -> Response:
    """The page asking to confirm: the same form again (``fields``), with confirmed=yes.
    ``final=False`` for a step a person can put right afterwards (a return undone can be
    recorded again), so the page does not say it cannot be undone."""
    return render(request, "confirm.html", question=question, detail=detail, yes=yes,
                  back=back, action=request.url.path, fields=list(fields),
                  confirmed_field=CONFIRMED, final=final)
