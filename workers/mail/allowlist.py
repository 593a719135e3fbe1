"""Which email addresses may receive a child's documents (DESIGN.md §6).

Email goes only to allow-listed domains unless the participant's personal address is recorded
as confirmed. An empty allow-list allows no domain: it must never mean "anyone".
"""

from __future__ import annotations

from collections.abc import Iterable


def domain_allowed(address: str, allowed: Iterable[str]) -> bool:
    domain = address.rpartition("@")[2].strip().lower()
    return domain in {d.strip().lower() for d in allowed}


def may_email(address: str, *, confirmed: bool, allowed: Iterable[str]) -> bool:
    return confirmed or domain_allowed(address, allowed)
