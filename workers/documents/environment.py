"""The Jinja environment every template is rendered in.

Templates are written by staff, so they run in Jinja's sandbox; values are autoescaped (an ``&`` in
"Smith & Sons" would otherwise break the XML and, with docxtpl's recovering parser, silently cut the
letter short); a missing field is an error, never an empty gap (StrictUndefined).
"""

from __future__ import annotations

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from workers.documents.filters import FILTERS


def make_environment(*, autoescape: bool = True) -> SandboxedEnvironment:
    """A sandboxed environment with the letter filters; ``autoescape=False`` for plain text."""
    env = SandboxedEnvironment(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env
