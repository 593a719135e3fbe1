"""OpenID Connect sign-in against a local provider on a real port: code flow with PKCE, an RS256
id_token checked against the JWKS, roles from a claim mapped in service.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from factories import sqlite_store
from fakes.oidc_provider import CLIENT_ID, CLIENT_SECRET, OidcProvider
from fakes.oidc_provider import oidc_provider as oidc_provider  # noqa: F401 - the fixture
from fastapi.testclient import TestClient
from mailout_support import CAL, CONFIG, DIRECTORY, RULES
from sqlalchemy import select

from workers.config.settings import load_settings
from workers.errors import ConfigError
from workers.store.models import AuditEvent
from workers.web.app import create_app

ROLE_MAP = """
oidc:
  roles_claim: roles
  role_map:
    IRO.BusinessSupport: business_support
    IRO.Reviewer: iro
    IRO.Manager: manager
"""


def _app(tmp_path: Path, config_copy: Path, provider: OidcProvider, **env: str) -> Any:
    with (config_copy / "service.yaml").open("a", encoding="utf-8") as fh:
        fh.write(ROLE_MAP)
    settings = load_settings(config_copy, environ={
        "IRO_OIDC_DISCOVERY_URL": provider.discovery_url, "IRO_OIDC_CLIENT_ID": CLIENT_ID,
        "IRO_OIDC_CLIENT_SECRET": CLIENT_SECRET, **env})
    return create_app(settings, rules=RULES, directory=DIRECTORY, calendar=CAL,
                      sessions=sqlite_store(tmp_path), pdf=False)


def _sign_in(client: TestClient) -> Any:
    """Follow the redirects a browser would: app → provider → app."""
    start = client.get("/auth/oidc/start")
    assert start.status_code == 303
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 302
    back = at_provider.headers["location"]
    assert back.startswith("http://testserver/auth/oidc/callback?")
    return client.get(back.removeprefix("http://testserver"))


def test_sign_in_with_pkce_maps_roles_and_is_audited(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    oidc_provider.claims = {"preferred_username": "B.Support@Council.Example.gov.uk",
                            "roles": ["IRO.BusinessSupport", "Unrelated.Role"]}
    app = _app(tmp_path, config_copy, oidc_provider)
    client = TestClient(app, follow_redirects=False)
    assert "Sign in with your council account" in client.get("/sign-in").text
    done = _sign_in(client)
    assert done.status_code == 303 and done.headers["location"] == "/support"
    assert client.get("/support").status_code == 200
    assert client.get("/iro").status_code == 403
    sent = oidc_provider.token_requests[0]
    assert sent["code_verifier"] and sent["client_secret"] == CLIENT_SECRET
    with app.state.web.sessions() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "web.signed_in")).one()
    assert event.actor == "b.support@council.example.gov.uk"
    assert event.details == {"method": "oidc", "roles": ["business_support"]}


def test_several_mapped_roles_give_several_sections(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    oidc_provider.claims = {"email": "martin.greene@council.example.gov.uk",
                            "roles": ["IRO.Manager", "IRO.Reviewer"]}
    client = TestClient(_app(tmp_path, config_copy, oidc_provider), follow_redirects=False)
    assert _sign_in(client).headers["location"] == "/iro"
    assert client.get("/manager").status_code == 200
    assert client.get("/support").status_code == 403


@pytest.mark.parametrize(("claims", "knob", "env", "message"), [
    ({"email": "x@council.example.gov.uk", "roles": ["Other"]}, None, {}, "no role"),
    ({"email": "x@council.example.gov.uk", "roles": ["IRO.Manager"]}, "wrong_nonce", {},
     "not issued for this sign-in"),
    ({"email": "x@council.example.gov.uk", "roles": ["IRO.Manager"]}, "foreign_key", {},
     "could not be verified"),
    ({"email": "x@council.example.gov.uk", "roles": ["IRO.Manager"]}, None,
     {"IRO_OIDC_CLIENT_SECRET": "wrong"}, "refused the sign-in (401 invalid_client)"),
    ({"roles": ["IRO.Manager"]}, None, {}, "no email address"),
])
def test_refused_sign_ins_sign_no_one_in(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider,
        claims: dict[str, Any], knob: str | None, env: dict[str, str], message: str) -> None:
    oidc_provider.claims = claims
    if knob:
        setattr(oidc_provider, knob, True)
    app = _app(tmp_path, config_copy, oidc_provider, **env)
    client = TestClient(app, follow_redirects=False)
    refused = _sign_in(client)
    assert refused.status_code == 401 and message in refused.text
    assert client.get("/manager").status_code == 303  # still signed out
    with app.state.web.sessions() as session:
        assert session.scalars(select(AuditEvent.action)).all() == ["web.sign_in_refused"]


def test_a_callback_from_another_sign_in_is_refused(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    oidc_provider.claims = {"email": "x@council.example.gov.uk", "roles": ["IRO.Manager"]}
    app = _app(tmp_path, config_copy, oidc_provider)
    victim, attacker = (TestClient(app, follow_redirects=False) for _ in range(2))
    victim.get("/auth/oidc/start")
    start = attacker.get("/auth/oidc/start")
    back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    # the attacker's code and state, replayed in the victim's browser (login CSRF)
    refused = victim.get(back.removeprefix("http://testserver"))
    assert refused.status_code == 401 and "did not match" in refused.text
    assert victim.get("/manager").status_code == 303


def test_the_client_secret_is_refused_in_service_yaml(config_copy: Path) -> None:
    with (config_copy / "service.yaml").open("a", encoding="utf-8") as fh:
        fh.write("\noidc:\n  client_secret: oops\n")
    with pytest.raises(ConfigError, match="IRO_OIDC_CLIENT_SECRET"):
        load_settings(config_copy, environ={})


def test_oidc_needs_a_role_map(tmp_path: Path, oidc_provider: OidcProvider) -> None:
    settings = load_settings(CONFIG, environ={
        "IRO_OIDC_DISCOVERY_URL": oidc_provider.discovery_url, "IRO_OIDC_CLIENT_ID": CLIENT_ID})
    with pytest.raises(ConfigError, match="oidc.role_map"):
        create_app(settings, rules=RULES, directory=DIRECTORY, calendar=CAL,
                   sessions=sqlite_store(tmp_path))


ENTRA_OID = "6d1f3c8e-0000-4000-8000-000000000001"


def _users(app: Any) -> list[tuple[str, str | None, bool]]:
    from workers.store.models import WebUser

    with app.state.web.sessions() as session:
        return [(u.email, u.oidc_subject, u.active) for u in session.scalars(select(WebUser))]


def test_a_person_is_their_oid_not_their_email_claim(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    oidc_provider.claims = {"email": "martin.greene@council.example.gov.uk", "oid": ENTRA_OID,
                            "sub": "pairwise-1", "roles": ["IRO.Manager"]}
    app = _app(tmp_path, config_copy, oidc_provider)
    client = TestClient(app, follow_redirects=False)
    assert _sign_in(client).headers["location"] == "/manager"
    subject = f"{oidc_provider.base_url} {ENTRA_OID}"
    assert _users(app) == [("martin.greene@council.example.gov.uk", subject, True)]
    # the tenant lets him change his email to a colleague's: he is still Martin
    oidc_provider.claims["email"] = "olivia.bennett@council.example.gov.uk"
    again = TestClient(app, follow_redirects=False)
    assert _sign_in(again).status_code == 303
    with app.state.web.sessions() as session:
        actors = session.scalars(select(AuditEvent.actor).where(
            AuditEvent.action == "web.signed_in")).all()
    assert actors == ["martin.greene@council.example.gov.uk"] * 2
    assert len(_users(app)) == 1


def test_another_identity_cannot_take_a_bound_account(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    oidc_provider.claims = {"email": "martin.greene@council.example.gov.uk", "oid": ENTRA_OID,
                            "roles": ["IRO.Manager"]}
    app = _app(tmp_path, config_copy, oidc_provider)
    assert _sign_in(TestClient(app, follow_redirects=False)).status_code == 303
    oidc_provider.claims = {"email": "martin.greene@council.example.gov.uk",
                            "oid": "someone-else", "roles": ["IRO.Manager"]}
    intruder = TestClient(app, follow_redirects=False)
    refused = _sign_in(intruder)
    assert refused.status_code == 401 and "bound to another sign-in identity" in refused.text
    assert intruder.get("/manager").status_code == 303


def test_a_disabled_oidc_account_is_refused_and_its_sessions_end(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider) -> None:
    from workers.web.accounts import disable_user

    oidc_provider.claims = {"email": "martin.greene@council.example.gov.uk", "oid": ENTRA_OID,
                            "roles": ["IRO.Manager"]}
    app = _app(tmp_path, config_copy, oidc_provider)
    client = TestClient(app, follow_redirects=False)
    _sign_in(client)
    assert client.get("/manager").status_code == 200
    with app.state.web.sessions() as session:
        disable_user(session, "martin.greene@council.example.gov.uk")
        session.commit()
    assert client.get("/manager").status_code == 303
    refused = _sign_in(TestClient(app, follow_redirects=False))
    assert refused.status_code == 401 and "disabled" in refused.text


@pytest.mark.parametrize(("extra", "signs_in"), [
    ({"aud": [CLIENT_ID, "another-app"]}, False),
    ({"aud": [CLIENT_ID, "another-app"], "azp": "another-app"}, False),
    ({"aud": [CLIENT_ID, "another-app"], "azp": CLIENT_ID}, True),
    ({"azp": "another-app"}, False),
    ({"aud": [CLIENT_ID]}, True),
])
def test_several_audiences_need_azp_naming_this_client(
        tmp_path: Path, config_copy: Path, oidc_provider: OidcProvider,
        extra: dict[str, Any], signs_in: bool) -> None:
    oidc_provider.claims = {"email": "x@council.example.gov.uk", "roles": ["IRO.Manager"],
                            **extra}
    client = TestClient(_app(tmp_path, config_copy, oidc_provider), follow_redirects=False)
    done = _sign_in(client)
    if signs_in:
        assert done.status_code == 303
    else:
        assert done.status_code == 401 and "another application" in done.text
