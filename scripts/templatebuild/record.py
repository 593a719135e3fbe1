"""The draft review record the IRO completes after the meeting."""

from __future__ import annotations

from docx.document import Document as DocxDocument

from templatebuild.blocks import para, table, tag, write_box
from templatebuild.layout import new_document, set_widths, shade


def _facts(doc: DocxDocument, rows: list[tuple[str, str]], *, with_next: bool = False) -> None:
    """A two-column table of facts, kept on one page (with what follows, ``with_next``)."""
    tbl = doc.add_table(rows=len(rows), cols=2)
    tbl.style = "Table Grid"
    for row, (label, value) in zip(tbl.rows, rows, strict=True):
        row.cells[0].paragraphs[0].style = "Table Heading"
        row.cells[0].paragraphs[0].add_run(label)
        row.cells[1].paragraphs[0].style = "Table Text"
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (60, 110))
    for row in tbl.rows[:None if with_next else -1]:
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.keep_with_next = True
    doc.add_paragraph().paragraph_format.keep_with_next = with_next


_ATTENDED = ("{{% if views.{g}.attended %}}{yes}{{% elif views.{g}.absent %}}{no}"
             "{{% else %}}Not recorded{{% endif %}}")


def _heard(doc: DocxDocument, key: str) -> None:
    """Who in this group was invited, came, and sent views in writing (from the store)."""
    v = f"views.{key}"
    _facts(doc, [
        ("Invited", f"{{{{ {v}.invited or 'No one' }}}}"),
        ("Attended", _ATTENDED.format(g=key, yes=f"{{{{ {v}.attended }}}}", no="No one")),
        ("Views in writing", f"{{{{ {v}.in_writing or 'None received' }}}}"),
        ("No written views from", f"{{{{ {v}.not_in_writing or 'No one' }}}}"),
    ], with_next=True)


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
          loop="p in participants", widths_mm=[45, 30, 45, 22, 28])
    doc.add_paragraph("The child's views and how they were given", style="Heading 1")
    para(doc, "{{ participation.code }} {{ participation.meaning }}",
         bold_lead="Participation code (SSDA903): ")
    table(doc, ["Code", "Meaning"], ["{{ c.code }}", "{{ c.meaning }}"],
          loop="c in participation_codes", widths_mm=[20, 150])
    _facts(doc, [
        ("Attended the meeting", _ATTENDED.format(g="child", yes="Yes", no="No")),
        ("Views in writing", "{% if views.child.in_writing %}{{ views.child.in_writing }}"
                             "{% else %}None received{% endif %}"),
        ("Advocate (name, or none)", "{{ advocates }}"),
        ("Did the IRO see the child before the meeting? When?", ""),
    ])
    write_box(doc, "The child's wishes and feelings", 40)
    for key, title in (("parents", "Parents' views"), ("carers", "Carers' views"),
                       ("professionals", "Professionals' views")):
        doc.add_paragraph(title, style="Heading 1")
        _heard(doc, key)
        write_box(doc, "Their views" if key != "professionals" else
                  "Their views (social worker, school, health, others)", 30)
    doc.add_paragraph("The plans", style="Heading 1")
    plans = doc.add_table(rows=7, cols=3)
    plans.style = "Table Grid"
    for row, label in zip(plans.rows, (
            "Plan", "Care plan", "Placement plan", "Personal education plan (PEP)",
            "Health assessment", "Pathway plan (16 and over)", "Permanence plan"), strict=True):
        row.cells[0].paragraphs[0].style = "Table Heading"
        row.cells[0].paragraphs[0].add_run(label)
        shade(row.cells[0])
        for cell in row.cells[1:]:
            cell.paragraphs[0].style = "Table Heading" if label == "Plan" else "Table Text"
    plans.rows[0].cells[1].paragraphs[0].add_run("Up to date? Date of the latest")
    plans.rows[0].cells[2].paragraphs[0].add_run("Comment")
    plans.rows[5].cells[2].paragraphs[0].add_run(
        "{% if child.age >= 16 %}Required: the child is {{ child.age }}"
        "{% else %}Not yet required (the child is {{ child.age }}){% endif %}")
    for cell in plans.rows[0].cells[1:]:
        shade(cell)
    set_widths(plans, (60, 45, 65))
    doc.add_paragraph()
    doc.add_paragraph("Delegated authority", style="Heading 1")
    write_box(doc, "What the carers may decide day to day, and what is not delegated", 25)
    doc.add_paragraph("Escalations open for the child", style="Heading 1")
    tag(doc, "if escalations")
    table(doc, ["Reference", "Concern", "Stage", "Raised on"],
          ["{{ e.ref }}", "{{ e.category }}", "{{ e.stage }}", "{{ e.raised_on|uk_date }}"],
          loop="e in escalations", widths_mm=[22, 66, 50, 32])
    tag(doc, "else")
    para(doc, "None open.")
    tag(doc, "endif")
    doc.add_paragraph("Decisions of the previous review", style="Heading 1")
    tag(doc, "if previous_review.known")
    para(doc, "From the record of the review held on {{ previous_review.held_on|uk_date }}. "
         "Write the progress on each.", "Small Print")
    table(doc, ["No.", "Outcome and action", "Who", "By when", "Progress"],
          ["{{ d.number }}", "{% if d.outcome %}{{ d.outcome }}: {% endif %}{{ d.action }}",
           "{{ d.responsible }}", "{{ d.timescale }}", ""],
          loop="d in previous_decisions", widths_mm=[12, 62, 30, 24, 42],
          loop_row_height_mm=14)
    tag(doc, "elif previous_review.first")
    para(doc, "This is the child's first review: there are no previous decisions.")
    tag(doc, "else")
    para(doc, "Previous decisions: see the record of {% if previous_review.held_on %}"
         "{{ previous_review.held_on|uk_date }}{% else %}the previous review{% endif %} "
         "(its decisions are not held by this service). Copy them here, checking each still "
         "applies, with the progress on each.")
    table(doc, ["No.", "Outcome and action", "Who", "By when", "Progress"],
          ["{{ n }}", "", "", "", ""], loop="n in previous_blank_rows",
          widths_mm=[12, 62, 30, 24, 42], loop_row_height_mm=14)
    tag(doc, "endif")
    doc.add_paragraph("Decisions of this review (SMART)", style="Heading 1")
    para(doc, "Specific, measurable, achievable, relevant and timed: each decision says what "
         "outcome it is for, who does what, by when, and how we will know it worked.",
         "Small Print")
    table(doc, ["No.", "Desired outcome", "Action", "Who is responsible", "Timescale",
                "Outcome indicator"],
          ["{{ n }}", "", "", "", "", ""], loop="n in decision_rows",
          widths_mm=[11, 33, 33, 31, 27, 35], loop_row_height_mm=22)
    write_box(doc, "Summary of the discussion", 50)
    write_box(doc, "IRO's overview: is the care plan meeting the child's needs?", 40)
    doc.add_paragraph("The next review", style="Heading 1")
    _facts(doc, [
        ("Next review due by (reg 33)",
         "{% if next_review.due_on %}{{ next_review.due_on|uk_date }}{% endif %}"),
        ("Date, time and venue agreed", ""),
    ])
    doc.add_paragraph("Who receives this record", style="Heading 1")
    para(doc, "Name the heading of any section withheld from a recipient, and why (for example "
         "\u201cThe child and the placement\u201d for a parent the placement is withheld from): "
         "their copy leaves that section out.", "Small Print")
    table(doc, ["Name", "Role", "Copy", "Sections withheld, and why"],
          ["{{ p.name }}", "{{ p.role }}", "{{ p.receives }}", ""], loop="p in participants",
          widths_mm=[40, 28, 42, 60])
    para(doc, "Signed: ______________________    Date: ______________")
    return doc


