"""Pure planning of a review's mail-out: for each participant, the letters and the reminders.

Who gets what (IRO Handbook 2010 §3.19-3.20: the IRO consults the child and the people involved
before the review; DESIGN.md §2):

* the child: an invitation and the booklet for their age on the review date
  (``consultation.age_bands``); a child under 4 gets nothing (SSDA903 code PN0);
* parent, carer and social worker: an invitation and their role's form (``consultation.forms``);
* guardian and others: the invitation only (unless rules.yaml gives their role a form).

Every letter carrying a form gets a reference code; reminders go, at the ``mailout.reminders``
offsets, to the roles listed, only while the form is not back. Keys are deterministic
(``R-1042/mailout/P-3/invitation``), so planning twice plans the same rows and the store's unique
key makes a second mail-out create nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from dateutil.relativedelta import relativedelta

from workers.core.planning import MailoutPlan

INVITATION_KIND = "mailout_invitation"  # dispatch kinds, composed by workers.mailout.compose
REMINDER_KIND = "mailout_reminder"
RETURN_INSTRUCTIONS = "return_instructions"


class PersonLike(Protocol):
    """What planning reads of a participant (``workers.store.models.Participant``)."""

    @property
    def id(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def email(self) -> str | None: ...


class RulesLike(Protocol):
    def age_band_for(self, age: int) -> object | None: ...
    def form_for(self, role: str) -> str | None: ...


@dataclass(frozen=True)
class PlannedLetter:
    """One envelope or email: the invitation and, where the role has one, the form."""

    key: str
    participant_id: int
    participant_ref: str
    role: str
    channel: str  # email | post
    recipient: str  # the email address, or "post"
    form: str | None  # template kind of the consultation form; None: invitation only
    band: str | None = None  # the child's age band key


@dataclass(frozen=True)
class PlannedReminderLetter:
    key: str
    letter_key: str  # the invitation it chases
    participant_id: int
    channel: str
    recipient: str
    on: dt.date


@dataclass(frozen=True)
class Mailout:
    review_ref: str
    review_on: dt.date
    letters: tuple[PlannedLetter, ...]
    reminders: tuple[PlannedReminderLetter, ...]
    return_by: dt.date
    skipped: tuple[tuple[str, str], ...]  # (participant ref, why) — e.g. a child under 4


def letter_key(review_ref: str, participant_ref: str) -> str:
    return f"{review_ref}/mailout/{participant_ref}/invitation"


def reminder_key(review_ref: str, participant_ref: str, on: dt.date) -> str:
    return f"{review_ref}/mailout/{participant_ref}/reminder/{on.isoformat()}"


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    return relativedelta(on, date_of_birth).years


def plan_mailout(
    rules: RulesLike,
    dates: MailoutPlan,
    *,
    review_ref: str,
    child_dob: dt.date,
    participants: Sequence[PersonLike],
    today: dt.date,
) -> Mailout:
    """The letters and reminders for one review. ``today`` is the day the mail-out runs:
    reminders on or before it are not planned (a late mail-out does not remind at once)."""
    letters: list[PlannedLetter] = []
    skipped: list[tuple[str, str]] = []
    for person in participants:
        form, band = _form_for(rules, person.role, child_dob, dates.review_on)
        if person.role == "child" and form is None:
            skipped.append((person.ref, "child under 4 on the review date: no letter or booklet"))
            continue
        channel = person.channel
        recipient = (person.email or "").strip() if channel == "email" else "post"
        letters.append(
            PlannedLetter(letter_key(review_ref, person.ref), person.id, person.ref, person.role,
                          channel, recipient, form, band)
        )
    reminders = [
        PlannedReminderLetter(reminder_key(review_ref, letter.participant_ref, r.on), letter.key,
                              letter.participant_id, letter.channel, letter.recipient, r.on)
        for letter in letters if letter.form is not None
        for r in dates.reminders
        if letter.role in r.to and today < r.on < dates.review_on
    ]
    return Mailout(review_ref, dates.review_on, tuple(letters), tuple(reminders), dates.return_by,
                   tuple(skipped))


def _form_for(
    rules: RulesLike, role: str, dob: dt.date, review_on: dt.date
) -> tuple[str | None, str | None]:
    if role == "child":
        band = rules.age_band_for(age_on(dob, review_on))
        if band is None:
            return None, None
        return str(getattr(band, "template")), str(getattr(band, "key"))  # noqa: B009
    return rules.form_for(role), None


def documents_for(form: str | None) -> tuple[str, ...]:
    """The Word templates in a letter pack, in the order they are printed."""
    return ("invitation", form, RETURN_INSTRUCTIONS) if form else ("invitation",)


def reminder_documents(form: str) -> tuple[str, ...]:
    """A reminder letter and a fresh copy of the form."""
    return ("reminder", form)
