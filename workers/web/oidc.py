"""OpenID Connect sign-in (Entra ID): authorization code flow with PKCE, over httpx.

Discovery gives the endpoints; the id_token is checked with PyJWT against the provider's JWKS
(RS256, issuer, audience, expiry, nonce). Roles come from a claim (``oidc.roles_claim``: app roles
or group ids) mapped to this service's roles by ``oidc.role_map`` in service.yaml. The client
secret comes only from IRO_OIDC_CLIENT_SECRET. Tokens are never logged or kept: only the email
and the roles go into the session.

A person is identified by the token's immutable id — Entra ID's ``oid``, else ``sub`` — with its
issuer, bound to their account at first sign-in (``workers.web.accounts.bind_oidc``); the email
claim only names the account the first time, since a tenant may let users change it (Microsoft:
"never use email or upn for authorization decisions"). A token with several audiences must name
this client in ``azp`` (OpenID Connect Core 1.0, 3.1.3.7 items 4–5).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx

from workers.errors import ConfigError, RefusedError, ServiceUnavailableError

if TYPE_CHECKING:
    from workers.config.settings import OidcSettings, Settings

log = logging.getLogger(__name__)
DISCOVERY_TTL_S = 3600
ALGORITHMS = ["RS256"]


@dataclass(frozen=True)
class Flow:
    """What the sign-in keeps in the session between the redirect and the callback."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Flow:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in: ``subject`` ("<issuer> <oid or sub>") is what counts."""

    subject: str
    email: str  # as the token gives it now: used only to bind an account the first time
    roles: frozenset[str]


def roles_from(claims: dict[str, Any], claim: str, role_map: dict[str, str]) -> frozenset[str]:
    value = claims.get(claim, [])
    values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return frozenset(role_map[v] for v in values if isinstance(v, str) and v in role_map)


@dataclass
class OidcClient:
    settings: OidcSettings
    transport: httpx.BaseTransport | None = None  # tests may pass one; default: the network
    _discovery: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0

    def _http(self) -> httpx.Client:
        return httpx.Client(timeout=self.settings.timeout_seconds, transport=self.transport)

    def discovery(self) -> dict[str, Any]:
        if self._discovery and time.monotonic() - self._fetched_at < DISCOVERY_TTL_S:
            return self._discovery
        url = self.settings.discovery_url or ""
        try:
            with self._http() as http:
                response = http.get(url)
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailableError(
                f"cannot read the sign-in provider's discovery document at {url}: "
                f"{type(exc).__name__}; check oidc.discovery_url") from None
        for key in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise ServiceUnavailableError(f"the discovery document at {url} has no {key}")
        self._discovery, self._fetched_at = data, time.monotonic()
        return data

    def authorize_url(self, flow: Flow, redirect_uri: str) -> str:
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id or "",
            "redirect_uri": redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": flow.challenge,
            "code_challenge_method": "S256",
        }
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(params)}"

    def finish(self, flow: Flow, *, code: str, state: str, redirect_uri: str) -> Identity:
        """Exchange the code, check the id_token, and say who this is (RefusedError if not)."""
        if not secrets.compare_digest(state, flow.state):
            raise RefusedError("the sign-in response did not match this browser's sign-in; "
                               "start again")
        claims = self._verify(self._exchange(flow, code, redirect_uri), flow.nonce)
        email = next((str(claims[c]) for c in self.settings.email_claims if claims.get(c)), "")
        if "@" not in email:
            raise RefusedError("the sign-in provider gave no email address for this account")
        roles = roles_from(claims, self.settings.roles_claim, dict(self.settings.role_map))
        if not roles:
            log.warning("oidc sign-in refused: no mapped role in claim %s",
                        self.settings.roles_claim)
            raise RefusedError("your account has no role in this service; ask the IRO "
                               "service manager to give you one")
        person = claims.get("oid") or claims.get("sub")
        if not isinstance(person, str) or not person:
            raise RefusedError("the sign-in token has no oid or sub identifying the person")
        return Identity(f"{claims['iss']} {person}", email.strip().lower(), roles)

    def _exchange(self, flow: Flow, code: str, redirect_uri: str) -> str:
        secret = self.settings.client_secret
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.settings.client_id or "", "code_verifier": flow.verifier}
        if secret is not None:
            form["client_secret"] = secret.get_secret_value()
        try:
            with self._http() as http:
                response = http.post(self.discovery()["token_endpoint"], data=form)
        except httpx.HTTPError as exc:
            raise ServiceUnavailableError(
                f"cannot reach the sign-in provider's token endpoint: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            error = ""
            with contextlib.suppress(ValueError):
                error = str(response.json().get("error", ""))[:80]
            raise RefusedError(f"the sign-in provider refused the sign-in ({response.status_code}"
                               f"{' ' + error if error else ''}); start again")
        token = response.json().get("id_token")
        if not isinstance(token, str):
            raise RefusedError("the sign-in provider returned no id_token")
        return token

    def _verify(self, token: str, nonce: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key = self._key(str(header.get("kid", "")))
            claims: dict[str, Any] = jwt.decode(
                token, key=key, algorithms=ALGORITHMS, audience=self.settings.client_id,
                issuer=self.discovery()["issuer"],
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
                leeway=60)
        except jwt.PyJWTError as exc:
            raise RefusedError(f"the sign-in token could not be verified ({type(exc).__name__}); "
                               "start again") from None
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise RefusedError("the sign-in token was not issued for this sign-in; start again")
        audiences = claims.get("aud")
        several = isinstance(audiences, list) and len(audiences) > 1
        azp = claims.get("azp")
        if (several or azp is not None) and azp != self.settings.client_id:
            raise RefusedError("the sign-in token was issued to another application (azp); "
                               "start again")
        return claims

    def _key(self, kid: str) -> Any:
        import jwt

        try:
            with self._http() as http:
                response = http.get(self.discovery()["jwks_uri"])
                response.raise_for_status()
                keys = response.json().get("keys", [])
        except (httpx.HTTPError, ValueError) as exc:
            raise ServiceUnavailableError(
                f"cannot read the sign-in provider's keys: {type(exc).__name__}") from None
        for data in keys:
            if data.get("kid") == kid:
                return jwt.PyJWK(data).key
        raise RefusedError("the sign-in token was signed with a key the provider does not list")


def client_from_settings(settings: Settings) -> OidcClient | None:
    """The client when oidc.discovery_url is set (None: local accounts only)."""
    oidc = settings.oidc
    if not oidc.discovery_url:
        return None
    if not oidc.client_id:
        raise ConfigError("service.yaml: oidc.client_id: required when oidc.discovery_url is set")
    if not oidc.role_map:
        raise ConfigError("service.yaml: oidc.role_map: map at least one claim value to "
                          "business_support, iro or manager")
    return OidcClient(oidc)
