"""The audit trail: every send, print, return, import and escalation step becomes an AuditEvent.

Details carry ids, references and codes only (DESIGN.md §6): keys that would hold a name, an address
or free text are dropped, with a warning naming the key (never the value). Dropping rather than
raising, because an audit call often follows an action that already happened (a message sent):
failing it would roll back the record of the send and invite a second one.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from workers.store.models import AuditEvent

log = logging.getLogger(__name__)

# A key is personal or free text if any of its `_`-separated words is one of these.
PERSONAL_WORDS = frozenset(
    {
        "name",
        "names",
        "surname",
        "forename",
        "address",
        "postcode",
        "text",
        "body",
        "content",
        "concern",
        "outcome",
        "subject",
        "dob",
        "birth",
        "phone",
        "telephone",
        "note",
        "notes",
        "comment",
        "comments",
    }
)
MAX_VALUE_CHARS = 200  # ids and codes are short; anything longer is treated as text


def is_personal_key(key: str) -> bool:
    return any(word in PERSONAL_WORDS for word in key.lower().replace("-", "_").split("_"))


def clean_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details safe to keep: personal keys and long text dropped, dates as ISO strings."""
    kept: dict[str, Any] = {}
    for key, value in details.items():
        if is_personal_key(key):
            log.warning("audit detail %r dropped: details carry ids and codes only", key)
            continue
        cleaned = _clean_value(key, value)
        if cleaned is not _DROP:
            kept[key] = cleaned
    return kept


_DROP = object()


def _clean_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, str):
        if len(value) > MAX_VALUE_CHARS:
            log.warning(
                "audit detail %r dropped: %d characters is text, not a code", key, len(value)
            )
            return _DROP
        return value
    if isinstance(value, Mapping):
        return clean_details({str(k): v for k, v in value.items()})
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean_value(key, item) for item in value]
        return [item for item in items if item is not _DROP]
    log.warning("audit detail %r dropped: %s is not an id or a code", key, type(value).__name__)
    return _DROP


def record(
    session: Session,
    action: str,
    subject_type: str,
    subject_id: int | None,
    actor: str = "system",
    **details: Any,
) -> AuditEvent:
    """Add an audit event to ``session`` (the caller commits, with the change it records)."""
    if not action or not subject_type:
        raise ValueError("an audit event needs an action and a subject type")
    event = AuditEvent(
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        actor=actor,
        details=clean_details(details),
    )
    session.add(event)
    return event
