"""Pure: what an incoming message is — a returned form, a bounce, or one for a person to read.

A reply is matched by the form's reference code, looked for first in the subject, then in the
body (a quoted reply carries it in the quoted text too). People retype codes: any case, spaces,
a split in the middle (``workers.mailout.codes``). Only a code that was issued matches, so a
chance string in a letter never does.

A delivery or read receipt is neither: it is filed away and counted, nothing recorded.
A delivery report (EWS ``REPORT.IPM.Note.NDR``, a ``multipart/report`` delivery status) is a
bounce, never a return: it is matched to the dispatch by the code it quotes or by our Message-ID
(``<iro.…@…>``, the deterministic id every message carries).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
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
class Match:
    outcome: Outcome
    code: str | None = None  # the form's code (returns; bounces when quoted)
    message_ids: tuple[str, ...] = ()  # our Message-IDs quoted by a bounce


def is_bounce(message: InboxMessage) -> bool:
    return message.is_report or bool(_BOUNCE_SUBJECT.match(message.subject or ""))


def candidates(message: InboxMessage) -> list[str]:
    """Codes in the subject first, then the body, in order, without repeats."""
    found = find_codes(message.subject)
    found += [c for c in find_codes(message.body) if c not in found]
    return found


def classify(message: InboxMessage, issued: Callable[[Iterable[str]], set[str]]) -> Match:
    """``issued(codes)`` says which of these codes the store gave out."""
    if message.is_receipt:  # "Read: … C-XXXXXXXX" quotes the code but returns no form
        return Match("receipt")
    codes = candidates(message)
    known = issued(codes) if codes else set()
    code = next((c for c in codes if c in known), None)
    if is_bounce(message):
        ids = tuple(dict.fromkeys(m.lower() for m in _OUR_MESSAGE_ID.findall(message.body)))
        return Match("bounce", code, ids)
    if code is None:
        return Match("unmatched")
    return Match("return", code)
