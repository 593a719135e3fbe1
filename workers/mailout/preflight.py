"""Pure checks before a mail-out goes: all of them pass, or nothing is sent (DESIGN.md §6).

* every letter is for a participant of *this* review (a document for one child is never addressed
  to someone on another child's case);
* every email address is on an allow-listed domain, or the participant's personal address is
  recorded as confirmed;
* every postal recipient has an address of at least two lines and a UK postcode, and the whole
  block (name, organisation, lines, postcode) fits the envelope window (``post.max_address_lines``);
* every template renders with this review's data (``render`` is given by the caller and raises
  ``TemplateError`` naming template, part and field).

Problems name participants by reference and role only, never by name or address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from workers.errors import PreflightError, ServiceUnavailableError, TemplateError
from workers.inputs.postcodes import is_postcode as is_postcode  # the one rule (issue 17)
from workers.mail.addresses import is_email_address
from workers.mail.allowlist import may_email
from workers.mailout.plan import PlannedLetter


class ParticipantLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def ref(self) -> str: ...
    @property
    def review_id(self) -> int: ...
    @property
    def email(self) -> str | None: ...
    @property
    def email_confirmed(self) -> bool: ...
    @property
    def address(self) -> str | None: ...
    @property
    def postcode(self) -> str | None: ...
    @property
    def organisation(self) -> str: ...


@dataclass(frozen=True)
class Problem:
    participant_ref: str
    role: str
    reason: str

    def __str__(self) -> str:
        return f"participant {self.participant_ref} ({self.role}): {self.reason}"


def check_recipient(
    letter: PlannedLetter,
    person: ParticipantLike | None,
    review_id: int,
    allowed_domains: Sequence[str],
    max_address_lines: int = 7,
) -> list[str]:
    """Why this letter may not go to this person (empty: it may)."""
    if person is None or person.id != letter.participant_id:
        return ["is not in the case record"]
    if person.review_id != review_id:
        return ["belongs to another review's case; refusing to address this child's documents "
                "to them"]
    if letter.channel == "email":
        address = (person.email or "").strip()
        if not address:
            return ["channel is email but no email address is recorded; add one or send by post"]
        if not is_email_address(address):
            return ["the recorded email address is not a valid address"]
        if letter.recipient.lower() != address.lower():
            return ["the planned address differs from the case record"]
        if not may_email(address, confirmed=person.email_confirmed, allowed=allowed_domains):
            return ["email domain is not on the allow-list and the personal address is not "
                    "confirmed; confirm it on the case record or send by post"]
        return []
    if letter.channel != "post":
        return [f"unknown channel {letter.channel!r}; expected email or post"]
    return postal_problems(person, max_address_lines)


def postal_problems(person: ParticipantLike, max_address_lines: int = 7) -> list[str]:
    """Why a letter cannot be posted to ``person`` (empty: it can): the address must be whole
    and fit the envelope window. The survey's posted questionnaires check this too."""
    lines = [ln for ln in (person.address or "").splitlines() if ln.strip()]
    problems = []
    if len(lines) < 2:
        problems.append("postal address has fewer than two lines; record the full address")
    if not is_postcode(person.postcode):
        problems.append("postal address has no valid UK postcode")
    block = 1 + bool((person.organisation or "").strip()) + len(lines) + 1  # name … postcode
    if block > max_address_lines:
        problems.append(f"postal address takes {block} lines with the name and postcode; the "
                        f"envelope window shows {max_address_lines} (post.max_address_lines): "
                        "shorten it on the case record")
    return problems


def preflight(
    letters: Sequence[PlannedLetter],
    people: Mapping[int, ParticipantLike],
    *,
    review_id: int,
    allowed_domains: Sequence[str],
    render: Callable[[PlannedLetter], object],
    max_address_lines: int = 7,
) -> list[Problem]:
    """Every problem with every letter (empty: the mail-out may go)."""
    problems: list[Problem] = []
    for letter in letters:
        reasons = check_recipient(letter, people.get(letter.participant_id), review_id,
                                  allowed_domains, max_address_lines)
        problems += [Problem(letter.participant_ref, letter.role, r) for r in reasons]
        if reasons:
            continue  # never fill a template for someone we may not write to
        try:
            render(letter)
        except TemplateError as exc:
            problems.append(Problem(letter.participant_ref, letter.role, f"template: {exc}"))
        except ServiceUnavailableError:
            raise
    return problems


def refuse(review_ref: str, problems: Sequence[Problem]) -> PreflightError:
    lines = "\n".join(f"  - {p}" for p in problems)
    return PreflightError(
        f"mail-out for review {review_ref} refused: {len(problems)} problem(s); nothing was "
        f"sent or queued. Correct the case record (or the templates) and run it again:\n{lines}"
    )
