"""Issue 16, "Will be checked": a month of casework on PostgreSQL, counted at the SMTP server and in
the print batches.

Three reviews from the case system's export; the FixedClock moves a working day at a time, each
day's changes made as business support and the IROs make them, then one `iro run --once` round
(``workers.queue.once.run_once``: every periodic job, then every email due, through the real
dispatcher, Redis rate limit and send journal, to an aiosmtpd server) and the day's print batch
built with LibreOffice and marked posted. Along the way: a bounce corrected and resent, a
channel switched to post, a parent left out of the next import, a meeting moved to the carer's
(confidential) home, a review cancelled, a form returned by post and its date corrected, a
posting date corrected, a meeting entered late with the wrong date and corrected, and the import
after a review was held. Every email and every printed letter is counted against what each
person should have had that day: the right person, at the address on record, once, with the
right dates; nothing to anyone withdrawn; the mother never sees the placement address.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from factories import postgres_url
from fakes.smtp import SmtpServer
from mailout_support import CAL, CONFIG, DIRECTORY, ROOT, RULES
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_import import context, example_rows, to_csv  # noqa: F401 - context is a fixture

from workers.casework.corrections import correct_contact
from workers.casework.imports import after_import
from workers.casework.letters import resend
from workers.casework.meetings import cancel_review, move_review
from workers.casework.notices import CANCEL_KIND, CHANGE_KIND
from workers.casework.redate import correct_held, correct_posted, correct_return, corrector
from workers.config.settings import load_settings
from workers.core.clock import FixedClock, london_moment
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.importer.upsert import upsert_plan
from workers.mailout.documents import MailoutConfig
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND
from workers.mailout.printing import build_batch, mark_printed
from workers.mailout.service import run_mailout
from workers.queue import assembly
from workers.queue.once import run_once
from workers.returns.service import record_bounce, record_return
from workers.reviews import service
from workers.store.models import Dispatch, Participant, Review
from workers.store.session import open_store, upgrade

pytestmark = [pytest.mark.postgres, pytest.mark.libreoffice]
D = dt.date.fromisoformat
BSO = "bs.officer@council.example.gov.uk"
IRO = "daniel.hughes@council.example.gov.uk"  # chairs R-1001-5 and R-1006-2
MANAGER = DIRECTORY.iro_manager.email
A, B, C = "R-1001-5", "R-1006-2", "R-1008-3"
PLACEMENT = ("Acacia", "BR1 2AB")  # the carers' address, withheld from Zoë's mother (P-5002)
FIRST, LAST = D("2027-02-01"), D("2027-03-05")
INV, REM, CHANGE, CANCEL = INVITATION_KIND, REMINDER_KIND, CHANGE_KIND, CANCEL_KIND


def export() -> list[dict[str, str]]:
    """The case system's export on 1 February: three reviews, mostly by email."""
    rows = []
    for r in example_rows():
        if r["review_ref"] == A:
            r.update(review_date="2027-02-24", placement_confidential="yes")
            if r["role"] == "carer":
                r.update(channel="email", email="price.carers@council.example.gov.uk")
        elif r["review_ref"] == B:
            r.update(review_date="2027-02-17")
            if r["role"] == "child":
                pass  # by post
            elif r["role"] == "parent":
                r.update(address="7 Orchard Way | Hayes | Bromley", postcode="BR2 8QH")
        elif r["review_ref"] == C and r["role"] in ("carer", "social_worker"):
            r.update(review_date="2027-02-22")
        else:
            continue
        rows.append(r)
    return rows


