"""The documents of one letter: invitation (or reminder), the form, the return instructions.

Shared by the preflight (does every template render?), ``--dry-run`` (write them for a look), the
email composer and the print batch, so what is checked is exactly what is sent. Contexts come
from ``workers.documents.contexts``, which refuses a participant of another review.
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workers.casework.confidential import check_rendered, shield
from workers.core.clock import LONDON, SYSTEM_CLOCK, Clock
from workers.documents import contexts
from workers.documents.filters import uk_date
from workers.mailout.plan import documents_for, reminder_documents

if TYPE_CHECKING:
    from workers.config.directory import Directory
    from workers.config.rules import Rules
    from workers.config.settings import Settings
    from workers.core.workcalendar import WorkingCalendar
    from workers.documents.engine import DocumentEngine
    from workers.documents.pdf_pool import ConverterPool
    from workers.store.models import Child, Participant, Review

TITLES = {"invitation": "Invitation", "reminder": "Reminder",
          "return_instructions": "How to return your form"}


@dataclass(frozen=True)
class MailoutConfig:
    """What mail-outs, composers and print batches need, loaded once per process."""

    rules: Rules
    directory: Directory
    calendar: WorkingCalendar
    settings: Settings
    pdf: bool = True  # convert to PDF where LibreOffice is installed
    clock: Clock = SYSTEM_CLOCK  # the letter's date, and when its dispatches are due

    @property
    def letterhead(self) -> contexts.Letterhead:
        return contexts.Letterhead.from_settings(self.settings.letterhead)

    @property
    def engine(self) -> DocumentEngine:
        from workers.documents.engine import shared_engine

        return shared_engine(self.settings.templates_dir)

    @property
    def allowed_domains(self) -> tuple[str, ...]:
        return tuple(self.settings.email.allowed_domains)


def review_on(review: Review) -> dt.date:
    """The meeting day in London (the date letters and age bands count from)."""
    if review.scheduled_at is None:
        return review.due_on
    return review.scheduled_at.astimezone(LONDON).date()


def form_title(kind: str) -> str:
    from workers.documents.catalogue import get_kind

    return get_kind(kind).title


def enclosure_title(form: str, role: str) -> str:
    """The form's name in the letter's table: the child's own words for the child (not
    "Child's booklet, ages 12 to 15"; a young person's is a form, not a booklet)."""
    if role != "child":
        return form_title(form)
    return "Your form: your views" if form.endswith("16_plus") else "Your booklet"


def letter_context(cfg: MailoutConfig, child: Child, review: Review, person: Participant, *,
                   form: str | None, code: str | None, return_by: dt.date,
                   bring_to_meeting: bool = False) -> dict[str, Any]:
    iro = cfg.directory.iro(review.iro_email)
    contact: contexts.Contact = iro if iro is not None else IroFallback(review.iro_email)
    common = contexts.Common(cfg.letterhead, contact, cfg.clock.today())
    post = cfg.settings.post
    # the return address names the service: a bare civic-centre address reaches the post room
    ret = contexts.FormReturn(code or "", return_by, cfg.settings.mailbox.address,
                              (cfg.letterhead.service, *cfg.letterhead.address_lines),
                              reply_paid=post.reply_paid, postage=post.postage,
                              bring_to_meeting=bring_to_meeting) if form else None
    back = ("Fill in and bring it to the meeting" if bring_to_meeting
            else f"Fill in and return by {uk_date(return_by)}")
    enclosures = [contexts.Enclosure(enclosure_title(form, person.role), back),
                  contexts.Enclosure(TITLES["return_instructions"], "Read it, then keep it")
                  ] if form else []
    ctx = contexts.letter(child, review, person, common, form=ret, enclosures=enclosures)
    return shield(ctx, review, person)  # a confidential placement address (issue 16)


@dataclass(frozen=True)
class IroFallback:
    """The review's IRO as a letter signs it when directory.yaml has no entry for them."""

    email: str
    name: str = "Your Independent Reviewing Officer"
    phone: str = ""


