"""Password hashes for local accounts: scrypt from the standard library, salted, self-describing.

Stored as ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be raised later and old hashes still
check. Parameters follow the scrypt paper's interactive-login advice (n=2**14, r=8, p=1).

What a password must be follows the NCSC's password guidance (2018, "Password policy: updating
your approach"): long rather than complex (at least 12 characters here), and not one of the most
common passwords (``common-passwords.txt``, shipped beside this module), with no composition rules.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from functools import cache
from pathlib import Path

COMMON_LIST = Path(__file__).resolve().parent / "common-passwords.txt"
N, R, P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES)
    return f"scrypt${N}${R}${P}${salt.hex()}${key.hex()}"


def check_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; False for any malformed hash."""
    try:
        scheme, n, r, p, salt_hex, key_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        key = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt_hex), n=int(n),
                             r=int(r), p=int(p), dklen=len(key_hex) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(key.hex(), key_hex)


def password_problem(password: str) -> str | None:
    """Why ``password`` is too weak for an account (None: it will do)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a password may not start or end with spaces"
    if is_common(password):
        return ("that password is on the list of common passwords that are guessed first: "
                "choose another, e.g. three or more random words")
    return None


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip().lower() for ln in lines if ln.strip() and not ln.startswith("#"))


_TAIL = re.compile(r"[\W\d_]+$")


def is_common(password: str) -> bool:
    """On the list as it is, without its spaces, or once the digits and symbols people add at
    the end are taken off ("Password1234!" is "password"); or one character repeated."""
    common = common_passwords()
    lowered = password.strip().lower()
    forms = {lowered, lowered.replace(" ", ""), _TAIL.sub("", lowered),
             _TAIL.sub("", lowered.replace(" ", ""))}
    return bool(forms & common) or len(set(lowered)) <= 2
