"""Pure: what an incoming message is — a returned form, a bounce, or one for a person to read.

A reply is matched by the form's reference code, looked for first in the subject, then in the
body (a quoted reply carries it in the quoted text too). People retype codes: any case, spaces,
a split in the middle (``workers.mailout.codes``). Only a code that was issued matches, so a
chance string in a letter never does.

One email may return several forms (a parent of two children): each attachment is filed against
the code in its name or text (``workers.returns.attachments``). When the message quotes more
than one issued code and its attachments cannot be told apart (one without a code, one with two,
a code with no attachment of its own), nothing is filed and it goes to a person.

A delivery or read receipt is neither: it is filed away and counted, nothing recorded.
A delivery report (EWS ``REPORT.IPM.Note.NDR``, a ``multipart/report`` delivery status) is a
bounce, never a return: it is matched to the dispatch by the code it quotes or by our Message-ID
(``<iro.…@…>``, the deterministic id every message carries).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from workers.mailout.codes import find_codes
from workers.returns.inbox import InboxMessage

_OUR_MESSAGE_ID = re.compile(r"<iro\.[0-9a-f]{32}@[^<>\s]+>", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification \(failure\)|"
    r"mail delivery (failed|system)|returned mail|failure notice)", re.IGNORECASE)

Outcome = Literal["return", "bounce", "receipt", "unmatched"]


@dataclass(frozen=True)
class Filing:
    """One form returned by the message, and which of its attachments (by position) hold it."""

    code: str
    attachments: tuple[int, ...]


@dataclass(frozen=True)
class Match:
    outcome: Outcome
    code: str | None = None  # the form's code (returns; bounces when quoted)
    message_ids: tuple[str, ...] = ()  # our Message-IDs quoted by a bounce
    filings: tuple[Filing, ...] = ()  # returns: each form and its attachments
    reason: str = ""  # unmatched: why, for the person who reads it
    codes: tuple[str, ...] = ()  # every issued code it quoted


def is_bounce(message: InboxMessage) -> bool:
    return message.is_report or bool(_BOUNCE_SUBJECT.match(message.subject or ""))


def candidates(message: InboxMessage) -> list[str]:
    """Codes in the subject first, then the body, in order, without repeats."""
    found = find_codes(message.subject)
    found += [c for c in find_codes(message.body) if c not in found]
    return found


def classify(message: InboxMessage, issued: Callable[[Iterable[str]], set[str]],
             attachment_codes: Sequence[Sequence[str]] = ()) -> Match:
    """``issued(codes)`` says which of these codes the store gave out; ``attachment_codes`` the
    codes found in each attachment, in order."""
    if message.is_receipt:  # "Read: … C-XXXXXXXX" quotes the code but returns no form
        return Match("receipt")
    codes = candidates(message)
    codes += [c for found in attachment_codes for c in found if c not in codes]
    known = issued(codes) if codes else set()
    quoted = tuple(c for c in codes if c in known)
    code = quoted[0] if quoted else None
    if is_bounce(message):
        ids = tuple(dict.fromkeys(m.lower() for m in _OUR_MESSAGE_ID.findall(message.body)))
        return Match("bounce", code, ids)
    if code is None:
        return Match("unmatched", reason="no_code")
    if len(quoted) == 1:
        return Match("return", code, filings=(Filing(code, tuple(range(len(
            message.attachments)))),), codes=quoted)
    return _several(quoted, [[c for c in found if c in known] for found in attachment_codes])


def _several(quoted: tuple[str, ...], per_attachment: list[list[str]]) -> Match:
    """Several forms in one message: each attachment must name exactly one, each form have one."""
    mine: dict[str, list[int]] = {c: [] for c in quoted}
    for n, found in enumerate(per_attachment):
        if len(set(found)) != 1:  # no code, or two: cannot tell whose form it is
            return Match("unmatched", reason="several_codes", codes=quoted)
        mine[found[0]].append(n)
    if not per_attachment or any(not held for held in mine.values()):
        return Match("unmatched", reason="several_codes", codes=quoted)
    return Match("return", quoted[0], codes=quoted,
                 filings=tuple(Filing(c, tuple(held)) for c, held in mine.items()))
