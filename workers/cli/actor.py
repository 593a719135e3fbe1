"""Who is acting, for the audit of a change a person makes from the command line.

``--actor EMAIL``, else ``IRO_ACTOR`` (set once in a business support officer's shell), else the
operating-system account as ``os:<login>``: every casework change names a person, never
"system" (DESIGN.md §6: "an audit event, naming the person who asked for it").
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from workers.errors import BadInputError

ActorOption = Annotated[str | None, typer.Option(
    "--actor", metavar="EMAIL", envvar="IRO_ACTOR", show_envvar=True,
    help="Who is making this change, for the audit [IRO_ACTOR, else your login].")]
ReasonOption = Annotated[str, typer.Option(
    "--reason", metavar="TEXT", help="Why (kept in the audit; no names or addresses).")]


def actor_of(value: str | None) -> str:
    """The audit's actor: the option or IRO_ACTOR as given, else ``os:<login>``."""
    if value is not None:
        text = value.strip()
        if not text or len(text) > 320:
            raise BadInputError("--actor: give the email of the person making the change")
        return text
    try:
        return f"os:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        raise BadInputError("--actor: say who is making the change (or set IRO_ACTOR); "
                            "this account has no login name") from None
