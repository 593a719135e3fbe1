"""`iro config check`: validate service.yaml, rules.yaml and directory.yaml; show what is in force.

Every problem in every file is reported at once (``<file>:<line>: <field>: <reason>``, exit 2),
so a person fixing the files does not have to run the check once per typo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import typer

from workers.cli.context import app_context

if TYPE_CHECKING:
    from workers.cli.context import AppContext
    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.config.settings import Settings

T = TypeVar("T")

config_app = typer.Typer(
    help="Check the configuration and show the rules in force.", no_args_is_help=True
)


@config_app.command("check")
def check(ctx: typer.Context) -> None:
    """Validate the three files and the IRO_* variables (exit 2 naming file, line and field, or
    the variable); print the rules in force."""
    from rich.console import Console

    from workers.cli.config_tables import rules_tables, settings_table

    context = app_context(ctx)
    settings, rules, directory = load_all(context)
    console = Console()
    for table in rules_tables(rules, directory):
        console.print(table)
    console.print(settings_table(settings))
    console.print(
        f"[green]ok:[/] {context.config_dir}/service.yaml, rules.yaml and directory.yaml are valid",
        highlight=False,
    )


def load_all(context: AppContext) -> tuple[Settings, Rules, Directory]:
    """Load all three files, collecting every file's problems before failing."""
    import os

    from workers.config.rules_checks import check_recipients
    from workers.config.settings import unknown_variables
    from workers.config.yamlsource import read_yaml
    from workers.errors import ConfigError

    messages: list[str] = unknown_variables(os.environ)

    def attempt(load: Callable[[], T]) -> T | None:
        try:
            return load()
        except ConfigError as exc:
            messages.append(str(exc))
            return None

    settings = attempt(lambda: context.settings)
    rules = attempt(lambda: context.rules)
    directory = attempt(lambda: context.directory)
    survey_yaml = context.config_dir / "survey.yaml"
    if survey_yaml.exists():  # the stakeholder survey's questions (`iro survey`)
        from workers.survey.questions import load_survey

        attempt(lambda: load_survey(survey_yaml))
    audit_yaml = context.config_dir / "audit.yaml"
    if audit_yaml.exists():  # the record-audit standards (`iro qa`)
        from workers.qa.standards import load_audit

        attempt(lambda: load_audit(audit_yaml))
    if rules is not None and directory is not None:
        findings = check_recipients(rules, directory)
        if findings:
            source = read_yaml(context.config_dir / "rules.yaml")
            messages.append(str(source.fail([source.problem(loc, why) for loc, why in findings])))
    if messages or settings is None or rules is None or directory is None:
        raise ConfigError("\n".join(messages))
    return settings, rules, directory


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
