"""A full round on the embedded default, through the real `iro` command: import the example
reviews, mail out every one, `iro run --once` sends the email (outbox), the parsed messages carry
the pack and a subject with date, reference, initials and form code only; replies come back."""

from __future__ import annotations

import datetime as dt
import email
import os
import re
import subprocess
import sys
from email import policy
from pathlib import Path

from mailout_support import CONFIG, ROOT

from workers.core.clock import SYSTEM_CLOCK

REVIEWS = ["R-1001-5", "R-1002-4", "R-1003-11", "R-1004-1", "R-1005-3", "R-1006-2"]
# the template's Subject: line (templates_docx/email_invitation.txt): "review", not "LAC review"
SUBJECT = re.compile(r"^(Reminder: )?Review on \d{1,2} [A-Z][a-z]+ \d{4} - ref R-[0-9-]+ "
                     r"\([A-ZŁ]\.[A-Z]\.\)( - form C-[0-9A-Z]{8})?$")


def iro(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
             if not k.startswith("IRO_") or k.startswith("IRO_TEST_")}
    env.update(IRO_CONFIG_DIR=str(CONFIG), IRO_TEMPLATES_DIR=str(ROOT / "templates_docx"),
               IRO_DATABASE_URL=f"sqlite:///{tmp / 'iro.sqlite3'}",
               IRO_OUTBOX_DIR=str(tmp / "outbox"), IRO_DOCUMENTS_DIR=str(tmp / "documents"),
               IRO_PRINT_DIR=str(tmp / "print"), IRO_LIBREOFFICE_SOFFICE="no-soffice-here")
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp)


def test_full_round_on_the_embedded_default(tmp_path: Path) -> None:
    assert iro(tmp_path, "db", "upgrade").returncode == 0
    # as `make run` does: the examples' dates moved on to lie ahead of today
    example = tmp_path / "reviews.csv"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "example_dates.py"),
                    str(ROOT / "examples" / "reviews.csv"), str(example),
                    "--today", SYSTEM_CLOCK.today().isoformat()], check=True)
    assert iro(tmp_path, "import", "reviews", str(example)).returncode == 0
    dry = iro(tmp_path, "mailout", "R-1001-5", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing sent" in dry.stdout and not (tmp_path / "outbox").exists()
    assert "dates used: letters dated" in dry.stdout and "forms back by" in dry.stdout
    assert "O'Neil" not in dry.stdout and "Zoë" not in dry.stdout  # refs and initials only
    for ref in REVIEWS:
        done = iro(tmp_path, "mailout", ref)
        assert done.returncode == 0, done.stderr
        assert "dispatches queued" in done.stdout
    again = iro(tmp_path, "mailout", "R-1004-1")
    assert again.returncode == 0 and "already queued" in again.stdout
    run = iro(tmp_path, "run", "--once")
    assert run.returncode == 0, run.stderr
    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default)
                for p in sorted((tmp_path / "outbox").glob("*.eml"))]
    assert messages
    coded = 0
    for msg in messages:
        subject = str(msg["Subject"])
        assert SUBJECT.match(subject), subject
        assert msg["Reply-To"] == "iro.service@council.example.gov.uk"
        names = [a.get_filename() for a in msg.iter_attachments()]
        assert names and all(n.endswith(".docx") for n in names)  # no LibreOffice: Word files
        code = re.search(r"C-[0-9A-Z]{8}", subject)
        if code:
            coded += 1
            assert len(names) == 3  # invitation, form, return instructions
            assert code.group(0) in msg.get_body(("plain",)).get_content()
        domain = str(msg["To"]).rpartition("@")[2]
        assert domain in {"council.example.gov.uk", "nhs.net", "cafcass.gov.uk",
                          "school.example.sch.uk"}
    assert coded >= 6
    # a posted form comes back: recorded, shown, counted
    one = re.search(r"C-[0-9A-Z]{8}", str(messages[0]["Subject"])) or re.search(
        r"C-[0-9A-Z]{8}", "".join(str(m["Subject"]) for m in messages))
    assert one
    recorded = iro(tmp_path, "returns", "record", one.group(0).lower(), "--confirm")
    assert recorded.returncode == 0, recorded.stderr
    twice = iro(tmp_path, "returns", "record", one.group(0), "--confirm")
    assert twice.returncode == 2 and "already" in twice.stderr
    today = SYSTEM_CLOCK.today()  # the examples' meetings lie within a few months of it
    summary = iro(tmp_path, "returns", "--summary", "--from", today.replace(day=1).isoformat(),
                  "--to", (today + dt.timedelta(days=366)).isoformat())
    assert summary.returncode == 0 and "social_worker" in summary.stdout
    bad = iro(tmp_path, "returns", "record", "C-00000000")
    assert bad.returncode == 2
