"""LibreOffice that is stopped, hangs or cannot read a document, with the real LibreOffice:
the converter restarts it, no reply is ever taken for another document's, a caller interrupted
as dramatiq's time limit interrupts an actor leaves the converter in step, a letter whose
converter failed is retried rather than failed, and only a document that a fresh LibreOffice
refuses twice in a row is the document's fault."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import office_using
from factories import sqlite_store
from sqlalchemy.orm import Session
from test_crash import wait_until
from test_documents_pdf import _docx, _text, needs_uno
from test_queue_dispatching import dispatcher, make_letters, row

from workers.documents.pdf import PdfConverter
from workers.documents.pdf_pool import ConverterPool
from workers.errors import ConverterError, TemplateError, TransientDeliveryError
from workers.mail.outbox import OutboxConfig, OutboxTransport
from workers.queue.outcomes import RetryLater
from workers.store.models import Dispatch

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

BROKEN_DOCX = b"PK\x03\x04" + bytes(200)  # a zip header and nothing: no program can read it
TEXTS = {"invitation": "Invitation to a looked after review", "reminder": "IRO-7KQ2-PX",
         "consultation_parent": "Consultation form for parents",
         "return_instructions": "How to send your form back"}


def freeze(folder: Path) -> list[int]:
    """SIGSTOP every LibreOffice working under ``folder``, as a hung one would be."""
    stopped = office_using(folder)
    assert stopped
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    return stopped


def thaw(stopped: list[int]) -> None:
    for pid in stopped:
        with contextlib.suppress(ProcessLookupError):  # killed by the converter meanwhile
            os.kill(pid, signal.SIGCONT)


@pytest.fixture
def pool(soffice: str, tmp_path: Path) -> Iterator[Callable[[int, float], ConverterPool]]:
    needs_uno()
    made: list[ConverterPool] = []

    def make(instances: int, timeout: float) -> ConverterPool:
        made.append(ConverterPool(
            lambda: PdfConverter(soffice, timeout, folder=tmp_path), instances))
        # answering over UNO: a first start's soffice.bin restarts itself once before that
        wait_until(lambda: all(c.running for c in made[-1].converters), 120,
                   "LibreOffice to start")
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_a_stopped_libreoffice_is_restarted_and_no_reply_goes_astray(
    soffice: str, tmp_path: Path
) -> None:
    needs_uno()
    with PdfConverter(soffice, timeout=3, folder=tmp_path) as conv:
        assert TEXTS["invitation"] in _text(conv.convert(_docx("invitation")))
        stopped = freeze(tmp_path)
        try:
            # no answer within 3 s: killed, started afresh, and the document converted there
            form = conv.convert(_docx("consultation_parent"), "form")
        finally:
            thaw(stopped)
        assert TEXTS["consultation_parent"] in _text(form)
        assert not set(stopped) & set(office_using(tmp_path)), "the stopped one still runs"
        for kind in ("return_instructions", "reminder"):  # each gets its own PDF
            assert TEXTS[kind] in _text(conv.convert(_docx(kind), kind))


def test_an_interrupted_caller_leaves_the_converter_in_step(
    pool: Callable[[int, float], ConverterPool], tmp_path: Path
) -> None:
    # dramatiq's time limit raises an exception in the actor thread wherever it is: here while
    # it waits for a LibreOffice stopped in the middle of its document. Only the waiting stops;
    # the conversion finishes in the converter's own thread and its late PDF is dropped
    from dramatiq.middleware.threading import raise_thread_exception
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    converters = pool(1, 120)
    assert TEXTS["invitation"] in _text(converters.convert(_docx("invitation")))
    stopped = freeze(tmp_path)
    outcome: list[str] = []

    def actor() -> None:
        try:
            converters.convert(_docx("consultation_parent"), "form")
            outcome.append("converted")
        except TimeLimitExceeded:
            outcome.append("interrupted")

    thread = threading.Thread(target=actor)
    thread.start()
    time.sleep(0.5)  # let the converter take the document to the stopped LibreOffice
    raise_thread_exception(thread.ident, TimeLimitExceeded)
    thread.join(30)
    thaw(stopped)
    assert outcome == ["interrupted"]
    for kind in ("return_instructions", "reminder", "invitation"):
        assert TEXTS[kind] in _text(converters.convert(_docx(kind), kind))


def test_a_caller_stops_waiting_in_time_and_the_others_are_served(
    pool: Callable[[int, float], ConverterPool], tmp_path: Path
) -> None:
    converters = pool(2, 120)
    stopped = freeze(tmp_path)
    try:
        with pytest.raises(ConverterError, match="in the time a letter is given") as caught:
            converters.convert(_docx("invitation"), "late", give_up_at=time.monotonic() + 2)
        assert isinstance(caught.value, TransientDeliveryError)  # so a letter is retried
        thaw(stopped[:1])  # one of the two runs again: it serves everyone meanwhile
        results: list[object] = []

        def letter(kind: str) -> None:
            try:
                results.append(_text(converters.convert(_docx(kind), kind,
                                                        give_up_at=time.monotonic() + 60)))
            except ConverterError as exc:
                results.append(exc)

        threads = [threading.Thread(target=letter, args=(kind,)) for kind in TEXTS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        thaw(stopped)
    # the stopped converter may have taken one document (its caller then gave up), no more
    failed = [r for r in results if isinstance(r, ConverterError)]
    assert len(results) == len(TEXTS) and len(failed) <= 1
    assert all(isinstance(r, str) for r in results if r not in failed)


def test_only_a_document_a_fresh_libreoffice_refuses_twice_fails(
    soffice: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    needs_uno()
    with PdfConverter(soffice, folder=tmp_path) as conv:
        conv.convert(_docx("invitation"))  # warm: the next refusal could be LibreOffice's own
        with caplog.at_level(logging.WARNING, "workers.documents.pdf"), \
                pytest.raises(TemplateError, match="twice, each time freshly started"):
            conv.convert(BROKEN_DOCX, "broken")
        # refused by the warm one, then by a fresh one, then by a fresh one again
        assert sum("trying again on a fresh LibreOffice" in r.message
                   for r in caplog.records) == 2
        assert TEXTS["reminder"] in _text(conv.convert(_docx("reminder"), "reminder"))


def test_a_letter_whose_converter_failed_is_retried_not_failed(
    pool: Callable[[int, float], ConverterPool], tmp_path: Path
) -> None:
    converters = pool(1, 120)
    sessions = sqlite_store(tmp_path)
    [dispatch_id] = make_letters(sessions, 1)
    stopped = freeze(tmp_path)

    def compose(session: Session, dispatch: Dispatch) -> object:
        converters.convert(_docx("invitation"), dispatch.key, give_up_at=time.monotonic() + 2)
        raise AssertionError("the stopped LibreOffice cannot have converted it")

    outbox = OutboxTransport(OutboxConfig(tmp_path / "outbox", "iro.service@council.example"))
    d = dispatcher(sessions, outbox)
    d.compose = compose  # type: ignore[assignment]
    try:
        with pytest.raises(RetryLater) as caught:
            d.process(dispatch_id)
    finally:
        thaw(stopped)
    assert not caught.value.throttled and caught.value.delay_seconds > 0
    waiting = row(sessions, dispatch_id)
    assert waiting.state == "queued" and "LibreOffice" in (waiting.last_error or "")
