"""A year of reviews (mid-December 2026 to the end of 2027) for three children, counted at a real
SMTP server (issue 6, "Will be checked").

Reviews are held on fixed dates (a first, seconds and subsequent ones, one held late); each review
held plans the next one itself, and its statutory date is compared with the table worked out by
hand below (reg 33: the second within three months of the first, later ones within six months,
counted from the day the last was held). Write-ups are recorded at noon on their due day (after
that morning's reminder), except one record written late across the 2026 Christmas closure
(24 Dec - 1 Jan, internal only). The scheduler (write-up scan + enqueue_due) ticks twice a day;
every reminder and overdue notice must arrive exactly once. England bank holidays in the period:
25, 28 Dec 2026; 1 Jan, 26 and 29 Mar, 3 and 31 May, 30 Aug, 27 and 28 Dec 2027; 3 Jan 2028.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from factories import make_child, make_participant, make_review, sqlite_store
from fakes.smtp import SmtpServer
from sqlalchemy import select

from workers.config.directory import load_directory
from workers.config.rules import load_rules
from workers.core.clock import LONDON, FixedClock
from workers.core.workcalendar import WorkingCalendar
from workers.mail.mime import DISPATCH_HEADER
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue import compose as compose_module
from workers.queue import scheduler as scheduler_module
from workers.queue.compose import ComposeContext, Composers
from workers.queue.dispatching import Dispatcher
from workers.queue.scheduler import Job, Scheduler, enqueue_due
from workers.reviews import scan as writeup_scan
from workers.reviews import service
from workers.reviews.notices import NoticeConfig
from workers.store.models import Deadline, Review

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
RULES = load_rules(ROOT / "config" / "rules.yaml")
DIRECTORY = load_directory(ROOT / "config" / "directory.yaml")
CAL = WorkingCalendar.from_rules(RULES.calendar)
AISHA = "aisha.rahman@council.example.gov.uk"
GRACE = "grace.whitfield@council.example.gov.uk"
MANAGER = DIRECTORY.iro_manager.email
MAILBOX = "iro.service@council.example.gov.uk"

# The hand-worked table. Per review held: held on, statutory due date, then the write-up dates
# (decisions due and its reminder 1 working day before; record due, reminders 5 and 1 working
# days before) and the statutory date of the review it plans next.
TABLE = {
    # C-C-R3 (subsequent) due Sun 20 Dec, held Fri 18 Dec 2026. Decisions 21 22 23 | closure
    # 24-1 Jan | 4 5 -> Tue 5 Jan (reminder 4 Jan); record ... 19 Jan (reminders 12, 18 Jan),
    # written Thu 21 Jan: late, the IRO manager told on Wed 20 Jan. Next 18 Jun 2027 (+6 months)
    "C-C-R3": ("2026-12-18", "2026-12-20", "2027-01-05", "2027-01-04",
               "2027-01-19", ("2027-01-12", "2027-01-18"), "2027-06-18"),
    # C-A-R1 (first): looked after Mon 4 Jan 2027, 20 working days -> Mon 1 Feb; held Fri 29 Jan.
    # Decisions Feb 1-5 -> Fri 5 Feb (reminder Thu 4); record 1-5, 8-12, 15-19 -> Fri 19 Feb
    # (reminders 12 and 18 Feb). Next (second) 3 months -> Thu 29 Apr
    "C-A-R1": ("2027-01-29", "2027-02-01", "2027-02-05", "2027-02-04",
               "2027-02-19", ("2027-02-12", "2027-02-18"), "2027-04-29"),
    # C-B-R2 (second) due Fri 5 Mar, held Mon 8 Mar: 3 days late. Decisions 9 10 11 12 15 ->
    # Mon 15 Mar (reminder Fri 12); record 9-12 (4) 15-19 (9) 22-25 (13) Good Friday, Easter
    # Monday, 30 31 -> Wed 31 Mar (reminders 22 and 30 Mar). Next (subsequent) 6 months -> 8 Sep
    "C-B-R2": ("2027-03-08", "2027-03-05", "2027-03-15", "2027-03-12",
               "2027-03-31", ("2027-03-22", "2027-03-30"), "2027-09-08"),
    # C-A-R2 (second) held Wed 28 Apr. Decisions 29 30 (3 May bank holiday) 4 5 6 -> Thu 6 May
    # (reminder 5 May); record 29 30, 4-7 (6), 10-14 (11), 17-20 (15) -> Thu 20 May (reminders
    # 13 and 19 May). Next 28 Oct
    "C-A-R2": ("2027-04-28", "2027-04-29", "2027-05-06", "2027-05-05",
               "2027-05-20", ("2027-05-13", "2027-05-19"), "2027-10-28"),
    # C-C-R4 held Thu 17 Jun. Decisions 18, 21-24 -> Thu 24 Jun (reminder 23); record 18, 21-25,
    # 28-2 Jul, 5-8 -> Thu 8 Jul (reminders 1 and 7 Jul). Next 17 Dec
    "C-C-R4": ("2027-06-17", "2027-06-18", "2027-06-24", "2027-06-23",
               "2027-07-08", ("2027-07-01", "2027-07-07"), "2027-12-17"),
    # C-B-R3 held Wed 8 Sep. Decisions 9 10 13 14 15 -> Wed 15 Sep (reminder 14); record 9 10,
    # 13-17, 20-24, 27 28 29 -> Wed 29 Sep (reminders 22 and 28 Sep). Next 8 Mar 2028
    "C-B-R3": ("2027-09-08", "2027-09-08", "2027-09-15", "2027-09-14",
               "2027-09-29", ("2027-09-22", "2027-09-28"), "2028-03-08"),
    # C-A-R3 held Tue 26 Oct. Decisions 27 28 29, 1 2 Nov -> Tue 2 Nov (reminder 1 Nov); record
    # 27-29, 1-5, 8-12, 15 16 -> Tue 16 Nov (reminders 9 and 15 Nov). Next 26 Apr 2028
    "C-A-R3": ("2027-10-26", "2027-10-28", "2027-11-02", "2027-11-01",
               "2027-11-16", ("2027-11-09", "2027-11-15"), "2028-04-26"),
    # C-C-R5 held Wed 15 Dec. Decisions 16 17 20 21 22 -> Wed 22 Dec (reminder 21); record 16 17,
    # 20-24, (27 28 bank holidays) 29 30 31, (3 Jan 2028 bank holiday) 4-7, 10 -> Mon 10 Jan 2028
    # (reminders 31 Dec, and 7 Jan: after this simulated year). Next 15 Jun 2028
    "C-C-R5": ("2027-12-15", "2027-12-17", "2027-12-22", "2027-12-21",
               "2028-01-10", ("2027-12-31", "2028-01-07"), "2028-06-15"),
}  # fmt: skip
IRO_OF = {"C-A": AISHA, "C-B": AISHA, "C-C": GRACE}
RECORD_LATE = {"C-C-R3": "2027-01-21"}
END = D("2027-12-31")


def events() -> dict[dt.date, list[tuple[str, str]]]:
    out: dict[dt.date, list[tuple[str, str]]] = {}
    for ref, (held, _, decisions, _, record, _, _) in TABLE.items():
        out.setdefault(D(held), []).append(("held", ref))
        out.setdefault(D(decisions), []).append(("decisions", ref))
        out.setdefault(D(RECORD_LATE.get(ref, record)), []).append(("record", ref))
    return out


def expected_notices() -> dict[str, str]:
    """Dispatch key -> address: what the SMTP server must have got by 31 December 2027."""
    out: dict[str, str] = {}
    for ref, (_, _, _, decisions_reminder, _, record_reminders, _) in TABLE.items():
        iro = IRO_OF[ref.rsplit("-", 1)[0]]
        out[f"{ref}/review_record"] = iro
        out[f"{ref}/writeup/decisions/reminder/{decisions_reminder}"] = iro
        for day in record_reminders:
            if D(day) <= END:
                out[f"{ref}/writeup/record/reminder/{day}"] = iro
    out["C-C-R3/writeup/record/overdue"] = MANAGER
    return out


EXPECTED = expected_notices()
assert len(EXPECTED) == 8 * 4 - 1 + 1  # 4 a review; one reminder after the year; one overdue


def test_a_year_of_reviews_held_recorded_and_planned_next(
    tmp_path: Path, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # registered for this test only: later tests' schedulers and composers must not see these
    monkeypatch.setattr(scheduler_module, "_JOBS", dict(scheduler_module._JOBS))
    monkeypatch.setattr(compose_module, "_COMPOSERS", dict(compose_module._COMPOSERS))
    sessions = sqlite_store(tmp_path)
    with sessions.begin() as s:
        for key, since, sequence, due in (
            ("A", "2027-01-04", 1, "2027-02-01"),  # first review: 20 working days (worked above)
            ("B", "2026-09-01", 2, "2027-03-05"),
            ("C", "2025-06-01", 3, "2026-12-20"),
        ):
            child = make_child(s, ref=f"C-{key}", iro_email=IRO_OF[f"C-{key}"],
                               given_name="Zoë", family_name=f"O'Neil{key}",
                               looked_after_since=D(since))  # fmt: skip
            review = make_review(s, child, ref=f"C-{key}-R{sequence}", sequence=sequence,
                                 due_on=D(due), scheduled_at=None)  # fmt: skip
            make_participant(s, review, "carer")
            make_participant(s, review, "child", email=None, channel="post")

    clock = FixedClock(dt.datetime(2026, 12, 14, 6, 0, tzinfo=dt.UTC))
    cfg = NoticeConfig(RULES, DIRECTORY, CAL, ROOT / "templates_docx", clock=clock)
    writeup_scan.register(lambda: cfg)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port, MAILBOX))
    dispatcher = Dispatcher(
        sessions=sessions,
        transport=transport,
        compose=Composers(ComposeContext(reply_to=MAILBOX, clock=clock)),
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=clock,
    )

    def enqueue(ids: list[int]) -> int:
        for dispatch_id in ids:
            dispatcher.process(dispatch_id)
        return len(ids)

    scheduler = Scheduler(sessions, enqueue, tick_seconds=60, clock=clock)
    jobs = [writeup_scan.make_job(lambda: cfg), Job("enqueue_due", enqueue_due)]
    todo = events()
    stops = {}
    next_refs: dict[str, str | None] = {}
    day = D("2026-12-14")
    while day <= END:
        for hour in (9, 12, 16):
            clock.set(dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON))
            if hour == 12:
                for what, ref in todo.get(day, []):
                    with sessions.begin() as s:
                        if what == "held":
                            result = service.mark_held(s, RULES, DIRECTORY, CAL, ref, day,
                                                     today=day, now=clock.now())  # fmt: skip
                            nxt = result.next_review
                            next_refs[ref] = nxt.ref if nxt else None
                        else:
                            stops[(ref, what)] = service.stop_writeup(s, CAL, ref, what, day)  # type: ignore[arg-type]
                continue
            scheduler.tick(jobs=jobs)
            scheduler.tick(jobs=jobs)  # a second scheduler in the same slot does nothing
        if day.day == 1:
            writeup_scan.scan(sessions, cfg, day)  # run out of turn: plans nothing new
        day += dt.timedelta(days=1)
    transport.close()

    # -- the reviews held and the ones each planned, against the hand-worked table ------------
    with sessions() as s:
        reviews = {r.ref: r for r in s.scalars(select(Review))}
        for ref, (held, due, decisions, _, record, _, next_due) in TABLE.items():
            r = reviews[ref]
            assert (r.held_on, r.due_on) == (D(held), D(due)), ref
            assert r.days_late == max((D(held) - D(due)).days, 0), ref
            deadlines = {
                d.kind: d for d in s.scalars(select(Deadline).where(Deadline.review_id == r.id))
            }
            assert deadlines["decisions"].due_on == D(decisions), ref
            assert deadlines["record"].due_on == D(record), ref
            following = reviews[str(next_refs[ref])]
            assert following.ref == f"{ref.rsplit('-R', 1)[0]}-R{r.sequence + 1}"
            assert (following.sequence, following.due_on) == (r.sequence + 1, D(next_due)), ref
        # the reviews still to come at the year's end: one per child, planned automatically
        planned = sorted((r.ref, r.due_on.isoformat()) for r in reviews.values()
                         if r.status == "planned")  # fmt: skip
        assert planned == [("C-A-R4", "2028-04-26"), ("C-B-R4", "2028-03-08"),
                           ("C-C-R6", "2028-06-15")]  # fmt: skip
        statuses = Counter(r.status for r in reviews.values())
        assert statuses == Counter({"recorded": 7, "held": 1, "planned": 3})
        assert [r.ref for r in reviews.values() if r.in_timescale is False] == ["C-B-R2"]

    # -- every notice at the SMTP server exactly once, to the IRO or the IRO manager ----------
    messages = smtp_server.messages
    keys = Counter(str(m[DISPATCH_HEADER]).strip() for m in messages)
    assert set(keys) == set(EXPECTED), sorted(set(keys) ^ set(EXPECTED))
    assert all(n == 1 for n in keys.values()), keys
    assert Counter(k.split("/")[-2] if "/reminder/" in k else k.split("/")[-1]
                   for k in keys) == Counter({"review_record": 8, "reminder": 23,
                                              "overdue": 1})  # fmt: skip
    for message in messages:
        key = str(message[DISPATCH_HEADER]).strip()
        assert str(message["To"]) == EXPECTED[key]
        subject = str(message["Subject"])
        assert key.split("/")[0] in subject and "(Z.O.)" in subject
        body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Zoë" not in subject + body and "O'Neil" not in subject + body
    overdue = next(m for m in messages if str(m[DISPATCH_HEADER]).strip().endswith("/overdue"))
    assert str(overdue["Cc"]) == GRACE
    assert "C-C-R3 (Z.O.): the review record due 19 January 2027, 1 working days overdue" in (
        overdue.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    )

    # -- the late record and the in-time ones, in working days after the meeting ---------------
    late = stops[("C-C-R3", "record")]
    assert (late.working_days_taken, late.in_time) == (17, False)  # 19 Jan was the 15th
    assert all(stop.in_time for (ref, _), stop in stops.items() if ref != "C-C-R3" or _ != "record")
    assert stops[("C-B-R2", "record")].working_days_taken == 15
    assert len(stops) == 8 + 7  # every decisions; the records but C-C-R5's (due 10 Jan 2028)
