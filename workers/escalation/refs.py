"""The escalation reference, ``ESC-<id>``: the one spelling used in subjects, dispatch keys,
deadline keys, the CLI and the Word notices (pure, so the document contexts can use it too)."""

from __future__ import annotations

PREFIX = "ESC-"


def escalation_ref(escalation_id: int) -> str:
    return f"{PREFIX}{escalation_id}"
