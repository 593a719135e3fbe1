"""Who may see and do what, enforced on the server for every route; CSRF; cookies; sign-in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from web_client import STORES, Browser, make_app, store_url
from web_seed import DEPUTY, IRO, OTHER_IRO, SUPPORT, Seeded

from workers.store.models import AuditEvent, Dispatch, Escalation

ROLE_USER = {"business_support": SUPPORT, "iro": IRO, "manager": DEPUTY}


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    return make_app(tmp_path, database_url=store_url(request))


def pages(s: Seeded) -> dict[str, list[str]]:
    """Every GET page, by the role allowed to see it."""
    return {
        "business_support": [
            "/support", f"/support/reviews/{s.ready_review}",
            f"/support/reviews/{s.ready_review}/send",
            f"/support/reviews/{s.ready_review}/progress",
            f"/support/reviews/{s.ready_review}/returns", "/support/dispatches",
            "/support/print", "/support/import", "/support/returns/unmatched"],
        "iro": ["/iro", "/iro/escalations", f"/iro/escalations/{s.escalation_id}",
                f"/iro/reviews/{s.held_review}/draft-record.docx"],
        "manager": ["/manager", f"/manager/escalations/{s.escalation_id}",
                    "/manager/report", "/manager/report/chart/escalations.png"],
    }


def posts(s: Seeded) -> dict[str, list[str]]:
    """Every action, by the role allowed to do it."""
    return {
        "business_support": [f"/support/reviews/{s.ready_review}/send",
                             f"/support/reviews/{s.ready_review}/returns",
                             f"/support/dispatches/{s.failed_dispatch_id}/retry",
                             "/support/print/build", "/support/print/1/printed",
                             "/support/import", "/support/returns/unmatched/1/dealt-with",
                             "/support/returns/C-ABCDEFGH/confirm-sender",
                             "/support/returns/C-ABCDEFGH/undo", "/support/print/1/void",
                             "/support/print/1/reprint"],
        "iro": ["/iro/escalations", f"/iro/escalations/{s.escalation_id}/advance",
                f"/iro/escalations/{s.escalation_id}/resolve",
                f"/iro/escalations/{s.escalation_id}/refer-cafcass"],
        "manager": [f"/manager/escalations/{s.escalation_id}/respond"],
    }


def test_signed_out_every_page_goes_to_sign_in(site: tuple[Any, Seeded]) -> None:
    app, s = site
    browser = Browser(app)
    for path in [p for group in pages(s).values() for p in group]:
        response = browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/sign-in"
    assert browser.get("/").headers["location"] == "/sign-in"


@pytest.mark.parametrize("role", sorted(ROLE_USER))
def test_each_role_sees_its_pages_and_is_refused_the_others(
        site: tuple[Any, Seeded], role: str) -> None:
    app, s = site
    browser = Browser(app)
    assert browser.sign_in(ROLE_USER[role]).status_code == 303
    for owner, paths in pages(s).items():
        for path in paths:
            response = browser.get(path)
            expected = 200 if owner == role else 403
            assert response.status_code == expected, (role, path, response.text[-300:])
            if expected == 403:
                assert "does not have access" in response.text


@pytest.mark.parametrize("role", sorted(ROLE_USER))
def test_each_role_is_refused_the_other_roles_actions_and_nothing_changes(
        site: tuple[Any, Seeded], role: str) -> None:
    app, s = site
    browser = Browser(app)
    browser.sign_in(ROLE_USER[role])
    browser.get({"business_support": "/support", "iro": "/iro", "manager": "/manager"}[role])
    sessions = app.state.web.sessions
    with sessions() as session:
        before = (session.scalar(select(func.count()).select_from(Dispatch)),
                  session.get(Escalation, s.escalation_id).stage)  # type: ignore[union-attr]
    for owner, paths in posts(s).items():
        if owner == role:
            continue
        for path in paths:
            response = browser.post(path, {"text": "x", "outcome": "x", "code": "C-AAAAAAAA",
                                           "child_ref": s.my_child, "category": "other",
                                           "concern": "x"})
            assert response.status_code == 403, (role, path)
    with sessions() as session:
        after = (session.scalar(select(func.count()).select_from(Dispatch)),
                 session.get(Escalation, s.escalation_id).stage)  # type: ignore[union-attr]
    assert after == before


def test_business_support_cannot_resolve_and_manager_cannot_send(
        site: tuple[Any, Seeded]) -> None:
    app, s = site
    support = Browser(app)
    support.sign_in(SUPPORT)
    support.get("/support")
    refused = support.post(f"/iro/escalations/{s.escalation_id}/resolve", {"outcome": "done"})
    assert refused.status_code == 403
    manager = Browser(app)
    manager.sign_in(DEPUTY)
    manager.get("/manager")
    assert manager.post(f"/support/reviews/{s.ready_review}/send").status_code == 403
    with app.state.web.sessions() as session:
        esc = session.get(Escalation, s.escalation_id)
        assert esc is not None and esc.status == "open"
        assert not session.scalars(select(Dispatch).where(
            Dispatch.key.startswith(f"{s.ready_review}/mailout"))).all()


def test_an_iro_sees_only_their_own_children(site: tuple[Any, Seeded]) -> None:
    app, s = site
    other = Browser(app)
    other.sign_in(OTHER_IRO)
    assert s.my_child not in other.get("/iro").text
    assert other.get(f"/iro/escalations/{s.escalation_id}").status_code == 403
    assert other.get(f"/iro/reviews/{s.held_review}/draft-record.docx").status_code == 403
    other.get("/iro/escalations")
    for action in ("advance", "resolve", "refer-cafcass"):
        response = other.post(f"/iro/escalations/{s.escalation_id}/{action}", {"outcome": "x"})
        assert response.status_code == 403
    raised = other.post("/iro/escalations", {"child_ref": s.my_child, "category": "other",
                                             "concern": "not my child"})
    assert raised.status_code == 403
    with app.state.web.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 1
    mine = Browser(app)
    mine.sign_in(IRO)
    assert s.my_child in mine.get("/iro").text
    assert s.other_child not in mine.get("/iro/escalations").text


def test_a_manager_sees_only_escalations_at_their_stage(site: tuple[Any, Seeded]) -> None:
    from web_seed import GROUP

    app, s = site
    group = Browser(app)
    group.sign_in(GROUP)
    assert f"ESC-{s.escalation_id}" not in group.get("/manager").text
    assert group.get(f"/manager/escalations/{s.escalation_id}").status_code == 403
    deputy = Browser(app)
    deputy.sign_in(DEPUTY)
    assert f"ESC-{s.escalation_id}" in deputy.get("/manager").text


def test_post_without_or_with_a_wrong_csrf_token_is_refused(site: tuple[Any, Seeded]) -> None:
    app, s = site
    browser = Browser(app)
    browser.sign_in(SUPPORT)
    browser.get("/support")
    path = f"/support/reviews/{s.ready_review}/send"
    bare = browser.client.post(path)
    assert bare.status_code == 403 and "did not come from this site" in bare.text
    wrong = browser.client.post(path, data={"csrf_token": "forged"})
    assert wrong.status_code == 403
    header = browser.client.post(path, headers={"X-CSRF-Token": "forged"})
    assert header.status_code == 403
    with app.state.web.sessions() as session:
        assert not session.scalars(select(Dispatch).where(
            Dispatch.key.startswith(f"{s.ready_review}/mailout"))).all()
    # sign-in and sign-out are forms too
    fresh = Browser(app)
    fresh.get("/sign-in")
    assert fresh.client.post("/sign-in", data={"email": SUPPORT, "password": "x"}
                             ).status_code == 403
    assert browser.client.post("/sign-out").status_code == 403
    assert browser.get("/support").status_code == 200  # still signed in


def test_sign_in_is_audited_and_a_wrong_password_says_nothing_about_which(
        site: tuple[Any, Seeded]) -> None:
    app, _ = site
    browser = Browser(app)
    wrong = browser.sign_in(SUPPORT, "not the password")
    unknown = Browser(app).sign_in("nobody@council.example.gov.uk", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    message = "email or password not recognised"
    assert message in wrong.text and message in unknown.text
    assert "not the password" not in wrong.text
    ok = browser.sign_in(SUPPORT)
    assert ok.status_code == 303 and ok.headers["location"] == "/support"
    browser.get("/support")
    assert browser.post("/sign-out").headers["location"] == "/sign-in"
    assert browser.get("/support").status_code == 303
    with app.state.web.sessions() as session:
        actions = [(e.action, e.actor) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("web.%")).order_by(AuditEvent.id))]
    assert actions == [("web.sign_in_refused", SUPPORT),
                       ("web.sign_in_refused", "nobody@council.example.gov.uk"),
                       ("web.signed_in", SUPPORT), ("web.signed_out", SUPPORT)]


def _cookie(response: Any) -> str:
    return next(v for k, v in response.headers.multi_items() if k.lower() == "set-cookie")


def test_cookies_are_httponly_samesite_lax_and_secure_off_localhost(tmp_path: Path) -> None:
    local, _ = make_app(tmp_path / "local")
    cookie = _cookie(Browser(local).sign_in(SUPPORT)).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    public, _ = make_app(tmp_path / "public", host="0.0.0.0", IRO_WEB_SECRET_KEY="k" * 40)
    browser = Browser(public)
    browser.client.base_url = "https://testserver"  # type: ignore[assignment]
    cookie = _cookie(browser.get("/sign-in")).lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


_LINK = re.compile(r'(?:href|src|action)="([^"]+)"')


def test_no_personal_data_in_any_url(site: tuple[Any, Seeded]) -> None:
    """Crawl every page each role can reach: no child's or participant's name in a link, a form
    action or a redirect; refs and ids only."""
    from web_seed import CHILD_FAMILY, CHILD_GIVEN

    from workers.store.models import Participant

    app, _ = site
    with app.state.web.sessions() as session:
        names = {CHILD_GIVEN, CHILD_FAMILY} | {
            part for p in session.scalars(select(Participant)) for part in p.name.split()
            # the factories' names end in the participant's number, which its ref carries too
            if len(part) > 3 and not part.isdigit()
            and part not in ("Test", "Parent", "Carer", "Social", "Worker", "Child")}
    for email in ROLE_USER.values():
        browser = Browser(app)
        browser.sign_in(email)
        seen: set[str] = set()
        todo = ["/"]
        while todo:
            path = todo.pop()
            if path in seen or not path.startswith("/") or path.startswith("/static"):
                continue
            seen.add(path)
            response = browser.get(path)
            location = response.headers.get("location", "")
            assert not any(n.lower() in location.lower() for n in names), location
            if location:
                todo.append(location)
            if "text/html" in response.headers.get("content-type", ""):
                for url in _LINK.findall(response.text):
                    assert not any(n.lower() in url.lower() for n in names), (path, url)
                    todo.append(url.split("?")[0].split("#")[0])
        assert len(seen) > 3, email


def test_times_on_pages_are_london_times() -> None:
    import datetime as dt

    from workers.web.pages import london_time

    summer = dt.datetime(2027, 6, 14, 9, 0, tzinfo=dt.UTC)  # 10:00 BST
    assert london_time(summer, "%H:%M") == "10:00"
    assert london_time(None) == ""
