"""Composers for the survey's emails: the questionnaire link, and the reminder.

Registered with ``workers.queue.compose.register_composer`` by ``register(load)`` (as
workers.reviews.notices), so they go through the dispatcher: exactly once in effect, the address
checked again at send time against the case record and the allow-list (or, for a guardian asked
through CAFCASS, against directory.yaml). The email carries the one-time link, made again here
from the invitation's salt; it names no child. A reminder for someone who has answered is
refused (answering cancels it first: workers.survey.answers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.documents.filters import uk_date
from workers.errors import NotFoundError, PermanentDeliveryError
from workers.mail.message import OutgoingMessage
from workers.queue.compose import ComposeContext, recipient_of, register_composer
from workers.store.models import Dispatch, Participant, Survey, SurveyInvitation
from workers.survey import links
from workers.survey.start import QUESTIONNAIRE, REMINDER

if TYPE_CHECKING:
    from workers.config.directory import Directory
    from workers.config.settings import Settings

ROLE_WORDS = {"carer": "foster carer", "social_worker": "social worker",
              "guardian": "Children's Guardian"}


@dataclass(frozen=True)
class SurveyMailConfig:
    public_url: str
    link_secret: str | None
    cafcass_address: str | None  # directory.yaml stage_managers.cafcass
    service_name: str = "Independent Reviewing Service"


def _invitation(session: Session, dispatch: Dispatch) -> tuple[SurveyInvitation, Survey]:
    column = (SurveyInvitation.dispatch_id if dispatch.kind == QUESTIONNAIRE
              else SurveyInvitation.reminder_dispatch_id)
    invitation = session.scalars(select(SurveyInvitation).where(column == dispatch.id)).first()
    survey = session.get(Survey, invitation.survey_id) if invitation else None
    if invitation is None or survey is None:
        raise NotFoundError(f"dispatch {dispatch.key} belongs to no survey invitation")
    return invitation, survey


def _address(session: Session, dispatch: Dispatch, cfg: SurveyMailConfig,
             ctx: ComposeContext) -> tuple[str, str | None]:
    """The address (checked) and the name to greet (None through CAFCASS: the guardian's name
    is given to CAFCASS, never a child's)."""
    if dispatch.params.get("via") == "cafcass":
        expected = (cfg.cafcass_address or "").lower()
        if not expected or dispatch.recipient.lower() != expected:
            raise PermanentDeliveryError(
                f"dispatch {dispatch.key}: the address is not CAFCASS's in directory.yaml "
                "(stage_managers.cafcass); start the survey again")
        return expected, _participant_name(session, dispatch)
    participant = recipient_of(session, dispatch, ctx)
    return participant.email or "", participant.name


def _participant_name(session: Session, dispatch: Dispatch) -> str | None:
    person = session.get(Participant, dispatch.participant_id) if dispatch.participant_id else None
    return person.name if person else None


def compose(session: Session, dispatch: Dispatch, cfg: SurveyMailConfig,
            ctx: ComposeContext) -> OutgoingMessage:
    invitation, survey = _invitation(session, dispatch)
    reminder = dispatch.kind == REMINDER
    if reminder and invitation.returned_on is not None:
        raise PermanentDeliveryError(f"dispatch {dispatch.key}: answered already; no reminder")
    to, name = _address(session, dispatch, cfg, ctx)
    token = links.token_for(links.require_secret(cfg.link_secret), invitation.salt)
    if links.token_hash(token) != invitation.token_hash:
        raise PermanentDeliveryError(f"dispatch {dispatch.key}: IRO_SURVEY_LINK_SECRET differs "
                                     "from the one the survey was started with; restore it")
    via_cafcass = dispatch.params.get("via") == "cafcass"
    greeting = ("Dear colleague,\n\nPlease pass this to the Children's Guardian "
                f"{name or ''} — it is their questionnaire.\n\n" if via_cafcass
                else f"Dear {name or 'colleague'},\n\n")
    role = ROLE_WORDS.get(invitation.role, invitation.role)
    lead = (f"A reminder: we have not yet had your answers to our {survey.name} questionnaire."
            if reminder else
            f"As a {role} who took part in a looked after child's review this year, we would "
            f"value your view of the {cfg.service_name}.")
    body = (
        f"{greeting}{lead}\n\n"
        "The questionnaire takes about five minutes. Your answers are anonymous: we record "
        "that you replied, not what you said.\n\n"
        f"Answer here (the link works once, until {uk_date(survey.closes_on)}):\n"
        f"{links.link(cfg.public_url, token)}\n\n"
        f"{cfg.service_name}\n"
    )
    what = "reminder" if reminder else "questionnaire"
    return OutgoingMessage(
        dispatch_key=dispatch.key,
        to=to,
        subject=f"{cfg.service_name}: stakeholder {what} {survey.name}",
        body_text=body,
        reply_to=ctx.reply_to,
    )


def register(load: Callable[[], SurveyMailConfig]) -> None:
    def bound(session: Session, dispatch: Dispatch, ctx: ComposeContext) -> OutgoingMessage:
        return compose(session, dispatch, load(), ctx)

    register_composer(QUESTIONNAIRE, bound)
    register_composer(REMINDER, bound)


@cache
def load_from_config_dir() -> SurveyMailConfig:
    from workers.cli.context import AppContext

    app = AppContext()
    return mail_config(app.settings, app.directory)


def mail_config(settings: Settings, directory: Directory) -> SurveyMailConfig:
    secret = settings.survey.link_secret
    cafcass = directory.stage_managers.get("cafcass")
    return SurveyMailConfig(settings.survey.public_url,
                            secret.get_secret_value() if secret else None,
                            cafcass.email if cafcass else None,
                            settings.mailbox.display_name)
