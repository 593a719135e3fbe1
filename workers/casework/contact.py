"""A participant's current contact, as the case record holds it, and whether a letter may use it.

The one place that turns a participant into a dispatch's channel and recipient, so a re-planned
or resent letter is addressed exactly as a fresh mail-out would be (workers.mailout.plan), and
checked by the mail-out's own preflight rule (workers.mailout.preflight.check_recipient).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import PreflightError
from workers.mailout.plan import PlannedLetter
from workers.mailout.preflight import check_recipient
from workers.store.models import Dispatch, Participant


def recipient_for(person: Participant, channel: str) -> str:
    """What a dispatch on ``channel`` stores as its recipient: the address, or ``post``."""
    return (person.email or "").strip() if channel == "email" else "post"


def postal_address(person: Participant) -> str:
    """The lines and postcode a posted letter carries (``Dispatch.sent_to`` of a printed one)."""
    lines = [ln.strip() for ln in (person.address or "").splitlines() if ln.strip()]
    return "\n".join([*lines, (person.postcode or "").strip()]).strip()


def contact_problems(dispatch: Dispatch, person: Participant, channel: str,
                     allowed_domains: Sequence[str]) -> list[str]:
    """Why ``dispatch`` may not go to ``person`` on ``channel`` now (empty: it may)."""
    letter = PlannedLetter(dispatch.key, person.id, person.ref, person.role, channel,
                           recipient_for(person, channel), None)
    return check_recipient(letter, person, dispatch.review_id or person.review_id,
                           allowed_domains)


def refuse_contact(what: str, person: Participant, problems: Sequence[str]) -> PreflightError:
    lines = "\n".join(f"  - {p}" for p in problems)
    return PreflightError(
        f"{what} refused for participant {person.ref} ({person.role}); nothing was changed. "
        f"Correct the case record and try again:\n{lines}")


def again_key(session: Session, key: str, word: str) -> str:
    """``<key>/<word>-N``, the next N free: a letter planned again keeps its old row (and key).

    Under the old key, so a reminder planned again still falls under its invitation's reminder
    prefix (workers.returns.service.call_off_reminders)."""
    taken = list(session.scalars(select(Dispatch.key).where(Dispatch.key.like(f"{key}/{word}-%"))))
    return f"{key}/{word}-{len(taken) + 1}"
