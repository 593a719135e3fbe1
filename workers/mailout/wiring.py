"""What ``workers.assembly.install`` calls: the mail-out composers and scheduler jobs."""

from __future__ import annotations


def register() -> None:
    from workers.mailout import compose

    compose.register()
