"""Consultation forms: the child's booklet for each age band, and forms for adults."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from docx.document import Document as DocxDocument
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from templatebuild import pictures
from templatebuild.blocks import BACK_BY, CODE, TEXT_WIDTH_MM, para, write_box
from templatebuild.controls import check_box, field_name
from templatebuild.layout import new_document, no_borders, set_widths, shade

RETURN = (CODE, BACK_BY)


def _return_panel(doc: DocxDocument, child_words: bool) -> None:
    tbl = doc.add_table(rows=2, cols=2)
    tbl.style = "Table Grid"
    labels = (("My reference", "Please send it back by") if child_words
              else ("Reference (please quote)", "Please return by"))
    for row, label, value in zip(tbl.rows, labels, RETURN, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (70, 100))
    doc.add_paragraph()


def _choice(doc: DocxDocument, prompt: str, options: Sequence[str], names: set[str]) -> None:
    """A question and its answers side by side, each a tick box that can be ticked on screen
    (``names``: the document's field names so far)."""
    doc.add_paragraph(prompt, style="Heading 2")
    tbl = doc.add_table(rows=1, cols=len(options))
    tbl.style = "Table Grid"
    width = TEXT_WIDTH_MM / len(options)
    for cell, text in zip(tbl.rows[0].cells, options, strict=True):
        # clear of the cell's top border: LibreOffice paints a control's area over it
        cell.paragraphs[0].paragraph_format.space_before = Pt(3)
        check_box(cell.paragraphs[0], field_name(prompt, names, text), text,
                  width_mm=width - 6, size_pt=doc.styles["Normal"].font.size.pt)
    tbl.rows[0].height = Mm(14)
    tbl.rows[0].height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST
    doc.add_paragraph()


def _meeting_panel(doc: DocxDocument) -> None:
    """When and where the meeting is and how to reach the IRO, on every booklet."""
    tbl = doc.add_table(rows=3, cols=2)
    tbl.style = "Table Grid"
    rows = (("When", "{{ review.scheduled_at|uk_day_date }} at {{ review.scheduled_at|uk_time }}"),
            ("Where", "{{ review.venue|venue_for('child') }}"),
            ("My IRO", "{{ iro.name }}{% if iro.phone %}, {{ iro.phone }}{% endif %}, "
                       "{{ iro.email }}"))
    for row, (label, value) in zip(tbl.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (40, 130))
    doc.add_paragraph()


# On every booklet (IRO Handbook 2010 §3.19; the annual report's §9.7: what children asked for)
SHARING = ("Is there anything I do not want shared? Who with?", 30)
HELPER = ("Who helped me fill this in?", 20)


def _thanks(doc: DocxDocument) -> None:
    para(doc, "Thank you! You can give this back to your carer or social worker, bring it to "
         "your meeting, or post it{% if form.reply_paid %} in the envelope that came with it"
         "{% else %} to us{% endif %}. {{ iro.name }} will read it before your review.")


def _booklet(title: str, intro: Sequence[str], questions: Sequence[tuple[str, float]],
             choices: Sequence[tuple[str, Sequence[str]]]) -> DocxDocument:
    """A booklet from 8: fillable on a computer, with the return panel."""
    doc = new_document(reference=CODE, letterhead=False, friendly=True)
    doc.add_paragraph(title, style="Title")
    for text in intro:
        para(doc, text)
    _meeting_panel(doc)
    _return_panel(doc, child_words=True)
    names: set[str] = set()
    for prompt, options in choices:
        _choice(doc, prompt, options, names)
    questions = [*questions, SHARING, HELPER]
    for n, (prompt, height) in enumerate(questions, start=1):
        write_box(doc, prompt, height, keep_with_next=n == len(questions),
                  field=field_name(prompt, names))
    _thanks(doc)
    return doc


def _picture(paragraph: Paragraph, name: str, width_mm: float) -> None:
    """One of ``templatebuild.pictures``, with its alternative text (``wp:docPr descr``)."""
    shape = paragraph.add_run().add_picture(pictures.png(name), width=Mm(width_mm))
    shape._inline.docPr.set("descr", pictures.ALT[name])


def _circle_one(doc: DocxDocument, prompt: str, options: Sequence[tuple[str, str]]) -> None:
    """A question and its answers to circle: a picture (or none) over each answer's word."""
    doc.add_paragraph(prompt, style="Heading 2")
    tbl = doc.add_table(rows=1, cols=len(options))
    no_borders(tbl)
    for cell, (word, picture) in zip(tbl.rows[0].cells, options, strict=True):
        top = cell.paragraphs[0]
        top.alignment = WD_ALIGN_PARAGRAPH.CENTER
        if picture:
            _picture(top, picture, 32)
            top = cell.add_paragraph()
            top.alignment = WD_ALIGN_PARAGRAPH.CENTER
        top.add_run(word).bold = True
    doc.add_paragraph()


def _about(doc: DocxDocument, picture: str, heading: str, prompt: str) -> None:
    """A part of the child's life: its picture beside a box to draw or write in."""
    doc.add_paragraph(heading, style="Heading 2")
    tbl = doc.add_table(rows=1, cols=2)
    tbl.style = "Table Grid"
    row = tbl.rows[0]
    row.height, row.height_rule = Mm(40), WD_ROW_HEIGHT_RULE.AT_LEAST
    # clear of the cell's top border, which LibreOffice would paint the picture's area over
    row.cells[0].paragraphs[0].paragraph_format.space_before = Pt(3)
    _picture(row.cells[0].paragraphs[0], picture, 32)
    row.cells[1].paragraphs[0].add_run(prompt)
    set_widths(tbl, (40, 130))
    doc.add_paragraph().paragraph_format.space_after = Pt(2)


def child_4_7() -> DocxDocument:
    """4 to 7: pictures, faces to circle, 16-20 pt type; no security banner and no admin table
    on the child's pages (the code is in small print at the foot, for the grown-up)."""
    doc = new_document(reference=CODE, letterhead=False, friendly=True, marking=False)
    for style, size in (("Normal", 16), ("Heading 2", 18), ("Title", 20)):
        doc.styles[style].font.size = Pt(size)
    doc.add_paragraph("My review", style="Title")
    for text in ("Hello {{ child.given_name }}!",
                 "Soon there will be a meeting about you. It is called a review. "
                 "{{ iro.name }} wants to know what you think.",
                 "You can draw or write. A grown-up can help you."):
        para(doc, text)
    _meeting_panel(doc)
    _circle_one(doc, "How do I feel about where I live? Draw a circle round a face.",
                (("Happy", "happy"), ("OK", "ok"), ("Sad", "sad")))
    _circle_one(doc, "Would you like to come to your meeting? Draw a circle round one.",
                (("Yes", ""), ("No", ""), ("Not sure", "")))
    for picture, heading in (("home", "My home"), ("school", "My school"),
                             ("family", "My family"), ("friends", "My friends")):
        _about(doc, picture, heading, "What is good? What is not so good?")
    questions = [("Things that make me sad or worried", 32),
                 ("Something I want {{ iro.name }} to know", 32), SHARING, HELPER]
    for n, (prompt, height) in enumerate(questions, start=1):
        write_box(doc, prompt, height, keep_with_next=n == len(questions))
    _thanks(doc)
    return doc


def child_8_11() -> DocxDocument:
    return _booklet(
        "My review booklet",
        ["Hi {{ child.given_name }},",
         "Your review is on {{ review.scheduled_at|uk_day_date }}. It is a meeting to check "
         "that things are going well for you and to plan what happens next. "
         "{{ iro.name }} will be in charge of the meeting and wants to hear from you.",
         "Fill in as much or as little as you like. You can ask someone to help you."],
        [("What is going well for me at home?", 40), ("What is going well at school?", 40),
         ("Seeing my family and friends: what works, what I would change", 40),
         ("Is anything worrying me?", 40),
         ("What I would like to happen next", 40)],
        [("How do I feel about where I live?", ("Happy", "OK", "Not happy")),
         ("Would you like to come to your meeting?", ("Yes", "No", "Talk first")),
         ("Would you like an advocate to help you say what you think?",
          ("Yes", "No", "Not sure"))],
    )


def child_12_15() -> DocxDocument:
    return _booklet(
        "Your review: what you think",
        ["Hi {{ child.given_name }},",
         "Your review is on {{ review.scheduled_at|uk_day_date }} at "
         "{{ review.scheduled_at|uk_time }}. The review checks your care plan and decides what "
         "needs to happen next. {{ iro.name }}, your Independent Reviewing Officer, chairs it "
         "and wants your views to shape it.",
         "You can also talk to {{ iro.name }} on their own, or ask for an advocate to help you "
         "say what you want."],
        [("Where I live: what is good and what is not", 40),
         ("School or college", 35), ("Family, friends and contact", 35),
         ("Health and how I am feeling", 35), ("Things I want to change or to ask for", 40),
         ("Who I would like at my review, and who I would not", 30)],
        [("Would you like to come to your review?", ("Yes", "No", "Part of it")),
         ("Would you like an advocate?", ("Yes", "No", "Not sure"))],
    )


def child_16_plus() -> DocxDocument:
    return _booklet(
        "Your review: your views",
        ["Hi {{ child.given_name }},",
         "Your review is on {{ review.scheduled_at|uk_day_date }} at "
         "{{ review.scheduled_at|uk_time }}. It will look at your care plan and your pathway "
         "plan for when you leave care. {{ iro.name }} chairs it. You can chair part of it "
         "yourself if you want to.",
         "Write as much or as little as you want, or tell {{ iro.name }} in person."],
        [("Where I live now and where I want to live next", 40),
         ("Education, training or work", 35), ("Money and managing on my own", 35),
         ("Health and wellbeing", 30), ("Family, friends and support", 30),
         ("What my pathway plan should say", 40)],
        [("Would you like to come to your review?", ("Yes", "No", "Part of it")),
         ("Would you like to chair part of it?", ("Yes", "No", "Talk first")),
         ("Would you like an advocate?", ("Yes", "No", "Not sure"))],
    )


# The child on a family's or carer's form: given name and initials (the form goes back by post or
# email and may travel further); the social worker's, a professional record, in full.
CHILD_FAMILY = "{{ child.given_name }} ({{ child.initials }})"
CHILD_FULL = "{{ child.full_name }} (date of birth {{ child.date_of_birth|uk_date }})"


def _adult(title: str, intro: str, questions: Sequence[tuple[str, float]], *,
           choices: Sequence[tuple[str, Sequence[str]]] = (),
           signer: Sequence[str] = ("Name", "Signature", "Date"),
           child: str = CHILD_FAMILY) -> DocxDocument:
    doc = new_document(reference=CODE, letterhead=False)
    doc.add_paragraph(title, style="Title")
    tbl = doc.add_table(rows=5, cols=2)
    tbl.style = "Table Grid"
    when = "{{ review.scheduled_at|uk_day_date }} at {{ review.scheduled_at|uk_time }}"
    facts = (("Child", child),
             ("Review", when),
             ("Independent Reviewing Officer", "{{ iro.name }}, {% if iro.phone %}"
              "{{ iro.phone }}, {% endif %}{{ iro.email }}"),
             ("Reference (please quote)", RETURN[0]), ("Please return by", RETURN[1]))
    for row, (label, value) in zip(tbl.rows, facts, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].paragraphs[0].add_run(value)
        shade(row.cells[0])
    set_widths(tbl, (60, 110))
    doc.add_paragraph()
    para(doc, intro)
    names: set[str] = set()
    for prompt, options in choices:
        _choice(doc, prompt, options, names)
    for n, (prompt, height) in enumerate(questions, start=1):
        # the last answer box stays on the page of the completion block: no sheet with only that
        write_box(doc, prompt, height, keep_with_next=n == len(questions),
                  field=field_name(prompt, names))
    doc.add_paragraph("Completed by", style="Heading 2")
    sign = doc.add_table(rows=len(signer), cols=2)
    sign.style = "Table Grid"
    for row, label in zip(sign.rows, signer, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.height = Mm(12)
    set_widths(sign, (60, 110))
    return doc


def parent() -> DocxDocument:
    return _adult(
        "Consultation form for parents",
        "Your views will be shared at {{ child.given_name }}'s review. Please write as much as "
        "you wish; you can add pages. If you would like help to fill this in, contact "
        "{{ iro.name }}.",
        [("How do you think {{ child.given_name }} is getting on?", 40),
         ("Contact with {{ child.given_name }}: how is it going?", 35),
         ("Is there anything you are worried about?", 35),
         ("Do you agree with the care plan? If not, what would you change?", 35),
         ("What would you like the review to consider or decide?", 35),
         ("Is there anything you have written that should not be shared with the other "
          "parent, the carers or {{ child.given_name }}? Say what, and with whom.", 30),
         ("Do you need an interpreter (which language), or the meeting or papers in "
          "another format?", 20)],
        choices=[("Will you come to the review?", ("Yes", "No", "Not sure"))],
        signer=("Name", "Relationship to {{ child.given_name }}", "Signature", "Date"),
    )


def carer() -> DocxDocument:
    return _adult(
        "Consultation form for carers",
        "Please tell the review how {{ child.given_name }} has been since the last review. "
        "Your form is shared at the review.",
        [("Health (appointments, dental, emotional wellbeing)", 30),
         ("Education (attendance, progress, support)", 30),
         ("Contact with family and friends", 25), ("Hobbies, interests and achievements", 25),
         ("How settled is the placement? Anything that puts it at risk", 30),
         ("Delegated authority: the day-to-day decisions you can make, and any you cannot "
          "but should", 25),
         ("Your view of the care plan", 25),
         ("Concerns, and support you need as a carer", 30)],
        choices=[("Will you come to the review?", ("Yes", "No", "Not sure"))],
        signer=("Name", "Fostering agency or service", "Supervising social worker",
                "Signature", "Date"),
    )


def social_worker() -> DocxDocument:
    return _adult(
        "Consultation form for the social worker",
        "Please complete and return this with your report and the updated care plan at least "
        "three working days before the review.",
        [("Progress on the previous review's decisions", 40),
         ("Changes since the last review (placement, legal status, contact)", 35),
         ("The child's wishes and feelings, and how they were gathered", 35),
         ("Permanence plan and any delay", 30), ("Recommendations for the review", 40)],
        child=CHILD_FULL,
    )


def builders() -> dict[str, Callable[[], DocxDocument]]:
    return {
        "consultation_child_4_7": child_4_7,
        "consultation_child_8_11": child_8_11,
        "consultation_child_12_15": child_12_15,
        "consultation_child_16_plus": child_16_plus,
        "consultation_parent": parent,
        "consultation_carer": carer,
        "consultation_social_worker": social_worker,
    }
