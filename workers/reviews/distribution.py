"""The completed record reaches the people entitled to it, when the IRO confirms (issue 15 §2).

Who: the child (a letter of their own with the decisions in plain words, ``record_child_letter``;
none under 4), parents, carers and the social worker on the review's case record, each by their
channel. The IRO may leave someone out and withhold sections from a recipient — in the record's
"Who receives this record" table (naming the section's heading in that person's row) or on the
command line — and that copy has the section's content removed. Nothing is planned without
``confirm``; before that the list is shown. Then the same rules as the mail-out: every copy is
preflighted (case record, allow-list, postal address, the document renders) and planned as a
dispatch with a unique key (``R-1042/record/P-3``), all in one transaction, so a second run
plans nothing twice; the worker sends email copies and the print batch prints postal ones.

With ``decisions`` only the review's decisions go (read into the store by ``decisions-sent`` or
``recorded``), to the same list by the same rules, keyed ``R-1042/decisions/P-3``: adults get
``record_decisions``, the child the same letter of their own. Someone the record's decisions
section is withheld from gets no decisions copy.
"""

from __future__ import annotations

import datetime as dt
import logging
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from workers.documents.record_views import COPY_ROLES, MIN_CHILD_AGE
from workers.documents.titles import document_title
from workers.errors import BadInputError, RecordUnreadableError, RefusedError
from workers.mailout.plan import PlannedLetter
from workers.mailout.preflight import Problem, check_recipient, refuse
from workers.reviews import records
from workers.reviews.record_sections import headings, withheld_in_record, without_sections
from workers.store import audit
from workers.store.models import Dispatch, Participant, Review, ReviewDecision

if TYPE_CHECKING:
    from workers.mailout.documents import MailoutConfig

log = logging.getLogger(__name__)

RECORD_COPY_KIND = "review_record_copy"
DECISIONS_COPY_KIND = "review_decisions_copy"
COPY_KINDS = (RECORD_COPY_KIND, DECISIONS_COPY_KIND)
DECISIONS_SECTION = "Decisions of this review (SMART)"  # its heading in the record
ROLES = COPY_ROLES  # who the record goes to, as the record's own "Copy" column says


@dataclass(frozen=True)
class Copy:
    key: str
    participant_id: int
    participant_ref: str
    role: str
    channel: str
    recipient: str  # the email address, or "post"
    withheld: tuple[str, ...] = ()

    @property
    def child_letter(self) -> bool:
        return self.role == "child"


@dataclass(frozen=True)
class Distribution:
    review_ref: str
    copies: tuple[Copy, ...]
    confirmed: bool
    created: int = 0
    existing: frozenset[str] = field(default_factory=frozenset)
    not_sent: tuple[str, ...] = ()  # refs the decisions are withheld from (decisions only)


def parse_withhold(values: Sequence[str]) -> dict[str, list[str]]:
    """``P-2=The child and the placement`` → {"P-2": ["The child and the placement"]}."""
    out: dict[str, list[str]] = {}
    for value in values:
        ref, sep, title = value.partition("=")
        if not sep or not ref.strip() or not title.strip():
            raise BadInputError(f"--withhold {value!r}: expected PARTICIPANT_REF=Section heading")
        out.setdefault(ref.strip(), []).append(title.strip())
    return out


def plan_copies(review: Review, people: Sequence[Participant], *, on: dt.date,
                withhold: Mapping[str, Sequence[str]], leave_out: Sequence[str],
                sections: Sequence[str], what: str = "record") -> list[Copy]:
    """Pure: one copy per entitled participant, in the order of the case record; ``what`` is
    "record" or "decisions" (the key's middle part)."""
    refs = {p.ref for p in people}
    unknown = sorted((set(withhold) | set(leave_out)) - refs)
    if unknown:
        raise BadInputError(f"not on review {review.ref}'s case record: {', '.join(unknown)}; "
                            "`iro returns REF` lists its participants")
    known = {s.lower() for s in sections}
    for ref, titles in withhold.items():
        missing = [t for t in titles if t.lower() not in known]
        if missing:
            raise BadInputError(
                f"--withhold {ref}: no section {missing[0]!r} in the record; its sections are: "
                f"{'; '.join(sections)}")
    age = relativedelta(on, review.child.date_of_birth).years
    copies = []
    for p in people:
        if p.role not in ROLES or p.ref in leave_out:
            continue
        if p.role == "child" and age < MIN_CHILD_AGE:
            continue
        recipient = (p.email or "").strip().lower() if p.channel == "email" else "post"
        copies.append(Copy(f"{review.ref}/{what}/{p.ref}", p.id, p.ref, p.role, p.channel,
                           recipient, tuple(withhold.get(p.ref, ()))))
    return copies


