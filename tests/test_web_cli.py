"""`iro users add` through the real console script: password from the environment only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from factories import sqlite_url
from mailout_support import CONFIG

from workers.errors import RefusedError
from workers.store.session import open_store
from workers.web.accounts import authenticate

IRO = str(Path(sys.executable).parent / "iro")


def _run(tmp_path: Path, *args: str, password: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IRO_DATABASE_URL": sqlite_url(tmp_path)}
    env.pop("IRO_NEW_USER_PASSWORD", None)
    if password is not None:
        env["IRO_NEW_USER_PASSWORD"] = password
    return subprocess.run([IRO, "--config", str(CONFIG), "users", "add", *args], env=env,
                          capture_output=True, text=True, input="", timeout=120)


def test_users_add_creates_an_account_that_signs_in(tmp_path: Path) -> None:
    done = _run(tmp_path, "New.Officer@Council.Example.gov.uk", "--role", "business_support",
                password="a long enough password")
    assert done.returncode == 0, done.stderr
    assert "new.officer@council.example.gov.uk: business_support" in done.stdout
    assert "a long enough password" not in done.stdout + done.stderr
    with open_store(sqlite_url(tmp_path))() as session:
        user = authenticate(session, "new.officer@council.example.gov.uk",
                            "a long enough password")
        assert user.roles == frozenset({"business_support"})
        with pytest.raises(RefusedError):
            authenticate(session, "new.officer@council.example.gov.uk", "wrong password")


def test_users_add_refuses_bad_roles_and_weak_passwords(tmp_path: Path) -> None:
    bad_role = _run(tmp_path, "x@council.example.gov.uk", "--role", "admin",
                    password="a long enough password")
    assert bad_role.returncode == 2 and "business_support, iro, manager" in bad_role.stderr
    weak = _run(tmp_path, "x@council.example.gov.uk", "--role", "iro", password="short")
    assert weak.returncode == 2 and "at least 12 characters" in weak.stderr
    assert "--password" not in _run(tmp_path, "--help", password=None).stdout
