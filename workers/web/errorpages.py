"""Every answer a person can get is a page in the service's layout with the security headers:
errors (404, 405, 413, 422, 500, ids that cannot exist), and HEAD (answered as GET, no body).

Starlette runs the handler for an unexpected error outside every middleware, so the headers are
set here on each error page as well as by the middleware on everything else.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from workers.errors import (
    BadInputError,
    IroError,
    NotFoundError,
    RefusedError,
    ServiceUnavailableError,
)
from workers.web.security import SignInRequired

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# A row id in a path: the store's ids are 32-bit on PostgreSQL, so a larger number is no page
# rather than a database error (a 500)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # children's records: keep no copy
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}
TITLES = {400: "That could not be done", 403: "Not allowed", 404: "Not found",
          405: "Not allowed", 409: "That could not be done", 413: "Too large",
          422: "Something in the form was not right", 429: "Too many requests",
          500: "Something went wrong", 503: "A service is unavailable"}
STATUS = {NotFoundError: 404, RefusedError: 409, BadInputError: 400,
          ServiceUnavailableError: 503}


def secure(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def security_headers(request: Request, call_next: Any) -> Response:
    response: Response = await call_next(request)
    return secure(response)


def error_page(request: Request, status: int, message: str, title: str | None = None) -> Response:
    """The error page; a plain one if even the layout cannot be drawn (say, the store is down)."""
    from workers.web.pages import render

    try:
        response: Response = render(request, "error.html", status=status,
                                    title=title or TITLES.get(status, "Something went wrong"),
                                    message=message)
    except Exception:  # the page about an error must not fail in its turn
        log.exception("could not draw the error page for %s", status)
        response = Response(f"{title or TITLES.get(status, 'Error')}: {message}", status,
                            media_type="text/plain")
    return secure(response)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc[1:]) or str(loc[0])


def install(app: FastAPI) -> None:
    """The error handlers for every status a person might meet."""

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, exc: SignInRequired) -> Response:
        if request.headers.get("HX-Request"):
            return secure(Response(status_code=401, headers={"HX-Redirect": "/sign-in"}))
        return secure(RedirectResponse("/sign-in", status_code=303))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = "There is no page at this address. Check the link, or start again " \
                      "from your home page."
        elif exc.status_code == 405:
            message = "This page cannot be used that way. Go back and use the page's own " \
                      "buttons and links."
        response = error_page(request, exc.status_code, message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(e.get("loc", ("",))[0] == "path" for e in errors):
            return error_page(request, 404, "There is no such record. Check the link, or find "
                                            "it again from your home page.")
        lines = [f"{_field(e.get('loc', ()))}: {e.get('msg', 'not valid')}" for e in errors[:10]]
        return error_page(request, 422, "Go back, correct this and try again:\n"
                          + "\n".join(lines))

    @app.exception_handler(IroError)
    async def service_error(request: Request, exc: IroError) -> Response:
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 500)
        return error_page(request, status, str(exc), "That could not be done")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "An unexpected error happened and was logged. Try "
                          "again, and tell the service desk if it happens again.")


MAX_BODY_BYTES = 21 * 1024 * 1024  # the largest upload (a 20 MB CSV import) and its form


async def body_limit(request: Request, call_next: Any) -> Response:
    """Refuse an oversized request before its body is read (uploads are checked again, each
    against its own limit, by the page that takes them)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        return error_page(request, 413, f"That is more than the {MAX_BODY_BYTES // 2**20} MB "
                          "this service takes at once. A CSV import may be up to 20 MB and a "
                          "scan up to 10 MB.")
    response: Response = await call_next(request)
    return response


class HeadAsGet:
    """HEAD answered exactly as GET (status and headers), without the body (RFC 9110 9.3.2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def no_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, no_body)
