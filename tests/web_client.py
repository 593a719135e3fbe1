"""The web app on a seeded SQLite store, and a test client that signs in like a browser."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from factories import sqlite_store
from fastapi.testclient import TestClient
from mailout_support import CAL, CONFIG, DIRECTORY, RULES
from web_seed import PASSWORD, Seeded, seed

from workers.settings import load_settings
from workers.web.app import create_app

TODAY = dt.date(2026, 12, 1)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, *, pdf: bool = False, host: str = "127.0.0.1",
             **env: str) -> tuple[Any, Seeded]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    sessions = sqlite_store(tmp_path)
    seeded = seed(sessions, RULES, DIRECTORY, CAL, TODAY)
    settings = load_settings(CONFIG, environ={
        "IRO_DOCUMENTS_DIR": str(tmp_path / "documents"), "IRO_PRINT_DIR": str(tmp_path / "print"),
        "IRO_OUTBOX_DIR": str(tmp_path / "outbox"), **env})
    app = create_app(settings, rules=RULES, directory=DIRECTORY, calendar=CAL, sessions=sessions,
                     today=lambda: TODAY, pdf=pdf, host=host)
    return app, seeded


def token(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


class Browser:
    """A TestClient that keeps the page's CSRF token, as a browser's form would send it."""

    def __init__(self, app: Any) -> None:
        self.client = TestClient(app, follow_redirects=False)
        self.csrf = ""

    def get(self, path: str, **kw: Any) -> Any:
        response = self.client.get(path, **kw)
        if "text/html" in response.headers.get("content-type", ""):
            found = _TOKEN.search(response.text)
            if found:
                self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str] | None = None, **kw: Any) -> Any:
        return self.client.post(path, data={"csrf_token": self.csrf, **(data or {})}, **kw)

    def sign_in(self, email: str, password: str = PASSWORD) -> Any:
        self.get("/sign-in")
        return self.post("/sign-in", {"email": email, "password": password})
