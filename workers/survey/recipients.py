"""Who is asked (pure): one questionnaire per person who had a child reviewed in the year.

Annual report §9.4: questionnaires went to foster carers, social workers and Children's
Guardians. A carer with three children reviewed is asked once, so people are told apart by their
recorded email address (per role: the questions differ). A guardian with no address on the
record is asked through CAFCASS when directory.yaml gives CAFCASS's address (the seed's
guardians were reached through CAFCASS); anyone else without an email address but with a postal
one is asked by post (told apart by name and postcode); with neither, they are listed as not
asked. Nothing here reads the store or sends anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workers.mail.addresses import is_email_address
from workers.mail.allowlist import may_email


@dataclass(frozen=True)
class Candidate:
    """A participant of a review held in the year, as the case record has them."""

    participant_id: int
    participant_ref: str
    review_id: int
    role: str
    name: str
    email: str | None
    email_confirmed: bool
    held_on: dt.date
    postal: bool = False  # a postal address and postcode on the record: asked by post
    postcode: str = ""

    @property
    def postcode_key(self) -> str:
        return "".join(self.postcode.upper().split())


@dataclass(frozen=True)
class Recipient:
    role: str
    address: str
    participant_id: int  # the first case-record entry of this person (the report counts by it)
    review_id: int
    via: str  # "direct" or "cafcass"
    who: str  # a digest telling people apart, for the dispatch key (no address in keys or logs)
    channel: str = "email"  # or "post": a printed questionnaire in the print batch


@dataclass(frozen=True)
class LeftOut:
    participant_ref: str
    role: str
    reason: str

    def __str__(self) -> str:
        return f"participant {self.participant_ref} ({self.role}): {self.reason}"


@dataclass(frozen=True)
class Selection:
    recipients: tuple[Recipient, ...]
    not_asked: tuple[LeftOut, ...]  # no email or postal address: cannot be asked
    problems: tuple[LeftOut, ...]  # an address that may not be used: preflight refuses


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def select_recipients(
    candidates: Iterable[Candidate],
    roles: Sequence[str],
    *,
    allowed_domains: Sequence[str],
    cafcass_address: str | None,
) -> Selection:
    """One recipient per (role, address); earliest review first, so the choice is stable."""
    chosen: dict[tuple[str, str], Recipient] = {}
    not_asked: dict[str, LeftOut] = {}
    problems: dict[str, LeftOut] = {}
    ordered = sorted(candidates, key=lambda c: (c.held_on, c.review_id, c.participant_id))
    for c in ordered:
        if c.role not in roles:
            continue
        email = (c.email or "").strip().lower()
        if email:
            key = (c.role, email)
            if key in chosen or c.participant_ref in problems:
                continue
            if not is_email_address(email):
                problems[c.participant_ref] = LeftOut(
                    c.participant_ref, c.role, "the recorded email address is not valid")
            elif not may_email(email, confirmed=c.email_confirmed, allowed=allowed_domains):
                problems[c.participant_ref] = LeftOut(
                    c.participant_ref, c.role,
                    "email domain is not on the allow-list and the personal address is not "
                    "confirmed; confirm it on the case record")
            else:
                chosen[key] = Recipient(c.role, email, c.participant_id, c.review_id, "direct",
                                        _digest(c.role, email))
            continue
        if c.role == "guardian" and cafcass_address:
            # no address of their own: CAFCASS passes it on; told apart by name
            key = (c.role, "cafcass:" + " ".join(c.name.lower().split()))
            if key not in chosen:
                chosen[key] = Recipient(c.role, cafcass_address.lower(), c.participant_id,
                                        c.review_id, "cafcass", _digest(*key))
            continue
        if c.postal:
            # by post: told apart by name and postcode (the same carer on two reviews)
            key = (c.role, f"post:{' '.join(c.name.lower().split())}|{c.postcode_key}")
            if key not in chosen:
                chosen[key] = Recipient(c.role, "post", c.participant_id, c.review_id, "direct",
                                        _digest(*key), channel="post")
            continue
        not_asked.setdefault(c.participant_ref, LeftOut(
            c.participant_ref, c.role, "no email or postal address on the case record; "
                                       "not asked"))
    return Selection(tuple(chosen.values()), tuple(not_asked.values()),
                     tuple(problems.values()))
