"""The draft review record the IRO completes after the meeting."""

from __future__ import annotations

from docx.document import Document as DocxDocument

from templatebuild.blocks import para, table, tag, write_box
from templatebuild.layout import new_document, set_widths, shade


def _facts(doc: DocxDocument, rows: list[tuple[str, str]]) -> None:
    tbl = doc.add_table(rows=len(rows), cols=2)
    tbl.style = "Table Grid"
    for row, (label, value) in zip(tbl.rows, rows, strict=True):
        row.cells[0].paragraphs[0].style = "Table Heading"
        row.cells[0].paragraphs[0].add_run(label)
        row.cells[1].paragraphs[0].style = "Table Text"
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (60, 110))
    doc.add_paragraph()


def review_record() -> DocxDocument:
    doc = new_document(reference="{{ review.ref }} {{ child.initials }}", letterhead=False)
    doc.add_paragraph("Looked after review record (draft)", style="Title")
    para(doc, "Prepared for {{ iro.name }} on {{ letter.date|uk_date }}. Complete, check and "
         "send within the write-up timescale.", "Small Print")
    doc.add_paragraph("The child and the placement", style="Heading 1")
    _facts(doc, [
        ("Name", "{{ child.full_name }}"), ("Case reference", "{{ child.ref }}"),
        ("Date of birth", "{{ child.date_of_birth|uk_date }} (age {{ child.age }})"),
        ("Legal status", "{{ child.legal_status }}"), ("Placement", "{{ child.placement }}"),
    ])
    doc.add_paragraph("The review", style="Heading 1")
    _facts(doc, [
        ("Review", "{{ review.ref }}: {{ review.ordinal }} review"),
        ("Date and time", "{{ review.scheduled_at|uk_day_date }}, "
                          "{{ review.scheduled_at|uk_time }}"),
        ("Held on", "{{ review.held_on|uk_date }}"),
        ("Venue", "{{ review.venue }}"), ("Due by (reg 33)", "{{ review.due_on|uk_date }}"),
        ("Chair", "{{ iro.name }}, Independent Reviewing Officer"),
    ])
    doc.add_paragraph("Who was invited, who attended, whose views came in writing",
                      style="Heading 1")
    table(doc, ["Name", "Role", "Relationship", "Attended", "Written views"],
          ["{{ p.name }}", "{{ p.role }}", "{{ p.relationship }}",
           "{% if p.attended is none %}{% elif p.attended %}Yes{% else %}No{% endif %}",
           "{% if p.views_in_writing %}Received{% else %}Not received{% endif %}"],
          loop="p in participants", widths_mm=[45, 28, 47, 22, 28])
    doc.add_paragraph("How the child took part", style="Heading 1")
    para(doc, "{{ participation.code }} {{ participation.meaning }}",
         bold_lead="Participation code (SSDA903): ")
    table(doc, ["Code", "Meaning"], ["{{ c.code }}", "{{ c.meaning }}"],
          loop="c in participation_codes", widths_mm=[20, 150])
    write_box(doc, "The child's wishes and feelings", 40)
    doc.add_paragraph("Decisions of the previous review", style="Heading 1")
    tag(doc, "if previous_decisions")
    table(doc, ["No.", "Decision", "Responsible", "Timescale", "Progress (update)"],
          ["{{ d.number }}", "{{ d.action }}", "{{ d.responsible }}", "{{ d.timescale }}", ""],
          loop="d in previous_decisions", widths_mm=[12, 60, 32, 26, 40],
          loop_row_height_mm=14)
    tag(doc, "else")
    para(doc, "There were no previous decisions (first review).")
    tag(doc, "endif")
    doc.add_paragraph("Decisions of this review (SMART)", style="Heading 1")
    para(doc, "Specific, measurable, achievable, relevant and timed: each decision says what "
         "outcome it is for, who does what, by when, and how we will know it worked.",
         "Small Print")
    table(doc, ["No.", "Desired outcome", "Action", "Who is responsible", "Timescale",
                "Outcome indicator"],
          ["{{ n }}", "", "", "", "", ""], loop="n in decision_rows",
          widths_mm=[10, 36, 36, 30, 24, 34], loop_row_height_mm=22)
    write_box(doc, "Summary of the discussion", 50)
    write_box(doc, "IRO's overview: is the care plan meeting the child's needs?", 40)
    para(doc, "Signed: ______________________    Date: ______________")
    return doc
