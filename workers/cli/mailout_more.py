"""`iro print-batch` and `iro returns` (registered by workers.cli.mailout)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