def render_letter(cfg: MailoutConfig, child: Child, review: Review, person: Participant, *,
                  form: str | None, code: str | None, return_by: dt.date,
                  reminder: bool = False, bring_to_meeting: bool = False
                  ) -> list[tuple[str, bytes]]:
    """(template kind, .docx bytes) for each document of the letter, in print order."""
    ctx = letter_context(cfg, child, review, person, form=form, code=code, return_by=return_by,
                         bring_to_meeting=bring_to_meeting)
    return render_documents(cfg, ctx, form=form, reminder=reminder)


def render_documents(cfg: MailoutConfig, ctx: dict[str, Any], *, form: str | None,
                     reminder: bool = False) -> list[tuple[str, bytes]]:
    """The letter's documents from its context (``letter_context``), in print order, each
    titled for its reader (``workers.documents.titles``)."""
    from workers.documents.titles import document_title

    kinds = reminder_documents(form) if reminder and form else documents_for(form)
    made = [(kind, cfg.engine.render(kind, ctx, document_title(kind, ctx))) for kind in kinds]
    for kind, data in made:  # never a confidential placement address to whom it is withheld
        check_rendered(ctx, kind, data)
    return made


_pool_lock = threading.Lock()
_pool: tuple[int, ConverterPool] | None = None  # (the pid that made it, it): a fork makes its own
_stopped: int | None = None  # the pid of a process that stopped converting for good


def to_pdf(cfg: MailoutConfig, docx: bytes, name: str) -> bytes:
    """One document as PDF by this process's LibreOffice converters (workers.documents.pdf_pool),
    waiting no longer than the dramatiq message in hand allows (workers.queue.time_budget)."""
    from workers.queue.time_budget import wait_until

    return converters(cfg).convert(docx, name, give_up_at=wait_until())


def converters(cfg: MailoutConfig) -> ConverterPool:
    """This process's converter pool, started on first use with ``libreoffice.instances``
    LibreOffice processes, working in the process's folder under ``runtime_dir``."""
    from workers.documents.pdf import PdfConverter
    from workers.documents.pdf_pool import ConverterPool, stopping
    from workers.host.runtime_dir import process_dir

    global _pool
    with _pool_lock:
        if _stopped == os.getpid():
            raise stopping("a document")
        if _pool is None or _pool[0] != os.getpid():
            lo = cfg.settings.libreoffice
            folder = process_dir(cfg.settings.runtime_dir)
            _pool = os.getpid(), ConverterPool(
                lambda: PdfConverter(lo.soffice, lo.timeout_seconds, folder=folder,
                                     start_timeout=lo.start_timeout_seconds),
                cfg.settings.converter_instances,
            )
            # a process that exits must not leave its LibreOffice and folder behind
            atexit.register(close_pdf)
        return _pool[1]


def close_pdf(grace: float | None = None, *, for_good: bool = False) -> None:
    """Stop this process's LibreOffice converters, if it started any, and remove its folder
    under the runtime directory; ``for_good``: refuse to start them again (a stopping worker).
    Registered with atexit; processes that end with ``os._exit`` call it themselves (dramatiq's
    worker processes, at worker shutdown: workers.queue.worker_entry; the benchmarks' forked
    children)."""
    from workers.host.runtime_dir import remove_process_dirs

    global _pool, _stopped
    with _pool_lock:
        if for_good:
            _stopped = os.getpid()
        if _pool is not None and _pool[0] == os.getpid():
            _pool[1].close(grace)
            _pool = None
    remove_process_dirs()


def pdf_enabled(cfg: MailoutConfig) -> bool:
    from workers.documents.pdf import libreoffice_available, tell_missing_once

    if not cfg.pdf:
        return False
    if libreoffice_available(cfg.settings.libreoffice.soffice):
        return True
    tell_missing_once(cfg.settings.libreoffice.soffice)
    return False


def load_config(config_dir: Path | None = None) -> MailoutConfig:
    """Rules, directory, calendar and settings from the config folder (IRO_CONFIG_DIR)."""
    from workers.cli.context import AppContext, default_config_dir

    app = AppContext(config_dir=config_dir or default_config_dir())
    return MailoutConfig(app.rules, app.directory, app.calendar, app.settings)
