"""Escalation notices (dispute resolution): the informal alert, each formal stage, CAFCASS."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docx.document import Document as DocxDocument

from templatebuild.blocks import para, sign_off, table, tag, when, write_box
from templatebuild.layout import (
    address_block,
    keep_rows_whole,
    new_document,
    set_widths,
    shade,
)

# One citation everywhere: the Handbook's dispute resolution chapter (as in escalation/wording).
CITE = "IRO Handbook 2010, chapter 6, §6.2"

# What a notice says without a response: the next stage, its manager and the day it goes there.
NEXT = (
    "If I have no response by {{ escalation.response_due_on|uk_date }}, I will "
    "{% if escalation.next_stage.is_cafcass %}consider referring the case to CAFCASS"
    "{% else %}escalate the concern to {{ escalation.next_stage.manager }} "
    "({{ escalation.next_stage.title }}){% endif %} on "
    "{{ escalation.next_stage.on|uk_date }}."
)

ASK_FORMAL = [
    "Please respond to me in writing by {{ escalation.response_due_on|uk_date }}, setting out "
    "what will be done, by whom and by when.",
]
CEILING = (
    "The process should be completed within 20 working days of the concern being raised, "
    f"that is by {{{{ escalation.ceiling_on|uk_date }}}} ({CITE})."
)

STAGES: dict[str, tuple[str, Sequence[str]]] = {
    "informal": ("Informal alert", [
        "I am raising a concern about the care plan for the child named below. I would like to "
        "resolve it informally with you first. Please discuss it with me and let me know what "
        "you will do by {{ escalation.response_due_on|uk_date }}.",
    ]),
    "deputy_manager": ("Formal escalation: deputy manager", ASK_FORMAL),
    "group_manager": ("Formal escalation: group manager", ASK_FORMAL),
    "head_of_service": ("Formal escalation: head of service", ASK_FORMAL),
    "assistant_director": ("Formal escalation: assistant director", ASK_FORMAL),
}


def _facts(doc: DocxDocument, facts: Sequence[tuple[str, str]]) -> None:
    tbl = doc.add_table(rows=len(facts), cols=2)
    tbl.style = "Table Grid"
    for row, (label, value) in zip(tbl.rows, facts, strict=True):
        row.cells[0].paragraphs[0].style = "Table Heading"
        row.cells[0].paragraphs[0].add_run(label)
        row.cells[1].paragraphs[0].style = "Table Text"
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (55, 115))
    doc.add_paragraph()


def _concern_and_steps(doc: DocxDocument) -> None:
    doc.add_paragraph("The concern", style="Heading 1")
    para(doc, "{{ escalation.concern }}")
    tag(doc, "if escalation.history")
    doc.add_paragraph("Steps so far", style="Heading 1")
    para(doc, "{{ escalation.summary }}")
    table(doc, ["Date", "Stage", "What happened", "Summary"],
          ["{{ h.date|uk_date }}", "{{ h.stage }}", "{{ h.action }}", "{{ h.text }}"],
          loop="h in escalation.history", widths_mm=[28, 42, 40, 60])
    keep_rows_whole(doc.tables[-1])
    tag(doc, "endif")


def _copy_to(doc: DocxDocument) -> None:
    """The same notice goes to everyone copied: the list says who has it."""
    tag(doc, "if escalation.copy_to")
    para(doc, "", bold_lead="Copy to:")
    tag(doc, "for c in escalation.copy_to")
    para(doc, "{{ c.name }}, {{ c.role }}")
    tag(doc, "endfor")
    tag(doc, "endif")


def notice(stage: str) -> DocxDocument:
    title, asks = STAGES[stage]
    doc = new_document()
    address_block(doc)
    doc.add_paragraph(f"{title}: {{{{ escalation.ref }}}}", style="Title")
    para(doc, "{{ recipient.salutation }},")
    when(doc, "escalation.opening", ["{{ escalation.opening }}"])
    for text in asks:
        para(doc, text)
    if stage == "informal":
        when(doc, "escalation.next_stage", [
            "If it cannot be resolved informally, I will start the formal dispute resolution "
            f"process ({CITE}) with {{{{ escalation.next_stage.manager }}}} "
            "({{ escalation.next_stage.title }}) on {{ escalation.next_stage.on|uk_date }}.",
        ])
    else:
        when(doc, "escalation.next_stage", [NEXT])
        para(doc, CEILING)
    doc.add_paragraph("About the escalation", style="Heading 1")
    _facts(doc, (
        ("Child", "{{ child.full_name }} ({{ child.ref }}), "
                  "born {{ child.date_of_birth|uk_date }}"),
        ("Legal status", "{{ child.legal_status }}"),
        ("Category", "{{ escalation.category }}"),
        ("Raised on", "{{ escalation.raised_on|uk_date }}"),
        ("Stage", "{{ escalation.stage }}, from {{ escalation.stage_started_on|uk_date }}"),
        ("Response due by", "{{ escalation.response_due_on|uk_date }}"),
        ("To be resolved by", "{{ escalation.ceiling_on|uk_date }}"),
        ("Independent Reviewing Officer", "{{ iro.name }}, {{ iro.email }}"),
    ))
    _concern_and_steps(doc)
    write_box(doc, "Your response (or reply by email quoting {{ escalation.ref }})", 45)
    sign_off(doc)
    _copy_to(doc)
    return doc


def referral() -> DocxDocument:
    """The CAFCASS referral: a letter of its own to CAFCASS, with what a referral needs (the
    child, the order or proceedings, the concern, the steps and their dates, the IRO's contact);
    nothing asks CAFCASS to respond by a date."""
    doc = new_document()
    address_block(doc)
    doc.add_paragraph("Referral to CAFCASS: {{ escalation.ref }}", style="Title")
    para(doc, "{{ recipient.salutation }},")
    para(doc, "I am referring the case of the child named below to CAFCASS under section "
              f"25B(3) of the Children Act 1989 ({CITE.split(', §')[0]}).")
    tag(doc, "if escalation.alongside")
    para(doc, "I raised the concern with the local authority through its dispute resolution "
              "process on {{ escalation.raised_on|uk_date }}. That process continues alongside "
              "this referral: it is now at {{ escalation.ladder_stage }}.")
    tag(doc, "else")
    para(doc, "The concern has been through the local authority's dispute resolution process "
              "since {{ escalation.raised_on|uk_date }} and has not been resolved.")
    tag(doc, "endif")
    para(doc, "The steps taken so far and their dates are set out below. Please contact me to "
              "discuss the referral: {{ iro.name }}, telephone {{ iro.phone }}, email "
              "{{ iro.email }}.")
    doc.add_paragraph("The child", style="Heading 1")
    _facts(doc, (
        ("Child", "{{ child.full_name }} ({{ child.ref }})"),
        ("Date of birth", "{{ child.date_of_birth|uk_date }}"),
        ("Order or proceedings", "{{ child.legal_status }}"),
        ("Placement", "{{ child.placement }}"),
        ("Local authority", "{{ council.name }}"),
        ("Category of concern", "{{ escalation.category }}"),
        ("Concern first raised", "{{ escalation.raised_on|uk_date }}"),
        ("Referred to CAFCASS", "{{ escalation.referred_on|uk_date }}"),
        ("Independent Reviewing Officer", "{{ iro.name }}, {{ iro.phone }}, {{ iro.email }}"),
    ))
    _concern_and_steps(doc)
    sign_off(doc)
    _copy_to(doc)
    return doc


def resolved() -> DocxDocument:
    """The short notice of the outcome, to each person who had a notice of the escalation."""
    doc = new_document()
    address_block(doc)
    doc.add_paragraph("Escalation resolved: {{ escalation.ref }}", style="Title")
    para(doc, "{{ recipient.salutation }},")
    para(doc, "The concern about the care plan of the child named below, raised on "
              "{{ escalation.raised_on|uk_date }} ({{ escalation.category }}), was resolved on "
              "{{ outcome.resolved_on|uk_date }} at {{ escalation.stage }} by "
              "{{ outcome.by }}. {% if outcome.to_resolver %}This is the note of the outcome "
              "you recorded, as sent to everyone who had a notice of this escalation."
              "{% else %}You had a notice of this escalation, so I am letting you know it is "
              "closed; nothing more is needed from you.{% endif %}")
    doc.add_paragraph("The outcome", style="Heading 1")
    para(doc, "{{ outcome.text }}")
    doc.add_paragraph("About the escalation", style="Heading 1")
    _facts(doc, (
        ("Child", "{{ child.full_name }} ({{ child.ref }})"),
        ("Category", "{{ escalation.category }}"),
        ("Raised on", "{{ escalation.raised_on|uk_date }}"),
        ("Resolved on", "{{ outcome.resolved_on|uk_date }}"),
        ("Independent Reviewing Officer", "{{ iro.name }}, {{ iro.email }}"),
    ))
    _concern_and_steps(doc)
    sign_off(doc)
    return doc


def builders() -> dict[str, Callable[[], DocxDocument]]:
    found: dict[str, Callable[[], DocxDocument]] = {
        f"escalation_{stage}": (lambda s=stage: notice(s)) for stage in STAGES
    }
    found["escalation_cafcass"] = referral
    found["escalation_resolved"] = resolved
    return found
