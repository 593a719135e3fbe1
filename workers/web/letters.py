"""Business support: every letter, overall or one review's (``?review=R-…``), paged and
filtered by the database (``workers.web.letter_list``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from workers.web import letter_list
from workers.web.accounts import User
from workers.web.context import web_context
from workers.web.pages import render
from workers.web.security import require

router = APIRouter(prefix="/support/letters")
Support = Annotated[User, Depends(require("business_support"))]


@router.get("")
def letters(request: Request, user: Support) -> Response:
    ctx = web_context(request)
    listing = letter_list.read(request.query_params)
    if "dir" not in request.query_params:  # the newest first unless asked otherwise
        listing = replace(listing, descending=True)
    with ctx.sessions() as session:
        page = letter_list.letters_page(session, listing)
    return render(request, "support/letters.html", page=page, listing=listing,
                  states_pairs=[(s, s) for s in letter_list.STATES],
                  channels_pairs=[(c, c) for c in letter_list.CHANNELS])
