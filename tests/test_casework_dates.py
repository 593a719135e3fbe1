"""Issue 16 §5, dates entered by people: a doubtful held date or meeting day needs --confirm, the
import names the line of a weekend meeting, and a held date, a return date or a posting date
entered wrongly is corrected by the IRO, an IRO manager or business support (by role), the
clocks recomputed and the old and new values audited. Real SQLite store, shipped rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from casework_support import BSO, NOW, Case
from clock_env import as_of
from factories import make_participant, sqlite_store, sqlite_url
from mailout_support import CONFIG, TODAY
from sqlalchemy import select
from test_config_cli import run_iro
from test_import import context, example_rows, to_csv  # noqa: F401 - context is a fixture
from test_midway import config as midway_config
from test_review_service import CAL, DIRECTORY, IRO, MANAGER, RULES, case, held

from workers.casework.meetings import move_review
from workers.casework.redate import correct_held, correct_posted, correct_return, corrector
from workers.core.clock import LONDON, london_moment
from workers.errors import BadInputError, RefusedError
from workers.importer.rows import ImportContext, parse_reviews_csv
from workers.midway.scan import ensure_for_child
from workers.reviews.held import plan_held
from workers.store import keyed
from workers.store.models import AuditEvent, Dispatch, PrintBatch, Return, Review
from workers.web.accounts import add_user

D = dt.date.fromisoformat


def refused(fn: object, *args: object, match: str, **kw: object) -> None:
    with pytest.raises(RefusedError, match=match):
        fn(*args, **kw)  # type: ignore[operator]


def test_a_doubtful_held_date_needs_confirm(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = case(s, due="2027-01-20")
        review.scheduled_at = london_moment(D("2027-01-12"), dt.time(10))
        earlier = Review(ref="R-EARLIER", child=review.child, sequence=1, due_on=D("2026-07-01"),
                         iro_email=IRO, status="held", held_on=D("2026-06-25"))
        s.add(earlier)
        s.flush()
        today = D("2027-01-29")
        for day, why in (("2027-01-09", "is a Saturday"),
                         ("2026-12-28", "is a bank holiday"),
                         ("2026-06-24", "not after the previous review, held 2026-06-25"),
                         ("2027-01-27", "15 days from the planned meeting on 2027-01-12")):
            refused(held, s, review, day, today=today, match=why)
        assert review.status == "planned" and s.scalars(select(Dispatch)).all() == []
        held(s, review, "2027-01-27", today=today, actor=BSO, confirm=True)
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.held")).one()
        assert event.actor == BSO and event.details["confirmed"] == [
            "2027-01-27 is 15 days from the planned meeting on 2027-01-12"]


def test_the_cli_asks_for_confirm_and_names_the_person(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        ref = case(s, due="2026-12-20").ref
        s.commit()
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path),
           **as_of(D("2026-12-21"))}
    no = run_iro(tmp_path, "review", "held", ref, "--date", "2026-12-19", "--actor", IRO, **env)
    assert no.returncode == 2 and "2026-12-19 is a Saturday" in no.stderr
    assert "--confirm" in no.stderr
    yes = run_iro(tmp_path, "review", "held", ref, "--date", "2026-12-19", "--confirm",
                  "--actor", IRO, **env)
    assert yes.returncode == 0, yes.stderr
    with sessions() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "review.held")).one()
        assert event.actor == IRO


def test_a_meeting_moved_to_a_bank_holiday_needs_confirm(case: Case) -> None:  # noqa: F811
    sessions, cfg, ref = case
    with sessions() as s:
        refused(move_review, s, cfg, ref, date=D("2027-03-26"), time=None, venue=None,
                today=TODAY, now=NOW, actor=BSO, match="2027-03-26 is a bank holiday")
        done = move_review(s, cfg, ref, date=D("2027-03-26"), time=None, venue=None,
                           today=TODAY, now=NOW, actor=BSO, confirm=True)
        assert done.review_ref == ref


def test_the_import_names_the_line_of_a_weekend_meeting(context: ImportContext) -> None:  # noqa: F811
    rows = example_rows()
    for r in rows:
        if r["review_ref"] == "R-1001-5":
            r["review_date"] = "2027-01-09"  # a Saturday
    plan = parse_reviews_csv(to_csv(rows), "reviews.csv", context)
    assert plan.warnings == ("line 2: review R-1001-5 meets on 2027-01-09, a Saturday; check "
                             "the date in the case system",)


def test_a_held_date_corrected_moves_every_clock_and_is_audited(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = case(s, due="2026-12-20")
        held(s, review, "2026-12-18", today=D("2026-12-18"))
        ensure_for_child(s, midway_config(D("2026-12-18")), review.child, D("2026-12-18"))
        s.commit()
        ref, child = review.ref, review.child
        [following] = [r for r in child.reviews if r.status == "planned"]
        midway_before = keyed.deadline_by_key(s, f"{ref}/midway")
        assert midway_before is not None
        # the IRO typed the 18th; the meeting was on Wednesday the 16th
        today = D("2026-12-21")
        refused(correct_held, s, RULES, DIRECTORY, CAL, ref, D("2026-12-16"),
                who=corrector(s, DIRECTORY, "os:someone"), today=today, now=NOW,
                match="may not correct review")
        other_iro = next(p.email for p in DIRECTORY.iros if p.email != IRO)
        refused(correct_held, s, RULES, DIRECTORY, CAL, ref, D("2026-12-16"),
                who=corrector(s, DIRECTORY, other_iro), today=today, now=NOW,
                match="only the review's IRO")
        done = correct_held(s, RULES, DIRECTORY, CAL, ref, D("2026-12-16"),
                            who=corrector(s, DIRECTORY, IRO), today=today, now=NOW)
        s.commit()
        expected = plan_held(RULES, CAL, review_ref=ref, sequence=2, due_on=D("2026-12-20"),
                             held_on=D("2026-12-16"))
        for clock in expected.clocks:
            deadline = keyed.deadline_by_key(s, f"{ref}/writeup/{clock.kind}")
            assert deadline is not None
            assert (deadline.started_on, deadline.due_on) == (D("2026-12-16"), clock.due_on)
        assert expected.next is not None and following.due_on == expected.next.due_on
        mailout = keyed.deadline_by_key(s, f"{following.ref}/mailout")
        assert mailout is not None and mailout.due_on == expected.next.invitations_on
        midway = keyed.deadline_by_key(s, f"{ref}/midway")
        assert midway is not None and midway.started_on == D("2026-12-16")
        pending = {d.key: d.due_at.astimezone(LONDON).date() for d in s.scalars(
            select(Dispatch).where(Dispatch.review_id == review.id,
                                   Dispatch.state == "pending"))}
        record = next(c for c in expected.clocks if c.kind == "record")
        assert pending[f"{ref}/writeup/record/overdue"] == record.overdue_on
        reminders = {k for k in pending if "/reminder/" in k and "/writeup/" in k}
        assert reminders == {f"{ref}/writeup/{c.kind}/reminder/{day.isoformat()}"
                             for c in expected.clocks for day in c.reminders if day >= today}
        assert review.held_on == D("2026-12-16")
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "review.held_corrected")).one()
        assert event.actor == IRO
        assert (event.details["old"], event.details["new"]) == ("2026-12-18", "2026-12-16")
        assert done.next_review is not None and done.next_review[0] == following.ref
        # a manager may; a date after the record was written may not be
        with pytest.raises(BadInputError, match="date already recorded"):
            correct_held(s, RULES, DIRECTORY, CAL, ref, D("2026-12-16"),
                         who=corrector(s, DIRECTORY, MANAGER), today=today, now=NOW)


def test_a_return_and_a_posting_date_corrected_by_business_support(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = case(s)
        person = make_participant(s, review, "parent", ref="P-POST")
        sent = london_moment(D("2026-12-01"), dt.time(16))
        batch = PrintBatch(batch_date=D("2026-12-01"), pdf_path="x.pdf", printed_at=sent)
        s.add(batch)
        s.flush()
        letter = Dispatch(key=f"{review.ref}/mailout/P-POST/invitation",
                          kind="mailout_invitation", channel="post", state="sent",
                          review_id=review.id, participant_id=person.id, recipient="post",
                          reference_code="C-ABCDEFGH", due_at=sent, sent_at=sent,
                          print_batch_id=batch.id)
        s.add(letter)
        s.flush()
        s.add(Return(dispatch_id=letter.id, received_on=D("2026-12-09"), channel="post"))
        add_user(s, BSO, "business_support", "correct horse battery")
        s.flush()
        bso = corrector(s, DIRECTORY, BSO)
        today = D("2026-12-10")
        with pytest.raises(BadInputError, match="before the form was sent"):
            correct_return(s, "C-ABCDEFGH", D("2026-11-30"), who=bso, today=today)
        assert correct_return(s, "c-abcdefgh", D("2026-12-08"), who=bso, today=today) == (
            D("2026-12-09"), D("2026-12-08"))
        assert correct_posted(s, batch.id, D("2026-12-02"), who=bso, today=today) == (
            D("2026-12-01"), D("2026-12-02"))
        s.commit()
        assert letter.sent_at is not None
        assert letter.sent_at.astimezone(LONDON).date() == D("2026-12-02")
        events = {e.action: (e.actor, e.details["old"], e.details["new"]) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action.like("%.corrected")))}
        assert events == {"return.corrected": (BSO, "2026-12-09", "2026-12-08"),
                          "print_batch.corrected": (BSO, "2026-12-01", "2026-12-02")}


def test_iro_correct_held_from_the_command_line_by_role(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = case(s, due="2026-12-20")
        held(s, review, "2026-12-18", today=D("2026-12-18"))
        s.commit()
        ref = review.ref
    env = {"IRO_CONFIG_DIR": str(CONFIG), "IRO_DATABASE_URL": sqlite_url(tmp_path),
           **as_of(D("2026-12-21"))}
    anonymous = run_iro(tmp_path, "correct", "held", ref, "--date", "2026-12-16", **env)
    assert anonymous.returncode == 2 and "may not correct" in anonymous.stderr  # os:<login>
    done = run_iro(tmp_path, "correct", "held", ref, "--date", "2026-12-16", "--actor", IRO,
                   **env)
    assert done.returncode == 0, done.stderr
    assert f"review {ref}: held 2026-12-18 → 2026-12-16" in done.stdout
    assert f"{ref}/writeup/record due" in done.stdout
    with sessions() as s:
        assert s.scalars(select(Review.held_on).where(Review.ref == ref)).one() == D("2026-12-16")
        batch = PrintBatch(batch_date=D("2026-12-17"), pdf_path="x.pdf",
                           printed_at=london_moment(D("2026-12-17"), dt.time(16)))
        s.add(batch)
        s.commit()
        batch_id = batch.id
    posted = run_iro(tmp_path, "correct", "posted", str(batch_id), "--date", "2026-12-18",
                     "--actor", MANAGER, **env)
    assert posted.returncode == 0, posted.stderr
    assert f"print batch {batch_id}: posted 2026-12-17 → 2026-12-18" in posted.stdout
    missing = run_iro(tmp_path, "correct", "return", "C-ABCDEFGH", "--date", "2026-12-18",
                      "--actor", MANAGER, **env)
    assert missing.returncode == 2 and "no returned form with code" in missing.stderr
