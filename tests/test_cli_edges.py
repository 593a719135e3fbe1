"""Rough edges of the `iro` command found in review, each through the real console script:
usage errors, help text, and bad input that must exit 2 with a message saying what to do."""

from __future__ import annotations

from pathlib import Path

from test_config_cli import run_iro  # the console script, with no IRO_* from this shell


def test_unknown_command_and_option_are_usage_errors_not_unexpected(tmp_path: Path) -> None:
    # typer >= 0.20 raises its own copy of click's exceptions; they were reported as
    # "unexpected error: UsageError" with exit 1.
    for args, said in (
        (("reviews",), "No such command 'reviews'"),
        (("deadlines", "--bogus"), "No such option: --bogus"),
    ):
        result = run_iro(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert said in result.stderr
        assert "unexpected error" not in result.stderr


def test_sqlite_url_in_a_missing_folder_exits_2_and_makes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'iro.sqlite3'}"
    result = run_iro(tmp_path, "db", "upgrade", IRO_DATABASE_URL=url)
    assert result.returncode == 2, result.stderr
    assert "does not exist" in result.stderr and str(tmp_path / "no" / "such") in result.stderr
    assert not (tmp_path / "no").exists()


def _help_problems() -> list[str]:
    """Each option and argument whose --help line shows a bare type (``<str>``, ``<list[str]>``,
    ``<path>``) instead of a metavar a person understands, or that has no help at all."""
    import typer.main

    from workers.cli import main

    main._register()
    problems: list[str] = []

    def walk(command: object, path: list[str]) -> None:
        ctx = typer.Context(command, info_name=path[-1])  # type: ignore[arg-type]
        for param in command.params:  # type: ignore[attr-defined]
            record = param.get_help_record(ctx)
            if record is None:  # hidden
                continue
            shown, help_text = record
            where = f"{' '.join(path)} {shown}"
            if param.param_type_name == "option" and "<" in shown:
                problems.append(f"{where}: bare type, give a metavar")
            if param.param_type_name == "argument" and param.metavar is None:
                problems.append(f"{where}: no metavar")
            if not help_text.strip() or help_text.lstrip().startswith("["):
                problems.append(f"{where}: no help")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(main.app), ["iro"])
    return problems


def test_every_option_and_argument_has_a_metavar_and_help() -> None:
    assert _help_problems() == []


def test_escalations_and_returns_help_read_well(tmp_path: Path) -> None:
    escalations = run_iro(tmp_path, "escalations", "--help").stdout
    assert "--format table|csv|json" in escalations and "--on DATE" in escalations
    returns = run_iro(tmp_path, "returns", "--help").stdout
    assert "<list[str]>" not in returns
    assert "--from DATE" in returns and "--to DATE" in returns
    assert "summary: reviews held from this day" in returns


def test_an_iro_not_in_the_directory_is_refused_not_nothing_due(
    tmp_path: Path, config_copy: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'iro.sqlite3'}"
    assert run_iro(tmp_path, "db", "upgrade", IRO_DATABASE_URL=url).returncode == 0
    for command in ("deadlines", "caseload"):
        result = run_iro(
            tmp_path, "--config", str(config_copy), command, "--iro", "nobody@x",
            IRO_DATABASE_URL=url,
        )
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "--iro nobody@x: not an IRO in" in result.stderr
        assert "directory.yaml" in result.stderr
        assert "Nothing due" not in result.stdout


def test_a_mistyped_iro_variable_is_warned_at_every_command(config_copy: Path) -> None:
    result = run_iro(
        config_copy.parent, "calendar", "add", "2026-01-02", "3", IRO_DATABSE_URL="sqlite:///x"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2026-01-07"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "IRO_DATABSE_URL" in warnings[0] and "did you mean IRO_DATABASE_URL?" in warnings[0]
    # a correct variable gives no warning
    clean = run_iro(
        config_copy.parent, "calendar", "add", "2026-01-02", "3", IRO_TRANSPORT="outbox"
    )
    assert clean.stderr == ""


def test_escalation_steps_are_dated_in_london_whatever_the_servers_zone(
    tmp_path: Path, config_copy: Path
) -> None:
    # `date.today()` on a server whose clock is not London's dates a step a day out (a UTC server
    # from midnight to 1 am BST). Pick the zone whose date differs from London's right now.
    import datetime as dt
    from zoneinfo import ZoneInfo

    from factories import make_child, sqlite_url
    from sqlalchemy import select

    from workers.store.models import Escalation
    from workers.store.session import open_store, upgrade

    london = dt.datetime.now(ZoneInfo("Europe/London")).date()
    zone = next(
        z for z in ("Etc/GMT+12", "Etc/GMT-14") if dt.datetime.now(ZoneInfo(z)).date() != london
    )
    url = sqlite_url(tmp_path)
    upgrade(url)
    with open_store(url).begin() as session:
        make_child(session, ref="C-1", team="north_lac",
                   iro_email="daniel.hughes@council.example.gov.uk")
    result = run_iro(
        tmp_path, "--config", str(config_copy), "escalate", "raise", "C-1", "--concern", "x",
        "--category", "pep_not_recorded", IRO_DATABASE_URL=url, TZ=zone,
    )
    assert result.returncode == 0, result.stderr
    with open_store(url)() as session:
        raised_on = session.scalars(select(Escalation.raised_on)).one()
    assert raised_on == london, (zone, raised_on)
