"""The survey by post: a posted questionnaire (or its reminder) as pages for the print batch.

The print batch (workers/mailout/printing.py) takes ``questionnaire`` and ``survey_reminder``
dispatches on the ``post`` channel like any letter: this makes their pages. The one-time link
and the return code are made again from the invitation's salt (nothing secret is stored); the
address comes from the case record at print time, as every posted letter's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from workers.casework.contact import postal_address
from workers.errors import NotFoundError, PermanentDeliveryError, ServiceUnavailableError
from workers.mail.message import DOCX, PDF, Attachment
from workers.store.models import Dispatch, Participant, Survey
from workers.survey import links
from workers.survey.answers import asked, survey_named
from workers.survey.paper import PaperQuestionnaire, covering_letter, questionnaire
from workers.survey.sending import ROLE_WORDS, _invitation
from workers.survey.start import QUESTIONNAIRE, REMINDER

if TYPE_CHECKING:
    from workers.mailout.documents import MailoutConfig

KINDS = (QUESTIONNAIRE, REMINDER)


def answered(session: Session, dispatch: Dispatch) -> bool:
    """A posted reminder whose questionnaire came back (online or keyed by its code)."""
    return dispatch.kind == REMINDER and _invitation(session, dispatch)[0].returned_on is not None


def _paper(cfg: MailoutConfig, survey: Survey, role: str, *, code: str = "", link: str = "",
           reminder: bool = False) -> PaperQuestionnaire:
    head, post = cfg.letterhead, cfg.settings.post
    return PaperQuestionnaire(
        survey_name=survey.name, closes_on=survey.closes_on,
        role_words=ROLE_WORDS.get(role, role), role_title=str(survey.questions[role]["title"]),
        questions=asked(survey, role), service=head.service, council=head.name,
        return_lines=(head.service, *head.address_lines), postage=post.postage,
        reply_paid=post.reply_paid, code=code, link=link, reminder=reminder)


def fillable_form(cfg: MailoutConfig, session: Session, name: str, role: str) -> bytes:
    """A blank questionnaire for ``role`` as a fillable PDF (no code: whoever returns it is marked
    as no one), for a colleague to pass on by email; `iro survey key --file` reads it back."""
    from workers.mailout.documents import pdf_enabled, to_pdf
    from workers.survey.fillable import make_fillable

    survey = survey_named(session, name)
    if not pdf_enabled(cfg):
        raise ServiceUnavailableError("a fillable PDF needs LibreOffice; install "
                                      "libreoffice-writer-nogui (make system-deps)")
    paper = _paper(cfg, survey, role)
    pdf = to_pdf(cfg, questionnaire(paper), f"survey-{survey.name}-{role}/questionnaire")
    return make_fillable(pdf, paper.questions, survey=survey.name, role=role)


def word_form(cfg: MailoutConfig, session: Session, name: str, role: str) -> bytes:
    """The same blank questionnaire as a Word form with check boxes (no LibreOffice needed)."""
    from workers.survey.word_form import make_word_form

    survey = survey_named(session, name)
    paper = _paper(cfg, survey, role)
    return make_word_form(questionnaire(paper), paper.questions, survey=survey.name, role=role)


def pack(cfg: MailoutConfig, session: Session, dispatch: Dispatch
         ) -> tuple[Participant, list[Attachment]]:
    """The person it goes to and the pages: the covering letter, then the questionnaire, each
    on a fresh sheet."""
    from workers.mailout.documents import pdf_enabled, to_pdf

    invitation, survey = _invitation(session, dispatch)
    person = session.get(Participant, dispatch.participant_id or 0)
    if person is None or not postal_address(person):
        raise NotFoundError(f"dispatch {dispatch.key}: no postal address on the case record")
    setting = cfg.settings.survey.link_secret
    secret = links.require_secret(setting.get_secret_value() if setting else None)
    token = links.token_for(secret, invitation.salt)
    if links.token_hash(token) != invitation.token_hash:
        raise PermanentDeliveryError(f"dispatch {dispatch.key}: IRO_SURVEY_LINK_SECRET differs "
                                     "from the one the survey was started with; restore it")
    paper = _paper(cfg, survey, invitation.role, code=links.paper_code(secret, invitation.salt),
                   link=links.link(cfg.settings.survey.public_url, token),
                   reminder=dispatch.kind == REMINDER)
    recipient = [person.name, person.organisation, *postal_address(person).splitlines()]
    docs = [("letter", covering_letter(paper, recipient, f"Dear {person.name}",
                                       cfg.clock.today(), cfg.settings.post)),
            ("questionnaire", questionnaire(paper))]
    stem = f"survey-{survey.name}-{person.ref}"
    if not pdf_enabled(cfg):
        return person, [Attachment(f"{stem}-{kind}.docx", data, DOCX) for kind, data in docs]
    from workers.documents.packs import build_pack

    pdfs = [to_pdf(cfg, data, f"{stem}/{kind}") for kind, data in docs]
    title = f"{paper.service}: stakeholder questionnaire {survey.name}"
    return person, [Attachment(f"{stem}.pdf", build_pack(pdfs, duplex=True, title=title), PDF)]
