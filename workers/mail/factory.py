"""Choose and configure the transport named by IRO_TRANSPORT.

Library-heavy transports (exchangelib, msal) are imported only when chosen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workers.core.clock import SYSTEM_CLOCK, Clock
from workers.errors import ConfigError
from workers.mail.message import Transport

if TYPE_CHECKING:
    from pydantic import SecretStr

    from workers.config.settings import Settings


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()


def make_transport(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> Transport:
    """The configured transport; ``clock`` dates the messages it writes itself (SMTP, outbox)."""
    box = settings.mailbox
    common = {"mailbox": box.address, "display_name": box.display_name, "reply_to": box.reply_to}
    if settings.transport == "outbox":
        from workers.mail.outbox import OutboxConfig, OutboxTransport

        return OutboxTransport(OutboxConfig(directory=settings.outbox_dir, **common),  # type: ignore[arg-type]
                               clock)
    if settings.transport == "smtp":
        from workers.mail.smtp import SmtpConfig, SmtpTransport

        s = settings.smtp
        return SmtpTransport(
            SmtpConfig(
                host=s.host,
                port=s.port,
                security=s.security,
                username=s.username,
                password=_secret(s.password),
                timeout_seconds=s.timeout_seconds,
                **common,  # type: ignore[arg-type]
            ),
            clock,
        )
    if settings.transport == "ews":
        from workers.mail.ews import EwsConfig, EwsTransport

        e = settings.ews
        if not e.endpoint:
            raise ConfigError(
                "service.yaml: ews.endpoint: required when transport is ews "
                "(e.g. https://mail.council.example/EWS/Exchange.asmx; set IRO_EWS_ENDPOINT)"
            )
        if e.auth == "oauth2" and not (e.tenant_id and e.client_id and e.client_secret):
            raise ConfigError(
                "service.yaml: ews: oauth2 needs tenant_id, client_id and IRO_EWS_CLIENT_SECRET"
            )
        if e.auth != "oauth2" and not (e.username and e.password):
            raise ConfigError(
                f"service.yaml: ews: {e.auth} needs ews.username and IRO_EWS_PASSWORD"
            )
        return EwsTransport(
            EwsConfig(
                endpoint=e.endpoint,
                auth=e.auth,
                username=e.username,
                password=_secret(e.password),
                tenant_id=e.tenant_id,
                client_id=e.client_id,
                client_secret=_secret(e.client_secret),
                version=e.version,
                verify_tls=e.verify_tls,
                timeout_seconds=e.timeout_seconds,
                **common,  # type: ignore[arg-type]
            )
        )
    if settings.transport == "graph":
        from workers.mail.graph import GraphConfig, GraphTransport

        g = settings.graph
        if not (g.tenant_id and g.client_id and g.client_secret):
            raise ConfigError(
                "service.yaml: graph: needs graph.tenant_id, graph.client_id "
                "and IRO_GRAPH_CLIENT_SECRET when transport is graph"
            )
        return GraphTransport(
            GraphConfig(
                tenant_id=g.tenant_id,
                client_id=g.client_id,
                client_secret=g.client_secret.get_secret_value(),
                authority_host=g.authority_host,
                base_url=g.base_url,
                timeout_seconds=g.timeout_seconds,
                **common,  # type: ignore[arg-type]
            )
        )
    raise ConfigError(f"IRO_TRANSPORT: unknown transport {settings.transport!r}")
