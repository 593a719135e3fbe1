"""make_transport: IRO_TRANSPORT and the settings choose and configure the transport."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.smtp import SmtpServer

from workers.config.settings import load_settings
from workers.errors import ConfigError
from workers.mail.factory import make_transport
from workers.mail.message import OutgoingMessage

LETTER = OutgoingMessage("R-5/invitation/P-1", "sw@council.example.gov.uk", "Review R-5", "Hello")


def test_default_is_the_outbox_folder(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={"IRO_OUTBOX_DIR": str(tmp_path / "out")})
    t = make_transport(settings)
    assert (t.name, t.mailbox) == ("outbox", "iro.service@council.example.gov.uk")
    t.send(LETTER)
    assert t.find_sent(LETTER.dispatch_key) is not None
    assert len(list((tmp_path / "out").glob("*.eml"))) == 1


def test_smtp_from_settings_reaches_the_server(tmp_path: Path, smtp_server: SmtpServer) -> None:
    env = {
        "IRO_TRANSPORT": "smtp",
        "IRO_SMTP_HOST": smtp_server.host,
        "IRO_SMTP_PORT": str(smtp_server.port),
        "IRO_SMTP_USERNAME": "svc",
        "IRO_SMTP_PASSWORD": "pw",
        "IRO_MAILBOX_ADDRESS": "iro@council.example.gov.uk",
    }
    smtp_server.require_auth("svc", "pw")
    t = make_transport(load_settings(tmp_path, environ=env))
    t.send(LETTER)
    t.close()
    (msg,) = smtp_server.wait_for(1)
    assert msg["From"].addresses[0].addr_spec == "iro@council.example.gov.uk"


def test_ews_and_graph_are_configured_without_touching_the_network(tmp_path: Path) -> None:
    ews = make_transport(
        load_settings(
            tmp_path,
            environ={
                "IRO_TRANSPORT": "ews",
                "IRO_EWS_ENDPOINT": "https://mail.council.example/EWS/Exchange.asmx",
                "IRO_EWS_USERNAME": "COUNCIL\\svc-iro",
                "IRO_EWS_PASSWORD": "pw",
            },
        )
    )
    assert ews.name == "ews"
    graph = make_transport(
        load_settings(
            tmp_path,
            environ={
                "IRO_TRANSPORT": "graph",
                "IRO_GRAPH_TENANT_ID": "t",
                "IRO_GRAPH_CLIENT_ID": "c",
                "IRO_GRAPH_CLIENT_SECRET": "s",
            },
        )
    )
    assert graph.name == "graph"
    graph.close()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"IRO_TRANSPORT": "ews"}, "ews.endpoint"),
        (
            {"IRO_TRANSPORT": "ews", "IRO_EWS_ENDPOINT": "https://x/EWS/Exchange.asmx"},
            "IRO_EWS_PASSWORD",
        ),
        ({"IRO_TRANSPORT": "graph", "IRO_GRAPH_TENANT_ID": "t"}, "IRO_GRAPH_CLIENT_SECRET"),
    ],
)
def test_missing_settings_are_named(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        make_transport(load_settings(tmp_path, environ=env))
