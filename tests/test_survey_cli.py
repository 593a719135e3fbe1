"""`iro survey start` and `iro survey key` run as people run them, on a migrated SQLite store."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from clock_env import as_of
from factories import sqlite_store, sqlite_url
from sqlalchemy import func, select
from survey_support import SECRET, seed_year

from workers.store.models import Dispatch, SurveyResponse

TODAY = dt.date(2026, 12, 7)


@pytest.fixture
def setup(tmp_path: Path, config_copy: Path) -> tuple[Path, str]:
    seed_year(sqlite_store(tmp_path))
    return config_copy, sqlite_url(tmp_path)


def iro(setup: tuple[Path, str], *args: str) -> subprocess.CompletedProcess[str]:
    config, url = setup
    exe = Path(sys.executable).with_name("iro")
    return subprocess.run(
        [str(exe), "--config", str(config), *args], capture_output=True, text=True,
        env={**os.environ, "IRO_DATABASE_URL": url, "IRO_SURVEY_LINK_SECRET": SECRET,
             **as_of(TODAY)},
        timeout=60,
    )


def test_start_then_key_paper_answers(setup: tuple[Path, str], tmp_path: Path) -> None:
    start = ["survey", "start", "--name", "2026-27", "--closes", "2027-01-29"]
    dry = iro(setup, *start, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would ask 5 (carer 2, social_worker 1, guardian 2)" in dry.stdout
    assert "1 guardian(s) through CAFCASS" in dry.stdout
    assert "reminder on 2027-01-22" in dry.stdout
    done = iro(setup, *start, "--by", "bso@council.example.gov.uk")
    assert done.returncode == 0, done.stderr
    assert "asked 5" in done.stdout
    assert "@" not in done.stdout  # references and roles only
    sessions = sqlite_store(tmp_path)  # (migrating again changes nothing)
    with sessions() as s:
        assert s.scalar(select(func.count(Dispatch.id))) == 10

    keyed = iro(setup, "survey", "key", "2026-27", "--role", "social_worker",
                "--answers", "Q1=always, Q6=Very well, Q9=Good")
    assert keyed.returncode == 0, keyed.stderr
    with sessions() as s:
        assert s.scalars(select(SurveyResponse.answers)).one() == {
            "Q1": "Always", "Q6": "Very well", "Q9": "Good"}

    status = iro(setup, "survey", "status", "2026-27")
    assert status.returncode == 0, status.stderr
    assert ("social_worker: asked 1, sent 0, answered by link 0, answers received 1 (web and "
            "paper); reminders: pending 1") in status.stdout
    assert "guardian: asked 2" in status.stdout

    wrong = iro(setup, "survey", "key", "2026-27", "--role", "carer", "--answers", "Q5=Always")
    assert wrong.returncode == 2
    assert "Q5: 'Always' is not an answer; expected one of Excellent / Good / Fair / Poor" \
        in wrong.stderr
    late = iro(setup, *start[:4], "--closes", "2026-12-01")
    assert late.returncode == 2 and "must be after today" in late.stderr
    with sessions() as s:
        assert s.scalar(select(func.count(SurveyResponse.id))) == 1  # nothing half-done
