"""A date a person entered wrongly, corrected by a person (issue 16 §5, DESIGN.md §6): the day a
review was held, a form came back, or a print batch was posted.

Only the review's IRO, an IRO manager or business support may correct one: the web page's
signed-in roles, or for the command line the actor's web account or their place in
directory.yaml. A held date restarts the clocks that count from it: the review's timeliness, the
write-up deadlines (reminders and overdue notices not yet gone planned again, quietly, as for a
late entry), the next review's statutory date and invitation day, and the midway check (its
reminders follow at the midway scan). Each correction is one audit event with the old and new
values. The caller commits; a refusal changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.config.directory import Directory
from workers.config.rules import Rules
from workers.core.clock import LONDON, london_moment
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.midway import plan as midway_plan
from workers.reviews import records
from workers.reviews.calendar import Calendar
from workers.reviews.clock import stop_clock
from workers.reviews.held import (
    PlannedNotice,
    deadline_key,
    mailout_key,
    plan_held,
    quiet_for_late_entry,
    send_at,
)
from workers.reviews.service import held_doubts, overdue_recipient, plan_notice
from workers.reviews.timescale import timeliness
from workers.store import audit, keyed
from workers.store.models import Dispatch, PrintBatch, Return, Review
from workers.store.web_models import WebUser

CORRECTORS = ("iro", "manager", "business_support")


@dataclass(frozen=True)
class Corrector:
    email: str
    roles: frozenset[str]


def corrector(session: Session, directory: Directory, actor: str) -> Corrector:
    """The command line's actor with their roles: an active web account's, and directory.yaml's
    (an IRO, the IRO manager). ``os:<login>`` has none: they must say who they are."""
    email = actor.strip().lower()
    roles = set(session.scalars(select(WebUser.role).where(
        func.lower(WebUser.email) == email, WebUser.active.is_(True))))
    if any(p.email.lower() == email for p in directory.iros):
        roles.add("iro")
    if directory.iro_manager.email.lower() == email:
        roles.add("manager")
    return Corrector(email, frozenset(roles))


def _allow(who: Corrector, what: str, review: Review | None) -> None:
    if who.roles & {"manager", "business_support"}:
        return
    if "iro" in who.roles and (review is None or review.iro_email.lower() == who.email.lower()):
        return
    raise RefusedError(f"{who.email or 'this account'} may not correct {what}: only the "
                       "review's IRO, an IRO manager or business support may (a web account's "
                       "role, or directory.yaml); give --actor EMAIL; nothing changed")


def _day_checks(new: dt.date, old: dt.date | None, today: dt.date, flag: str) -> None:
    if new > today:
        raise BadInputError(f"{flag} {new.isoformat()} is in the future")
    if new == old:
        raise BadInputError(f"{flag} {new.isoformat()} is the date already recorded; nothing "
                            "to correct")


@dataclass
class HeldCorrection:
    review_ref: str
    old: dt.date
    new: dt.date
    deadlines: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (old, new) due
    notices_cancelled: int = 0
    notices_planned: int = 0
    next_review: tuple[str, str, str] | None = None  # (ref, old due, new due)

    def lines(self) -> list[str]:
        out = [f"{key} due {old} → {new}" for key, (old, new) in self.deadlines.items()]
        if self.next_review:
            ref, old, new = self.next_review
            out.append(f"next review {ref} due {old} → {new}")
        out.append(f"write-up notices: {self.notices_cancelled} not yet sent cancelled, "
                   f"{self.notices_planned} planned for the new dates")
        return out


def correct_held(session: Session, rules: Rules, directory: Directory, calendar: Calendar,
                 review_ref: str, new: dt.date, *, who: Corrector, today: dt.date,
                 now: dt.datetime, confirm: bool = False) -> HeldCorrection:
    review = records.review_by_ref(session, review_ref)
    _allow(who, f"review {review.ref}", review)
    old = review.held_on
    if old is None or review.status not in ("held", "recorded"):
        raise RefusedError(f"review {review.ref} is {review.status}: only a held review's date "
                           "can be corrected (a planned one is moved: `iro review move`)")
    _day_checks(new, old, today, "--date")
    if new < review.child.looked_after_since:
        raise BadInputError(f"--date {new.isoformat()} is before child {review.child.ref} "
                            "became looked after")
    later = [r.ref for r in review.child.reviews if r.sequence > review.sequence
             and r.status in ("held", "recorded")]
    if later:
        raise RefusedError(f"review {review.ref}: {', '.join(later)} was held since; the next "
                           "review's dates count from it; nothing changed")
    doubts = held_doubts(rules, calendar, review, new)
    if doubts and not confirm:
        raise RefusedError(f"review {review.ref}: --date {'; '.join(doubts)}; if that is right, "
                           "confirm it (--confirm); nothing changed")
    plan = plan_held(rules, calendar, review_ref=review.ref, sequence=review.sequence,
                     due_on=review.due_on, held_on=new, ceased_on=review.child.ceased_on)
    done = HeldCorrection(review.ref, old, new)
    open_kinds: set[str] = set()
    for clock in plan.clocks:
        deadline = keyed.deadline_by_key(session, deadline_key(review.ref, clock.kind))
        if deadline is None:
            continue
        if deadline.met_on is not None and deadline.met_on < new:
            raise RefusedError(f"review {review.ref}: the {clock.kind} were recorded on "
                               f"{deadline.met_on.isoformat()}, before {new.isoformat()}; "
                               "nothing changed")
        done.deadlines[deadline.key] = (deadline.due_on.isoformat(), clock.due_on.isoformat())
        deadline.started_on, deadline.due_on = new, clock.due_on
        if deadline.met_on is not None:
            stop = stop_clock(new, clock.due_on, deadline.met_on, calendar)
            deadline.working_days_taken, deadline.in_time = stop.working_days_taken, stop.in_time
        else:
            open_kinds.add(clock.kind)
            done.notices_cancelled += records.cancel_pending(session, deadline.key + "/")
    _replan_notices(session, rules, directory, review, plan.notices, open_kinds, today, now,
                    who.email, done)
    review.held_on = new
    timing = timeliness(new, review.due_on)
    review.in_timescale, review.days_late = timing.in_timescale, timing.days_late
    if plan.next is not None:
        _follow(session, rules, calendar, review, plan.next.due_on, plan.next.invitations_on,
                done)
    audit.record(session, "review.held_corrected", "review", review.id, actor=who.email,
                 review_ref=review.ref, old=old, new=new, confirmed=doubts,
                 deadlines=done.deadlines, next_review=done.next_review,
                 notices_cancelled=done.notices_cancelled, notices_planned=done.notices_planned)
    return done


def _replan_notices(session: Session, rules: Rules, directory: Directory, review: Review,
                    notices: Iterable[PlannedNotice], open_kinds: set[str], today: dt.date,
                    now: dt.datetime, actor: str, done: HeldCorrection) -> None:
    """The open clocks' reminders and overdue notice for the new dates, quiet as for a late
    entry; an overdue notice cancelled a moment ago (its key has no date) is planned again."""
    overdue_to = overdue_recipient(rules, directory, review.child, review)
    for notice in quiet_for_late_entry(list(notices), today):
        if notice.deadline not in open_kinds:
            continue  # the draft record went when it was held; a met clock sends nothing
        row = session.scalars(select(Dispatch).where(Dispatch.key == notice.key)).one_or_none()
        if row is not None and row.state == "cancelled" and row.sent_at is None:
            row.state, row.due_at, row.updated_at = "pending", send_at(notice.on), now
            done.notices_planned += 1
        elif row is None:
            done.notices_planned += plan_notice(session, review, notice, overdue_to, now, actor)


def _follow(session: Session, rules: Rules, calendar: Calendar, review: Review,
            due_on: dt.date, invitations_on: dt.date, done: HeldCorrection) -> None:
    """The next review's statutory date (and invitation day, while it has no meeting), and the
    midway check between them (its reminders are planned again by the midway scan)."""
    following = min((r for r in review.child.reviews if r.status == "planned"
                     and r.sequence > review.sequence), key=lambda r: r.sequence, default=None)
    if following is None:
        return
    done.next_review = (following.ref, following.due_on.isoformat(), due_on.isoformat())
    following.due_on = due_on
    deadline = keyed.deadline_by_key(session, mailout_key(following.ref))
    if deadline is not None and deadline.met_on is None and following.scheduled_at is None:
        deadline.due_on = invitations_on
    check = keyed.deadline_by_key(session, midway_plan.deadline_key(review.ref))
    if check is not None and check.met_on is None:
        records.cancel_pending(session, check.key + "/reminder/")
        check.started_on = done.new
        check.due_on = midway_plan.due_on(rules.midway, calendar, held_on=done.new,
                                          next_due=due_on) or check.due_on


def correct_return(session: Session, code: str, new: dt.date, *, who: Corrector,
                   today: dt.date, flag: str = "--date") -> tuple[dt.date, dt.date]:
    """The day a form came back: (old, new). Never before its letter went. ``flag`` names the
    date in a refusal (the web page's field)."""
    from workers.mailout.codes import normalise
    from workers.returns.service import form_sent_on

    wanted = normalise(code)
    letter = session.scalars(select(Dispatch).where(
        Dispatch.reference_code == wanted)).one_or_none() if wanted else None
    row = session.scalars(select(Return).where(Return.dispatch_id == letter.id)).one_or_none() \
        if letter is not None else None
    if letter is None or row is None:
        raise NotFoundError(f"no returned form with code {code!r}; check the code on the form")
    review = session.get(Review, letter.review_id) if letter.review_id else None
    _allow(who, f"the return of form {letter.reference_code}", review)
    _day_checks(new, row.received_on, today, flag)
    sent_on = form_sent_on(session, letter)  # its first sending, a resent copy's included
    if sent_on is not None and new < sent_on:
        raise BadInputError(f"{flag} {new.isoformat()} is before the form was sent "
                            f"({sent_on.isoformat()})")
    old, row.received_on = row.received_on, new
    audit.record(session, "return.corrected", "dispatch", letter.id, actor=who.email,
                 return_id=row.id, code=letter.reference_code, old=old, new=new)
    return old, new


def correct_posted(session: Session, batch_id: int, new: dt.date, *, who: Corrector,
                   today: dt.date, flag: str = "--date") -> tuple[dt.date, dt.date]:
    """The day a print batch was posted: the batch and its letters' sent dates, (old, new)."""
    batch = session.get(PrintBatch, batch_id)
    if batch is None:
        raise NotFoundError(f"no print batch {batch_id}; see `iro print` for the batches")
    _allow(who, f"print batch {batch_id}", None)
    if batch.printed_at is None:
        raise RefusedError(f"print batch {batch_id} has not been marked posted; mark it first")
    old_at = batch.printed_at
    old = old_at.astimezone(LONDON).date()
    _day_checks(new, old, today, flag)
    if new < batch.batch_date:
        raise BadInputError(f"{flag} {new.isoformat()} is before the batch was built "
                            f"({batch.batch_date.isoformat()})")
    new_at = london_moment(new, old_at.astimezone(LONDON).time())
    letters = session.scalars(select(Dispatch).where(Dispatch.print_batch_id == batch_id,
                                                     Dispatch.sent_at == old_at)).all()
    for letter in letters:
        letter.sent_at = new_at
    batch.printed_at = new_at
    audit.record(session, "print_batch.corrected", "print_batch", batch_id, actor=who.email,
                 old=old, new=new, letters=[d.id for d in letters])
    return old, new
