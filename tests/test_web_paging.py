"""The IRO's caseload and the manager's lists hold a council's numbers: each list a page at a time
with its total, its own page parameter (paging one keeps the others where they were), every row
reachable once."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from factories import make_child, make_review
from web_client import TODAY, Browser, make_app
from web_seed import DEPUTY, IRO

LATE = 70  # reviews past their statutory date, more than a page of 50
HELD = 60


def _site(tmp_path: Path) -> tuple[Any, list[str], list[str]]:
    app, _ = make_app(tmp_path)
    late, held = [], []
    with app.state.web.sessions() as session:
        for n in range(LATE):
            child = make_child(session, iro_email=IRO, team="north_lac")
            late.append(make_review(session, child, due_on=TODAY - dt.timedelta(days=5 + n),
                                    scheduled_at=None).ref)
        for n in range(HELD):
            child = make_child(session, iro_email=IRO, team="north_lac")
            day = TODAY - dt.timedelta(days=400 + n)
            held.append(make_review(session, child, status="held", held_on=day, due_on=day,
                                    scheduled_at=None).ref)
        session.commit()
    return app, late, held


def _section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"')[1].split("<h2")[0]


def _walk(b: Browser, path: str, anchor: str, pattern: str) -> tuple[list[str], int]:
    """Every ref in one section, following its Next links; and the total it states."""
    html = b.get(path).text
    part = _section(html, anchor)
    total = int(re.search(r"Showing \d+–\d+ of (\d+)", part).group(1))  # type: ignore[union-attr]
    refs: list[str] = []
    for _ in range(20):
        refs += re.findall(pattern, part)
        found = re.search(r'<a href="(\?[^"#]*)#' + anchor + '" rel="next">', part)
        if not found:
            break
        html = b.get(path + found.group(1).replace("&amp;", "&")).text
        part = _section(html, anchor)
    return refs, total


def test_the_managers_overdue_reviews_page_by_page(tmp_path: Path) -> None:
    app, late, _ = _site(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    rows, total = _walk(b, "/manager", "overdue_reviews",
                        r'<tr class="row-bad"><td>([^<]+)</td><td>C-')
    assert total == len(rows) >= LATE + HELD  # the held children's next reviews are late too
    assert set(late) <= set(rows)
    # paging one list leaves the others on their first page, and says which page it is on
    second = b.get("/manager?overdue_reviews=2").text
    assert f"page 2 of {-(-total // 50)}" in _section(second, "overdue_reviews")
    assert "page 2" not in _section(second, "overdue")
    assert b.get("/manager?overdue_reviews=first").status_code == 400


def test_the_iros_caseload_and_write_ups_page_by_page(tmp_path: Path) -> None:
    app, late, held = _site(tmp_path)
    b = Browser(app)
    b.sign_in(IRO)
    page = b.get("/iro").text
    children, total = _walk(b, "/iro", "children", r"<td>(C-\d+) <span")
    assert total == len(children) == len(set(children)) >= LATE + HELD
    assert f"{total} children" in page
    writeups, total = _walk(b, "/iro", "writeups", r'<td><a href="/iro/reviews/(R-[^"]+)">')
    assert total == len(writeups) and set(held) <= set(writeups)
    assert writeups.index(held[0]) < writeups.index(held[-1])  # the latest held first


def test_the_iros_resolved_escalations_page_by_page(tmp_path: Path) -> None:
    # the open ones are all shown; the resolved ones, which grow every year, a page at a time
    from workers.escalation.refs import escalation_ref
    from workers.store.models import Escalation

    app, _ = make_app(tmp_path)
    resolved: list[Any] = []
    with app.state.web.sessions() as session:
        child = make_child(session, iro_email=IRO, team="north_lac")
        for n in range(60):
            day = TODAY - dt.timedelta(days=100 + n * 37 % 60)  # not in the ids' order
            row = Escalation(child_id=child.id, iro_email=IRO, category="pep_not_recorded",
                             concern="A concern", stage="deputy_manager", status="resolved",
                             raised_on=day - dt.timedelta(days=10), stage_started_on=day,
                             resolved_on=day, resolved_stage="deputy_manager", resolved_by=IRO)
            session.add(row)
            session.flush()
            resolved.append((day, escalation_ref(row.id)))
        session.commit()
    resolved = [ref for _, ref in sorted(resolved, reverse=True)]  # the latest resolved first
    b = Browser(app)
    b.sign_in(IRO)
    page = b.get("/iro/escalations").text
    shown = _section(page, "resolved")  # titles, not keys
    assert "Formal stage 1 - deputy manager" in shown and "Personal education plan" in shown
    refs, total = _walk(b, "/iro/escalations", "resolved", r'<a href="/iro/escalations/\d+">'
                        r'(ESC-\d+)</a>')
    assert total == len(refs) == 60 and refs == resolved  # the latest resolved first, once each
    shown_open = page.split('id="open"')[1].split('id="resolved"')[0]
    assert set(resolved).isdisjoint(re.findall(r"ESC-\d+", shown_open))
