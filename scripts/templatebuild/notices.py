"""Escalation notices (dispute resolution): the informal alert, each formal stage, CAFCASS."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docx.document import Document as DocxDocument

from templatebuild.blocks import para, sign_off, table, tag, write_box
from templatebuild.layout import address_block, new_document, set_widths, shade

ASK_FORMAL = [
    "This concern has not been resolved at the previous stage of the dispute resolution "
    "process, so I am escalating it to you. Please respond to me in writing by "
    "{{ escalation.response_due_on|uk_date }}, setting out what will be done, by whom and "
    "by when.",
    "The process should be completed within 20 working days of the concern being raised, "
    "that is by {{ escalation.ceiling_on|uk_date }} (IRO Handbook, 2010, chapter 7). If it is "
    "not resolved, I may escalate further or refer the case to CAFCASS.",
]

STAGES: dict[str, tuple[str, Sequence[str]]] = {
    "informal": ("Informal alert", [
        "I am raising a concern about the care plan for the child named below. I would like to "
        "resolve it informally with you first. Please discuss it with me and let me know what "
        "you will do by {{ escalation.response_due_on|uk_date }}.",
        "If it cannot be resolved informally, I will start the formal dispute resolution "
        "process (IRO Handbook, 2010, chapter 7).",
    ]),
    "deputy_manager": ("Formal escalation: deputy manager", ASK_FORMAL),
    "group_manager": ("Formal escalation: group manager", ASK_FORMAL),
    "head_of_service": ("Formal escalation: head of service", ASK_FORMAL),
    "assistant_director": ("Formal escalation: assistant director", ASK_FORMAL),
    "cafcass": ("Referral to CAFCASS", [
        "I am referring the case of the child named below to CAFCASS under section 25B(3) of "
        "the Children Act 1989. The local authority has not resolved the concern set out "
        "below through its dispute resolution process, and I consider that the child's case "
        "should be referred.",
        "The steps taken so far are listed below. Please contact me to discuss the referral.",
    ]),
}


def notice(stage: str) -> DocxDocument:
    title, asks = STAGES[stage]
    doc = new_document()
    address_block(doc)
    doc.add_paragraph(f"{title}: {{{{ escalation.ref }}}}", style="Title")
    para(doc, "{{ recipient.salutation }},")
    for text in asks:
        para(doc, text)
    doc.add_paragraph("About the escalation", style="Heading 1")
    tbl = doc.add_table(rows=8, cols=2)
    tbl.style = "Table Grid"
    facts = (
        ("Child", "{{ child.full_name }} ({{ child.ref }}), "
                  "born {{ child.date_of_birth|uk_date }}"),
        ("Legal status", "{{ child.legal_status }}"),
        ("Category", "{{ escalation.category }}"),
        ("Raised on", "{{ escalation.raised_on|uk_date }}"),
        ("Stage", "{{ escalation.stage }}, from {{ escalation.stage_started_on|uk_date }}"),
        ("Response due by", "{{ escalation.response_due_on|uk_date }}"),
        ("To be resolved by", "{{ escalation.ceiling_on|uk_date }}"),
        ("Independent Reviewing Officer", "{{ iro.name }}, {{ iro.email }}"),
    )
    for row, (label, value) in zip(tbl.rows, facts, strict=True):
        row.cells[0].paragraphs[0].style = "Table Heading"
        row.cells[0].paragraphs[0].add_run(label)
        row.cells[1].paragraphs[0].style = "Table Text"
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (55, 115))
    doc.add_paragraph()
    doc.add_paragraph("The concern", style="Heading 1")
    para(doc, "{{ escalation.concern }}")
    tag(doc, "if escalation.history")
    doc.add_paragraph("Steps so far", style="Heading 1")
    table(doc, ["Date", "Stage", "Step", "Summary"],
          ["{{ h.date|uk_date }}", "{{ h.stage }}", "{{ h.action }}", "{{ h.text }}"],
          loop="h in escalation.history", widths_mm=[30, 40, 25, 75])
    tag(doc, "endif")
    write_box(doc, "Your response (or reply by email quoting {{ escalation.ref }})", 45)
    sign_off(doc)
    return doc


def builders() -> dict[str, Callable[[], DocxDocument]]:
    return {f"escalation_{stage}": (lambda s=stage: notice(s)) for stage in STAGES}