class Month:
    """The store, the two configurations (email run, print batch) and what was counted."""

    def __init__(self, sessions: sessionmaker[Session], email_settings: object,
                 print_cfg: MailoutConfig, context: ImportContext,  # noqa: F811
                 smtp: SmtpServer) -> None:
        self.sessions, self.settings, self.print_cfg = sessions, email_settings, print_cfg
        self.context, self.smtp = context, smtp
        self.rows = export()
        self.emails: dict[dt.date, Counter[tuple[str, str]]] = {}
        self.printed: dict[dt.date, Counter[tuple[str, str]]] = {}
        self.seen_ids: Counter[int] = Counter()
        self.pages: dict[str, list[str]] = {}  # participant ref → text of their printed pages
        self.batches: list[int] = []
        self.import_lines: list[str] = []

    def now(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return london_moment(day, dt.time(hour))

    def cfg(self, day: dt.date) -> MailoutConfig:
        return replace(self.print_cfg, clock=FixedClock(self.now(day, 9)))

    def do(self, fn: Callable[[Session], object]) -> None:
        with self.sessions() as s:
            fn(s)
            s.commit()

    def import_export(self, day: dt.date) -> None:
        plan = parse_reviews_csv(to_csv(self.rows), "reviews.csv", self.context)
        with self.sessions.begin() as s:
            summary = upsert_plan(s, plan, actor=BSO)
            self.import_lines += after_import(s, summary, self.cfg(day), today=day,
                                              now=self.now(day), actor=BSO)

    def set_rows(self, review: str, person: str | None = None, **values: str) -> None:
        for r in self.rows:
            if r["review_ref"] == review and person in (None, r["participant_ref"]):
                r.update(values)

    def end_of_day(self, day: dt.date) -> None:
        before = len(self.smtp.messages)
        run_once(self.settings, self.sessions, FixedClock(self.now(day, 16)))  # type: ignore[arg-type]
        arrived = self.smtp.messages[before:]
        with self.sessions() as s:
            for msg in arrived:
                row = s.scalars(select(Dispatch).where(
                    Dispatch.key == str(msg["X-IRO-Dispatch"]))).one_or_none()
                assert row is not None and row.state == "sent"
                self.seen_ids[row.id] += 1
                to = str(msg["To"]).split("<")[-1].rstrip(">").strip()
                assert to == row.sent_to == row.recipient, (row.key, to)
                if row.participant_id is not None:  # the address on record when it went
                    person = s.get(Participant, row.participant_id)
                    assert person is not None and person.withdrawn_on is None
                    assert to == person.email, row.key
                self.emails.setdefault(day, Counter())[(to, row.kind)] += 1
        result = build_batch(self.sessions, self.cfg(day), day, actor=BSO)
        if result.batch_id is None:
            return
        self.batches.append(result.batch_id)
        pdf = PdfReader(str(result.pdf_path))
        with open(result.manifest_path or "", newline="") as fh:
            manifest = list(csv.DictReader(fh))
        for line in manifest:
            first, count = int(line["first_page"]), int(line["pages"])
            text = "\n".join(pdf.pages[n].extract_text() for n in range(first - 1,
                                                                         first - 1 + count))
            self.pages.setdefault(line["participant_ref"], []).append(text)
            self.printed.setdefault(day, Counter())[(line["participant_ref"], line["kind"])] += 1
        assert mark_printed(self.sessions, result.batch_id, now=self.now(day, 17),
                            actor=BSO) == len(manifest)


def dispatch_of(s: Session, review: str, person: str, kind: str = INV,
                *states: str) -> Dispatch:
    """The person's first letter of ``kind`` (in one of ``states``, if given)."""
    rows = s.scalars(select(Dispatch).join(Review, Dispatch.review_id == Review.id)
                     .join(Participant, Dispatch.participant_id == Participant.id)
                     .where(Review.ref == review, Participant.ref == person,
                            Dispatch.kind == kind).order_by(Dispatch.id))
    return next(d for d in rows if not states or d.state in states)


def test_a_month_of_casework(pg_database: str, tmp_path: Path, smtp_server: SmtpServer,
                             redis_url: str, soffice: str, context: ImportContext,  # noqa: F811
                             monkeypatch: pytest.MonkeyPatch) -> None:
    url = postgres_url(pg_database)  # one schema for the test and the dispatcher
    upgrade(url)
    sessions = open_store(url)
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": url,
           "IRO_REDIS_URL": redis_url, "IRO_TRANSPORT": "smtp",
           "IRO_SMTP_HOST": smtp_server.host, "IRO_SMTP_PORT": str(smtp_server.port),
           "IRO_SMTP_TIMEOUT_SECONDS": "5", "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx"),
           "IRO_DOCUMENTS_DIR": str(tmp_path / "documents"),
           "IRO_OUTBOX_DIR": str(tmp_path / "outbox"), "IRO_PRINT_DIR": str(tmp_path / "print"),
           # emails carry Word files (no PDF step): the print batch below uses LibreOffice
           "IRO_LIBREOFFICE_SOFFICE": str(tmp_path / "no-soffice")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(assembly, "_installed", False)  # composers read this environment
    settings = load_settings(CONFIG, environ=env)
    print_settings = load_settings(CONFIG, environ={**env, "IRO_LIBREOFFICE_SOFFICE": soffice})
    print_cfg = MailoutConfig(RULES, DIRECTORY, CAL, print_settings, pdf=True)
    m = Month(sessions, settings, print_cfg, context, smtp_server)
    who = {"bso": BSO, "iro": IRO}

    def day_1(day: dt.date) -> None:
        m.import_export(day)
        for ref in (B, C):  # their invitation days have come (A's is on the 3rd)
            run_mailout(sessions, m.cfg(day), ref, actor=BSO)

    def day_3(day: dt.date) -> None:
        run_mailout(sessions, m.cfg(day), A, actor=BSO)

    def day_4(day: dt.date) -> None:
        def bounce_and_switch(s: Session) -> None:
            # the school's email bounced: the case record corrected, the letter resent
            letter = dispatch_of(s, A, "P-5005")
            record_bounce(s, letter, source_message_id="<ndr-1@school>", actor="system")
            new = "r.abbott@school.example.sch.uk"
            correct_contact(s, A, "P-5005", {"email": new}, allowed_domains=m.cfg(day)
                            .allowed_domains, now=m.now(day), actor=BSO)
            resend(s, letter.id, channel=None, allowed_domains=m.cfg(day).allowed_domains,
                   now=m.now(day), actor=BSO)
            # the residential carers of C-1006 want post from now on
            correct_contact(s, B, "P-5053", {"channel": "post", "address": "Oakfield House\n"
                            "12 Station Road\nBromley", "postcode": "BR1 3UH"},
                            allowed_domains=m.cfg(day).allowed_domains, now=m.now(day),
                            actor=BSO)
        m.do(bounce_and_switch)
        m.set_rows(A, "P-5005", email="r.abbott@school.example.sch.uk")
        m.set_rows(B, "P-5053", channel="post", address="Oakfield House | 12 Station Road | "
                   "Bromley", postcode="BR1 3UH")

    def day_5(day: dt.date) -> None:  # the mother's part in C-1006's case ends
        m.rows = [r for r in m.rows if not (r["review_ref"] == B
                                            and r["participant_ref"] == "P-5052")]
        m.import_export(day)

    def day_8(day: dt.date) -> None:  # Zoë's review moves to her carers' home, a day later
        venue = "Carer's home, 14 Acacia Avenue, Bromley BR1 2AB"
        m.do(lambda s: move_review(s, m.cfg(day), A, date=D("2027-02-25"), time=dt.time(14),
                                   venue=venue, today=day, now=m.now(day), actor=BSO))
        m.set_rows(A, review_date="2027-02-25", review_time="14:00", venue=venue)

    def day_10(day: dt.date) -> None:
        m.do(lambda s: cancel_review(s, m.cfg(day), C, reason="placement ended", now=m.now(day),
                                     actor=BSO))

    def day_12(day: dt.date) -> None:  # Zoë's mother's form comes back by post
        def returned(s: Session) -> None:
            record_return(s, dispatch_of(s, A, "P-5002"), received_on=day, channel="post",
                          actor=BSO)
            first = m.batches[0]  # and the first batch went to the post room a day late
            correct_posted(s, first, D("2027-02-02"), who=corrector(s, DIRECTORY, MANAGER),
                           today=day)
        m.do(returned)

    def day_15(day: dt.date) -> None:  # the return was logged on the wrong day
        def fix(s: Session) -> None:
            code = dispatch_of(s, A, "P-5002").reference_code or ""
            correct_return(s, code, D("2027-02-11"), who=corrector(s, DIRECTORY, MANAGER),
                           today=day)
        m.do(fix)

    def day_25(day: dt.date) -> None:  # Zoë's review is held, and entered on the day
        m.do(lambda s: service.mark_held(s, RULES, DIRECTORY, CAL, A, day, today=day,
                                         now=m.now(day, 15), actor=IRO))

    def day_26(day: dt.date) -> None:  # C-1006's review (17th) entered late, the 18th typed
        def late(s: Session) -> None:
            service.mark_held(s, RULES, DIRECTORY, CAL, B, D("2027-02-18"), today=day,
                              now=m.now(day), actor=IRO)
            s.flush()
            correct_held(s, RULES, DIRECTORY, CAL, B, D("2027-02-17"),
                         who=corrector(s, DIRECTORY, who["iro"]), today=day, now=m.now(day))
        m.do(late)

    def day_march_1(day: dt.date) -> None:  # the export now lists C-1006's next review
        nxt = [{**r, "review_ref": "R-1006-3", "review_number": "3",
                "previous_review_date": "2027-02-17", "review_date": "2027-08-10",
                "review_time": "10:00"} for r in m.rows if r["review_ref"] == B]
        m.rows += nxt
        m.import_export(day)

    def day_march_2(day: dt.date) -> None:  # Zoë's decisions went out
        m.do(lambda s: service.stop_writeup(s, CAL, A, "decisions", day, today=day, actor=IRO))

    events = {D("2027-02-01"): day_1, D("2027-02-03"): day_3, D("2027-02-04"): day_4,
              D("2027-02-05"): day_5, D("2027-02-08"): day_8, D("2027-02-10"): day_10,
              D("2027-02-12"): day_12, D("2027-02-15"): day_15, D("2027-02-25"): day_25,
              D("2027-02-26"): day_26, D("2027-03-01"): day_march_1,
              D("2027-03-02"): day_march_2}
    day = FIRST
    while day <= LAST:
        if day.weekday() < 5:
            if day in events:
                events[day](day)
            m.end_of_day(day)
        day += dt.timedelta(days=1)

    femi, sw_c, carer_c = ("femi.adewale@council.example.gov.uk",
                           "priti.nair@council.example.gov.uk",
                           "grace.thompson@council.example.gov.uk")
    expected_email = {
        D("2027-02-01"): Counter({("fostering.placements@council.example.gov.uk", INV): 1,
                                  (femi, INV): 1, ("sarah.whitlock@cafcass.gov.uk", INV): 1,
                                  ("d.okonjo@school.example.sch.uk", INV): 1,
                                  (carer_c, INV): 1, (sw_c, INV): 1}),
        D("2027-02-03"): Counter({("price.carers@council.example.gov.uk", INV): 1,
                                  (femi, INV): 1, ("ruth.abbott@school.example.sch.uk", INV): 1}),
        D("2027-02-04"): Counter({("r.abbott@school.example.sch.uk", INV): 1}),
        D("2027-02-08"): Counter({(femi, REM): 1,  # C-1006's social worker; the carers by post
                                  ("price.carers@council.example.gov.uk", CHANGE): 1,
                                  (femi, CHANGE): 1,
                                  ("r.abbott@school.example.sch.uk", CHANGE): 1}),
        D("2027-02-10"): Counter({(carer_c, CANCEL): 1, (sw_c, CANCEL): 1}),
        D("2027-02-16"): Counter({("price.carers@council.example.gov.uk", REM): 1,
                                  (femi, REM): 1}),
        D("2027-02-25"): Counter({(IRO, "review_record"): 1}),
        D("2027-02-26"): Counter({(IRO, "review_record"): 1, (MANAGER, "writeup_overdue"): 1}),
        D("2027-03-03"): Counter({(IRO, "writeup_reminder"): 1}),
    }
    assert m.emails == expected_email
    assert all(n == 1 for n in m.seen_ids.values())  # every email once
    assert m.printed == {
        D("2027-02-01"): Counter({("P-5051", INV): 1, ("P-5052", INV): 1}),
        D("2027-02-03"): Counter({("P-5001", INV): 1, ("P-5002", INV): 1}),
        # C-1006's mother was withdrawn on the 5th: her reminder never printed
        D("2027-02-08"): Counter({("P-5051", REM): 1, ("P-5053", REM): 1,
                                  ("P-5001", CHANGE): 1, ("P-5002", CHANGE): 1}),
        D("2027-02-16"): Counter({("P-5001", REM): 1}),  # the mother's form came back
    }
    # the confidential placement: never on the mother's pages; her letter says how she attends
    mother = "\n".join(m.pages["P-5002"])
    assert not any(part in mother for part in PLACEMENT)
    assert "your social worker will arrange how you attend" in re.sub(r"\s+", " ", mother)
    assert "Thursday 25 February 2027" in re.sub(r"\s+", " ", mother)
    assert "14 Acacia Avenue" in "\n".join(m.pages["P-5001"])  # Zoë lives there
    with sessions() as s:
        # the right dates: the moved review's reminders carry its new return-by day
        reminder = dispatch_of(s, A, "P-5003", REM, "sent")
        assert reminder.params["return_by"] == "2027-02-22"
        # every printed letter records the address it was printed with
        carers = dispatch_of(s, B, "P-5053", REM, "sent")
        assert carers.sent_to == "Oakfield House\n12 Station Road\nBromley\nBR1 3UH"
        # one review after the import: the case system's R-1006-3, the mother not on it
        planned = s.scalars(select(Review).where(Review.status == "planned")).all()
        assert sorted(r.ref for r in planned) == ["C-1001-R6", "R-1006-3"]
        r3 = next(r for r in planned if r.ref == "R-1006-3")
        assert "P-5052" not in {p.ref for p in r3.participants if p.withdrawn_on is None}
        b = s.scalars(select(Review).where(Review.ref == B)).one()
        assert b.held_on == D("2027-02-17")
    assert any(line.startswith("review R-1006-2: P-5052 removed") for line in m.import_lines)
    assert any("planned as C-1006-R3" in line for line in m.import_lines)
