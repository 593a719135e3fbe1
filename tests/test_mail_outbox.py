"""The outbox transport: one .eml file per dispatch, written atomically."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from workers.mail.message import Attachment, OutgoingMessage
from workers.mail.mime import key_hash, message_id_for
from workers.mail.outbox import OutboxConfig, OutboxTransport

MAILBOX = "iro.service@council.example.gov.uk"


def test_send_writes_one_eml_per_dispatch_and_find_sent_sees_it(tmp_path: Path) -> None:
    t = OutboxTransport(OutboxConfig(directory=tmp_path / "outbox", mailbox=MAILBOX))
    key = "R-7/reminder/P-1"
    assert t.find_sent(key) is None

    msg = OutgoingMessage(
        key,
        "carer@council.example.gov.uk",
        "Review R-7: reminder",
        "Reminder.",
        attachments=(Attachment("form.pdf", b"%PDF-1.4 x", "application/pdf"),),
    )
    msg_id = t.send(msg)
    t.send(msg)  # a retry replaces, never adds

    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == [f"{key_hash(key)}.eml"]  # no temp files left behind
    assert ((tmp_path / "outbox").stat().st_mode & 0o777) == 0o700  # made for it
    assert ((tmp_path / "outbox" / files[0]).stat().st_mode & 0o777) == 0o600
    assert msg_id == message_id_for(key, MAILBOX) == t.find_sent(key)
    parsed = message_from_bytes(
        (tmp_path / "outbox" / files[0]).read_bytes(), policy=policy.default
    )
    assert parsed["Message-ID"] == msg_id
    (att,) = list(parsed.iter_attachments())  # type: ignore[attr-defined]
    assert att.get_content() == b"%PDF-1.4 x"
    assert t.find_sent("R-7/reminder/P-2") is None


def test_unwritable_outbox_is_transient_and_names_the_setting(tmp_path: Path) -> None:
    import pytest

    from workers.errors import TransientDeliveryError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    t = OutboxTransport(OutboxConfig(directory=blocker / "outbox", mailbox=MAILBOX))
    with pytest.raises(TransientDeliveryError, match="IRO_OUTBOX_DIR"):
        t.send(OutgoingMessage("R-1/x/P-1", "a@b.example", "s", "b"))
