"""Data protection across a representative flow (DESIGN.md §6: logs carry ids, never names).

Import reviews whose children and participants have hostile names, addresses and emails, mail
one review out and send it, hold another, raise, answer and resolve an escalation, all through
the `iro` command in this process with every logger at DEBUG; then no log record, no audit detail
and nothing the commands printed to stderr may hold a name, an address, an email address of a
participant, or the concern, response and outcome texts.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from pathlib import Path

import pytest
from mailout_support import CONFIG, ROOT
from sqlalchemy import select

from workers.cli.main import main
from workers.store.models import AuditEvent, Dispatch
from workers.store.session import open_store

EXAMPLE = ROOT / "examples" / "reviews.csv"
MAILED, HELD = "R-1004-1", "R-1008-3"  # the review mailed out; the one whose meeting is held
CONCERN = "Qzconcern: the placement with Qzn-carer is failing"
RESPONSE = "Qzresponse: a new placement panel on Friday"
OUTCOME = "Qzoutcome: moved to Qzn-kin carers"


def _hostile_csv(today: dt.date) -> tuple[bytes, list[str]]:
    """The example file with every name, address, postcode and email replaced by a marked,
    hostile value; returns the file and the markers that must never reach a log."""
    with EXAMPLE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    markers: list[str] = []
    for i, row in enumerate(rows):
        row["child_given_name"] = f"Zoë<b>&'Qzgiven{row['child_ref'][2:]}"
        row["child_family_name"] = f"O'Neil \"Qzfamily{row['child_ref'][2:]}\" & Sons"
        row["name"] = f"Mary <i>Qzname{i}</i> & O'Brien"
        if row["address"]:
            row["address"] = f"Flat 1 <Qzaddr{i}> | 2 Acacia & Avenue | Bromley"
        if row["email"]:
            row["email"] = f"qzmail{i}@{row['email'].rpartition('@')[2]}"
            markers.append(f"qzmail{i}")
        markers += [f"Qzname{i}", f"Qzaddr{i}"] if row["address"] else [f"Qzname{i}"]
        markers += [f"Qzgiven{row['child_ref'][2:]}", f"Qzfamily{row['child_ref'][2:]}"]
        if row["review_ref"] == MAILED:  # invitations due now: 15 working days ahead is near
            row["review_date"] = (today + dt.timedelta(days=14)).isoformat()
        if row["review_ref"] == HELD:  # met last week
            row["previous_review_date"] = (today - dt.timedelta(days=180)).isoformat()
            row["review_date"] = (today - dt.timedelta(days=7)).isoformat()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), sorted(set(markers))


def _iro(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    try:
        main(["--debug", "--config", str(CONFIG), *args])
    except SystemExit as exc:
        assert exc.code in (0, None), (args, capsys.readouterr().err)
    captured = capsys.readouterr()
    return captured.out, captured.err


def test_no_name_address_email_or_concern_in_any_log_or_audit_detail(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo("Europe/London")).date()
    data, markers = _hostile_csv(today)
    markers += ["Qzconcern", "Qzresponse", "Qzoutcome", "Qzn-"]
    csv_file = tmp_path / "reviews.csv"
    csv_file.write_bytes(data)
    url = f"sqlite:///{tmp_path / 'iro.sqlite3'}"
    for name, value in {
        "IRO_DATABASE_URL": url,
        "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx"),
        "IRO_OUTBOX_DIR": str(tmp_path / "outbox"),
        "IRO_DOCUMENTS_DIR": str(tmp_path / "documents"),
        "IRO_PRINT_DIR": str(tmp_path / "print"),
        "IRO_LIBREOFFICE_SOFFICE": "no-soffice-here",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    caplog.set_level(logging.DEBUG)

    errors: list[str] = []
    _iro(capsys, "db", "upgrade")
    errors.append(_iro(capsys, "import", "reviews", str(csv_file))[1])
    errors.append(_iro(capsys, "mailout", MAILED)[1])
    errors.append(_iro(capsys, "review", "held", HELD, "--date", (today - dt.timedelta(days=7))
                       .isoformat(), "--participation", "PN1")[1])
    errors.append(_iro(capsys, "escalate", "raise", "C-1004", "--concern", CONCERN,
                       "--category", "delay_in_review_decisions")[1])
    errors.append(_iro(capsys, "escalate", "respond", "1", "--text", RESPONSE,
                       "--by", "martin.greene@council.example.gov.uk")[1])
    errors.append(_iro(capsys, "escalate", "resolve", "1", "--outcome", OUTCOME,
                       "--by", "tomasz.nowak@council.example.gov.uk")[1])  # C-1004's IRO
    errors.append(_iro(capsys, "run", "--once")[1])

    sessions = open_store(url)
    with sessions() as session:
        details = [repr(e.details) for e in session.scalars(select(AuditEvent))]
        states = {d.kind: d.state for d in session.scalars(select(Dispatch))}
    # the flow really ran: letters and notices went out through the outbox, audited
    assert list((tmp_path / "outbox").glob("*.eml")), states
    assert len(details) > 20
    assert any("escalation" in k for k in states) or any("esc" in k.lower() for k in states)

    records = [
        " ".join(
            part
            for part in (
                record.getMessage(),
                record.exc_text or "",
                repr(record.args),
            )
        )
        for record in caplog.records
    ]
    assert records, "nothing was logged: the flow did not run"
    for where, texts in (("log", records), ("audit", details), ("stderr", errors)):
        for text in texts:
            leaked = [m for m in markers if m.lower() in text.lower()]
            assert not leaked, f"{where}: {leaked} in {text[:300]!r}"


def test_an_inbox_message_prints_no_personal_data() -> None:
    # a traceback that shows local variables prints a message's repr: ids and dates only
    import datetime as dt

    from workers.returns.inbox import InboxAttachment, InboxMessage

    message = InboxMessage(
        id="AAMk1", message_id="<m1@pc.example>", subject="Zoë O'Neil's form",
        body="On Monday, Jo Bloggs <jo.bloggs@example.org> wrote: 12 Acacia Avenue",
        received_at=dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC),
        attachments=(InboxAttachment("Zoe ONeil form.pdf", b"%PDF-1.4 Zoe"),),
        sender_domain="example.org", sender="jo.bloggs@example.org", replies_to=("<d@x>",))
    shown = repr(message) + repr(message.attachments)
    assert "AAMk1" in shown and "example.org" in shown  # the domain only
    for private in ("Zoë", "Zoe", "O'Neil", "ONeil", "Bloggs", "jo.bloggs", "Acacia", "<d@x>"):
        assert private not in shown, private
