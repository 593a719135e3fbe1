"""The IRO's midway checks page (issue 20 §2): my checks due and overdue with the open decisions
of the review each follows, recorded through the same service as `iro midway record`.

Worked by hand (England; no bank holiday or closure from October to early December 2026): a
review held Thu 1 Oct 2026 with the next due Mon 2 Nov has its check due Fri 16 Oct (as in
tests/test_midway.py). On Tue 1 Dec it is overdue by the working days after 16 Oct up to 1 Dec:
19 Oct-27 Nov is six weeks (30), then 30 Nov and 1 Dec: 32.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from factories import make_child, make_review
from sqlalchemy import select
from web_client import Browser, make_app
from web_seed import IRO, OTHER_IRO

from workers.midway import scan
from workers.store.models import AuditEvent, Deadline, Escalation, MidwayCheck, ReviewDecision

D = dt.date.fromisoformat


def seed_checks(app: object) -> tuple[str, str]:
    web = app.state.web  # type: ignore[attr-defined]
    with web.sessions() as s:
        mine = make_child(s, iro_email=IRO, team="north_lac", ref="C-MID1")
        held = make_review(s, mine, ref="R-MID1", sequence=3, status="recorded",
                           held_on=D("2026-10-01"), due_on=D("2026-10-05"))
        make_review(s, mine, ref="R-MID2", sequence=4, due_on=D("2026-11-02"), scheduled_at=None)
        s.add(ReviewDecision(review_id=held.id, number=1, outcome="Settled at school",
                             action="Apply for a place at the local academy",
                             responsible="Social worker", timescale="By half term"))
        theirs = make_child(s, iro_email=OTHER_IRO, team="south_lac", ref="C-MID9")
        make_review(s, theirs, ref="R-MID9", sequence=2, status="recorded",
                    held_on=D("2026-10-01"), due_on=D("2026-10-05"))
        make_review(s, theirs, ref="R-MIDA", sequence=3, due_on=D("2026-11-02"),
                    scheduled_at=None)
        s.commit()
    assert scan.scan(web.sessions, web.notices, web.today()) >= 2
    return mine.ref, theirs.ref


def test_due_checks_with_decisions_recorded_as_a_concern(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    mine, theirs = seed_checks(app)
    b = Browser(app)
    b.sign_in(IRO)
    page = b.get("/iro/midway").text
    assert '<a href="/iro/midway"' in page  # in the IRO's navigation
    section = page.split(f'id="check-{mine}"')[1].split("</section>")[0]
    assert "after R-MID1, held Thu 1 Oct 2026" in section
    assert "Due Fri 16 Oct 2026" in section and "overdue by 32 working days" in section
    assert "Apply for a place at the local academy" in section
    assert theirs not in page  # another IRO's child

    empty = b.post(f"/iro/midway/{mine}", {"note": "Not yet", "escalate": ""})
    assert empty.status_code == 400 and "Choose an outcome" in empty.text
    assert ">Not yet</textarea>" in empty.text
    bad_day = b.post(f"/iro/midway/{mine}", {"outcome": "on_track", "on": "30/11/2026"})
    assert bad_day.status_code == 400
    assert "Date: expected a date (YYYY-MM-DD), got &#39;30/11/2026&#39;" in bad_day.text
    done = b.post(f"/iro/midway/{mine}", {
        "outcome": "concern", "note": "No school place applied for.",
        "escalate": "delay_in_review_decisions", "on": "2026-11-30"})
    assert done.status_code == 303, done.text
    page = b.get("/iro/midway").text
    with app.state.web.sessions() as s:
        check = s.scalars(select(MidwayCheck)).one()
        escalation = s.get(Escalation, check.escalation_id)
        deadline = s.get(Deadline, check.deadline_id)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "midway.recorded")).one()
    assert (check.outcome, check.by, check.checked_on) == ("concern", IRO, D("2026-11-30"))
    assert escalation is not None and escalation.category == "delay_in_review_decisions"
    assert deadline is not None and deadline.met_on == D("2026-11-30")
    assert event.actor == IRO
    assert (f"Midway check for {mine} after R-MID1 recorded as a concern; "
            f"ESC-{escalation.id} raised.") in page
    assert f'id="check-{mine}"' not in page  # no longer open
    assert f'<a href="/iro/escalations/{escalation.id}">' in page.split("Recorded recently")[1]


def test_another_iros_child_is_refused(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    _, theirs = seed_checks(app)
    b = Browser(app)
    b.sign_in(IRO)
    b.get("/iro/midway")
    refused = b.post(f"/iro/midway/{theirs}", {"outcome": "on_track"})
    assert refused.status_code == 403
    with app.state.web.sessions() as s:
        assert s.scalars(select(MidwayCheck)).all() == []


def test_caseload_shows_the_midway_check(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    mine, theirs = seed_checks(app)
    with app.state.web.sessions() as s:  # type: ignore[attr-defined]
        s.add(ReviewDecision(review_id=s.scalars(select(Deadline.review_id).where(
            Deadline.key == "R-MID1/midway")).one(), number=2, action="Done already",
            responsible="Carer", timescale="Now", done=True))
        s.commit()
    b = Browser(app)
    b.sign_in(IRO)
    page = b.get("/iro").text
    assert "<th scope=\"col\">Midway check</th>" in page
    row = page.split(f"<td>{mine} ")[1].split("</tr>")[0]
    assert f'<a href="/iro/midway#check-{mine}">R-MID1 midway check due 2026-10-16</a>' in row
    assert theirs not in page
    assert "Done already" not in b.get("/iro/midway").text  # done: nothing to check
