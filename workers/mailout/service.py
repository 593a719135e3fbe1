"""A review's mail-out against the store: plan, preflight, then every row in one transaction.

All or nothing: the preflight checks every letter before any row is written, and the rows
(invitations with their form codes, reminders) are inserted in one transaction. Keys are unique,
so a second mail-out — the scheduler and a person at the same moment, two machines — finds the
rows there (or loses the insert race, rolls back whole) and creates nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workers.core.planning import mailout_dates
from workers.errors import PreflightError, RefusedError
from workers.host.private_files import make_private_dir, write_private
from workers.inputs.paths import inside
from workers.mailout import codes, reserved_codes
from workers.mailout.documents import MailoutConfig, render_letter, review_on
from workers.mailout.plan import (
    INVITATION_KIND,
    REMINDER_KIND,
    Mailout,
    PlannedLetter,
    plan_mailout,
)
from workers.mailout.preflight import preflight, refuse
from workers.mailout.timing import LetterDates, date_problems, letter_dates, too_late
from workers.reviews import records
from workers.reviews.held import mailout_key, send_at
from workers.store import audit, keyed
from workers.store.deadline_queries import has_meeting
from workers.store.models import Child, Dispatch, Participant, Review

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailoutResult:
    review_ref: str
    child_initials: str
    plan: Mailout
    created: int  # rows this call created; 0 when the mail-out had already been queued
    codes: dict[str, str | None]  # letter key → form reference code
    written: tuple[Path, ...] = ()  # --dry-run: the documents written for a look
    existing: frozenset[str] = field(default_factory=frozenset)  # keys already in the store
    dates: LetterDates | None = None  # the dates the letters use (``iro mailout`` prints them)
    # letters that ask for the form at the meeting (rules.yaml mailout.late_return)
    bring_to_meeting: frozenset[str] = field(default_factory=frozenset)


def _load(session: Session, review_ref: str) -> tuple[Review, Child, list[Participant]]:
    review = records.review_by_ref(session, review_ref)
    if review.status != "planned":
        raise RefusedError(f"review {review.ref} is {review.status}: a mail-out is only for a "
                           "review still to be held; nothing was sent")
    if not has_meeting(review):  # issue 16: never "held on  at , at Carer's home"
        raise RefusedError(f"review {review.ref}: mail-out waiting for a meeting date, time and "
                           f"venue; set them (the next import, or `iro review move {review.ref} "
                           "--date D --time HH:MM --venue TEXT`) and run it again; nothing was "
                           "sent")
    people = list(session.scalars(
        select(Participant).where(Participant.review_id == review.id,
                                  Participant.withdrawn_on.is_(None))  # issue 16: withdrawn
        .order_by(Participant.id)
    ))
    return review, review.child, people


def run_mailout(
    sessions: sessionmaker[Session],
    cfg: MailoutConfig,
    review_ref: str,
    *,
    dry_run_dir: Path | None = None,
    participants: Sequence[Participant] | None = None,
    actor: str = "system",
) -> MailoutResult:
    """Queue the review's mail-out (or, with ``dry_run_dir``, write its documents there).

    ``participants`` overrides the people read from the case record (tests of the refusal to
    write to someone else's case). Raises PreflightError listing every problem; nothing is
    written to the store then.
    """
    moment = cfg.clock.now()
    today = cfg.clock.today()
    with sessions() as session:
        review, child, people = _load(session, review_ref)
        if participants is not None:
            people = list(participants)
        dates = mailout_dates(cfg.rules.mailout, cfg.calendar, review_on=review_on(review))
        plan = plan_mailout(cfg.rules, dates, review_ref=review.ref, child_dob=child.date_of_birth,
                            participants=people, today=today)
        used = letter_dates(cfg.calendar, today=today, return_by=plan.return_by,
                            review_on=dates.review_on, days_in_post=cfg.settings.post.days_in_post)
        # what every letter shares: its dates and the IRO who signs it
        rewording = cfg.rules.mailout.late_return == "bring_to_meeting"
        shared = date_problems(used, meeting_at=review.scheduled_at, now=moment,
                               by_post=any(letter.channel == "post" for letter in plan.letters),
                               bring_to_meeting=rewording)
        bring = frozenset(letter.key for letter in plan.letters if letter.form and rewording
                          and too_late(used, by_post=letter.channel == "post"))
        if cfg.directory.iro(review.iro_email) is None:
            shared.append(f"the review's IRO ({review.iro_email}) is not in directory.yaml, so "
                          "the letters would carry no IRO's name or phone number: add them under "
                          "iros: with name, email and phone (sessional and agency IROs too) and "
                          "run the mail-out again")
        if shared:
            log.warning("mail-out for review %s refused: %d problems", review.ref, len(shared))
            raise PreflightError(f"mail-out for review {review.ref} refused; nothing was sent or "
                                 "queued:\n" + "\n".join(f"  - {why}" for why in shared))
        keys = [letter.key for letter in plan.letters] + [r.key for r in plan.reminders]
        existing: dict[str, str | None] = {
            key: code for key, code in session.execute(
                select(Dispatch.key, Dispatch.reference_code).where(Dispatch.key.in_(keys)))
        }
        # a dry run's codes are kept for the real mail-out, so a printed preview's code matches
        kept = reserved_codes.reserved(session, [letter.key for letter in plan.letters])
        letter_codes = {
            letter.key: (existing.get(letter.key) or kept.get(letter.key) or codes.new_code())
            if letter.form else None
            for letter in plan.letters
        }
        by_id = {p.id: p for p in people}
        rendered: dict[str, list[tuple[str, bytes]]] = {}

        def render(letter: PlannedLetter) -> None:
            rendered[letter.key] = render_letter(
                cfg, child, review, by_id[letter.participant_id], form=letter.form,
                code=letter_codes[letter.key], return_by=plan.return_by,
                bring_to_meeting=letter.key in bring)

        problems = preflight(plan.letters, by_id, review_id=review.id,
                             allowed_domains=cfg.allowed_domains, render=render,
                             max_address_lines=cfg.settings.post.max_address_lines)
        if problems:
            log.warning("mail-out for review %s refused: %d problems", review.ref, len(problems))
            raise refuse(review.ref, problems)
        ref, initials = review.ref, child.initials  # the rows expire if the insert rolls back
        result = MailoutResult(ref, initials, plan, 0, letter_codes, existing=frozenset(existing),
                               dates=used, bring_to_meeting=bring)
        if dry_run_dir is not None:
            reserved_codes.reserve(session, {k: c for k, c in letter_codes.items()
                                             if k not in existing}, now=moment)
            session.commit()
            return _write(result, rendered, dry_run_dir)
        created = _insert(session, review, plan, letter_codes, set(existing), moment, today, actor,
                          bring)
    return MailoutResult(ref, initials, plan, created, letter_codes, existing=frozenset(existing),
                         dates=used, bring_to_meeting=bring)


def _insert(session: Session, review: Review, plan: Mailout, letter_codes: dict[str, str | None],
            existing: set[str], now: dt.datetime, today: dt.date, actor: str,
            bring: frozenset[str] = frozenset()) -> int:
    rows: list[Dispatch] = []
    common = {"review_ref": review.ref, "return_by": plan.return_by.isoformat()}
    for letter in plan.letters:
        if letter.key in existing:
            continue
        rows.append(Dispatch(
            key=letter.key, kind=INVITATION_KIND, channel=letter.channel, state="pending",
            review_id=review.id, participant_id=letter.participant_id,
            recipient=letter.recipient, reference_code=letter_codes[letter.key], due_at=now,
            params={**common, "form": letter.form, "band": letter.band,
                    **({"bring_to_meeting": True} if letter.key in bring else {})},
        ))
    forms = {letter.key: letter.form for letter in plan.letters}
    for reminder in plan.reminders:
        if reminder.key in existing:
            continue
        rows.append(Dispatch(
            key=reminder.key, kind=REMINDER_KIND, channel=reminder.channel, state="pending",
            review_id=review.id, participant_id=reminder.participant_id,
            recipient=reminder.recipient, due_at=send_at(reminder.on),
            params={**common, "form": forms[reminder.letter_key], "letter_key": reminder.letter_key,
                    "form_code": letter_codes[reminder.letter_key],
                    **({"bring_to_meeting": True} if reminder.letter_key in bring else {})},
        ))
    if not rows:
        session.rollback()
        return 0
    try:
        session.add_all(rows)
        session.flush()
        for row in rows:
            audit.record(session, "dispatch.planned", "dispatch", row.id, actor=actor, key=row.key,
                         kind=row.kind, channel=row.channel)
        reserved_codes.release(session, [letter.key for letter in plan.letters])
        deadline = keyed.deadline_by_key(session, mailout_key(review.ref))
        if deadline is not None and deadline.met_on is None:
            deadline.met_on = today
            deadline.in_time = today <= deadline.due_on
        audit.record(session, "mailout.queued", "review", review.id, actor=actor,
                     review_ref=review.ref, letters=sum(r.kind == INVITATION_KIND for r in rows),
                     reminders=sum(r.kind == REMINDER_KIND for r in rows))
        session.commit()
    except IntegrityError:
        # Another mail-out of this review won the race: its rows stand, ours are discarded whole.
        session.rollback()
        log.info("mail-out for review %s was queued by another run; nothing added", review.ref)
        return 0
    log.info("mail-out for review %s: %d dispatches queued", review.ref, len(rows))
    return len(rows)


def _write(result: MailoutResult, rendered: dict[str, list[tuple[str, bytes]]],
           folder: Path) -> MailoutResult:
    target = inside(folder, result.review_ref)  # a ref of '../x' must not write elsewhere
    make_private_dir(target)
    written: list[Path] = []
    for letter in result.plan.letters:
        for n, (kind, data) in enumerate(rendered.get(letter.key, []), start=1):
            path = inside(target, f"{letter.participant_ref}-{n}-{kind}.docx")
            write_private(path, data)
            written.append(path)
    return MailoutResult(result.review_ref, result.child_initials, result.plan, 0, result.codes,
                         tuple(written), result.existing, result.dates)
