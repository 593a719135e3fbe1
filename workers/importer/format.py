"""The reviews CSV format: one row per participant per review (documented in docs/csv-format.md).

Child columns repeat on every row of that child and review columns on every row of that review;
they must agree. Lengths match the store's columns (workers/store/models.py).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    required: bool  # must be in the header (blank values are checked field by field)
    max_length: int | None = None
    personal: bool = False  # never echo the value in an error message


COLUMNS: tuple[Column, ...] = (
    Column("child_ref", True, 40),
    Column("child_given_name", True, 300, personal=True),
    Column("child_family_name", True, 300, personal=True),
    Column("child_dob", True, personal=True),
    Column("looked_after_since", True),
    Column("team", True, 120),
    Column("iro_email", True, 320),
    Column("placement", False, 2000, personal=True),
    Column("legal_status", False, 120),
    Column("review_ref", True, 40),
    Column("review_number", True),
    Column("previous_review_date", False),
    Column("review_date", True),
    Column("review_time", True),
    Column("venue", False, 2000, personal=True),
    Column("participant_ref", True, 40),
    Column("role", True, 20),
    Column("name", True, 300, personal=True),
    Column("organisation", False, 300, personal=True),
    Column("relationship", False, 120, personal=True),
    Column("email", False, 320, personal=True),
    Column("email_confirmed", False),
    Column("address", False, 2000, personal=True),
    Column("postcode", False, 12, personal=True),
    Column("channel", True, 10),
    # issue 16: the placement address withheld (by court order or for safety); see csv-format.md
    Column("placement_confidential", False),
    Column("placement_withheld", False),
)
BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}
CHILD_FIELDS = (
    "child_given_name",
    "child_family_name",
    "child_dob",
    "looked_after_since",
    "team",
    "iro_email",
    "placement",
    "legal_status",
)
REVIEW_FIELDS = (
    "child_ref",
    "review_number",
    "previous_review_date",
    "review_date",
    "review_time",
    "venue",
    "iro_email",
    "placement_confidential",
)
CHANNELS = ("email", "post")
# References are identifiers (workers/inputs/refs.py); only these columns may hold line breaks.
REF_COLUMNS = frozenset({"child_ref", "review_ref", "participant_ref"})
MULTILINE = frozenset({"address", "placement", "venue"})
ADDRESS_SEPARATOR = " | "
