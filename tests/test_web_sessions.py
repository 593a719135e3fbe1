"""Sign-out really ends the session (a copied cookie stops working, as does an expired one); the
sign-in rate limit per account and per address, audited; `iro web` off loopback needs
IRO_WEB_SECRET_KEY."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from factories import sqlite_url
from mailout_support import CONFIG
from sqlalchemy import select, update
from web_client import STORES, Browser, make_app, store_url
from web_seed import IRO, PASSWORD, SUPPORT, Seeded

from workers.config.settings import load_settings
from workers.errors import ConfigError
from workers.store.models import AuditEvent, SignInFailure, WebSession
from workers.web.app import create_app

IRO_COMMAND = str(Path(sys.executable).parent / "iro")


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path, database_url=store_url(request))


def _copy(browser: Browser, app: Any) -> Browser:
    """Another browser holding a copy of ``browser``'s cookie (a stolen or shared cookie)."""
    thief = Browser(app)
    thief.client.cookies.set("iro_session", browser.client.cookies["iro_session"])
    return thief


def test_a_copied_cookie_stops_working_after_sign_out(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    assert browser.get("/support").status_code == 200
    thief = _copy(browser, app)
    cookie = browser.client.cookies["iro_session"]
    assert thief.get("/support").status_code == 200  # the copy works while the session lives
    assert browser.post("/sign-out").headers["location"] == "/sign-in"
    assert thief.get("/support").status_code == 303
    assert thief.get("/support").headers["location"] == "/sign-in"
    with app.state.web.sessions() as session:
        row = session.scalars(select(WebSession)).one()
        assert row.email == SUPPORT and row.ended_at is not None
        assert len(row.id) == 64  # the id's hash, not the id the cookie carries
        assert row.id not in cookie


def test_an_expired_session_signs_no_one_in(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(IRO)
    assert browser.get("/iro").status_code == 200
    with app.state.web.sessions() as session:
        row = session.scalars(select(WebSession)).one()
        assert row.expires_at - row.created_at == dt.timedelta(hours=8)  # web.session_hours
        row.expires_at = app.state.web.clock.now() - dt.timedelta(seconds=1)
        session.commit()
    assert browser.get("/iro").headers["location"] == "/sign-in"


def test_each_sign_in_is_a_new_session(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    first, second = Browser(app), Browser(app)
    first.sign_in(SUPPORT)
    second.sign_in(SUPPORT)
    second.get("/support")
    second.post("/sign-out")
    assert first.get("/support").status_code == 200  # signing out one browser ends only that one
    with app.state.web.sessions() as session:
        assert len(session.scalars(select(WebSession)).all()) == 2


def _actions(app: Any) -> list[tuple[str, str]]:
    with app.state.web.sessions() as session:
        return [(e.action, e.actor) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("web.sign%"))
            .order_by(AuditEvent.id))]


def test_five_failures_for_an_account_make_it_wait(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    for _ in range(5):
        assert browser.sign_in(SUPPORT, "wrong password").status_code == 401
    refused = browser.sign_in(SUPPORT)  # the right password, too late
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.text and "Wait 15 minutes" in refused.text
    assert browser.get("/support").status_code == 303
    assert _actions(app)[-1] == ("web.sign_in_throttled", SUPPORT)
    assert ("web.sign_in_refused", SUPPORT) in _actions(app)
    # another account from the same address is not held up by this one's failures
    assert Browser(app).sign_in(IRO).status_code == 303
    # when the window has passed, the account may try again
    with app.state.web.sessions() as session:
        session.execute(update(SignInFailure).values(
            at=app.state.web.clock.now() - dt.timedelta(minutes=16)))
        session.commit()
    assert browser.sign_in(SUPPORT).status_code == 303
    with app.state.web.sessions() as session:
        assert session.scalars(select(SignInFailure).where(
            SignInFailure.email == SUPPORT)).all() == []


def test_a_right_password_clears_the_accounts_count(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    for _ in range(4):
        Browser(app).sign_in(SUPPORT, "wrong password")
    assert Browser(app).sign_in(SUPPORT).status_code == 303
    for _ in range(4):
        assert Browser(app).sign_in(SUPPORT, "wrong password").status_code == 401
    assert Browser(app).sign_in(SUPPORT).status_code == 303


def test_twenty_failures_from_one_address_make_it_wait(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    for n in range(20):  # a guesser trying many accounts, one password each
        assert Browser(app).sign_in(f"guess{n}@council.example.gov.uk").status_code == 401
    refused = Browser(app).sign_in(IRO)
    assert refused.status_code == 429 and "from this address" in refused.text
    with app.state.web.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "web.sign_in_throttled")).one()
        assert event.actor == IRO and event.details["client_ip"] == "testclient"
        assert "correct horse" not in str(event.details) and PASSWORD not in str(event.details)


def test_off_loopback_the_app_needs_a_secret_key(tmp_path: Path) -> None:
    settings = load_settings(CONFIG, environ={})
    with pytest.raises(ConfigError, match="IRO_WEB_SECRET_KEY is not set"):
        create_app(settings, host="0.0.0.0", sessions=object())  # type: ignore[arg-type]
    short = load_settings(CONFIG, environ={"IRO_WEB_SECRET_KEY": "too-short"})
    with pytest.raises(ConfigError, match="too short"):
        create_app(short, host="127.0.0.1", sessions=object())  # type: ignore[arg-type]


def _iro_web(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k != "IRO_WEB_SECRET_KEY"}
    environ.update(IRO_DATABASE_URL=sqlite_url(tmp_path), **env)
    return subprocess.Popen([IRO_COMMAND, "--config", str(CONFIG), "web", *args], env=environ,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_iro_web_refuses_to_serve_other_machines_without_a_key(tmp_path: Path) -> None:
    proc = _iro_web(tmp_path, "--host", "0.0.0.0", "--port", "1")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "IRO_WEB_SECRET_KEY is not set" in err and "--host 0.0.0.0" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_iro_web_on_loopback_makes_a_key_and_says_so(tmp_path: Path) -> None:
    proc = _iro_web(tmp_path, "--port", str(_free_port()))
    try:
        assert proc.stderr is not None
        lines = []
        for _ in range(200):
            line = proc.stderr.readline()
            lines.append(line)
            if "IRO_WEB_SECRET_KEY is not set" in line or not line:
                break
        assert any("key made for this run" in ln and "127.0.0.1" in ln for ln in lines), lines
    finally:
        proc.terminate()
        proc.wait(timeout=30)
