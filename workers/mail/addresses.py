"""What counts as an email address here: one ``@``, a dotted domain, no spaces.

Deliberately loose (a non-ASCII local part is sent with SMTPUTF8); the CSV import is stricter
about what a case system may give us (workers.importer.values.parse_email).
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_email_address(text: str) -> bool:
    return bool(_EMAIL.match(text))
