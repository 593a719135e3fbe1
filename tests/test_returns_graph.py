"""Returns through the team mailbox over Microsoft Graph: msal and httpx against the local fake.

The scenarios of tests/test_returns.py (EWS): codes in the subject, the body, a quoted reply, in
lower case or spaced; an NDR marks its dispatch bounced and is never a return; a message without a
code is left in the inbox and listed; attachments kept; a second poll sees nothing.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path

import pytest
from fakes.graph_mailbox import GraphAttachment
from fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraphServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_returns import MAILBOX, queued  # noqa: F401 - the shared fixture

from workers.errors import AuthenticationError
from workers.mail.graph import GraphConfig
from workers.mailout.plan import REMINDER_KIND
from workers.returns.graph_inbox import GraphInbox
from workers.returns.poll import poll
from workers.store.models import AuditEvent, Dispatch, Return, ServiceState

Queued = tuple[sessionmaker[Session], list[str], int]
OUR_ID = "<iro." + "a" * 32 + "@council.example.gov.uk>"

NOW = dt.datetime(2027, 6, 15, 9, 0, tzinfo=dt.UTC)  # when the poll runs


def _reader(server: FakeGraphServer, secret: str = CLIENT_SECRET) -> GraphInbox:
    return GraphInbox(GraphConfig(
        tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret, mailbox=MAILBOX,
        authority_host=server.origin, base_url=server.base_url, timeout_seconds=10,
        ca_bundle=str(server.ca_path)))


def test_replies_matched_wherever_the_code_is(graph_server: FakeGraphServer, tmp_path: Path,
                                              queued: Queued) -> None:  # noqa: F811
    sessions, codes, no_form_id = queued
    c0, c1, c2, c3 = codes
    pdf = b"%PDF-1.4 scanned form"
    graph_server.deliver(subject=f"RE: LAC review 12/01/2027 - ref R-1 (Z.O.) - form {c0}",
                         body="Form attached.", message_id="<r0@example.net>",
                         attachments=[GraphAttachment("../my form.pdf", pdf, "application/pdf")])
    graph_server.deliver(subject="my views", body=f"Hello, my code is {c1.lower()} thanks",
                         message_id="<r1@example.net>")
    graph_server.deliver(subject="Re: your letter", message_id="<r2@example.net>",
                         body=f"Here it is.\n\n> From: IRO service\n> Please keep the reference "
                              f"c - {c2[2:6]} {c2[6:]} in the subject line.")
    graph_server.deliver(subject=f"Re:   form   C-{c3[2:6]}-{c3[6:]} ", body="",
                         message_id="<r3@example.net>", body_type="html")
    graph_server.deliver(subject="question about the meeting", body="What time is it?",
                         message_id="<q@example.net>", sender="carer@Example.org")
    # An NDR whose subject says nothing: found by its message class alone.
    graph_server.deliver(subject="Delivery notice", item_class="REPORT.IPM.Note.NDR",
                         sender="MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@council.example",
                         message_id="<ndr@example.net>",
                         body=f"<p>Delivery has failed.</p><pre>Message-ID: {escape(OUR_ID)}</pre>",
                         body_type="html")

    summary = poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW)

    assert (summary.returns, summary.bounces, summary.unmatched) == (4, 1, ["<q@example.net>"])
    # six messages, two a page: the reader followed @odata.nextLink to the delta link
    deltas = [p for m, p in graph_server.requests if p.endswith("/messages/delta")]
    assert len(deltas) == 3
    with sessions() as s:
        returns = s.scalars(select(Return).order_by(Return.id)).all()
        letters = [s.get(Dispatch, r.dispatch_id) for r in returns]
        assert sorted(d.reference_code or "" for d in letters if d) == sorted(codes)
        first = next(r for r in returns if r.source_message_id == "<r0@example.net>")
        kept = Path(first.file_path or "")
        assert kept.read_bytes() == pdf and kept.is_relative_to(tmp_path / "documents")
        assert ".." not in kept.name
        bounced = s.get(Dispatch, no_form_id)
        assert bounced is not None and bounced.state == "bounced"
        assert s.scalar(select(Return.id).where(Return.dispatch_id == no_form_id)) is None
        reminders = s.scalars(select(Dispatch).where(Dispatch.kind == REMINDER_KIND)).all()
        assert reminders and {d.state for d in reminders} == {"cancelled"}
        events = s.scalars(select(AuditEvent)).all()
        actions = [e.action for e in events]
        assert actions.count("return.recorded") == 4 and "dispatch.bounced" in actions
        (left,) = [e for e in events if e.action == "inbox.unmatched"]
        assert left.details["sender_domain"] == "example.org"
        assert "carer" not in str(left.details)
        state = s.get(ServiceState, "returns.graph.watermark")
        assert state is not None and "$deltatoken=" in state.value
    # matched ones moved to a Processed folder the reader created; the unmatched one stays
    assert [m.message_id for m in graph_server.inbox.in_folder("Inbox")] == ["<q@example.net>"]
    assert len(graph_server.inbox.in_folder("Processed")) == 5
    # the delta link holds: a second poll sees nothing again (the moves come back as @removed)
    again = poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW)
    assert again.total == 0
    # a new reply after that is seen, and goes to the same folder (found, not made again)
    graph_server.deliver(subject="late", body="nothing here", message_id="<late@example.net>")
    graph_server.deliver(subject=f"form {c0} again", message_id="<dup@example.net>")
    third = poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW)
    assert third.unmatched == ["<late@example.net>", "<dup@example.net>"]
    assert list(graph_server.inbox.folders.values()).count("Processed") == 1


def test_an_expired_delta_link_starts_a_new_round(graph_server: FakeGraphServer, tmp_path: Path,
                                                  queued: Queued) -> None:  # noqa: F811
    sessions, codes, _ = queued
    graph_server.deliver(subject=f"form {codes[0]}", message_id="<a@example.net>")
    assert poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW).returns == 1
    graph_server.fail_next(410, code="SyncStateNotFound", path_contains="/messages/delta")
    graph_server.deliver(subject=f"form {codes[1]}", message_id="<b@example.net>")
    summary = poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW)
    assert summary.returns == 1
    with sessions() as s:
        assert len(s.scalars(select(Return)).all()) == 2


def test_refused_credentials_name_the_setting(graph_server: FakeGraphServer, tmp_path: Path,
                                              queued: Queued) -> None:  # noqa: F811
    sessions, _, _ = queued
    with pytest.raises(AuthenticationError, match="IRO_GRAPH_CLIENT_SECRET"):
        poll(sessions, _reader(graph_server, secret="wrong"), tmp_path / "documents", now=NOW)


def test_wiring_builds_the_graph_reader_from_settings() -> None:
    from pydantic import SecretStr

    from workers.config.settings import GraphSettings, Settings
    from workers.mailout.wiring import inbox_reader

    graph = GraphSettings(tenant_id=TENANT, client_id=CLIENT_ID,
                          client_secret=SecretStr(CLIENT_SECRET))
    reader = inbox_reader(Settings(transport="graph", graph=graph))
    assert isinstance(reader, GraphInbox) and reader.config.mailbox == MAILBOX
    reader.close()
    assert inbox_reader(Settings(transport="graph")) is None  # no app registration yet


def test_a_read_receipt_is_not_a_bounce(graph_server: FakeGraphServer, tmp_path: Path,
                                         queued: Queued) -> None:  # noqa: F811
    sessions, codes, _ = queued
    graph_server.deliver(subject=f"Read: form {codes[0]}", item_class="REPORT.IPM.Note.IPNRN",
                         message_id="<read@example.net>")
    summary = poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW)
    assert (summary.bounces, summary.returns, summary.receipts) == (0, 0, 1)
    with sessions() as s:
        assert not s.scalars(select(Dispatch).where(Dispatch.state == "bounced")).all()
        assert not s.scalars(select(Return)).all()  # it quotes the code but returns no form


def test_the_sender_is_kept_and_a_stranger_flagged(graph_server: FakeGraphServer, tmp_path: Path,
                                                   queued: Queued) -> None:  # noqa: F811
    from test_returns import _carer

    sessions, codes, _ = queued
    graph_server.deliver(subject=f"form {codes[2]}", message_id="<own@example.net>",
                         sender=_carer(sessions, codes[2]))
    graph_server.deliver(subject=f"form {codes[3]}", message_id="<else@example.net>",
                         sender="Someone@Elsewhere.example")
    assert poll(sessions, _reader(graph_server), tmp_path / "documents", now=NOW).returns == 2
    with sessions() as s:
        rows = {r.source_message_id: r for r in s.scalars(select(Return))}
        assert not rows["<own@example.net>"].needs_confirmation
        assert rows["<else@example.net>"].sender == "someone@elsewhere.example"
        assert rows["<else@example.net>"].needs_confirmation


def test_a_429_to_the_poll_is_kept_as_the_mailboxs_back_off(
        graph_server: FakeGraphServer, tmp_path: Path,
        queued: tuple[sessionmaker[Session], list[str], int]) -> None:  # noqa: F811
    # Graph's 429 throttles the mailbox: the workers keep the wait, and so does the next poll
    from workers.mail.backoff import InProcessBackoff
    from workers.queue.scheduler import JobContext
    from workers.returns.poll import make_job

    sessions, codes, _ = queued
    backoff = InProcessBackoff()
    job = make_job(lambda: _reader(graph_server), lambda: tmp_path / "documents",
                   lambda: (backoff, MAILBOX))

    def tick(at: dt.datetime) -> int:
        return job.run(JobContext(sessions, lambda ids: None, at, 20.0, 30.0, False))

    graph_server.deliver(subject=f"form {codes[0]}", body="", message_id="<g@x.net>")
    graph_server.fail_next(429, retry_after=20, path_contains="/delta")
    assert tick(NOW) == 0
    assert 19.0 <= backoff.remaining(MAILBOX, NOW) <= 20.0
    asked = len(graph_server.arrivals)
    assert tick(NOW + dt.timedelta(seconds=19)) == 0 and len(graph_server.arrivals) == asked
    assert tick(NOW + dt.timedelta(seconds=21)) == 1