def child_letter() -> DocxDocument:
    """The child's own letter after the review: what was decided, in plain words (issue 15 §2).
    Sent instead of the full record to the child."""
    from templatebuild.blocks import sign_off
    from templatebuild.layout import address_block

    doc = new_document()
    address_block(doc)
    doc.add_paragraph("What we decided at your review", style="Title")
    para(doc, "{{ recipient.salutation }},")
    para(doc, "Thank you for your part in your review on {{ review.held_on|uk_date }}. This "
         "letter tells you what we agreed. The grown-ups named below will do these things, and "
         "I will check that they have.")
    tag(doc, "if decisions")
    table(doc, ["What we agreed", "Who will do it", "By when"],
          ["{{ d.action }}", "{{ d.responsible }}", "{{ d.timescale }}"],
          loop="d in decisions", widths_mm=[95, 40, 35])
    tag(doc, "else")
    para(doc, "I will write to you soon with what we agreed.")
    tag(doc, "endif")
    tag(doc, "if next_review.due_on")
    para(doc, "Your next review will be by {{ next_review.due_on|uk_date }}. I will ask you "
         "before then what you think and how you would like to take part.")
    tag(doc, "endif")
    para(doc, "If you want to talk to me about anything, or you think something is not "
         "happening, you can phone me on {{ iro.phone }} or email {{ iro.email }}. You can also "
         "ask your social worker or your carer to help you get in touch.")
    sign_off(doc, "Best wishes")
    return doc


def decisions_letter() -> DocxDocument:
    """The review's decisions for parents, carers and the social worker, sent before the record
    when the decisions go first (issue 15 §2): the decisions table, in plain words."""
    from templatebuild.blocks import CHILD_NAME, sign_off
    from templatebuild.layout import address_block

    doc = new_document()
    address_block(doc)
    doc.add_paragraph("The decisions of the review", style="Title")
    para(doc, "{{ recipient.salutation }},")
    para(doc, "These are the decisions made at the looked after review of " + CHILD_NAME + " "
         "held on {{ review.held_on|uk_date }} (reference {{ review.ref }}). The full record of "
         "the review will follow.")
    tag(doc, "if decisions")
    table(doc, ["No.", "What we want to achieve", "What will be done", "Who will do it",
                "By when"],
          ["{{ d.number }}", "{{ d.outcome }}", "{{ d.action }}", "{{ d.responsible }}",
           "{{ d.timescale }}"],
          loop="d in decisions", widths_mm=[11, 45, 52, 32, 30])
    tag(doc, "else")
    para(doc, "No decisions have been recorded yet; I will write to you with them.")
    tag(doc, "endif")
    tag(doc, "if next_review.due_on")
    para(doc, "The next review will be held by {{ next_review.due_on|uk_date }}.")
    tag(doc, "endif")
    para(doc, "If you think a decision is wrong or is not being carried out, please contact me"
         "{% if iro.phone %} on {{ iro.phone }} or{% endif %} at {{ iro.email }}.")
    sign_off(doc, "Yours sincerely")
    return doc
