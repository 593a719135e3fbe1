"""One-time answer links: a random salt per invitation, the token HMAC(secret, salt), kept hashed.

The store holds the salt and the token's SHA-256 only: a copy of the database makes no working
link (the secret is IRO_SURVEY_LINK_SECRET, in the environment), and the page finds an
invitation by hashing the token it is given. The worker that composes the email (and the
reminder, weeks later) makes the same token again from the salt, so nothing secret is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from workers.errors import ConfigError

PATH = "/survey/"


def new_salt() -> str:
    return secrets.token_hex(16)


def token_for(secret: str, salt: str) -> str:
    mac = hmac.new(secret.encode(), salt.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def paper_code(secret: str, salt: str) -> str:
    """The return code printed on a posted questionnaire, short enough to key from paper
    (``ABCDE-FGHJK``, 50 bits): found again by making each invitation's code from its salt, so
    nothing more is stored. Another HMAC than the link's: the code opens no web page."""
    mac = hmac.new(secret.encode(), b"paper:" + salt.encode(), hashlib.sha256).digest()
    text = base64.b32encode(mac).decode()[:10]
    return f"{text[:5]}-{text[5:]}"


def same_code(given: str, code: str) -> bool:
    """``given`` as keyed (any case, spaces or dashes) is ``code``."""
    # base32 has no 0, 1 or 8: read off paper they were O, I and B
    clean = "".join(ch for ch in given.upper() if ch.isalnum()).translate(
        str.maketrans("018", "OIB"))
    return hmac.compare_digest(clean, code.replace("-", ""))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def link(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + PATH + token


def require_secret(secret: str | None) -> str:
    if not secret:
        raise ConfigError("IRO_SURVEY_LINK_SECRET is not set: the survey's one-time links are "
                          "made with it; set it in the service's environment (workers and web) "
                          "to at least 32 random characters, e.g. the output of "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if len(secret) < 32:
        raise ConfigError(f"IRO_SURVEY_LINK_SECRET is too short ({len(secret)} characters): "
                          "use at least 32 random characters")
    return secret
