"""A year of escalations (2027) on PostgreSQL, through the service, the scheduler's timer scan,
the real dispatcher and a real SMTP server (issue 7, "Will be checked").

Six escalations for five children: raised, answered, advanced, bypassed, advanced by timeout
(the deputy manager's stage is set to advance on its own), referred to CAFCASS, overdue and
past the 20-day ceiling, resolved at four stages, one still open at the year's end; a resolve by
someone other than the IRO is refused and audited. The scheduler ticks twice a simulated day.
Every notice is counted at the server by stage and recipient (each exactly once), its .docx
opened, and the year's figures read back with the annual report's query. Dates are worked by hand
in the comments (England bank holidays 2027: 1 Jan, 26 and 29 Mar, 3 and 31 May, 30 Aug, 27 and
28 Dec; no local closure is configured for 2027).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
from factories import make_child, postgres_store
from fakes.smtp import SmtpServer
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_escalation_service import shipped
from test_escalation_timers import with_auto_advance

from workers.config.directory import Directory
from workers.core.clock import LONDON, FixedClock
from workers.documents.engine import DocumentEngine
from workers.errors import RefusedError
from workers.escalation import timers
from workers.escalation.notices import EscalationComposers
from workers.escalation.planned import NOTICE_KIND
from workers.escalation.policy import Policy
from workers.escalation.service import EscalationService, commit_refusal
from workers.mail.message import OutgoingMessage
from workers.mail.mime import DISPATCH_HEADER
from workers.mail.pause import PauseHooks
from workers.mail.smtp import SmtpConfig, SmtpTransport
from workers.queue.compose import ComposeContext
from workers.queue.dispatching import Dispatcher
from workers.queue.scheduler import Job, Scheduler, enqueue_due
from workers.report.figures import Period
from workers.report.queries import escalations as escalation_figures
from workers.store.models import AuditEvent, Dispatch, Escalation, EscalationStep

ROOT = Path(__file__).resolve().parent.parent
D = dt.date.fromisoformat
MAILBOX = "iro.service@council.example.gov.uk"

DANIEL = "daniel.hughes@council.example.gov.uk"  # IROs
AISHA = "aisha.rahman@council.example.gov.uk"
GRACE = "grace.whitfield@council.example.gov.uk"
TOMASZ = "tomasz.nowak@council.example.gov.uk"
NORTH_TM = "samuel.adeyemi@council.example.gov.uk"  # team managers
SOUTH_TM = "helen.marsh@council.example.gov.uk"
CARE_TM = "priya.shah@council.example.gov.uk"
DEPUTY = "martin.greene@council.example.gov.uk"
GROUP = "olivia.bennett@council.example.gov.uk"
HEAD = "richard.osei@council.example.gov.uk"
CAFCASS = "iro.referrals@cafcass.gov.uk"
IRO_MANAGER = "patricia.okafor@council.example.gov.uk"

# child key -> (team, IRO, given name, family name); E is escalated twice
CHILDREN = {
    "A": ("north_lac", DANIEL, "Zoë", "O'Neil"),
    "B": ("south_lac", AISHA, "Łukasz", "Smith"),
    "C": ("north_lac", GRACE, "Amara", "Jones"),
    "D": ("leaving_care", TOMASZ, "Kwame", "Mensah"),
    "E": ("south_lac", AISHA, "Ellie", "Birchwood"),
}
CONCERN = "{child}'s personal education plan has not been recorded since the move"

# What happens at noon on each simulated day: (action, escalation number, argument, by)
EVENTS: dict[dt.date, list[tuple[str, int, Any, str]]] = {
    # 1 (child A): informal, answered, resolved there
    D("2027-01-11"): [("raise", 1, ("A", None), DANIEL)],
    D("2027-01-13"): [("respond", 1, None, NORTH_TM)],
    D("2027-01-14"): [("resolve", 1, None, DANIEL)],
    # 2 (child B): informal answered, advanced to the deputy (due 4 Feb + 5 = 11 Feb), answered;
    # the deputy tries to close it himself (refused), the IRO closes it at the deputy's stage
    D("2027-02-01"): [("raise", 2, ("B", None), AISHA)],
    D("2027-02-03"): [("respond", 2, None, SOUTH_TM)],
    D("2027-02-04"): [("advance", 2, None, AISHA)],
    D("2027-02-08"): [("respond", 2, None, DEPUTY)],
    D("2027-02-09"): [("resolve", 2, None, DEPUTY)],  # refused
    D("2027-02-10"): [("resolve", 2, None, AISHA)],
    # 3 (child C): informal due Mon 8 Mar, no answer -> the IRO told on Tue 9 Mar (informal does
    # not advance on its own); advanced Wed 10 Mar, deputy due 11 12 15 16 17 -> 17 Mar, no
    # answer -> timed out to the group manager on Thu 18 Mar (due 19 22 23 24 25 -> 25 Mar);
    # answered 22 Mar, resolved 24 Mar, before the ceiling (2 3 4 5 8 ... 25 = 18, Good Friday
    # 26 and Easter Monday 29 skipped, 30 31 -> 31 Mar)
    D("2027-03-01"): [("raise", 3, ("C", None), GRACE)],
    D("2027-03-10"): [("advance", 3, None, GRACE)],
    D("2027-03-22"): [("respond", 3, None, GROUP)],
    D("2027-03-24"): [("resolve", 3, None, GRACE)],
    # 4 (child D): informal, bypassed on Wed 9 Jun straight to the head of service (due 16 Jun),
    # answered Mon 14 Jun, resolved Wed 16 Jun
    D("2027-06-07"): [("raise", 4, ("D", None), TOMASZ)],
    D("2027-06-09"): [("advance", 4, "head_of_service", TOMASZ)],
    D("2027-06-14"): [("respond", 4, None, HEAD)],
    D("2027-06-16"): [("resolve", 4, None, TOMASZ)],
    # 5 (child A again): raised at the deputy's stage Mon 6 Sep (due 7 8 9 10 13 -> 13 Sep),
    # referred to CAFCASS Wed 8 Sep; no answer -> timed out to the group manager Tue 14 Sep
    # (due 15 16 17 20 21 -> 21 Sep), no answer -> the IRO told Wed 22 Sep; the ceiling
    # (7..10 = 4, 13..17 = 9, 20..24 = 14, 27..30 = 18, 1 Oct = 19, 4 Oct = 20 -> 4 Oct) passes,
    # flagged Tue 5 Oct; resolved by the IRO Fri 8 Oct at the group manager's stage
    D("2027-09-06"): [("raise", 5, ("A", "deputy_manager"), DANIEL)],
    D("2027-09-08"): [("refer", 5, None, DANIEL)],
    D("2027-10-08"): [("resolve", 5, None, DANIEL)],
    # 6 (child E): informal Mon 29 Nov (due 30 1 2 3 6 -> 6 Dec), the IRO told Tue 7 Dec; ceiling
    # 30 Nov .. 24 Dec = 19, 27 and 28 Dec bank holidays, 29 Dec = 20 -> flagged Thu 30 Dec; open
    D("2027-11-29"): [("raise", 6, ("E", None), AISHA)],
}


def stage_keys(n: int, stage: str, to: list[str], cc: list[str]) -> dict[str, str]:
    out = {f"ESC-{n}/stage/{stage}/to/{a}": a for a in to}
    out.update({f"ESC-{n}/stage/{stage}/cc/{a}": a for a in cc})
    return out


# Every notice of the year: dispatch key -> address (escalation numbers are the store's ids).
# A stage's notice goes to its manager, copying the IRO and those at the stages below it.
EXPECTED: dict[str, str] = {
    **stage_keys(1, "informal", [NORTH_TM], [DANIEL]),
    **stage_keys(2, "informal", [SOUTH_TM], [AISHA]),
    **stage_keys(2, "deputy_manager", [DEPUTY], [AISHA, SOUTH_TM]),
    **stage_keys(3, "informal", [NORTH_TM], [GRACE]),
    f"ESC-3/overdue/informal/to/{GRACE}": GRACE,
    **stage_keys(3, "deputy_manager", [DEPUTY], [GRACE, NORTH_TM]),
    **stage_keys(3, "group_manager", [GROUP], [GRACE, NORTH_TM, DEPUTY]),
    **stage_keys(4, "informal", [CARE_TM], [TOMASZ]),
    **stage_keys(4, "head_of_service", [HEAD], [TOMASZ, CARE_TM, DEPUTY, GROUP]),
    **stage_keys(5, "deputy_manager", [DEPUTY], [DANIEL, NORTH_TM]),
    **stage_keys(5, "cafcass", [CAFCASS], [DANIEL, NORTH_TM, DEPUTY]),
    **stage_keys(5, "group_manager", [GROUP], [DANIEL, NORTH_TM, DEPUTY]),
    f"ESC-5/overdue/group_manager/to/{DANIEL}": DANIEL,
    f"ESC-5/ceiling/to/{DANIEL}": DANIEL,
    f"ESC-5/ceiling/cc/{IRO_MANAGER}": IRO_MANAGER,
    **stage_keys(6, "informal", [SOUTH_TM], [AISHA]),
    f"ESC-6/overdue/informal/to/{AISHA}": AISHA,
    f"ESC-6/ceiling/to/{AISHA}": AISHA,
    f"ESC-6/ceiling/cc/{IRO_MANAGER}": IRO_MANAGER,
}
assert len(EXPECTED) == 2 + 5 + 10 + 7 + 14 + 5  # 43 notices counted by hand

# The steps the store must hold for each escalation, in order, with their dates.
STEPS = {
    1: [("raised", "informal", "2027-01-11"), ("responded", "informal", "2027-01-13"),
        ("resolved", "informal", "2027-01-14")],
    2: [("raised", "informal", "2027-02-01"), ("responded", "informal", "2027-02-03"),
        ("advanced", "deputy_manager", "2027-02-04"),
        ("responded", "deputy_manager", "2027-02-08"),
        ("resolved", "deputy_manager", "2027-02-10")],
    3: [("raised", "informal", "2027-03-01"), ("overdue", "informal", "2027-03-09"),
        ("advanced", "deputy_manager", "2027-03-10"),
        ("timed_out", "group_manager", "2027-03-18"),
        ("responded", "group_manager", "2027-03-22"), ("resolved", "group_manager", "2027-03-24")],
    4: [("raised", "informal", "2027-06-07"), ("bypassed", "head_of_service", "2027-06-09"),
        ("responded", "head_of_service", "2027-06-14"),
        ("resolved", "head_of_service", "2027-06-16")],
    5: [("raised", "deputy_manager", "2027-09-06"), ("referred_cafcass", "cafcass", "2027-09-08"),
        ("timed_out", "group_manager", "2027-09-14"), ("overdue", "group_manager", "2027-09-22"),
        ("ceiling_passed", "group_manager", "2027-10-05"),
        ("resolved", "group_manager", "2027-10-08")],
    6: [("raised", "informal", "2027-11-29"), ("overdue", "informal", "2027-12-07"),
        ("ceiling_passed", "informal", "2027-12-30")],
}  # fmt: skip


def docx_text(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def apply_event(
    svc: EscalationService, ids: dict[int, int], refs: dict[str, str],
    event: tuple[str, int, Any, str], day: dt.date,
) -> None:  # fmt: skip
    action, n, arg, by = event
    if action == "raise":
        child, stage = arg
        row = svc.raise_(refs[child], concern=CONCERN.format(child=CHILDREN[child][2]),
                         category="pep_not_recorded", stage=stage, on=day)  # fmt: skip
        assert row.id == n  # a fresh schema: the ids are the numbers used above
        ids[n] = row.id
    elif action == "respond":
        svc.respond(ids[n], text=f"Response from {by}", by=by, on=day)
    elif action == "advance":
        svc.advance(ids[n], to=arg, by=by, on=day)
    elif action == "refer":
        svc.refer_cafcass(ids[n], by=by, on=day)
    else:
        svc.resolve(ids[n], outcome="The plan was updated and recorded", by=by, on=day)


def test_a_year_of_escalations_counted_at_the_smtp_server(
    pg_database: str, smtp_server: SmtpServer
) -> None:
    base, directory = shipped()
    policy = with_auto_advance(base, "deputy_manager")
    sessions = postgres_store(pg_database)
    refs: dict[str, str] = {}
    with sessions.begin() as s:
        for key, (team, iro, given, family) in CHILDREN.items():
            child = make_child(s, ref=f"C-Y{key}", team=team, iro_email=iro, given_name=given,
                               family_name=family, looked_after_since=D("2026-06-01"))  # fmt: skip
            refs[key] = child.ref

    clock = FixedClock(dt.datetime(2027, 1, 4, 6, 0, tzinfo=dt.UTC))
    composers = EscalationComposers(policy, directory, DocumentEngine(ROOT / "templates_docx"))
    context = ComposeContext(reply_to=MAILBOX, clock=clock)
    transport = SmtpTransport(SmtpConfig(smtp_server.host, smtp_server.port, MAILBOX))

    def compose(session: Session, d: Dispatch) -> OutgoingMessage:
        # the composers bound here, not registered process-wide, so no other test sees them
        fn = composers.notice if d.kind == NOTICE_KIND else composers.alert
        return fn(session, d, context)

    dispatcher = Dispatcher(
        sessions=sessions,
        transport=transport,
        compose=compose,
        pause=PauseHooks(is_paused=lambda _s: False, pause=lambda _s, _r: False),
        clock=clock,
    )

    def enqueue(dispatch_ids: list[int]) -> int:
        for dispatch_id in dispatch_ids:
            dispatcher.process(dispatch_id)
        return len(dispatch_ids)

    load: Callable[[], tuple[Policy, Directory]] = lambda: (policy, directory)  # noqa: E731
    jobs = [
        timers.make_job(load),
        Job("enqueue_due", enqueue_due),
    ]
    scheduler = Scheduler(sessions, enqueue, tick_seconds=60, clock=clock)
    ids: dict[int, int] = {}
    refused = 0
    day = D("2027-01-04")
    while day <= D("2027-12-31"):
        for hour in (7, 12, 15):
            clock.set(dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON))
            if hour == 12:
                for event in EVENTS.get(day, []):
                    with sessions() as s:
                        svc = EscalationService(s, policy, directory, clock=clock)
                        try:
                            apply_event(svc, ids, refs, event, day)
                            s.commit()
                        except RefusedError:
                            commit_refusal(s)
                            refused += 1
                continue
            scheduler.tick(jobs=jobs)
            scheduler.tick(jobs=jobs)  # a second scheduler in the same slot does nothing
        if day.day in (1, 15):  # and the scan run out of turn tells no one twice
            timers.scan(sessions, policy, directory, clock.now())
        day += dt.timedelta(days=1)
    scheduler.tick(jobs=[Job("enqueue_due", enqueue_due)])
    transport.close()

    # -- every notice at the server, exactly once, to the address worked out by hand ----------
    messages = smtp_server.messages
    keys = Counter(str(m[DISPATCH_HEADER]).strip() for m in messages)
    assert set(keys) == set(EXPECTED), sorted(set(keys) ^ set(EXPECTED))
    assert all(n == 1 for n in keys.values()), keys
    per_stage = Counter(k.split("/")[1] + ":" + k.split("/")[2] for k in keys if "/stage/" in k)
    assert per_stage["stage:group_manager"] == 8 and per_stage["stage:cafcass"] == 4
    with sessions() as s:
        states = Counter(s.scalars(select(Dispatch.state)))
    assert states == Counter({"sent": len(EXPECTED)})

    concerns = {n: CONCERN.format(child=CHILDREN[c][2]) for n, c in
                {1: "A", 2: "B", 3: "C", 4: "D", 5: "A", 6: "E"}.items()}  # fmt: skip
    titles = {s.key: s.title for s in policy.stages}
    for message in messages:
        key = str(message[DISPATCH_HEADER]).strip()
        n = int(key.split("/")[0].removeprefix("ESC-"))
        assert str(message["To"]) == EXPECTED[key]
        subject = str(message["Subject"])
        body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert subject.startswith(f"Escalation ESC-{n} (")
        for given, family in ((g, f) for _, _, g, f in CHILDREN.values()):
            assert given not in subject and family not in subject
            assert given not in body and family not in body  # names only in the document
        assert concerns[n] not in body
        kind, stage = key.split("/")[1], key.split("/")[2]
        if kind == "stage":
            assert subject.endswith(titles[stage] + ("" if "/to/" in key else
                                                     " (copy for information)"))  # fmt: skip
            (attachment,) = list(message.iter_attachments())
            assert attachment.get_filename() == f"ESC-{n}-{stage}.docx"
            text = docx_text(attachment.get_content())
            assert concerns[n] in text and f"ESC-{n}" in text and titles[stage] in text
        elif kind == "overdue":
            assert subject.endswith("response overdue") and titles[stage] in body
            assert not list(message.iter_attachments())
        else:
            assert subject.endswith("has passed the total time allowed")

    # -- what the store holds ---------------------------------------------------------------
    with sessions() as s:
        for n, expected_steps in STEPS.items():
            steps = s.scalars(
                select(EscalationStep).where(EscalationStep.escalation_id == ids[n])
                .order_by(EscalationStep.on, EscalationStep.id)
            ).all()  # fmt: skip
            assert [(x.action, x.stage, x.on.isoformat()) for x in steps] == expected_steps, n
        # the refused resolve: audited with who tried, nothing changed by it
        assert refused == 1
        audit = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "escalation.resolve_refused")
        ).all()
        assert [(e.actor, e.subject_id) for e in audit] == [(DEPUTY, ids[2])]
        two = s.get(Escalation, ids[2])
        assert two is not None and (two.resolved_by, two.resolved_on) == (AISHA, D("2027-02-10"))

        # -- the year's figures, as the annual report counts them (children, not escalations)
        figures = escalation_figures(s, Period(D("2027-01-01"), D("2027-12-31")))
    assert figures.children == 5
    assert figures.resolved_by_stage == {
        "informal": 1,  # A (escalation 1)
        "deputy_manager": 1,  # B
        "group_manager": 2,  # C, and A again (escalation 5)
        "head_of_service": 1,  # D, bypassed up to it
    }
    assert (figures.cafcass_referred, figures.open) == (1, 1)  # A; E still open
