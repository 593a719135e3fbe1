"""The catalogue of document kinds and the fields each kind's context provides.

This is the contract between the context builders (``workers.documents.contexts``), the templates
staff edit in Word (``templates_docx/``) and the validator (``iro templates check``): a template may
only use fields its kind declares. ``docs/templates.md`` is generated from here
(``python -m workers.documents.catalogue_doc > docs/templates.md``) and a test keeps it current.

Field names are dotted paths; ``enclosures[].title`` is the ``title`` of each item when a template
loops over ``enclosures``. Pure data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Format = Literal["docx", "email"]


@dataclass(frozen=True)
class Field:
    name: str
    description: str
    optional: bool = False  # may be empty; the template must read well without it


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    format: Format
    audience: str
    fields: tuple[Field, ...]

    @property
    def filename(self) -> str:
        return f"{self.name}.docx" if self.format == "docx" else f"{self.name}.txt"

    def field_names(self) -> frozenset[str]:
        return frozenset(f.name for f in self.fields)


def _f(name: str, description: str, optional: bool = False) -> Field:
    return Field(name, description, optional)


COUNCIL = (
    _f("council.name", "Council name for the letterhead, e.g. 'Example Borough Council'."),
    _f("council.service", "Service name, e.g. 'Independent Reviewing Service'."),
    _f("council.address_lines", "Council postal address, a list of lines."),
    _f("council.phone", "Service telephone number."),
    _f("council.email", "Service mailbox address (returns and replies go here)."),
    _f("council.privacy_notice", "Where the council's privacy notice is (a web address).", True),
)
LETTER = (
    _f("letter.reference", "Our reference printed on the letter (review or escalation ref)."),
    _f("letter.date", "Date of the letter (a date: use |uk_date)."),
)
RECIPIENT = (
    _f("recipient.name", "Full name of the person the document is addressed to."),
    _f("recipient.salutation", "How the letter greets them: 'Dear Ms Smith', 'Dear Sam'."),
    _f(
        "recipient.role",
        "child, parent, carer, social_worker, guardian or other (wording adapts to it).",
    ),
    _f("recipient.is_child", "True when writing to the child or young person."),
    _f("recipient.organisation", "Their organisation, e.g. fostering agency.", optional=True),
    _f("recipient.address_lines", "Postal address lines (may be empty for email).", True),
    _f("recipient.postcode", "Postcode, printed on its own line.", optional=True),
)
CHILD = (
    _f("child.ref", "The child's case reference."),
    _f("child.given_name", "The child's given name (what letters to the child use)."),
    _f("child.full_name", "The child's full name."),
    _f("child.initials", "The child's initials, e.g. 'S.J.' (for subjects and headers)."),
    _f("child.date_of_birth", "Date of birth (a date)."),
    _f("child.age", "Age in whole years at the review date."),
    _f("child.placement", "Where the child lives now (placement description).", optional=True),
    _f("child.legal_status", "Legal status, e.g. 'Section 20', 'Care order'.", optional=True),
)
REVIEW = (
    _f("review.ref", "The review reference, e.g. 'R-1042'."),
    _f("review.sequence", "1 for the first review, 2 for the second, …"),
    _f("review.ordinal", "'first', 'second', 'third', … (wording)."),
    _f("review.scheduled_at", "Date and time of the meeting (use |uk_day_date and |uk_time)."),
    _f("review.venue", "Where the meeting is held.", optional=True),
    _f("review.due_on", "Latest date allowed by reg 33 (a date)."),
    _f("review.held_on", "Date the review was held (a date; empty before).", optional=True),
)
IRO = (
    _f("iro.name", "The Independent Reviewing Officer chairing the review."),
    _f("iro.email", "The IRO's email address."),
    _f("iro.phone", "The IRO's telephone number.", optional=True),
)
FORM = (
    _f("form.reference_code", "Return reference code printed on the form (matches returns)."),
    _f("form.return_by", "Date the form should be back (a date)."),
    _f("form.return_email", "Email address to send the completed form to."),
    _f("form.return_address_lines", "Postal address for returns, a list of lines."),
    _f("form.reply_paid", "True when a reply-paid envelope comes with the form.", True),
    _f("form.postage", "What a returned form's envelope needs, e.g. 'a first class stamp'.",
       True),
    _f("form.bring_to_meeting", "True when the letter is too late for the return date "
       "(rules.yaml mailout.late_return: bring_to_meeting): ask for the form at the meeting.",
       True),
)
ENCLOSURES = (
    _f("enclosures", "What is sent with the letter, a list (may be empty)."),
    _f("enclosures[].title", "Name of the enclosed document."),
    _f("enclosures[].action", "What to do with it, e.g. 'Fill in and return by 2 March 2026'."),
)
PARTICIPANTS = (
    _f("participants", "Everyone invited, a list."),
    _f("participants[].name", "Participant's name."),
    _f("participants[].role", "Their role in words (child, parent, carer, social worker, …)."),
    _f("participants[].relationship", "Relationship to the child or organisation.", True),
    _f("participants[].attended", "True / False / None when not yet recorded."),
    _f("participants[].views_in_writing", "True when their consultation form came back."),
    _f("participants[].receives", "How the completed record reaches them, in words."),
)
RECORD = (
    _f("participation.code", "SSDA903 participation code (PN0–PN7) if recorded.", optional=True),
    _f("participation.meaning", "What the participation code means.", optional=True),
    _f("participation_codes", "All participation codes, a list, for the IRO to choose from."),
    _f("participation_codes[].code", "Code, e.g. 'PN1'."),
    _f("participation_codes[].meaning", "Its meaning."),
    _f("previous_review.first", "True for the child's first review (no previous decisions)."),
    _f("previous_review.held_on", "Date the previous review was held, when the store has it.",
       optional=True),
    _f("previous_review.known", "True when the previous record's decisions are in the store."),
    _f("previous_decisions", "The previous review's decisions as read back from its record, "
       "a list (empty when not known)."),
    _f("previous_decisions[].number", "Decision number."),
    _f("previous_decisions[].outcome", "The desired outcome.", optional=True),
    _f("previous_decisions[].action", "What was decided."),
    _f("previous_decisions[].responsible", "Who was responsible."),
    _f("previous_decisions[].timescale", "By when."),
    _f("previous_decisions[].indicator", "How we would know it worked.", optional=True),
    _f("previous_blank_rows", "Blank rows for the previous decisions when the store does not "
       "hold them (a list of numbers; empty otherwise)."),
    _f("next_review.due_on", "Latest date for the next review (reg 33).", optional=True),
    _f("escalations", "The child's open escalations, a list (may be empty)."),
    _f("escalations[].ref", "Escalation reference."),
    _f("escalations[].category", "Category title."),
    _f("escalations[].stage", "Title of the stage it is at."),
    _f("escalations[].raised_on", "Date raised."),
    _f("decision_rows", "How many blank SMART decision rows to print (a list of numbers)."),
    _f("advocates", "The child's advocates on the case record, names (empty for none)."),
    _f("views", "Per section (child, parents, carers, professionals): invited, attended, absent, "
       "in_writing (with the day each form came back), not_in_writing — names, each may be "
       "empty."),
)
NEXT_STAGE = (
    _f("escalation.next_stage", "The stage the concern goes to without a response (empty at "
       "the last stage and for CAFCASS).", optional=True),
    _f("escalation.next_stage.title", "Title of the next stage."),
    _f("escalation.next_stage.manager", "Name of the next stage's manager."),
    _f("escalation.next_stage.on", "Date it goes there if there is no response."),
    _f("escalation.next_stage.is_cafcass", "True when the next step is a CAFCASS referral."),
)
ESCALATION = (
    _f("escalation.ref", "Escalation reference, e.g. 'ESC-17'."),
    _f("escalation.category", "Category title, e.g. 'Delay in review decisions'."),
    _f("escalation.concern", "The IRO's concern, as written by the IRO."),
    _f("escalation.raised_on", "Date the escalation was raised."),
    _f("escalation.stage", "Title of the current stage, e.g. 'Deputy manager'."),
    _f("escalation.stage_started_on", "Date this stage began."),
    _f("escalation.response_due_on", "Date a response is due at this stage.", optional=True),
    _f("escalation.ceiling_on", "Date by which the whole process should be resolved."),
    _f("escalation.history", "Earlier steps, a list (may be empty)."),
    _f("escalation.history[].date", "Date of the step."),
    _f("escalation.history[].stage", "Stage title at the time."),
    _f("escalation.history[].action", "What happened, in words: 'Concern raised', "
       "'Response received', 'Escalated to the next stage', 'Referred to CAFCASS', …"),
    _f("escalation.history[].text", "Summary of the step (a response as recorded; who it was "
       "sent to).", optional=True),
    _f("escalation.summary", "One sentence: raised when and where, stages so far, responses, "
       "where it is now."),
    _f("escalation.opening", "How the concern reached this stage, as it happened (escalated "
       "after no resolution, raised directly at this stage, a stage skipped); empty for a "
       "first-stage raise.", optional=True),
    _f("escalation.copy_to", "Everyone who has a copy of this notice, a list (may be empty)."),
    _f("escalation.copy_to[].name", "Name of someone copied."),
    _f("escalation.copy_to[].role", "What they are, in words: 'team manager', "
       "'Independent Reviewing Officer'."),
    _f("escalation.referred_on", "Date referred to CAFCASS.", optional=True),
    _f("escalation.alongside", "True when the local authority's stages continue alongside a "
       "CAFCASS referral."),
    _f("escalation.ladder_stage", "Title of the local authority stage the escalation is at."),
) + NEXT_STAGE
OUTCOME = (
    _f("outcome.resolved_on", "Date it was resolved."),
    _f("outcome.by", "Who resolved it (the IRO or the IRO manager)."),
    _f("outcome.to_resolver", "True in the copy for the person who resolved it."),
    _f("outcome.text", "The outcome, as the IRO recorded it (in the document only)."),
)
CHILD_DECISIONS = (
    _f("decisions", "The review's decisions as read back from the record, a list (may be "
       "empty)."),
    _f("decisions[].number", "Decision number."),
    _f("decisions[].action", "What was agreed."),
    _f("decisions[].responsible", "Who will do it."),
    _f("decisions[].timescale", "By when."),
    _f("next_review.due_on", "Latest date for the next review (reg 33).", optional=True),
)
RECORD_COPY = (
    _f("withheld", "Titles of the sections left out of this copy, a list (may be empty)."),
    _f("decisions_only", "True when the copy carries only the review's decisions (sent "
       "before the record)."),
)
DEADLINE = (
    _f("deadline.what", "What is due: 'review decisions' or 'review record'."),
    _f("deadline.due_on", "Date it is due."),
    _f("deadline.days_overdue", "Working days overdue (0 before the deadline)."),
    _f("deadline.days_left", "Working days from today to the due date (0 once due)."),
)
OVERDUE_LIST = (
    _f("overdue", "Every write-up of this IRO overdue today, a list (may be empty)."),
    _f("overdue[].ref", "The review reference."),
    _f("overdue[].initials", "The child's initials."),
    _f("overdue[].what", "'review decisions' or 'review record'."),
    _f("overdue[].due_on", "Date it was due."),
    _f("overdue[].days_overdue", "Working days overdue today."),
)
PREVIOUS = (  # issue 16: a meeting moved after the invitations went
    _f("previous.scheduled_at", "When the meeting was to be held before it moved (use "
       "|uk_day_date and |uk_time)."),
    _f("previous.venue_changed", "True when the venue changed too."),
)
MIDWAY = (  # issue 20 §2: what the IRO checks at the midway point
    _f("open_decisions", "The decisions of the review the check follows not yet done, a list "
       "(empty when none were read from its record)."),
    _f("open_decisions[].number", "Decision number."),
    _f("open_decisions[].action", "What was decided."),
    _f("open_decisions[].responsible", "Who is responsible."),
    _f("open_decisions[].timescale", "By when, as the record gives it."),
    _f("record_file", "Where the completed record is kept, under the documents folder (empty "
       "when it has not been uploaded).", optional=True),
)
EMAIL_SIGN = (_f("mailbox.display_name", "Name the service signs emails with."),)

_LETTER_BASE = COUNCIL + LETTER + RECIPIENT + CHILD + REVIEW + IRO


def _kinds() -> dict[str, Kind]:
    kinds: list[Kind] = [
        Kind("invitation", "Invitation to a review", "docx", "every invitee (wording by role)",
             _LETTER_BASE + FORM + ENCLOSURES),
        Kind("reminder", "Reminder to return a consultation form", "docx",
             "invitees who have not returned their form", _LETTER_BASE + FORM),
        Kind("return_instructions", "How to return your form (in packs)", "docx",
             "every invitee sent a form", COUNCIL + LETTER + RECIPIENT + CHILD + REVIEW + FORM),
    ]
    for band, words in (("4_7", "4 to 7"), ("8_11", "8 to 11"), ("12_15", "12 to 15"),
                        ("16_plus", "16 and over")):
        kinds.append(Kind(f"consultation_child_{band}", f"Child's booklet, ages {words}", "docx",
                          "the child", COUNCIL + LETTER + CHILD + REVIEW + IRO + FORM))
    for role, who in (("parent", "parents"), ("carer", "carers"),
                      ("social_worker", "the social worker")):
        kinds.append(Kind(f"consultation_{role}", f"Consultation form for {who}", "docx", who,
                          COUNCIL + LETTER + RECIPIENT + CHILD + REVIEW + IRO + FORM))
    kinds += [
        Kind("change_of_arrangements", "Change of arrangements for a review", "docx",
             "everyone already invited, when the meeting moves", _LETTER_BASE + PREVIOUS),
        Kind("review_cancelled", "A review meeting cancelled", "docx",
             "everyone already invited, when the review is cancelled", _LETTER_BASE),
    ]
    kinds.append(Kind("review_record", "Draft review record (for the IRO)", "docx", "the IRO",
                      COUNCIL + LETTER + CHILD + REVIEW + IRO + PARTICIPANTS + RECORD))
    kinds.append(Kind("record_child_letter", "The child's letter of what the review decided",
                      "docx", "the child (instead of the full record)",
                      COUNCIL + LETTER + RECIPIENT + CHILD + REVIEW + IRO + CHILD_DECISIONS))
    kinds.append(Kind("record_decisions", "The review's decisions (sent before the record)",
                      "docx", "parents, carers and the social worker, as the IRO confirms",
                      COUNCIL + LETTER + RECIPIENT + CHILD + REVIEW + IRO + CHILD_DECISIONS
                      + (_f("decisions[].outcome", "The outcome the decision is for."),)))
    esc_base = COUNCIL + LETTER + RECIPIENT + CHILD + IRO + ESCALATION
    for key, title in (
        ("informal", "Informal alert"),
        ("deputy_manager", "Escalation to the deputy manager"),
        ("group_manager", "Escalation to the group manager"),
        ("head_of_service", "Escalation to the head of service"),
        ("assistant_director", "Escalation to the assistant director"),
        ("cafcass", "Referral to CAFCASS"),
    ):
        kinds.append(Kind(f"escalation_{key}", title, "docx", "the stage's manager", esc_base))
    kinds.append(Kind("escalation_resolved", "Escalation resolved: the outcome", "docx",
                      "everyone who had a notice of the escalation", esc_base + OUTCOME))
    mail_base = CHILD[:4] + REVIEW + IRO + EMAIL_SIGN
    kinds += [
        Kind("email_invitation", "Email carrying an invitation or pack", "email", "invitees",
             RECIPIENT[:4] + mail_base + FORM[:2] + FORM[-1:]
             + (_f("is_reminder", "True when this email carries a reminder."),)),
        Kind("email_casework", "Email carrying a change-of-arrangements or cancellation letter",
             "email", "everyone already invited",
             (RECIPIENT[0], RECIPIENT[1], RECIPIENT[3]) + mail_base + PREVIOUS
             + (_f("is_cancellation", "True when the review is cancelled (else it moved)."),)),
        Kind("email_escalation", "Email carrying an escalation notice", "email", "managers",
             (RECIPIENT[0], RECIPIENT[1]) + CHILD[:4] + IRO + EMAIL_SIGN + ESCALATION[:8]
             + NEXT_STAGE
             + (_f("is_copy", "True when copied for information (no response asked)."),
                _f("addressee.name", "Who the notice is addressed to (a copy's email says so)."),
                _f("addressee.role", "What the addressee is, e.g. 'Deputy manager'.",
                   optional=True),
                _f("copy.reason", "Why a copied reader has the notice ('you raised this "
                   "escalation …'); empty for the addressee.", optional=True))),
        Kind("email_escalation_outcome", "Escalation resolved: the outcome", "email",
             "everyone who had a notice of the escalation",
             (RECIPIENT[0], RECIPIENT[1]) + CHILD[:4] + IRO + EMAIL_SIGN + ESCALATION[:8]
             + OUTCOME[:3]),
        Kind("email_escalation_alert", "Escalation response overdue or past the total time",
             "email", "the IRO (and the IRO manager, copied, past the total time)",
             (RECIPIENT[0], RECIPIENT[1]) + CHILD[:4] + IRO + EMAIL_SIGN + ESCALATION[:8]
             + (_f("alert.kind", "'overdue' (no response by the stage's date) or 'ceiling' "
                   "(past the total time allowed)."),)),
        Kind("email_record_copy", "Email carrying a copy of the review record", "email",
             "the child, parents, carers and the social worker, as the IRO confirms",
             (RECIPIENT[0], RECIPIENT[1], RECIPIENT[3]) + mail_base + RECORD_COPY),
        Kind("email_review_record", "Email to the IRO with the draft review record", "email",
             "the IRO", (RECIPIENT[0], RECIPIENT[1]) + mail_base + DEADLINE
             + (_f("decisions_due_on", "Date the review decisions are due.", optional=True),
                _f("record_reply_days", "Days a record the IRO emails back waits for them to "
                   "confirm it on the review's page before it is deleted (settings "
                   "mailbox.record_reply_days)."))),
        Kind("email_writeup_reminder", "Reminder to the IRO that a write-up is due", "email",
             "the IRO", (RECIPIENT[0], RECIPIENT[1]) + mail_base + DEADLINE),
        Kind("email_midway_reminder", "Reminder to the IRO that a midway check is due",
             "email", "the IRO", (RECIPIENT[0], RECIPIENT[1]) + mail_base + DEADLINE + MIDWAY),
        Kind("email_writeup_overdue", "Notice that a write-up is overdue", "email",
             "the IRO manager and the IRO",
             (RECIPIENT[0], RECIPIENT[1]) + mail_base + DEADLINE + OVERDUE_LIST),
    ]
    return {k.name: k for k in kinds}


KINDS: dict[str, Kind] = _kinds()

# Names fixed by config/rules.yaml: consultation.age_bands[*].template and
# escalation.stages[*].template.
CONSULTATION_KINDS = tuple(k for k in KINDS if k.startswith("consultation_"))
ESCALATION_KINDS = tuple(k for k in KINDS if k.startswith("escalation_"))


def get_kind(name: str) -> Kind:
    """The kind called ``name``; a TemplateError lists the known kinds otherwise."""
    from workers.errors import TemplateError

    try:
        return KINDS[name]
    except KeyError:
        raise TemplateError(
            f"unknown document kind {name!r}; known kinds: {', '.join(sorted(KINDS))}"
        ) from None

