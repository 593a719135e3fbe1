"""Entry point of the `iro` command: global options, sub-command groups, and exit codes."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from workers.cli.context import AppContext, default_config_dir
from workers.errors import EXIT_BAD_INPUT, EXIT_UNEXPECTED, IroError

HELP = """\
iro: the paperwork of an Independent Reviewing Officer service, done by queue workers.

Configuration is read from config/ (or --config DIR, or IRO_CONFIG_DIR): service.yaml,
rules.yaml and directory.yaml. Any service setting can be overridden by an IRO_* variable;
passwords and client secrets come only from the environment.

\b
Exit codes:
  0  ok
  1  unexpected error (traceback only with --debug)
  2  bad input or configuration (file, line and field are named)
  3  a service cannot be reached (database, Redis, mail server)
  4  template error (template, part and field are named)
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
err_console = Console(stderr=True)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="DIR",
            help="Folder holding service.yaml, rules.yaml, directory.yaml.",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
) -> None:
    if config is not None:
        # Later loaders (worker processes, scheduler jobs) read the folder from the environment.
        os.environ["IRO_CONFIG_DIR"] = str(config)
    ctx.obj = AppContext(config_dir=config or default_config_dir(), debug=debug)
    if ctx.invoked_subcommand != "config":  # `iro config check` reports them as errors
        _warn_unknown_variables()
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _warn_unknown_variables() -> None:
    """One stderr line naming mistyped IRO_* variables: the default would be used silently."""
    if not any(k.startswith("IRO_") and not k.startswith("IRO_TEST_") for k in os.environ):
        return  # no need to import the settings model
    from workers.config.settings import unknown_variables

    messages = unknown_variables(os.environ)
    if messages:
        err_console.print(
            f"warning: {'; '.join(messages)}", highlight=False, soft_wrap=True, markup=False
        )


def _register() -> None:
    """Attach the sub-command groups. Each module keeps heavy imports inside its commands."""
    import importlib

    for name in SUBCOMMANDS:
        module = importlib.import_module(f"workers.cli.{name}")
        module.register(app)


# Modules under workers/cli/ that define `register(app)`.
SUBCOMMANDS: list[str] = [
    "calendar",
    "db",
    "config",
    "deadlines",
    "escalations",
    "reviews",
    "imports",
    "ssda903",  # after imports: it adds `iro import 903`
    "worker",
    "templates",
    "mailout",
    "print_batch",
    "returns",
    "report",
    "midway",
    "web",
    "survey",
    "qa",
    "casework",
    "corrections",
]


def main(argv: list[str] | None = None) -> None:
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        rv = app(args=argv, standalone_mode=False)
        if isinstance(rv, int) and rv:
            sys.exit(rv)
    except IroError as exc:
        if debug:
            err_console.print_exception()
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Abort as exc:
        # click turns an EOFError or Ctrl-C inside a command into a bare Abort; name which, so
        # an abort nobody typed can be traced (the type only: a message may hold case data)
        cause = exc.__cause__ or exc.__context__
        err_console.print(f"aborted ({type(cause).__name__ if cause else 'by the user'})")
        if debug and cause:
            err_console.print_exception()
        sys.exit(130)
    except typer.TyperException as exc:
        # Usage errors (unknown command, bad option): typer >= 0.26 vendors click and raises its
        # own copy of click's exceptions, which `click.exceptions.ClickException` does not catch.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"error: {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except (OverflowError, MemoryError, RecursionError) as exc:
        # A date or count past what the calendar or memory can hold (year 10000, N = 10**15, a
        # bomb) is bad input however deep it surfaced: one line and exit 2, not a traceback.
        if debug:
            err_console.print_exception()
        err_console.print(
            f"[bold red]error:[/] a date or number in the input is out of range "
            f"({type(exc).__name__}); give smaller values and run again",
            highlight=False, soft_wrap=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debug:
            err_console.print_exception()
        else:
            err_console.print(
                f"[bold red]unexpected error:[/] {type(exc).__name__}. "
                "Run again with --debug for the traceback, and report it.",
                highlight=False,
            )
        sys.exit(EXIT_UNEXPECTED)
