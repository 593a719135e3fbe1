"""People in the draft record: roles in words, who was heard and how, who gets a copy
(issue 15 §1). Pure.

The Handbook asks for the child's, parents', carers' and professionals' views separately; the
store knows who was invited, who attended and whose consultation form came back, so each
section opens with that and leaves the views themselves to the IRO. An advocate is whoever the
case record calls one (role, relationship or organisation), never guessed from anything else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from workers.documents.filters import uk_date

if TYPE_CHECKING:
    from workers.store.models import Participant

# Roles and relationships in words, never the stored keys (issue 15 §1).
ROLE_WORDS = {"child": "child", "parent": "parent", "carer": "carer",
              "social_worker": "social worker", "guardian": "children's guardian",
              "other": "other"}


def role_words(role: str) -> str:
    return ROLE_WORDS.get(role, role.replace("_", " "))


def relationship_words(text: str, role: str) -> str:
    """The relationship as a reader says it: the child's own row says nothing ("self")."""
    words = text.replace("_", " ").strip()
    if role == "child" and words.lower() in ("self", "child", "subject"):
        return ""
    return words


# whose views go in which section of the record
GROUPS = {"child": "child", "parent": "parents", "carer": "carers"}  # everyone else: professionals
# who the completed record goes to (Handbook ch. 3): reviews.distribution sends by these
COPY_ROLES = ("child", "parent", "carer", "social_worker")
MIN_CHILD_AGE = 4  # as the consultation booklets: no copy to a child under 4


def group(role: str) -> str:
    return GROUPS.get(role, "professionals")


def is_advocate(p: Participant) -> bool:
    words = f"{p.role} {p.relationship_to_child} {p.organisation}".lower()
    return "advoca" in words  # advocate, advocacy service


def _names(people: Sequence[tuple[str, str]]) -> str:
    """"Jo O'Neil (mother), Sam O'Neil (father)"; empty for none."""
    return ", ".join(f"{n} ({w})" if w else n for n, w in people)


def _returned(name: str, words: str, on: dt.date | None) -> str:
    when = f" {uk_date(on)}" if on else ""
    return f"{name} ({words + ', ' if words else ''}form returned{when})"


def views(participants: Sequence[Participant], returned: Mapping[int, dt.date | None],
          words: Mapping[int, str]) -> dict[str, dict[str, Any]]:
    """Per section: who was invited, attended, sent views in writing (and when), and whose
    did not come back. ``words`` is each participant's role or relationship in words."""
    out: dict[str, dict[str, Any]] = {
        g: {"invited": "", "attended": "", "absent": "", "in_writing": "", "not_in_writing": ""}
        for g in ("child", "parents", "carers", "professionals")
    }
    for g, section in out.items():
        people = [p for p in participants if group(p.role) == g and not is_advocate(p)]
        pair = [(p.name, words.get(p.id, "")) for p in people]
        section["invited"] = _names(pair)
        section["attended"] = _names([x for p, x in zip(people, pair, strict=True)
                                      if p.attended])
        section["absent"] = _names([x for p, x in zip(people, pair, strict=True)
                                    if p.attended is False])
        section["in_writing"] = ", ".join(
            _returned(*x, returned[p.id]) for p, x in zip(people, pair, strict=True)
            if p.id in returned)
        section["not_in_writing"] = _names([x for p, x in zip(people, pair, strict=True)
                                            if p.id not in returned])
    return out


def copy_line(p: Participant, child_age: int) -> str:
    """How the completed record reaches them (reviews.distribution), in words."""
    if p.role not in COPY_ROLES or (p.role == "child" and child_age < MIN_CHILD_AGE):
        return "No copy from the service"
    by = "by post" if p.channel == "post" else "by email"
    return f"Their own letter of the decisions, {by}" if p.role == "child" else f"The record, {by}"


def people_context(participants: Sequence[Participant], returned: Mapping[int, dt.date | None],
                   child_age: int) -> dict[str, Any]:
    """The record's ``participants``, ``views`` and ``advocates`` (see the catalogue)."""
    rows = [
        {"name": p.name, "role": role_words(p.role),
         "relationship": relationship_words(p.relationship_to_child, p.role)
         or p.organisation or "",
         "attended": p.attended, "views_in_writing": p.id in returned,
         "receives": copy_line(p, child_age)}
        for p in participants
    ]
    words = {p.id: relationship_words(p.relationship_to_child, p.role) or p.organisation
             or role_words(p.role) for p in participants}
    return {
        "participants": rows,
        "views": views(participants, returned, words),
        "advocates": ", ".join(f"{p.name}{f' ({p.organisation})' if p.organisation else ''}"
                               for p in participants if is_advocate(p)),
    }
