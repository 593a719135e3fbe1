"""`iro config check` through the real console script: exit 0 with the rules in force, exit 2 with
``file:line: field: reason`` lines for every problem in every file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

IRO = Path(sys.executable).parent / "iro"


def run_iro(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith("IRO_") or k.startswith("IRO_TEST_")}
    clean.update(env, COLUMNS="200", NO_COLOR="1")
    return subprocess.run(
        [str(IRO), *args], cwd=cwd, env=clean, capture_output=True, text=True, timeout=60
    )


def _edit(path: Path, old: str, new: str) -> int:
    """Replace ``old`` in the file; return the 1-based line where ``new`` starts."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[: text.index(new)].count("\n") + 1


def test_shipped_config_passes_and_prints_the_rules(config_copy: Path) -> None:
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in (
        "Calendar: bank holidays GB-ENG",
        "Review timescales",
        "Mail-out",
        "Mail-out reminders",
        "Write-up deadlines",
        "Escalation stages",
        "Escalation categories",
        "Consultation forms",
        "Participation codes",
        "Service settings",
    ):
        assert title in out, title
    assert "Christmas closure 2026" in out and "Thu 24 Dec 2026" in out
    assert "20 working days after looked_after" in out
    assert "15 working days after held" in out
    assert "martin.greene@council.example.gov.uk" in out  # the deputy manager resolved
    assert "consultation_child_16_plus" in out
    assert "ok: config/service.yaml" in out


def test_secrets_are_shown_only_as_set(config_copy: Path) -> None:
    result = run_iro(
        config_copy.parent, "config", "check", IRO_SMTP_PASSWORD="hunter2", IRO_TRANSPORT="ews"
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "│ set " in rows["smtp.password"]
    assert "│ not set " in rows["ews.password"]
    assert "│ ews " in rows["transport"]  # the override is what is in force
    assert "30/minute" in rows["(effective rate limit)"]


def test_issue_example_exits_2_naming_file_line_and_field(config_copy: Path) -> None:
    line = _edit(config_copy / "rules.yaml", "due: 15 working days after held", "due: fifteen")
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        f"config/rules.yaml:{line}: write_up.record.due: expected "
        "'<n> working days|days|weeks|months before|after <event>', got 'fifteen'"
    ) in result.stderr
    assert "Traceback" not in result.stderr


def test_problems_in_every_file_are_reported_at_once(config_copy: Path) -> None:
    rules_line = _edit(config_copy / "rules.yaml", "  return_by:", "  retrun_by:")
    dir_line = _edit(
        config_copy / "directory.yaml",
        "email: helen.marsh@council.example.gov.uk",
        "email: helen.marsh",
    )
    svc_line = _edit(config_copy / "service.yaml", "  threads: 4", "  threads: four")
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 2
    err = result.stderr
    assert f"config/service.yaml:{svc_line}: worker.threads: " in err
    assert f"config/rules.yaml:{rules_line}: mailout.retrun_by: " in err
    assert f"config/directory.yaml:{dir_line}: teams[1].team_manager.email: " in err


def test_unknown_stage_recipient_is_checked_against_the_directory(config_copy: Path) -> None:
    line = _edit(config_copy / "rules.yaml", "recipients: [group_manager]", "recipients: [grp_mgr]")
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 2
    assert (
        f"config/rules.yaml:{line}: escalation.stages[2].recipients[0]: unknown recipient 'grp_mgr'"
        in result.stderr
    )


def test_a_recipient_the_directory_lacks(config_copy: Path) -> None:
    # rules.yaml is fine on its own; the directory no longer has a head of service.
    text = (config_copy / "directory.yaml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.strip().startswith("head_of_service:")]
    (config_copy / "directory.yaml").write_text("\n".join(kept) + "\n", encoding="utf-8")
    rules_text = (config_copy / "rules.yaml").read_text(encoding="utf-8")
    line = rules_text.splitlines().index("      recipients: [head_of_service]") + 1
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 2
    assert f"config/rules.yaml:{line}: escalation.stages[3].recipients[0]: " in result.stderr


def test_bad_variable_exits_2_naming_it(config_copy: Path) -> None:
    result = run_iro(config_copy.parent, "config", "check", IRO_SMTP_PORT="twenty-five")
    assert result.returncode == 2
    assert "environment IRO_SMTP_PORT: smtp.port: " in result.stderr


def test_a_mistyped_variable_exits_2_with_the_name_it_meant(config_copy: Path) -> None:
    # Otherwise IRO_DATABSE_URL would be ignored and the SQLite default used without a word.
    result = run_iro(
        config_copy.parent, "config", "check", IRO_DATABSE_URL="postgresql+psycopg://x@db/iro"
    )
    assert result.returncode == 2
    assert "environment IRO_DATABSE_URL: names no setting" in result.stderr
    assert "did you mean IRO_DATABASE_URL?" in result.stderr
    assert "Traceback" not in result.stderr


def test_variables_that_are_not_settings_are_accepted(config_copy: Path) -> None:
    result = run_iro(
        config_copy.parent,
        "config",
        "check",
        IRO_CONFIG_DIR=str(config_copy),
        IRO_NEW_USER_PASSWORD="x",
        IRO_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1/test",
        IRO_SMTP_PASSWORD="secret",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("how", ["--config", "IRO_CONFIG_DIR"])
def test_another_config_folder(tmp_path: Path, config_copy: Path, how: str) -> None:
    other = tmp_path / "elsewhere"
    config_copy.rename(other)
    _edit(other / "rules.yaml", "country: GB", "country: XX")
    if how == "--config":
        result = run_iro(tmp_path, "--config", str(other), "config", "check")
    else:
        result = run_iro(tmp_path, "config", "check", IRO_CONFIG_DIR=str(other))
    assert result.returncode == 2
    assert f"{other}/rules.yaml:" in result.stderr
    assert "calendar.country: no bank holiday calendar for 'XX'" in result.stderr


def test_missing_rules_file_exits_2(config_copy: Path) -> None:
    (config_copy / "rules.yaml").unlink()
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 2
    assert "config/rules.yaml: file not found" in result.stderr


def test_missing_service_file_is_fine(config_copy: Path) -> None:
    (config_copy / "service.yaml").unlink()
    result = run_iro(config_copy.parent, "config", "check")
    assert result.returncode == 0, result.stderr


def test_config_check_is_listed_in_help(config_copy: Path) -> None:
    result = run_iro(config_copy.parent, "config", "--help")
    assert result.returncode == 0
    assert "check" in result.stdout
