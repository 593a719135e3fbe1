"""Accounts that can be taken away: a role change, a password reset or disabling an account ends
that person's sessions at once; the idle timeout; `iro users disable|list` through the console
script; passwords on the NCSC's terms; X-Forwarded-For believed only from named proxies."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import sqlite_store, sqlite_url
from mailout_support import CONFIG
from sqlalchemy import select
from web_client import STORES, Browser, make_app, store_url
from web_seed import IRO, PASSWORD, SUPPORT, Seeded, seed

from workers.errors import BadInputError, NotFoundError
from workers.store.models import AuditEvent, WebSession
from workers.web.accounts import add_user, disable_user, list_users
from workers.web.passwords import MIN_LENGTH, password_problem

IRO_COMMAND = str(Path(sys.executable).parent / "iro")
NEW_PASSWORD = "a different long passphrase"


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path, database_url=store_url(request))


def _events(app: Any, action: str) -> list[AuditEvent]:
    with app.state.web.sessions() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_role_change_ends_the_persons_sessions_at_once(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    first, second, other = Browser(app), Browser(app), Browser(app)
    first.sign_in(SUPPORT)
    second.sign_in(SUPPORT)
    other.sign_in(IRO)
    assert first.get("/support").status_code == 200
    with app.state.web.sessions() as session:
        add_user(session, SUPPORT, "iro", PASSWORD, actor="admin@council.example.gov.uk",
                 clock=app.state.web.clock)
        session.commit()
    for browser in (first, second):  # the old role is gone with the old sessions
        assert browser.get("/support").headers["location"] == "/sign-in"
    assert other.get("/iro").status_code == 200  # nobody else is touched
    first.sign_in(SUPPORT)
    assert first.get("/iro").status_code == 200 and first.get("/support").status_code == 403
    event = _events(app, "web_user.updated")[-1]
    assert event.actor == "admin@council.example.gov.uk"
    assert event.details["old_role"] == "business_support" and event.details["role"] == "iro"
    assert event.details["sessions_ended"] == 2 and PASSWORD not in str(event.details)


def test_a_password_reset_ends_sessions_and_the_old_password(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(IRO)
    with app.state.web.sessions() as session:
        add_user(session, IRO, "iro", NEW_PASSWORD, clock=app.state.web.clock)
        session.commit()
    assert browser.get("/iro").status_code == 303
    assert browser.sign_in(IRO).status_code == 401
    assert browser.sign_in(IRO, NEW_PASSWORD).status_code == 303


def test_disabling_ends_sessions_and_refuses_sign_in(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    with app.state.web.sessions() as session:
        user, ended = disable_user(session, SUPPORT.upper(), actor="cli",
                                   clock=app.state.web.clock)
        session.commit()
    assert ended == 1 and not user.active
    assert browser.get("/support").headers["location"] == "/sign-in"
    refused = browser.sign_in(SUPPORT)
    assert refused.status_code == 401 and "not recognised" in refused.text
    (event,) = _events(app, "web_user.disabled")
    assert event.actor == "cli" and event.details["sessions_ended"] == 1
    with app.state.web.sessions() as session, pytest.raises(NotFoundError, match="users list"):
        disable_user(session, "nobody@council.example.gov.uk")
    # `iro users add` gives the account back, with a new password
    with app.state.web.sessions() as session:
        add_user(session, SUPPORT, "business_support", NEW_PASSWORD, clock=app.state.web.clock)
        session.commit()
    assert browser.sign_in(SUPPORT, NEW_PASSWORD).status_code == 303


def test_a_session_left_idle_ends_after_thirty_minutes(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    clock = app.state.web.clock
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    for _ in range(4):  # used every 25 minutes: it lives on past two hours of use
        clock.advance(dt.timedelta(minutes=25))
        assert browser.get("/support").status_code == 200
    clock.advance(dt.timedelta(minutes=30))
    assert browser.get("/support").headers["location"] == "/sign-in"
    with app.state.web.sessions() as session:
        row = session.scalars(select(WebSession)).one()
        assert row.ended_at is not None  # ended on the server, not just refused


def test_the_eight_hour_limit_holds_however_busy(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    clock = app.state.web.clock
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    for _ in range(7 * 4 + 3):  # every 15 minutes until 7 h 45
        clock.advance(dt.timedelta(minutes=15))
        assert browser.get("/support").status_code == 200
    clock.advance(dt.timedelta(minutes=15))
    assert browser.get("/support").headers["location"] == "/sign-in"


def test_passwords_follow_ncsc_guidance() -> None:
    assert MIN_LENGTH == 12
    assert "at least 12 characters" in str(password_problem("elevenchars"))
    for common in ("password1234", "Password1234!", "qwertyuiop123", "correct horse battery staple",
                   "iloveyou12345", "zzzzzzzzzzzzzz", "Liverpool2026!!"):
        assert "common passwords" in str(password_problem(common)), common
    for fine in (PASSWORD, "MayFlowerGarden2024", "purple tractor oboe"):
        assert password_problem(fine) is None, fine


def test_weak_passwords_are_refused_and_nothing_changes(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as session, pytest.raises(BadInputError, match="common passwords"):
        add_user(session, "x@council.example.gov.uk", "iro", "Password12345")
    with sessions() as session:
        assert list_users(session, dt.datetime(2026, 12, 1, tzinfo=dt.UTC)) == []


def _iro(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "IRO_DATABASE_URL": sqlite_url(tmp_path), **env}
    return subprocess.run([IRO_COMMAND, "--config", str(CONFIG), *args], env=environ,
                          capture_output=True, text=True, input="", timeout=120)


def test_iro_users_disable_and_list(tmp_path: Path) -> None:
    for email, role in (("a.officer@council.example.gov.uk", "business_support"),
                        ("b.reviewer@council.example.gov.uk", "iro")):
        done = _iro(tmp_path, "users", "add", email, "--role", role,
                    IRO_NEW_USER_PASSWORD=PASSWORD)
        assert done.returncode == 0, done.stderr
    disabled = _iro(tmp_path, "users", "disable", "B.Reviewer@council.example.gov.uk")
    assert disabled.returncode == 0, disabled.stderr
    assert "b.reviewer@council.example.gov.uk: disabled; 0 live sessions ended" in disabled.stdout
    listed = _iro(tmp_path, "users", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert "Accounts (2)" in listed.stdout
    officer = next(ln for ln in lines if "a.officer@" in ln)
    reviewer = next(ln for ln in lines if "b.reviewer@" in ln)
    assert "business_support" in officer and "active" in officer and "password" in officer
    assert "iro" in reviewer and "disabled" in reviewer
    unknown = _iro(tmp_path, "users", "disable", "nobody@council.example.gov.uk")
    assert unknown.returncode == 2 and "iro users list" in unknown.stderr
    with sqlite3.connect(tmp_path / "store" / "iro.sqlite3") as db:
        actions = [row[0] for row in db.execute(
            "SELECT action FROM audit_events WHERE action LIKE 'web_user.%' ORDER BY id")]
    assert actions == ["web_user.created", "web_user.created", "web_user.disabled",
                       "web_user.listed"]


def _failures_from(app: Any, client: tuple[str, int], count: int) -> Any:
    """``count`` failed sign-ins, each claiming another address in X-Forwarded-For."""
    browser = Browser(app)
    browser.client = type(browser.client)(app, follow_redirects=False, client=client)
    for n in range(count):
        browser.get("/sign-in")
        browser.post("/sign-in", {"email": f"guess{n}@council.example.gov.uk",
                                  "password": "wrong password"},
                     headers={"X-Forwarded-For": f"203.0.113.{n}"})
    browser.get("/sign-in")
    return browser.post("/sign-in", {"email": IRO, "password": PASSWORD},
                        headers={"X-Forwarded-For": "203.0.113.200"})


def test_forwarded_for_from_an_unnamed_peer_is_ignored(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)  # no web.trusted_proxies
    refused = _failures_from(app, ("127.0.0.1", 5000), 20)
    assert refused.status_code == 429  # a forged header does not escape the address limit
    ips = {e.details["client_ip"] for e in _events(app, "web.sign_in_refused")}
    assert ips == {"127.0.0.1"}


def test_forwarded_for_from_a_named_proxy_is_the_client(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path, IRO_WEB_TRUSTED_PROXIES="10.0.0.5")
    done = _failures_from(app, ("10.0.0.5", 5000), 20)
    assert done.status_code == 303  # twenty clients behind the proxy, one failure each
    ips = {e.details["client_ip"] for e in _events(app, "web.sign_in_refused")}
    assert ips == {f"203.0.113.{n}" for n in range(20)}


def test_a_bad_trusted_proxy_is_a_config_error(tmp_path: Path) -> None:
    done = _iro(tmp_path, "config", "check", IRO_WEB_TRUSTED_PROXIES="proxy.example")
    assert done.returncode == 2 and "trusted_proxies" in done.stderr


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_iro_web_does_not_believe_forwarded_for_from_loopback(tmp_path: Path) -> None:
    """uvicorn itself believes X-Forwarded-For from 127.0.0.1 unless told not to."""
    seed(sqlite_store(tmp_path), *_seed_parts())
    port = _port()
    environ = {k: v for k, v in os.environ.items() if k != "IRO_WEB_SECRET_KEY"}
    environ["IRO_DATABASE_URL"] = sqlite_url(tmp_path)
    proc = subprocess.Popen([IRO_COMMAND, "--config", str(CONFIG), "web", "--port", str(port)],
                            env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            for _ in range(300):
                try:
                    page = client.get("/sign-in")
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            client.post("/sign-in", data={"csrf_token": token, "email": SUPPORT,
                                          "password": "wrong password"},
                        headers={"X-Forwarded-For": "198.51.100.7"})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    with sqlite3.connect(tmp_path / "store" / "iro.sqlite3") as db:
        details = [row[0] for row in db.execute(
            "SELECT details FROM audit_events WHERE action = 'web.sign_in_refused'")]
    assert len(details) == 1 and "127.0.0.1" in details[0] and "198.51.100.7" not in details[0]


def _seed_parts() -> tuple[Any, ...]:
    from mailout_support import CAL, DIRECTORY, RULES

    return RULES, DIRECTORY, CAL, dt.date(2026, 12, 1)


def test_the_iro_manager_changes_roles_and_disables_accounts_on_a_page(
        site: tuple[Any, Seeded]) -> None:
    from web_seed import DEPUTY, IRO_MANAGER

    app, _ = site
    victim = Browser(app)
    victim.sign_in(SUPPORT)
    assert victim.get("/support").status_code == 200
    boss = Browser(app)
    boss.sign_in(IRO_MANAGER)
    page = boss.get("/manager/accounts")
    assert page.status_code == 200 and SUPPORT in page.text
    assert 'href="/manager/accounts"' in page.text  # in the IRO manager's navigation
    changed = boss.post("/manager/accounts/role", {"email": SUPPORT, "role": "iro"})
    assert "is now iro; 1 live session ended" in boss.get(changed.headers["location"]).text
    assert victim.get("/support").headers["location"] == "/sign-in"
    victim.sign_in(SUPPORT)
    assert victim.get("/iro").status_code == 200
    asked = boss.post("/manager/accounts/disable", {"email": SUPPORT})
    assert asked.status_code == 200 and "This cannot be undone" in asked.text
    assert victim.get("/iro").status_code == 200  # nothing until confirmed
    done = boss.post("/manager/accounts/disable", {"email": SUPPORT, "confirmed": "yes"})
    assert "is disabled; 1 live session ended" in boss.get(done.headers["location"]).text
    assert victim.get("/iro").headers["location"] == "/sign-in"
    assert victim.sign_in(SUPPORT).status_code == 401
    assert [e.actor for e in _events(app, "web_user.disabled")] == [IRO_MANAGER]
    assert _events(app, "web_user.updated")[-1].actor == IRO_MANAGER
    # another manager is refused the page and its actions, and nothing changes
    other = Browser(app)
    other.sign_in(DEPUTY)
    assert other.get("/manager/accounts").status_code == 403
    assert 'href="/manager/accounts"' not in other.get("/manager").text
    assert other.post("/manager/accounts/role", {"email": IRO, "role": "manager"}
                      ).status_code == 403
    assert Browser(app).sign_in(IRO).status_code == 303
