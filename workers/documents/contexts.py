"""Pure builders of template contexts from store rows, rules and directory entries.

No database queries, no I/O: callers load the rows (child, review, participants, escalation) and
pass them in. A document for one child can never be addressed to a participant of another: each
builder checks the rows belong together and raises RefusedError otherwise (DESIGN.md §6).
The keys produced here are exactly the fields listed in ``workers.documents.catalogue``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from dateutil.relativedelta import relativedelta

from workers.core.clock import LONDON
from workers.documents.record_views import people_context
from workers.errors import RefusedError
from workers.escalation.refs import escalation_ref

if TYPE_CHECKING:
    from workers.store.models import Child, Escalation, Participant, Review

Context = dict[str, Any]
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth", "eleventh", "twelfth")


class Contact(Protocol):
    """A directory person (workers.config.directory.Person) or anything with these attributes."""

    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def phone(self) -> str: ...


@dataclass(frozen=True)
class Letterhead:
    """What the letterhead prints. Defaults are placeholders; councils set their own."""

    name: str = "Example Borough Council"
    service: str = "Independent Reviewing Service"
    address_lines: tuple[str, ...] = ("Civic Centre", "Stockwell Close", "Exampleton", "EX1 3UH")
    phone: str = "020 8000 0000"
    email: str = "iro.service@council.example.gov.uk"
    privacy_notice: str = "www.council.example.gov.uk/privacy/childrens-social-care"

    @classmethod
    def from_settings(cls, letterhead: Any) -> Letterhead:
        """From ``settings.letterhead`` (service.yaml's ``letterhead:`` section)."""
        return cls(
            name=letterhead.name,
            service=letterhead.service,
            address_lines=tuple(letterhead.address_lines),
            phone=letterhead.phone,
            email=letterhead.email,
            privacy_notice=letterhead.privacy_notice,
        )


@dataclass(frozen=True)
class FormReturn:
    """Where and by when a consultation form comes back, and the code that matches it."""

    reference_code: str
    return_by: dt.date
    return_email: str
    return_address_lines: tuple[str, ...] = ()
    reply_paid: bool = False  # a reply-paid envelope is enclosed (service.yaml post.reply_paid)
    postage: str = ""  # what the envelope needs otherwise (post.postage)
    bring_to_meeting: bool = False  # too late for return_by: asked for at the meeting instead


@dataclass(frozen=True)
class Enclosure:
    title: str
    action: str = ""


@dataclass(frozen=True)
class PreviousDecision:
    number: int
    action: str
    responsible: str = ""
    timescale: str = ""
    outcome: str = ""
    indicator: str = ""


@dataclass(frozen=True)
class PreviousRecord:
    """What the store knows of the previous review's record (issue 15 §1): never a claim it
    cannot back. ``held_on`` None and ``first`` False: the previous review is not in the store."""

    first: bool
    held_on: dt.date | None = None
    decisions: tuple[PreviousDecision, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.decisions)


@dataclass(frozen=True)
class OpenEscalation:
    ref: str
    category: str
    stage: str
    raised_on: dt.date




@dataclass(frozen=True)
class HistoryItem:
    on: dt.date
    stage: str
    action: str
    text: str = ""


@dataclass(frozen=True)
class Common:
    """What every letter needs besides the case rows."""

    letterhead: Letterhead
    iro: Contact
    letter_date: dt.date
    extra: Mapping[str, Any] = field(default_factory=dict)


def ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if 1 <= n <= len(_ORDINALS) else f"{n}th"


def council(lh: Letterhead) -> Context:
    return {"name": lh.name, "service": lh.service, "address_lines": list(lh.address_lines),
            "phone": lh.phone, "email": lh.email, "privacy_notice": lh.privacy_notice}


def person(p: Contact) -> Context:
    return {"name": p.name, "email": p.email, "phone": getattr(p, "phone", "") or ""}


def child_context(child: Child, on: dt.date) -> Context:
    """The child, with age in whole years on ``on`` (the review date)."""
    return {
        "ref": child.ref,
        "given_name": child.given_name,
        "full_name": f"{child.given_name} {child.family_name}".strip(),
        "initials": child.initials,
        "date_of_birth": child.date_of_birth,
        "age": relativedelta(on, child.date_of_birth).years,
        "placement": child.placement or "",
        "legal_status": child.legal_status or "",
    }


def review_context(review: Review) -> Context:
    return {
        "ref": review.ref,
        "sequence": review.sequence,
        "ordinal": ordinal(review.sequence),
        "scheduled_at": review.scheduled_at,
        "venue": review.venue or "",
        "due_on": review.due_on,
        "held_on": review.held_on,
    }


def recipient_context(p: Participant) -> Context:
    is_child = p.role == "child"
    first = p.name.split()[0] if p.name.split() else p.name
    return {
        "name": p.name,
        "salutation": f"Dear {first if is_child else p.name}",
        "role": p.role,
        "is_child": is_child,
        "organisation": p.organisation or "",
        "address_lines": [ln.strip() for ln in (p.address or "").splitlines() if ln.strip()],
        "postcode": p.postcode or "",
    }


def contact_recipient(p: Contact, title: str = "") -> Context:
    """A manager or officer from the directory as a recipient (escalations, write-up notices)."""
    return {"name": p.name, "salutation": f"Dear {p.name}", "role": "other", "is_child": False,
            "organisation": title,
            "address_lines": list(getattr(p, "address_lines", None) or []), "postcode": ""}


def form_context(form: FormReturn | None) -> Context:
    if form is None:
        return {"reference_code": "", "return_by": None, "return_email": "",
                "return_address_lines": [], "reply_paid": False, "postage": "",
                "bring_to_meeting": False}
    return {"reference_code": form.reference_code, "return_by": form.return_by,
            "return_email": form.return_email,
            "return_address_lines": list(form.return_address_lines),
            "reply_paid": form.reply_paid, "postage": form.postage,
            "bring_to_meeting": form.bring_to_meeting}


def _check_case(child: Child, review: Review, participant: Participant | None = None) -> None:
    if review.child_id != child.id:
        raise RefusedError(f"review {review.ref} does not belong to child {child.ref}")
    if participant is not None and participant.review_id != review.id:
        raise RefusedError(
            f"participant {participant.ref} is not invited to review {review.ref}; refusing to "
            "address a document to them"
        )


def _base(child: Child, review: Review, common: Common) -> Context:
    # the child's age on the meeting's London date (scheduled_at is UTC)
    on = review.scheduled_at.astimezone(LONDON).date() if review.scheduled_at else review.due_on
    return {
        "council": council(common.letterhead),
        "letter": {"reference": review.ref, "date": common.letter_date},
        "child": child_context(child, on),
        "review": review_context(review),
        "iro": person(common.iro),
        **common.extra,
    }


def letter(child: Child, review: Review, participant: Participant, common: Common, *,
           form: FormReturn | None = None, enclosures: Iterable[Enclosure] = ()) -> Context:
    """invitation, reminder, return_instructions and the consultation forms."""
    _check_case(child, review, participant)
    ctx = _base(child, review, common)
    ctx["recipient"] = recipient_context(participant)
    ctx["form"] = form_context(form)
    ctx["enclosures"] = [{"title": e.title, "action": e.action} for e in enclosures]
    return ctx


def review_record(child: Child, review: Review, participants: Sequence[Participant],
                  common: Common, *, returned_ids: Iterable[int] = (),
                  returned_on: Mapping[int, dt.date] | None = None,
                  previous_decisions: Iterable[PreviousDecision] = (),
                  previous: PreviousRecord | None = None,
                  participation_codes: Mapping[str, str] | None = None,
                  next_review_due: dt.date | None = None,
                  escalations: Iterable[OpenEscalation] = (),
                  decision_rows: int = 6) -> Context:
    """The draft review record sent to the IRO when a review is marked held."""
    _check_case(child, review)
    for p in participants:
        _check_case(child, review, p)
    dated: dict[int, dt.date | None] = {i: None for i in returned_ids}
    dated.update(returned_on or {})
    codes = dict(participation_codes or {})
    ctx = _base(child, review, common)
    ctx.update(people_context(participants, dated, ctx["child"]["age"]))
    code = review.participation or ""
    ctx["participation"] = {"code": code, "meaning": codes.get(code, "")}
    ctx["participation_codes"] = [{"code": k, "meaning": v} for k, v in codes.items()]
    given = tuple(previous_decisions)
    if previous is None:
        previous = PreviousRecord(first=review.sequence <= 1, decisions=given)
    ctx["previous_review"] = {"first": previous.first, "held_on": previous.held_on,
                              "known": previous.known}
    ctx["previous_decisions"] = [
        {"number": d.number, "outcome": d.outcome, "action": d.action,
         "responsible": d.responsible, "timescale": d.timescale, "indicator": d.indicator}
        for d in previous.decisions
    ]
    # rows to write the previous decisions in by hand when the store does not hold them
    ctx["previous_blank_rows"] = (
        [] if previous.first or previous.known else list(range(1, decision_rows + 1))
    )
    ctx["next_review"] = {"due_on": next_review_due}
    ctx["escalations"] = [{"ref": e.ref, "category": e.category, "stage": e.stage,
                           "raised_on": e.raised_on} for e in escalations]
    ctx["decision_rows"] = list(range(1, decision_rows + 1))
    return ctx


def escalation_notice(child: Child, escalation: Escalation, common: Common, *,
                      recipient: Contact, recipient_title: str, stage_title: str,
                      category_title: str, ceiling_on: dt.date,
                      history: Iterable[HistoryItem] = (), summary: str = "",
                      opening: str = "", next_stage: Mapping[str, Any] | None = None,
                      copy_to: Sequence[Mapping[str, str]] = (),
                      ladder_stage: str = "") -> Context:
    """An escalation-stage notice (informal alert … CAFCASS referral) to the stage's manager,
    the same for everyone copied (``copy_to``). ``history`` actions are words, not keys."""
    ref = escalation_ref(escalation.id)
    if escalation.child_id != child.id:
        raise RefusedError(f"escalation {ref} does not belong to child {child.ref}")
    return {
        "council": council(common.letterhead),
        "letter": {"reference": ref, "date": common.letter_date},
        "recipient": contact_recipient(recipient, recipient_title),
        "child": child_context(child, escalation.raised_on),
        "iro": person(common.iro),
        "escalation": {
            "ref": ref, "category": category_title, "concern": escalation.concern,
            "raised_on": escalation.raised_on, "stage": stage_title,
            "stage_started_on": escalation.stage_started_on,
            "response_due_on": escalation.response_due_on, "ceiling_on": ceiling_on,
            "history": [{"date": h.on, "stage": h.stage, "action": h.action, "text": h.text}
                        for h in history],
            "summary": summary, "opening": opening,
            "next_stage": dict(next_stage) if next_stage else None,
            "copy_to": [dict(c) for c in copy_to],
            "referred_on": escalation.cafcass_referred_on,
            "alongside": escalation.stage != "cafcass",
            "ladder_stage": ladder_stage or stage_title,
        },
        **common.extra,
    }


@dataclass(frozen=True)
class OverdueItem:
    """One overdue write-up in the overdue notice's list: references and initials only."""

    ref: str
    initials: str
    what: str
    due_on: dt.date
    days_overdue: int


def writeup_email(child: Child, review: Review, common: Common, *, what: str,
                  due_on: dt.date, days_overdue: int = 0, mailbox_name: str,
                  recipient: Contact | None = None, days_left: int = 0,
                  decisions_due_on: dt.date | None = None,
                  overdue: Iterable[OverdueItem] = (), record_reply_days: int = 30) -> Context:
    """email_review_record, email_writeup_reminder and email_writeup_overdue."""
    _check_case(child, review)
    ctx = _base(child, review, common)
    ctx["deadline"] = {"what": what, "due_on": due_on, "days_overdue": days_overdue,
                       "days_left": days_left}
    ctx["mailbox"] = {"display_name": mailbox_name}
    ctx["recipient"] = contact_recipient(recipient or common.iro)
    ctx["decisions_due_on"] = decisions_due_on
    ctx["record_reply_days"] = record_reply_days  # an emailed record unconfirmed is deleted
    ctx["overdue"] = [{"ref": o.ref, "initials": o.initials, "what": o.what,
                       "due_on": o.due_on, "days_overdue": o.days_overdue} for o in overdue]
    return ctx


def with_mailbox(ctx: Context, mailbox_name: str, **extra: Any) -> Context:
    """Add what the email bodies need (email_invitation, email_escalation) to a letter context."""
    return {**ctx, "mailbox": {"display_name": mailbox_name}, **extra}
