"""Write-up reminders and overdue notices over six simulated weeks, counted at a real SMTP server.

Three reviews held around the 2026 Christmas closure (24 Dec - 1 Jan) on a migrated SQLite store;
the scheduler (enqueue_due + the write-up scan) ticks four times a simulated day; decisions and
records are written on fixed dates, one record late and one review held late. Every notice must
arrive exactly once, and none of a clock already stopped. Dates are counted by hand beside them.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import docx
from factories import make_child, make_participant, make_review, sqlite_store
from fakes.smtp import SmtpServer

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import LONDON, FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.mail.mime import DISPATCH_HEADER
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.queue.scheduler import Job as SchedulerJob
from workers.queue.scheduler import Scheduler, enqueue_due
from workers.reviews import scan as writeup_scan
from workers.reviews import service
from workers.reviews.notices import NoticeConfig

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
RULES = load_rules(ROOT / "config" / "rules.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
CAL = WorkingCalendar.from_rules(RULES.calendar)
AISHA = "aisha.rahman@council.example.gov.uk"
GRACE = "grace.whitfield@council.example.gov.uk"
MANAGER = DIRECTORY.iro_manager.email

# what happens at noon on each simulated day
EVENTS = {
    # R-A, due Sun 20 Dec, held Fri 18 Dec: decisions 21 22 23 Jan 4 5 (closure) -> 5 Jan,
    # reminder 4 Jan; record ... 19 Jan, reminders 12 and 18 Jan, overdue notice 20 Jan
    D("2026-12-18"): [("held", "R-A")],
    # R-C held Mon 4 Jan 2027: decisions 5 6 7 8 11 -> 11 Jan (reminder 8, overdue 12); record
    # 12 13 14 15 18(10) 19 20 21 22 25(15) -> 25 Jan (reminders 18, 22; overdue 26). Not written.
    D("2027-01-04"): [("held", "R-C")],
    D("2027-01-05"): [("decisions", "R-A")],  # on the due day: its overdue notice is called off
    # R-B due Fri 8 Jan, held Mon 11 Jan (3 days late): decisions 12 13 14 15 18 -> 18 Jan
    # (reminder 15, overdue 19); record 19(6) 20 21 22 25(10) 26 27 28 29 Feb 1(15) -> 1 Feb
    # (reminders 25 and 29 Jan, overdue 2 Feb)
    D("2027-01-11"): [("held", "R-B")],
    D("2027-01-20"): [("decisions", "R-B")],  # late: the overdue notice of the 19th went
    D("2027-01-21"): [("record", "R-A")],  # late: 17 working days; the notice of the 20th went
    D("2027-01-29"): [("record", "R-B")],  # in time, after that morning's reminder
}

EXPECTED = {
    "R-A/review_record": AISHA,
    "R-A/writeup/decisions/reminder/2027-01-04": AISHA,
    "R-A/writeup/record/reminder/2027-01-12": AISHA,
    "R-A/writeup/record/reminder/2027-01-18": AISHA,
    "R-A/writeup/record/overdue": MANAGER,
    "R-C/review_record": GRACE,
    "R-C/writeup/decisions/reminder/2027-01-08": GRACE,
    "R-C/writeup/decisions/overdue": MANAGER,
    "R-C/writeup/record/reminder/2027-01-18": GRACE,
    "R-C/writeup/record/reminder/2027-01-22": GRACE,
    "R-C/writeup/record/overdue": MANAGER,
    "R-B/review_record": AISHA,
    "R-B/writeup/decisions/reminder/2027-01-15": AISHA,
    "R-B/writeup/decisions/overdue": MANAGER,
    "R-B/writeup/record/reminder/2027-01-25": AISHA,
    "R-B/writeup/record/reminder/2027-01-29": AISHA,
}


def test_six_weeks_of_write_up_notices_each_exactly_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        for ref, iro, due, given, family in (
            ("A", AISHA, "2026-12-20", "Zoë", "O'Neil"),
            ("B", AISHA, "2027-01-08", "Łukasz", "Smith"),
            ("C", GRACE, "2027-01-29", "Amara", "Jones"),
        ):
            child = make_child(s, ref=f"C-{ref}", iro_email=iro, given_name=given,
                               family_name=family, looked_after_since=D("2026-03-02"))  # fmt: skip
            review = make_review(s, child, ref=f"R-{ref}", due_on=D(due), iro_email=iro,
                                 scheduled_at=None)  # fmt: skip
            make_participant(s, review, "carer", ref=f"P-{ref}1")
            make_participant(s, review, "child", ref=f"P-{ref}2", email=None, channel="post")

    clock = FixedClock(dt.datetime(2026, 12, 18, 6, 0, tzinfo=dt.UTC))
    cfg = NoticeConfig(RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=clock)
    writeup_scan.register(lambda: cfg)
    transport = SmtpTransport(
        SmtpConfig(smtp_server.host, smtp_server.port, "iro.service@council.example.gov.uk")
    )
    dispatcher = Dispatcher(
        sessions=sessions,
        transport=transport,
        compose=Composers(
            ComposeContext(reply_to="iro.service@council.example.gov.uk", clock=clock)
        ),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=clock,
    )

    def enqueue(ids: list[int]) -> int:
        for dispatch_id in ids:
            dispatcher.process(dispatch_id)
        return len(ids)

    scheduler = Scheduler(sessions, enqueue, tick_seconds=60, clock=clock)
    jobs = [writeup_scan.make_job(lambda: cfg), SchedulerJob("enqueue_due", enqueue_due)]
    stops = {}
    day = D("2026-12-18")
    while day <= D("2027-02-05"):
        for hour in (7, 9, 12, 13, 20):
            clock.set(dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON))
            if hour == 12:
                for what, ref in EVENTS.get(day, []):
                    with sessions.begin() as s:
                        if what == "held":
                            service.mark_held(s, RULES, DIRECTORY, CAL, ref, day, today=day,
                                              now=clock.now())  # fmt: skip
                        else:
                            stops[(ref, what)] = service.stop_writeup(s, CAL, ref, what, day)
                continue
            scheduler.tick(jobs=jobs)
            scheduler.tick(jobs=jobs)  # a second scheduler in the same slot does nothing
            writeup_scan.scan(sessions, cfg, day)  # and the scan run out of turn plans nothing new
        day += dt.timedelta(days=1)
    transport.close()

    messages = smtp_server.messages
    keys = Counter(str(m[DISPATCH_HEADER]) for m in messages)
    assert set(keys) == set(EXPECTED)
    assert all(n == 1 for n in keys.values()), keys
    for message in messages:
        key = str(message[DISPATCH_HEADER])
        assert str(message["To"]) == EXPECTED[key]
        subject = str(message["Subject"])
        review_ref = key.split("/")[0]
        assert review_ref in subject and "(" in subject
        for name in ("Zoë", "O'Neil", "Łukasz", "Smith", "Amara", "Jones"):
            assert name not in subject
            assert name not in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        if key.endswith("/overdue"):
            assert str(message["Cc"]) in (AISHA, GRACE)
    # the overdue notice lists what was overdue that morning, by reference and initials
    by_key = {str(m[DISPATCH_HEADER]): m for m in messages}
    overdue_c = by_key["R-C/writeup/record/overdue"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert (
        "R-C (A.J.): the review decisions due 11 January 2027, 11 working days overdue" in overdue_c
    )
    assert "R-C (A.J.): the review record due 25 January 2027, 1 working days overdue" in overdue_c
    # the draft record carries the filled Word document
    draft = by_key["R-A/review_record"]
    (attachment,) = list(draft.iter_attachments())
    assert attachment.get_filename() == "R-A-draft-review-record.docx"
    document = docx.Document(io.BytesIO(attachment.get_content()))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "Prepared for Aisha Rahman on 18 December 2026" in text
    assert "Zoë O'Neil" in text  # the record itself names the child; only the email must not

    assert (stops[("R-A", "record")].working_days_taken, stops[("R-A", "record")].in_time) == (
        17,
        False,
    )
    assert (
        stops[("R-B", "decisions")].working_days_taken,
        stops[("R-B", "decisions")].in_time,
    ) == (7, False)
    # 12 13 14 15 18 19 20 21 22 25 26 27 28 29 -> 14 working days, in time
    assert (stops[("R-B", "record")].working_days_taken, stops[("R-B", "record")].in_time) == (
        14,
        True,
    )
