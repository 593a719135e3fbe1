"""The manager's home page beside the escalations (issue 18 §2): reviews past their statutory
date, each IRO's caseload and timeliness this report year by name, and the escalations closed.

The seed (tests/web_seed.py, today 1 Dec 2026): Daniel Hughes has two children, one reviewed 30
days ago within its date (PN1) with both write-ups now overdue; Aisha Rahman has one child."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from factories import make_child, make_review
from web_client import CAL, DIRECTORY, RULES, TODAY, Browser, make_app
from web_seed import DEPUTY, IRO, IRO_MANAGER

from workers.core.clock import FixedClock
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService


def row(page: str, first_cell: str) -> list[str]:
    """The cells of the table row whose header cell is ``first_cell``."""
    found = re.search(rf'<tr[^>]*><th scope="row">{re.escape(first_cell)}</th>(.*?)</tr>', page,
                      flags=re.S)
    assert found, f"no row for {first_cell}"
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>",
                                                                    found.group(1), flags=re.S)]


def test_caseloads_late_reviews_and_closed_escalations(tmp_path: Path) -> None:
    app, seeded = make_app(tmp_path)
    sessions = app.state.web.sessions
    with sessions() as session:
        late = make_child(session, iro_email=IRO, team="north_lac")
        make_review(session, late, ref="R-LATE-1", due_on=TODAY - dt.timedelta(days=14),
                    scheduled_at=None)
        svc = EscalationService(session, Policy.from_rules(RULES.escalation, CAL), DIRECTORY,
                                clock=FixedClock.on(TODAY))
        svc.resolve(seeded.escalation_id, outcome="Plan updated", by=IRO_MANAGER, on=TODAY)
        session.commit()
        late_ref = late.ref

    b = Browser(app)
    b.sign_in(DEPUTY)
    page = b.get("/manager").text
    assert "Caseloads and timeliness by IRO, since Wed 1 Apr 2026" in page
    # children now, held, in timescale, reviews overdue, write-ups overdue
    assert row(page, "Daniel Hughes") == ["3", "1", "1 (100%)", "1", "2"]
    assert row(page, "Aisha Rahman") == ["1", "0", "–", "0", "0"]
    assert row(page, "Bernadette Kelly") == ["0", "0", "–", "0", "0"]  # in the directory, no cases
    reviews = page.split("Reviews past their statutory date")[1].split("<h2>")[0]
    assert "R-LATE-1" in reviews and late_ref in reviews and "Daniel Hughes" in reviews
    closed = page.split("Escalations closed since")[1]
    assert f"ESC-{seeded.escalation_id}" in closed and "Plan updated" not in closed
    # by name (the filter form's IRO choices carry emails as their values: after it)
    assert "daniel.hughes@" not in page.split("Overdue write-ups across the team")[1].split(
        "</form>", 1)[1]