def _sections(review: Review, content: bytes) -> list[str]:
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return headings(content)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RecordUnreadableError(
            f"review {review.ref}: the kept record is not a Word document that can be read; "
            f"give a corrected one with `iro review recorded {review.ref} --file` (or upload "
            "it on the review's page)") from exc


def _with_marked(given: Mapping[str, Sequence[str]], marked: Mapping[str, Sequence[str]],
                 people: Sequence[Participant]) -> dict[str, list[str]]:
    """The sections withheld: those the IRO marked in the record's recipients table (by name)
    and those given on the command line (by reference)."""
    out = {ref: list(titles) for ref, titles in given.items()}
    by_name = {p.name.strip().lower(): p.ref for p in people}
    for name, titles in marked.items():
        ref = by_name.get(name.strip().lower())
        if ref is not None:
            out.setdefault(ref, [])
            out[ref] += [t for t in titles if t not in out[ref]]
    return out


def decisions_of(session: Session, review: Review) -> list[ReviewDecision]:
    return list(session.scalars(select(ReviewDecision).where(
        ReviewDecision.review_id == review.id).order_by(ReviewDecision.number)))


def copy_document(cfg: MailoutConfig, session: Session, review: Review, person: Participant,
                  withheld: Sequence[str], *, decisions: bool = False) -> tuple[str, bytes]:
    """(file name, .docx) of one person's copy: the child's letter, the decisions letter
    (``decisions``), or the record with the withheld sections taken out."""
    if person.role == "child":
        return f"{review.ref}-what-we-decided.docx", render_child_letter(cfg, session, review,
                                                                          person)
    if decisions:
        return f"{review.ref}-review-decisions.docx", render_letter(
            cfg, session, review, person, "record_decisions")
    if not review.record_file:
        raise RefusedError(f"review {review.ref}: no completed record is kept")
    content = Path(review.record_file).read_bytes()
    return f"{review.ref}-review-record.docx", without_sections(content, withheld)


def render_child_letter(cfg: MailoutConfig, session: Session, review: Review,
                        person: Participant) -> bytes:
    return render_letter(cfg, session, review, person, "record_child_letter")


def render_letter(cfg: MailoutConfig, session: Session, review: Review, person: Participant,
                  kind: str) -> bytes:
    """A letter of the review's decisions from the store (the child's, or the adults')."""
    from workers.documents import contexts
    from workers.mailout.documents import IroFallback
    from workers.reviews.draft_inputs import next_review_due

    iro = cfg.directory.iro(review.iro_email)
    contact: contexts.Contact = iro if iro is not None else IroFallback(review.iro_email)
    ctx: dict[str, Any] = contexts.letter(review.child, review, person,
                                          contexts.Common(cfg.letterhead, contact,
                                                          cfg.clock.today()))
    ctx["decisions"] = [{"number": d.number, "outcome": d.outcome, "action": d.action,
                         "responsible": d.responsible, "timescale": d.timescale}
                        for d in decisions_of(session, review)]
    ctx["next_review"] = {"due_on": next_review_due(
        session, review, cfg.rules.review_timescales, cfg.rules.mailout, cfg.calendar)}
    return bytes(cfg.engine.render(kind, ctx, document_title(kind, ctx)))


def _withheld_as_kept(review: Review, withhold: Mapping[str, Sequence[str]],
                      people: Sequence[Participant]) -> tuple[list[str], dict[str, list[str]]]:
    """The kept record's sections, and what is withheld from whom (given and marked)."""
    if not review.record_file or not Path(review.record_file).is_file():
        return [DECISIONS_SECTION], {ref: list(t) for ref, t in withhold.items()}
    content = Path(review.record_file).read_bytes()
    sections = _sections(review, content)
    return sections, _with_marked(withhold, withheld_in_record(content, sections), people)


