"""The web app on a seeded SQLite store, and a test client that signs in like a browser."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from factories import postgres_url, sqlite_store
from fastapi.testclient import TestClient
from mailout_support import CAL, CONFIG, DIRECTORY, RULES
from web_seed import PASSWORD, Seeded, seed

from workers.config.settings import load_settings
from workers.core.clock import FixedClock
from workers.store.session import open_store, upgrade
from workers.web.app import create_app

TODAY = dt.date(2026, 12, 1)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(tmp_path: Path, *, pdf: bool = False, host: str = "127.0.0.1",
             database_url: str | None = None, **env: str) -> tuple[Any, Seeded]:
    """The app on a seeded store: SQLite under ``tmp_path``, or ``database_url`` (migrated)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    if database_url is None:
        sessions = sqlite_store(tmp_path)
    else:
        upgrade(database_url)
        sessions = open_store(database_url)
    seeded = seed(sessions, RULES, DIRECTORY, CAL, TODAY)
    settings = load_settings(CONFIG, environ={
        "IRO_DOCUMENTS_DIR": str(tmp_path / "documents"), "IRO_PRINT_DIR": str(tmp_path / "print"),
        "IRO_OUTBOX_DIR": str(tmp_path / "outbox"), **env})
    app = create_app(settings, rules=RULES, directory=DIRECTORY, calendar=CAL, sessions=sessions,
                     clock=FixedClock.on(TODAY), pdf=pdf, host=host)
    return app, seeded


STORES = ["sqlite", "postgres"]


def store_url(request: pytest.FixtureRequest) -> str | None:
    """For a fixture parametrized over STORES: None (SQLite) or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return None
    return postgres_url(request.getfixturevalue("pg_database"))


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
