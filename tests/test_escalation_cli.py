"""`iro escalate …` and `iro escalations` through the installed command, on a real SQLite store."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clock_env import as_of
from factories import make_child, sqlite_url
from sqlalchemy import select

from workers.store.models import AuditEvent, Dispatch
from workers.store.session import open_store, upgrade

IRO = "daniel.hughes@council.example.gov.uk"
DEPUTY = "martin.greene@council.example.gov.uk"
CONCERN = "No PEP since the move to 4 Birch Close"


@pytest.fixture
def env(tmp_path: Path, config_copy: Path) -> dict[str, str]:
    url = sqlite_url(tmp_path)
    upgrade(url)
    with open_store(url).begin() as session:
        make_child(session, ref="C-1", team="north_lac", iro_email=IRO)
        make_child(session, ref="C-2", team="south_lac", iro_email=IRO)
    # the commands live on 2 March 2026: the dates below are then not back-dated steps
    return {**os.environ, "IRO_DATABASE_URL": url, "IRO_CONFIG_DIR": str(config_copy),
            **as_of(dt.date(2026, 3, 2))}


def iro(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60, env=env)


def test_raise_advance_refuse_resolve_and_list(env: dict[str, str]) -> None:
    r = iro(
        env,
        "escalate",
        "raise",
        "C-1",
        "--concern",
        CONCERN,
        "--category",
        "pep_not_recorded",
        "--on",
        "2026-03-02",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "ESC-1 raised: stage informal, open; response due 2026-03-09; 2 notice(s) planned"
    )
    r = iro(env, "escalate", "advance", "1", "--to", "group_manager", "--on", "2026-03-04")
    assert "stage group_manager" in r.stdout and "4 notice(s)" in r.stdout, r.stderr
    r = iro(
        env, "escalate", "respond", "1", "--text", "We will", "--by", DEPUTY, "--on", "2026-03-05"
    )
    assert r.returncode == 0, r.stderr
    r = iro(
        env, "escalate", "resolve", "1", "--outcome", "ok", "--by", DEPUTY, "--on", "2026-03-06"
    )
    assert r.returncode == 2
    assert "only the IRO who raised this escalation" in r.stderr
    assert "Birch" not in r.stderr + r.stdout
    r = iro(
        env,
        "escalate",
        "raise",
        "C-2",
        "--concern",
        "x",
        "--category",
        "other",
        "--on",
        "2026-03-03",
    )
    assert r.returncode == 0, r.stderr
    r = iro(env, "escalate", "resolve", "2", "--outcome", "ok", "--by", IRO, "--on", "2026-03-06")
    assert "ESC-2 resolved" in r.stdout, r.stderr

    r = iro(env, "escalations", "--format", "json", "--on", "2026-03-10")
    rows = json.loads(r.stdout)
    assert [
        (x["ref"], x["stage"], x["status"], x["days_at_stage"], x["total_days"]) for x in rows
    ] == [
        ("ESC-1", "group_manager", "open", 4, 6),
        ("ESC-2", "informal", "resolved", 3, 3),
    ]
    r = iro(env, "escalations", "--open", "--format", "csv", "--on", "2026-03-10")
    assert [x["ref"] for x in csv.DictReader(io.StringIO(r.stdout))] == ["ESC-1"]
    r = iro(env, "escalations", "--child", "C-2", "--format", "json")
    assert [x["ref"] for x in json.loads(r.stdout)] == ["ESC-2"]
    r = iro(env, "escalations", "--on", "2026-03-10")
    assert "ESC-1" in r.stdout and "group_manager" in r.stdout

    r = iro(env, "escalations", "show", "1", "--format", "json")
    assert [(x["action"], x["stage"]) for x in json.loads(r.stdout)] == [
        ("raised", "informal"),
        ("bypassed", "group_manager"),
        ("responded", "group_manager"),
    ]

    r = iro(env, "escalations", "show", "2")  # the table says what it is about
    assert r.returncode == 0, r.stderr
    assert "concern: x" in r.stdout and "child C-2" in r.stdout
    assert "Concern raised" in r.stdout and "Resolved" in r.stdout  # steps in words

    with open_store(env["IRO_DATABASE_URL"])() as session:
        refused = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "escalation.resolve_refused")
        ).all()
        assert [(e.actor, e.subject_id) for e in refused] == [(DEPUTY, 1)]
        # ESC-1's notices (2, then 4 at group manager), ESC-2's (2) and its outcome (2)
        assert len(session.scalars(select(Dispatch)).all()) == 2 + 4 + 2 + 2


def test_bad_input_is_named_and_changes_nothing(env: dict[str, str]) -> None:
    r = iro(env, "escalate", "raise", "C-1", "--concern", CONCERN, "--category", "nope")
    assert r.returncode == 2 and "unknown escalation category 'nope'" in r.stderr
    assert "Birch" not in r.stderr
    r = iro(env, "escalate", "advance", "7")
    assert r.returncode == 2 and "no escalation 7" in r.stderr
    r = iro(
        env,
        "escalate",
        "raise",
        "C-1",
        "--concern",
        "x",
        "--category",
        "other",
        "--on",
        "2026-13-01",
    )
    assert r.returncode == 2 and "--on: expected a date" in r.stderr
    r = iro(env, "escalations", "--format", "xml")
    assert r.returncode == 2 and "--format" in r.stderr
    with open_store(env["IRO_DATABASE_URL"])() as session:
        assert session.scalars(select(Dispatch)).all() == []
