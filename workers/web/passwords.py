"""Password hashes for local accounts: scrypt from the standard library, salted, self-describing.

Stored as ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be raised later and old hashes still
check. Parameters follow the scrypt paper's interactive-login advice (n=2**14, r=8, p=1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
SALT_BYTES, KEY_BYTES = 16, 32
MIN_LENGTH = 10


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
    return None
