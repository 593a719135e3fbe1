"""Each inbox reader hands the poll a reply's In-Reply-To and References (issue 15 §1), so the
IRO's reply to the draft record email is held whichever transport the council uses: EWS
(exchangelib against the local EWS endpoint) and Graph (httpx against the local Graph
endpoint) here; IMAP end to end in tests/test_record_reply.py. The sender's address is compared
and never kept: a reply from anyone else is left for a person, as before."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from fakes.ews_mailbox import FakeAttachment, new_id
from fakes.ews_server import FakeEwsServer
from fakes.graph_mailbox import GraphAttachment
from fakes.graph_server import FakeGraphServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_returns import _reader as ews_reader
from test_returns_graph import _reader as graph_reader

from workers.returns.inbox import message_ids
from workers.returns.poll import poll
from workers.store.models import Dispatch, RecordReply, UnmatchedMessage

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
DRAFT_ID = "<iro." + "b" * 32 + "@council.example.gov.uk>"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
IRO = "grace.whitfield@council.example.gov.uk"


@pytest.fixture
def drafted(tmp_path: Path) -> sessionmaker[Session]:
    """A review whose draft record email went to its IRO with ``DRAFT_ID``."""
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s)
        review.iro_email = IRO
        s.add(Dispatch(key=f"{review.ref}/review_record", kind="review_record", channel="email",
                       state="sent", review_id=review.id, recipient=IRO, message_id=DRAFT_ID,
                       due_at=NOW, sent_at=NOW))
        s.commit()
    return sessions


def _outcome(sessions: sessionmaker[Session]) -> tuple[list[str], list[str]]:
    with sessions() as s:
        return (list(s.scalars(select(RecordReply.message_id))),
                sorted(s.scalars(select(UnmatchedMessage.message_id))))


def test_message_ids_are_read_from_both_headers() -> None:
    assert message_ids("<A@x> (comment)", "<b@y>\r\n <A@x>") == ("<a@x>", "<b@y>")
    assert message_ids(None, "") == ()


def test_ews_hands_over_in_reply_to_and_references(ews_server: FakeEwsServer, tmp_path: Path,
                                                   drafted: sessionmaker[Session]) -> None:
    def record() -> list[FakeAttachment]:
        return [FakeAttachment(new_id(), "record.docx", DOCX, b"PK record")]

    ews_server.deliver(subject="RE: Draft review record", message_id="<mine@pc>",
                       author=IRO.upper(), in_reply_to=DRAFT_ID, attachments=record())
    ews_server.deliver(subject="RE: Draft review record", message_id="<refs@pc>", author=IRO,
                       references=f"<older@pc> {DRAFT_ID.upper()}", attachments=record())
    ews_server.deliver(subject="RE: Draft review record", message_id="<else@pc>",
                       author="someone@council.example.gov.uk", in_reply_to=DRAFT_ID,
                       attachments=record())
    summary = poll(drafted, ews_reader(ews_server), tmp_path / "documents", now=NOW)
    assert summary.record_replies == 2 and summary.unmatched == ["<else@pc>"]
    assert _outcome(drafted) == (["<mine@pc>", "<refs@pc>"], ["<else@pc>"])
    assert [i.message_id for i in ews_server.folder_items("Processed")] == ["<mine@pc>",
                                                                             "<refs@pc>"]


def test_graph_hands_over_in_reply_to_and_references(graph_server: FakeGraphServer,
                                                     tmp_path: Path,
                                                     drafted: sessionmaker[Session]) -> None:
    def record() -> list[GraphAttachment]:
        return [GraphAttachment("record.docx", b"PK record", DOCX)]

    graph_server.deliver(subject="RE: Draft review record", message_id="<mine@pc>", sender=IRO,
                         headers={"In-Reply-To": DRAFT_ID}, attachments=record())
    graph_server.deliver(subject="RE: Draft review record", message_id="<refs@pc>", sender=IRO,
                         headers={"References": f"<older@pc> {DRAFT_ID}"},
                         attachments=record())
    graph_server.deliver(subject="RE: Draft review record", message_id="<else@pc>",
                         sender="someone@council.example.gov.uk",
                         headers={"In-Reply-To": DRAFT_ID}, attachments=record())
    summary = poll(drafted, graph_reader(graph_server), tmp_path / "documents", now=NOW)
    assert summary.record_replies == 2 and summary.unmatched == ["<else@pc>"]
    assert _outcome(drafted) == (["<mine@pc>", "<refs@pc>"], ["<else@pc>"])