def _decisions_withheld(copies: Sequence[Copy]) -> tuple[list[Copy], tuple[str, ...]]:
    """Decisions copies: none to those the decisions section is withheld from; the others carry
    no other section, so nothing else is withheld from them."""
    out, not_sent = [], []
    for c in copies:
        if DECISIONS_SECTION.lower() in (t.lower() for t in c.withheld):
            not_sent.append(c.participant_ref)
        else:
            out.append(replace(c, withheld=()))
    return out, tuple(not_sent)


def distribute(sessions: sessionmaker[Session], cfg: MailoutConfig, review_ref: str, *,
               withhold: Mapping[str, Sequence[str]], leave_out: Sequence[str] = (),
               confirm: bool, actor: str, decisions: bool = False) -> Distribution:
    """Show (``confirm`` False) or plan (True) the record's copies (``decisions``: the
    decisions' copies); PreflightError lists every problem and nothing is planned then."""
    now, today = cfg.clock.now(), cfg.clock.today()
    what = "decisions" if decisions else "record"
    with sessions() as session:
        review = records.review_by_ref(session, review_ref)
        if decisions and not decisions_of(session, review):
            raise RefusedError(
                f"review {review.ref}: no decisions are in the store yet; give them with `iro "
                f"review decisions-sent {review.ref} --date D --file draft.docx` (or `recorded`)")
        if not decisions and (not review.record_file or not Path(review.record_file).is_file()):
            raise RefusedError(
                f"review {review.ref}: the completed record is not kept yet; give it with "
                f"`iro review recorded {review.ref} --date D --file record.docx` first")
        people = list(session.scalars(select(Participant).where(
            Participant.review_id == review.id).order_by(Participant.id)))
        sections, wanted = _withheld_as_kept(review, withhold, people)
        copies = plan_copies(review, people, on=today, withhold=wanted, leave_out=leave_out,
                             sections=sections, what=what)
        not_sent: tuple[str, ...] = ()
        if decisions:
            copies, not_sent = _decisions_withheld(copies)
        by_id = {p.id: p for p in people}
        problems: list[Problem] = []
        for c in copies:
            letter = PlannedLetter(c.key, c.participant_id, c.participant_ref, c.role,
                                   c.channel, c.recipient, None)
            reasons = check_recipient(letter, by_id.get(c.participant_id), review.id,
                                      cfg.allowed_domains)
            problems += [Problem(c.participant_ref, c.role, r) for r in reasons]
            if not reasons:
                copy_document(cfg, session, review, by_id[c.participant_id], c.withheld,
                              decisions=decisions)
        if problems:
            log.warning("%s distribution for review %s refused: %d problems", what,
                        review.ref, len(problems))
            raise refuse(review.ref, problems)
        existing = frozenset(session.scalars(select(Dispatch.key).where(
            Dispatch.key.in_([c.key for c in copies]))))
        ref = review.ref
        if not confirm:
            return Distribution(ref, tuple(copies), False, existing=existing, not_sent=not_sent)
        kind = DECISIONS_COPY_KIND if decisions else RECORD_COPY_KIND
        rows = [Dispatch(key=c.key, kind=kind, channel=c.channel, state="pending",
                         review_id=review.id, participant_id=c.participant_id,
                         recipient=c.recipient, due_at=now,
                         params={"review_ref": ref, "withheld": list(c.withheld)})
                for c in copies if c.key not in existing]
        try:
            session.add_all(rows)
            session.flush()
            for row in rows:
                audit.record(session, "dispatch.planned", "dispatch", row.id, actor=actor,
                             key=row.key, kind=row.kind, channel=row.channel)
            audit.record(session, f"review_{what}.distributed", "review", review.id,
                         actor=actor, review_ref=ref, copies=len(rows), not_sent=list(not_sent),
                         withheld={c.participant_ref: list(c.withheld) for c in copies
                                   if c.withheld})
            session.commit()
        except IntegrityError:
            session.rollback()  # another run planned them first: theirs stand
            return Distribution(ref, tuple(copies), True, 0, existing, not_sent)
    log.info("%s distribution for review %s: %d copies planned", what, ref, len(rows))
    return Distribution(ref, tuple(copies), True, len(rows), existing, not_sent)
