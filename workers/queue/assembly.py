"""Wiring: every dispatch kind's composer and every periodic job, installed once per process.

The capabilities (reviews, escalations, mail-outs) each offer a ``register`` function rather than
registering at import (house style: no side effects at import). The worker processes need the
composers; the scheduler needs the jobs; ``iro run`` needs both. Each reads the configuration
from IRO_CONFIG_DIR, which the CLI sets from ``--config``.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Register all composers and jobs (idempotent; safe from several threads)."""
    global _installed
    with _lock:
        if _installed:
            return
        _install_reviews()
        _install_midway()
        _install_escalations()
        _install_mailouts()
        _installed = True


def _install_reviews() -> None:
    from workers.reviews import scan

    scan.register()  # the write-up composers and the reminder/overdue scan


def _install_midway() -> None:
    from workers.midway import scan

    scan.register()  # the midway checks and the IRO's reminders of them (issue 20 §2)


def _install_escalations() -> None:
    from workers.cli.context import AppContext
    from workers.documents.contexts import Letterhead
    from workers.documents.engine import shared_engine
    from workers.escalation import timers
    from workers.escalation.notices import EscalationComposers
    from workers.escalation.policy import Policy

    timers.register()
    app = AppContext()
    EscalationComposers(
        Policy.from_rules(app.rules.escalation, app.calendar),
        app.directory,
        shared_engine(app.settings.templates_dir),
        letterhead=Letterhead.from_settings(app.settings.letterhead),
        category_titles={c.key: c.title for c in app.rules.escalation.categories},
        mailbox_name=app.settings.mailbox.display_name,
    ).register()


def _install_mailouts() -> None:
    """Mail-out composers, reminders and the inbox poll (issue 5)."""
    from workers.mailout import wiring

    wiring.register()
