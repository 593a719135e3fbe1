"""The survey by post (issue 20 §1): a person with no email address but a postal one is sent a
printed questionnaire through the day's print batch (real LibreOffice), keeps the covering
letter (their address in the envelope window, the one-time link) and posts back only the
questionnaire, which carries a return code and no name; business support keys it with
`iro survey key --code`, which marks that person answered (their posted reminder is never
printed) and stores the answers apart, and Appendix A counts them.

Counted by hand: one carer by email (not sent here: no worker runs), one carer by post on two
reviews (asked once), a social worker with neither address (not asked). After the batch is
printed and the form keyed: carers asked 1 (the posted questionnaire is the one sent), returned
1, "100% (1 of 1)"; Q1 Always 1, Q5 Good 1.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from factories import make_child, make_participant, make_review, sqlite_store
from mailout_support import make_config
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from survey_support import ALLOWED, CAFCASS, CAL, CARER_A, PUBLIC_URL, SECRET, SURVEY, D
from test_envelope_window import check_first_page

from workers.core.clock import LONDON, london_moment
from workers.errors import BadInputError, NotFoundError, RefusedError
from workers.mailout.printing import build_batch, mark_printed
from workers.store.models import Dispatch, Return, SurveyInvitation, SurveyResponse
from workers.survey import links
from workers.survey.answers import key_paper
from workers.survey.counts import survey_results
from workers.survey.report import appendix_tables
from workers.survey.start import StartRequest, financial_year, start

TODAY = D("2026-12-07")
ADDRESS = ["Pat Poster", "3 Elm Road", "Exampleton", "EX2 4AB"]
BSO = "bso@council.example.gov.uk"


def seed(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        for n, held in enumerate(("2026-05-04", "2026-06-10")):
            review = make_review(s, make_child(s, ref=f"C-PO{n}"), ref=f"R-PO{n}",
                                 held_on=D(held), status="recorded")
            make_participant(s, review, "carer", ref=f"P-PC{n}", name="Pat Poster",
                             channel="post", address="3 Elm Road\nExampleton",
                             postcode="EX2 4AB")
            if n == 0:
                make_participant(s, review, "carer", ref="P-EM0", email=CARER_A)
                make_participant(s, review, "social_worker", ref="P-SW0", email=None)


@pytest.mark.libreoffice
def test_posted_questionnaire_printed_keyed_and_counted(tmp_path: Path, soffice: str) -> None:
    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions() as s:
        result = start(s, SURVEY, CAL, StartRequest("2026-27", ("carer", "social_worker"),
                                                    D("2027-01-29"), financial_year("2026-27")),
                       allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
                       now=dt.datetime(2026, 12, 7, 9, tzinfo=LONDON), actor=BSO)
        s.commit()
    assert sorted((r.role, r.channel) for r in result.planned) == [("carer", "email"),
                                                                   ("carer", "post")]
    assert [str(x) for x in result.not_asked] == [
        "participant P-SW0 (social_worker): no email or postal address on the case record; "
        "not asked"]
    with sessions() as s:
        posted = s.scalars(select(Dispatch).where(Dispatch.channel == "post")
                           .order_by(Dispatch.id)).all()
        assert [(d.kind, d.recipient) for d in posted] == [("questionnaire", "post"),
                                                           ("survey_reminder", "post")]
        invitation = s.scalars(select(SurveyInvitation).where(
            SurveyInvitation.dispatch_id == posted[0].id)).one()
        code = links.paper_code(SECRET, invitation.salt)
        token = links.token_for(SECRET, invitation.salt)

    cfg = make_config(tmp_path, pdf=True, today=TODAY, IRO_LIBREOFFICE_SOFFICE=soffice,
                      IRO_SURVEY_LINK_SECRET=SECRET, IRO_SURVEY_PUBLIC_URL=PUBLIC_URL)
    batch = build_batch(sessions, cfg, TODAY)
    assert batch.letters == 1 and batch.pdf_path is not None  # the emailed one is not printed
    pages = [p.extract_text() for p in PdfReader(str(batch.pdf_path)).pages]
    check_first_page(batch.pdf_path, 1, ADDRESS)  # the window shows the address and only it
    assert links.link(PUBLIC_URL, token) in pages[0].replace("\n", "")
    form = [n for n, text in enumerate(pages, start=1) if "Return code" in text]
    assert form and form[0] % 2 == 1  # the questionnaire starts a sheet: not behind the address
    back = "\n".join(pages[form[0] - 1:])
    assert code in back and "Pat Poster" not in back and "Elm Road" not in back
    assert "\u2610 Always" in back.replace("\u00a0", " ")
    assert "1. Are you informed by the first Review" in back
    assert mark_printed(sessions, batch.batch_id or 0, now=london_moment(TODAY)) == 1

    keyed_on = D("2027-01-11")
    with sessions() as s:
        with pytest.raises(NotFoundError, match="no questionnaire of survey 2026-27"):
            key_paper(s, "2026-27", None, {"Q1": "Always"}, actor=BSO, today=keyed_on,
                      code="AAAAA-AAAAA", secret=SECRET)
        with pytest.raises(BadInputError, match="was sent to a carer"):
            key_paper(s, "2026-27", "social_worker", {"Q1": "Always"}, actor=BSO,
                      today=keyed_on, code=code, secret=SECRET)
        typed = code.lower().replace("-", " ")  # as business support might type it
        assert key_paper(s, "2026-27", None, {"Q1": "always", "Q5": "Good"}, actor=BSO,
                         today=keyed_on, code=typed, secret=SECRET) == "carer"
        s.commit()
        with pytest.raises(RefusedError, match="answered already"):
            key_paper(s, "2026-27", None, {"Q1": "Never"}, actor=BSO, today=keyed_on,
                      code=code, secret=SECRET)
        s.rollback()
        mark = s.get(SurveyInvitation, invitation.id)
        assert mark is not None and mark.returned_on == keyed_on
        assert s.scalars(select(Return.channel).where(
            Return.dispatch_id == invitation.dispatch_id)).one() == "post"
        assert s.scalars(select(SurveyResponse.answers)).one() == {"Q1": "Always", "Q5": "Good"}
        assert s.get(Dispatch, posted[1].id).state == "cancelled"  # type: ignore[union-attr]
        results = survey_results(s, D("2026-04-01"), D("2027-03-31"))
    # the reminder's day: nothing to print, they answered
    assert build_batch(sessions, cfg, D("2027-01-22")).batch_id is None
    assert results is not None
    carers = next(r for r in results.roles if r.role == "carer")
    assert (carers.asked, carers.returned, carers.rate) == (1, 1, "100% (1 of 1)")
    table = next(t for t in appendix_tables(results) if t.key == "survey_carer")
    counts = {row[0]: row[1] for row in table.rows}
    assert counts["Q1 Always"] == 1 and counts["Q5 Good"] == 1 and counts["Q1 Never"] == 0


def test_a_posted_address_that_cannot_be_delivered_refuses_the_start(tmp_path: Path) -> None:
    """The mail-out's preflight rule for every posted letter: a whole address, with a postcode,
    that fits the envelope window; otherwise nothing is planned."""
    from workers.errors import PreflightError

    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions.begin() as s:
        review = make_review(s, make_child(s, ref="C-PO9"), ref="R-PO9", held_on=D("2026-07-01"),
                             status="recorded")
        make_participant(s, review, "carer", ref="P-PC9", name="Sam Short", channel="post",
                         address="Exampleton", postcode="EX2 4AB")
    with sessions() as s, pytest.raises(PreflightError) as refused:
        start(s, SURVEY, CAL, StartRequest("2026-27", ("carer",), D("2027-01-29"),
                                           financial_year("2026-27")),
              allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
              now=dt.datetime(2026, 12, 7, 9, tzinfo=LONDON), actor=BSO)
    assert ("participant P-PC9 (carer): postal address has fewer than two lines"
            in str(refused.value))
    assert "Sam Short" not in str(refused.value) and "Exampleton" not in str(refused.value)
    with sessions() as s:
        assert s.scalars(select(Dispatch)).all() == []


@pytest.mark.libreoffice
def test_fillable_form_filled_and_read_back(tmp_path: Path, soffice: str,
                                            config_copy: Path) -> None:
    """`iro survey form` writes a blank questionnaire as a fillable PDF: one radio group per
    question over its ☐ boxes; ticked in a PDF reader (pypdf here) and keyed with `iro survey key
    --file`, its answers are stored and it marks no one."""
    import os
    import subprocess
    import sys

    from clock_env import as_of
    from factories import sqlite_url
    from pypdf import PdfWriter

    sessions = sqlite_store(tmp_path)
    seed(sessions)
    with sessions() as s:
        start(s, SURVEY, CAL, StartRequest("2026-27", ("carer",), D("2027-01-29"),
                                           financial_year("2026-27")),
              allowed_domains=ALLOWED, cafcass_address=CAFCASS, link_secret=SECRET,
              now=dt.datetime(2026, 12, 7, 9, tzinfo=LONDON), actor=BSO)
        s.commit()

    def iro(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(Path(sys.executable).with_name("iro")), "--config", str(config_copy), *args],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "IRO_DATABASE_URL": sqlite_url(tmp_path),
                 "IRO_SURVEY_LINK_SECRET": SECRET, "IRO_LIBREOFFICE_SOFFICE": soffice,
                 "IRO_RUNTIME_DIR": str(tmp_path / "run"), **as_of(D("2027-01-11"))})

    blank = tmp_path / "carer.pdf"
    made = iro("survey", "form", "2026-27", "--role", "carer", "-o", str(blank))
    assert made.returncode == 0, made.stderr
    form = PdfReader(str(blank))
    fields = form.get_fields() or {}
    assert sorted(fields) == [f"Q{n}" for n in range(1, 7)]
    assert "Return code" not in "".join(p.extract_text() for p in form.pages)
    filled = PdfWriter(clone_from=form)
    for page in filled.pages:  # Q1 Usually (the second box), Q5 Fair (the third)
        filled.update_page_form_field_values(page, {"Q1": "/A1", "Q5": "/A2"},
                                             auto_regenerate=False)
    back = tmp_path / "returned.pdf"
    filled.write(back)

    keyed = iro("survey", "key", "2026-27", "--file", str(back), "--by", BSO)
    assert keyed.returncode == 0, keyed.stderr
    assert "carer answers recorded (2 given)" in keyed.stdout
    with sessions() as s:
        assert s.scalars(select(SurveyResponse.answers)).one() == {"Q1": "Usually", "Q5": "Fair"}
        assert s.scalars(select(SurveyInvitation.returned_on)).all() == [None, None]
    wrong = iro("survey", "key", "2026-27", "--file", str(tmp_path / "carer.pdf"))
    assert wrong.returncode == 2 and "nothing is ticked on it" in wrong.stderr
