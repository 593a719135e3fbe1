"""What the letters say about sending a form back: the return address names the service, the
envelope (reply-paid or the postage it needs, service.yaml ``post:``), and the privacy notice
naming the council as data controller (UK GDPR Art. 13)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_case, sqlite_store
from mailout_support import make_config
from test_documents_support import docx_text

from workers.mailout.documents import render_letter


def _documents(tmp_path: Path, **env: str) -> dict[str, str]:
    sessions = sqlite_store(tmp_path)
    cfg = make_config(tmp_path, **env)
    with sessions() as s:
        review = make_case(s)
        parent = review.participants[1]
        docs = render_letter(cfg, review.child, review, parent, form="consultation_parent",
                             code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5))
        docs += render_letter(cfg, review.child, review, parent, form="consultation_parent",
                              code="IRO-AB12-CD", return_by=dt.date(2027, 1, 5), reminder=True)
    return {kind: " ".join(docx_text(data).split()) for kind, data in docs}


@pytest.mark.parametrize("reply_paid", [False, True])
def test_return_address_names_the_service_and_says_what_postage(tmp_path: Path,
                                                                reply_paid: bool) -> None:
    text = _documents(tmp_path, IRO_POST_REPLY_PAID=str(reply_paid).lower(),
                      IRO_POST_POSTAGE="a second class stamp")
    address = "Independent Reviewing Service Civic Centre Stockwell Close Exampleton EX1 3UH"
    assert address in text["return_instructions"]
    assert ("Independent Reviewing Service, Civic Centre, Stockwell Close, Exampleton, EX1 3UH"
            in text["reminder"])
    assert "A fresh copy of the form is enclosed" in text["reminder"]
    for kind in ("return_instructions", "reminder"):
        assert ("envelope provided" in text[kind]) is reply_paid, kind
        assert ("a second class stamp" in text[kind]) is not reply_paid, kind


def test_return_instructions_carry_the_privacy_notice(tmp_path: Path) -> None:
    text = _documents(tmp_path, IRO_LETTERHEAD_NAME="Exampleshire County Council",
                      IRO_LETTERHEAD_PRIVACY_NOTICE="www.exampleshire.gov.uk/privacy")
    notice = text["return_instructions"]
    assert "Exampleshire County Council is the data controller" in notice
    assert "privacy notice at www.exampleshire.gov.uk/privacy" in notice
