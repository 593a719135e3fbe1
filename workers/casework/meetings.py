"""A review's meeting moved or cancelled after its invitations were planned (issue 16).

Moved (`iro review move REF --date/--time/--venue`): the meeting is changed on the review; letters
not yet gone are read from the review when they are made, so they carry the new arrangements,
with the return-by date the rules give for the new day (``mailout.return_by``); everyone already
invited (an invitation sent, or in a print batch) gets a change of arrangements letter; reminders
move with the meeting: those for the old dates are cancelled and those the rules give for the new
day are planned (none already past, none for a form that is back), so none is sent for the old
date; an open mail-out deadline moves to the new invitation day.

Cancelled (`iro review cancel REF --reason`): the review becomes ``cancelled``; its letters not
yet gone are cancelled; everyone already invited gets a cancellation letter.

A letter to a contact that fails the mail-out's preflight rule is planned ``failed`` with what to
correct (the meeting moved whatever the state of one address), so it shows on the failed list.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.casework.contact import again_key, contact_problems, recipient_for
from workers.casework.notices import CANCEL_KIND, CHANGE_KIND
from workers.core.clock import LONDON
from workers.core.planning import mailout_dates
from workers.errors import BadInputError, RefusedError
from workers.mailout.compose import form_returned
from workers.mailout.documents import MailoutConfig, review_on
from workers.mailout.plan import INVITATION_KIND, REMINDER_KIND, plan_mailout
from workers.reviews import records
from workers.reviews.date_checks import meeting_day_doubts
from workers.reviews.held import mailout_key, send_at
from workers.store import audit, keyed
from workers.store.models import Dispatch, Participant, PrintBatch, Return, Review

OPEN = ("pending", "queued")
DEFAULT_TIME = dt.time(10)


@dataclass
class MeetingChange:
    review_ref: str
    letters_replanned: list[int] = field(default_factory=list)  # not yet gone: new details
    notices: list[int] = field(default_factory=list)  # change / cancellation letters planned
    reminders_cancelled: list[int] = field(default_factory=list)
    reminders_planned: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)  # letters called off (cancel)
    in_print_batch: list[int] = field(default_factory=list)  # printed, not posted: take out
    held: list[int] = field(default_factory=list)  # planned failed: a contact fails preflight

    def lines(self) -> list[str]:
        out = []
        if self.letters_replanned:
            out.append(f"{len(self.letters_replanned)} letters not yet sent will carry the new "
                       "arrangements")
        if self.cancelled:
            out.append(f"{len(self.cancelled)} letters and reminders not yet sent cancelled")
        if self.reminders_cancelled or self.reminders_planned:
            out.append(f"reminders: {len(self.reminders_cancelled)} for the old date cancelled, "
                       f"{len(self.reminders_planned)} planned for the new one")
        if self.notices:
            out.append(f"{len(self.notices)} letters to those already invited")
        if self.held:
            out.append(f"{len(self.held)} of them held: the contact fails the checks (see "
                       "`iro dispatches --failed`)")
        if self.in_print_batch:
            out.append("in a print batch built but not posted, with the old arrangements: "
                       f"take out dispatches {', '.join(map(str, self.in_print_batch))}")
        return out


def _planned(session: Session, review_ref: str) -> Review:
    review = records.review_by_ref(session, review_ref)
    if review.status != "planned":
        raise RefusedError(f"review {review.ref} is {review.status}: only a planned review's "
                           "meeting can be moved or cancelled")
    return review


def _rows(session: Session, review: Review) -> list[Dispatch]:
    return list(session.scalars(select(Dispatch).where(Dispatch.review_id == review.id)
                                .order_by(Dispatch.id)))


def _unposted(session: Session, row: Dispatch) -> bool:
    batch = session.get(PrintBatch, row.print_batch_id) if row.print_batch_id else None
    return batch is not None and batch.printed_at is None


def _invited(session: Session, rows: list[Dispatch]) -> list[int]:
    """Participants whose invitation went (sent, or printed in a batch), in order."""
    seen: list[int] = []
    for row in rows:
        went = row.state == "sent" or (row.state in OPEN and row.print_batch_id is not None)
        if row.kind == INVITATION_KIND and went and row.participant_id not in seen:
            seen.append(row.participant_id or 0)
    return seen


def _notice(session: Session, review: Review, person: Participant, kind: str,
            params: dict[str, object], cfg: MailoutConfig, now: dt.datetime, actor: str,
            done: MeetingChange) -> None:
    word = "change" if kind == CHANGE_KIND else "cancelled"
    row = Dispatch(key=again_key(session, f"{review.ref}/mailout/{person.ref}/{word}", "n"),
                   kind=kind, channel=person.channel, state="pending", review_id=review.id,
                   participant_id=person.id, recipient=recipient_for(person, person.channel),
                   due_at=now, params={"review_ref": review.ref, **params})
    problems = contact_problems(row, person, person.channel, cfg.allowed_domains)
    if problems:
        row.state = "failed"
        row.last_error = (f"the contact fails the mail-out checks: {'; '.join(problems)}; "
                          "correct the case record, then `iro dispatches resend ID`")
    session.add(row)
    session.flush()
    audit.record(session, "dispatch.planned", "dispatch", row.id, actor=actor, key=row.key,
                 kind=kind, channel=row.channel)
    done.notices.append(row.id)
    if problems:
        done.held.append(row.id)


def move_review(session: Session, cfg: MailoutConfig, review_ref: str, *, date: dt.date | None,
                time: dt.time | None, venue: str | None, today: dt.date, now: dt.datetime,
                actor: str, confirm: bool = False) -> MeetingChange:
    """Move the meeting and re-plan around it (the caller commits). A new day that is a weekend
    or a bank holiday needs ``confirm`` (issue 16 §5)."""
    review = _planned(session, review_ref)
    doubts = meeting_day_doubts(date, cfg.calendar) if date is not None else []
    if doubts and not confirm:
        raise RefusedError(f"review {review.ref}: --date {'; '.join(doubts)}; if the meeting is "
                           "really then, confirm it (--confirm); nothing changed")
    before = review.scheduled_at.astimezone(LONDON) if review.scheduled_at else None
    if date is None and before is None:
        raise BadInputError(f"review {review.ref} has no meeting date yet: give --date")
    day = date or (before.date() if before else today)
    at = time or (before.time() if before else DEFAULT_TIME)
    moved_to = dt.datetime.combine(day, at, tzinfo=LONDON).astimezone(dt.UTC)
    new_venue = " ".join(venue.split()) if venue is not None else review.venue
    if day < today:
        raise BadInputError(f"--date {day.isoformat()} has passed; to record a meeting that "
                            "happened use `iro review held`")
    if moved_to == review.scheduled_at and new_venue == review.venue:
        raise BadInputError(f"review {review.ref}: nothing to change (same date, time and venue)")
    venue_changed = new_venue != review.venue
    review.scheduled_at, review.venue = moved_to, new_venue
    dates = mailout_dates(cfg.rules.mailout, cfg.calendar, review_on=review_on(review))
    deadline = keyed.deadline_by_key(session, mailout_key(review.ref))
    if deadline is not None and deadline.met_on is None:
        deadline.due_on = max(dates.invitations_on, today)
    done = MeetingChange(review.ref)
    rows = _rows(session, review)
    invited = _invited(session, rows)
    people = {p.id: p for p in review.participants if p.withdrawn_on is None}
    plan = plan_mailout(cfg.rules, dates, review_ref=review.ref,
                        child_dob=review.child.date_of_birth, participants=list(people.values()),
                        today=today)
    wanted = {r.key: r for r in plan.reminders}
    letters = {r.key: r for r in rows if r.kind == INVITATION_KIND}
    known_at: dict[int, object] = {}  # the meeting time a person was last told of
    for row in rows:
        if row.state not in OPEN:
            continue
        if row.print_batch_id is not None:
            if _unposted(session, row) and row.kind != INVITATION_KIND:
                done.in_print_batch.append(row.id)
            continue
        if row.kind == REMINDER_KIND:
            if wanted.pop(row.key, None) is not None and not form_returned(session, row):
                row.params = {**row.params, "return_by": dates.return_by.isoformat()}
                continue
            row.state, row.claimed_at, row.updated_at = "cancelled", None, now
            audit.record(session, "dispatch.cancelled", "dispatch", row.id, actor=actor,
                         reason="meeting moved")
            done.reminders_cancelled.append(row.id)
        elif row.kind == CHANGE_KIND:  # an earlier move's letter, not gone: one letter says it
            row.state, row.claimed_at, row.updated_at = "cancelled", None, now
            audit.record(session, "dispatch.cancelled", "dispatch", row.id, actor=actor,
                         reason="meeting moved again")
            known_at.setdefault(row.participant_id or 0, row.params.get("previous_at"))
        elif row.kind == INVITATION_KIND:
            row.params = {**row.params, "return_by": dates.return_by.isoformat()}
            row.updated_at = now
            done.letters_replanned.append(row.id)
    for reminder in wanted.values():
        letter = letters.get(reminder.letter_key)
        person = people.get(reminder.participant_id)
        if letter is None or person is None or session.scalar(
                select(Return.id).where(Return.dispatch_id == letter.id)) is not None:
            continue  # not mailed out yet (the mail-out plans them), or the form is back
        key = reminder.key
        if session.scalar(select(Dispatch.id).where(Dispatch.key == key)) is not None:
            key = again_key(session, key, "n")
        row = Dispatch(key=key, kind=REMINDER_KIND, channel=person.channel, state="pending",
                       review_id=review.id, participant_id=person.id,
                       recipient=recipient_for(person, person.channel),
                       due_at=send_at(reminder.on),
                       params={"review_ref": review.ref, "return_by": dates.return_by.isoformat(),
                               "form": letter.params.get("form"), "letter_key": letter.key,
                               "form_code": letter.reference_code
                               or letter.params.get("form_code")})
        session.add(row)
        session.flush()
        audit.record(session, "dispatch.planned", "dispatch", row.id, actor=actor, key=row.key,
                     kind=REMINDER_KIND, channel=row.channel)
        done.reminders_planned.append(row.id)
    params: dict[str, object] = {
        "previous_at": before.replace(tzinfo=None).isoformat() if before else None,
        "venue_changed": venue_changed, "return_by": dates.return_by.isoformat()}
    for person_id in invited:
        if person_id in people:
            told = {**params, "previous_at": known_at.get(person_id, params["previous_at"])}
            _notice(session, review, people[person_id], CHANGE_KIND, told, cfg, now, actor,
                    done)
    audit.record(session, "review.moved", "review", review.id, actor=actor,
                 review_ref=review.ref, previous_at=before, moved_to=moved_to,
                 venue_changed=venue_changed, letters_replanned=done.letters_replanned,
                 notices=done.notices, reminders_cancelled=done.reminders_cancelled,
                 reminders_planned=done.reminders_planned)
    return done


def cancel_review(session: Session, cfg: MailoutConfig, review_ref: str, *, reason: str,
                  now: dt.datetime, actor: str) -> MeetingChange:
    """Cancel the review: letters not yet gone cancelled, those invited told (caller commits)."""
    why = " ".join(reason.split())
    if not why or len(why) > 200:
        raise BadInputError("--reason: say why in at most 200 characters (kept in the audit; "
                            "no names or addresses)")
    review = _planned(session, review_ref)
    rows = _rows(session, review)
    # those who had an invitation: one printed but not posted is cancelled and named instead
    invited = [p for p in _invited(session, rows) if any(
        r.participant_id == p and r.kind == INVITATION_KIND and r.state == "sent" for r in rows)]
    done = MeetingChange(review.ref)
    for row in rows:
        if row.state not in (*OPEN, "failed"):
            continue
        if _unposted(session, row):
            done.in_print_batch.append(row.id)
        row.state, row.claimed_at, row.updated_at = "cancelled", None, now
        audit.record(session, "dispatch.cancelled", "dispatch", row.id, actor=actor,
                     reason="review cancelled")
        done.cancelled.append(row.id)
    review.status = "cancelled"
    people = {p.id: p for p in review.participants if p.withdrawn_on is None}
    for person_id in invited:
        if person_id in people:
            _notice(session, review, people[person_id], CANCEL_KIND, {}, cfg, now, actor, done)
    audit.record(session, "review.cancelled", "review", review.id, actor=actor,
                 review_ref=review.ref, reason=why, cancelled=done.cancelled,
                 notices=done.notices)
    return done
