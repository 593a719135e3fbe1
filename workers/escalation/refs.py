"""The escalation reference, ``ESC-<id>``: the one spelling used in subjects, dispatch keys,
deadline keys, the CLI and the Word notices (pure, so the document contexts can use it too)."""

from __future__ import annotations

PREFIX = "ESC-"


def escalation_ref(escalation_id: int) -> str:
    return f"{PREFIX}{escalation_id}"


def response_key(escalation_id: int, stage: str) -> str:
    """The deadline key of a stage's response, ``ESC-<id>/response/<stage>``."""
    return f"{escalation_ref(escalation_id)}/response/{stage}"
