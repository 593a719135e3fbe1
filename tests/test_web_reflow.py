"""Every page of every role at 320 CSS px wide (WCAG 2.2 reflow, 1.4.10) and at a desktop width,
in headless Chromium against a real `iro web`: no horizontal scroll of the page at 320 px (a wide
data table may scroll inside its own box, which the criterion allows), and axe-core finds no
violation of WCAG 2.x A/AA on any of them. Screenshots of both widths go to
tests/artifacts/web/reflow/ (look at them).
"""

from __future__ import annotations

from typing import Any

import pytest
from test_web_browser import ARTIFACTS, Server, chromium, server  # noqa: F401 (fixtures)
from web_seed import DEPUTY, IRO, IRO_MANAGER, PASSWORD, SUPPORT

pytestmark = pytest.mark.slow
WIDTHS = (320, 1280)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def _pages(site: Server) -> dict[str, list[tuple[str, str]]]:
    s = site.seeded
    return {
        "": [("sign-in", "/sign-in")],
        SUPPORT: [
            ("upcoming", "/support"), ("mailouts-due", "/support/mailouts"),
            ("letters", "/support/letters"),
            ("letters-of-review", f"/support/letters?review={s.ready_review}"),
            ("failed", "/support/dispatches"), ("print", "/support/print"),
            ("unmatched-returns", "/support/returns/unmatched"),
            ("unmatched-all", "/support/returns/unmatched?show=all&sort=domain&q=example"),
            ("import", "/support/import"), ("review", f"/support/reviews/{s.ready_review}"),
            ("review-refused", f"/support/reviews/{s.broken_review}"),
            ("confirm-send", f"/support/reviews/{s.ready_review}/send"),
            ("returns", f"/support/reviews/{s.ready_review}/returns"),
            ("not-found", "/support/reviews/R-NOPE"),
        ],
        IRO: [("caseload", "/iro"), ("caseload-searched", "/iro?q=c-0&show=overdue"),
              ("escalations", "/iro/escalations"), ("midway", "/iro/midway"),
              ("escalations-filtered", "/iro/escalations?state=open&q=C-&sort=child"),
              ("escalation", f"/iro/escalations/{s.escalation_id}"),
              ("review-held", f"/iro/reviews/{s.ready_review}"),
              ("not-allowed", "/manager")],
        DEPUTY: [("awaiting", "/manager"), ("report", "/manager/report"),
                 ("quality", "/manager/qa"),
                 ("manager-escalation", f"/manager/escalations/{s.escalation_id}"),
                 ("manager-escalations", "/manager/escalations"),
                 ("manager-escalations-none", "/manager/escalations?q=nothing&state=resolved")],
        IRO_MANAGER: [("iro-manager", "/manager"), ("accounts", "/manager/accounts"),
                      ("all-escalations", "/manager/escalations?sort=stage&dir=desc"),
                      ("correct-a-date", "/manager/dates"),
                      ("overdue-searched", "/manager?q=R-&sort=child&dir=desc")],
    }


def _unmatched(site: Server) -> None:
    """Inbox messages for the unmatched list (the seed has none), one of them dealt with."""
    import datetime as dt

    from workers.returns import unmatched
    from workers.returns.inbox import InboxMessage
    from workers.store.session import open_store

    with open_store(site.database_url)() as session:
        for n, reason in enumerate(("several_codes", "no_code", "bounce_unmatched")):
            unmatched.add(session, InboxMessage(
                id=str(n), message_id=f"<CAF{n}x7Qm2vLk9PzR4tWbNq@mail.example-school.org.uk>",
                subject="", body="", received_at=dt.datetime(2026, 11, 2 + n, 9, tzinfo=dt.UTC),
                sender_domain="mail.example-school.org.uk"),
                reason, ["C-7K2M9Q4P", "C-X3H8R2JN"][:0 if reason == "no_code" else n + 2])
        session.flush()
        first = unmatched.listed(session)[0][0]
        unmatched.dealt_with(session, first.id, now=dt.datetime(2026, 11, 10, 11, tzinfo=dt.UTC),
                             actor=SUPPORT, note="both forms recorded by hand")
        session.commit()


def _sign_in(page: Any, site: Server, email: str) -> None:
    page.goto(site.url + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("who", ["", SUPPORT, IRO, DEPUTY, IRO_MANAGER])
def test_every_page_reflows_at_320px_and_passes_axe(chromium: Any,  # noqa: F811
                                                     server: Server, who: str) -> None:  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    folder = ARTIFACTS / "reflow"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        if who:
            _sign_in(page, server, who)
        if who == SUPPORT:
            _unmatched(server)
        for name, path in _pages(server)[who]:
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 800})
                answer = page.goto(server.url + path)
                page.wait_for_load_state("networkidle")
                expected = {"not-found": 404, "not-allowed": 403}.get(name, 200)
                if answer is None or answer.status != expected:
                    problems.append(f"{path}: answered {answer and answer.status}, "
                                    f"expected {expected}")
                page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
                if width == 320:
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    if wide > width:
                        problems.append(f"{path}: {wide} px wide at {width} px (scrolls sideways)")
                    continue
                result = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
                for v in result.response["violations"]:
                    where = [n["target"] for n in v["nodes"]][:3]
                    problems.append(f"{path}: axe {v['id']} ({v['impact']}): {v['help']} {where}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
