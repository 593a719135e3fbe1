"""`iro templates`: check the Word templates, render one to look at, list the fields.

Heavy imports (docxtpl, lxml, pypdf) stay inside the commands so `iro --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workers.errors import EXIT_TEMPLATE
from workers.host.private_files import write_private

templates_app = typer.Typer(help="Check, render and describe the Word and email templates.",
                            no_args_is_help=True)


def _templates_dir(ctx: typer.Context) -> Path:
    from workers.cli.context import app_context

    try:
        return Path(app_context(ctx).settings.templates_dir)
    except ImportError:  # settings module not present: the shipped folder
        return Path("templates_docx")


@templates_app.command("check")
def check(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Argument(
            metavar="PATH",
            help="A template folder or one template file (default: the configured templates_dir).",
        ),
    ] = None,
    examples: Annotated[
        Path | None,
        typer.Option(
            "--examples", metavar="DIR", help="Folder of example data for the trial render."
        ),
    ] = None,
) -> None:
    """Validate templates: syntax, filters, fields against the catalogue, a trial render.

    Prints `template:part: message` for each problem and exits 4 when there is one.
    """
    from workers.documents.examples import EXAMPLES_DIR
    from workers.documents.validation import check_path

    target = path or _templates_dir(ctx)
    problems = check_path(target, examples_dir=examples or EXAMPLES_DIR)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {target}", err=True)
        raise typer.Exit(EXIT_TEMPLATE)
    typer.echo(f"templates ok: {target}")


@templates_app.command("render")
def render(
    ctx: typer.Context,
    kind: Annotated[
        str, typer.Argument(metavar="KIND", help="Document kind, e.g. invitation (see `fields`).")
    ],
    data: Annotated[
        Path,
        typer.Option(
            "--data",
            metavar="FILE",
            help="YAML of field values; a _common.yaml beside it is merged underneath.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("-o", "--out", metavar="FILE", help="Where to write the .docx (or .txt)."),
    ],
    pdf: Annotated[bool, typer.Option("--pdf", help="Also write a PDF beside it.")] = False,
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates",
            metavar="DIR",
            help="Template folder (default: the configured templates_dir).",
        ),
    ] = None,
) -> None:
    """Render one document from example data so a person can look at it."""
    from workers.documents.catalogue import get_kind
    from workers.documents.examples import load_data, merge

    spec = get_kind(kind)
    common = data.parent / "_common.yaml"
    context = load_data(data)
    if common.exists() and common.resolve() != data.resolve():
        context = merge(load_data(common), context)
    folder = templates or _templates_dir(ctx)
    if spec.format == "email":
        from workers.documents.emails import render_email

        mail = render_email(folder, kind, context)
        write_private(out, f"Subject: {mail.subject}\n\n{mail.body}".encode())
        typer.echo(f"wrote {out}")
        return
    from workers.documents.engine import DocumentEngine

    docx = DocumentEngine(folder).render(kind, context)
    write_private(out, docx)
    typer.echo(f"wrote {out}")
    if pdf:
        from workers.documents.pdf import PdfConverter, libreoffice_available

        soffice = _soffice(ctx)
        if not libreoffice_available(soffice):
            typer.echo(
                f"LibreOffice ({soffice}) is not installed: wrote the .docx only. "
                "`make system-deps` installs it.",
                err=True,
            )
            return
        from workers.host.runtime_dir import process_dir

        with PdfConverter(soffice, warm=False, folder=process_dir(_runtime_dir(ctx))) as conv:
            write_private(out.with_suffix(".pdf"), conv.convert(docx, kind))
        typer.echo(f"wrote {out.with_suffix('.pdf')}")


def _soffice(ctx: typer.Context) -> str:
    from workers.cli.context import app_context

    try:
        return app_context(ctx).settings.libreoffice.soffice
    except ImportError:
        return "soffice"


def _runtime_dir(ctx: typer.Context) -> Path:
    from workers.cli.context import app_context

    return app_context(ctx).settings.runtime_dir


@templates_app.command("fields")
def fields(
    kind: Annotated[
        str | None, typer.Argument(metavar="KIND", help="One kind; all kinds when left out.")
    ] = None,
) -> None:
    """Print the field catalogue: each kind's fields and what they mean."""
    from workers.documents.catalogue import KINDS, get_kind

    kinds = [get_kind(kind)] if kind else list(KINDS.values())
    for spec in kinds:
        typer.echo(f"{spec.name} ({spec.filename}): {spec.title}")
        width = max(len(f.name) for f in spec.fields)
        for f in spec.fields:
            opt = " (optional)" if f.optional else ""
            typer.echo(f"  {f.name.ljust(width)}  {f.description}{opt}")
        typer.echo("")


def register(app: typer.Typer) -> None:
    app.add_typer(templates_app, name="templates")
