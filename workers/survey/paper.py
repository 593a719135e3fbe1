"""The questionnaire on paper (pure): a covering letter for the envelope window and the
questionnaire itself, built from the questions the survey asked (survey.yaml as kept with it).

Two documents, because they part company: the person keeps the letter (their name and address,
the one-time link) and posts back only the questionnaire, which carries the return code and no
name, so answers keyed from it are as anonymous as answers given online. The print batch puts
each on a fresh sheet (duplex), so the questionnaire is never on the back of the address.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from docx import Document
from docx.enum.table import WD_ROW_HEIGHT_RULE
from docx.shared import Mm, Pt

from workers.config.post import PostSettings
from workers.documents.docx_style import FONT, LANGUAGE, set_font, set_language
from workers.documents.filters import uk_date

BOX = "\u2610"  # ☐, a box to tick with a pen
MARGIN_MM = 20


@dataclass(frozen=True)
class PaperQuestionnaire:
    survey_name: str
    closes_on: dt.date
    role_words: str  # "foster carer"
    role_title: str  # "Foster carers", the questions' heading
    questions: Sequence[dict[str, Any]]  # key, text, answers: the survey as asked
    code: str  # the return code keyed from the returned form
    link: str  # the one-time link, to answer online instead
    service: str
    council: str
    return_lines: Sequence[str]  # where the questionnaire goes back to
    postage: str  # "a first class stamp", or a reply-paid envelope
    reply_paid: bool
    reminder: bool = False


def _document(top_mm: float = 25) -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(12)  # RNIB clear print: 12pt sans-serif
    set_font(style)
    set_language(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(MARGIN_MM)
    section.top_margin, section.bottom_margin = Mm(top_mm), Mm(20)
    section.header.paragraphs[0].text = "OFFICIAL"
    doc.core_properties.language = LANGUAGE
    return doc


def _save(doc: Any, title: str) -> bytes:
    doc.core_properties.title = title
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _heading(doc: Any, text: str, size: float = 14) -> None:
    run = doc.add_paragraph().add_run(text)
    run.bold, run.font.size = True, Pt(size)


def covering_letter(q: PaperQuestionnaire, recipient: Sequence[str], greeting: str,
                    today: dt.date, post: PostSettings) -> bytes:
    """Page one: the address where the window shows it and nothing else near it; the body from
    ``post.body_top_mm`` down."""
    box = post.address_box
    doc = _document(top_mm=box.top)
    table = doc.add_table(rows=1, cols=1)
    row = table.rows[0]
    row.height, row.height_rule = Mm(post.body_top_mm - box.top), WD_ROW_HEIGHT_RULE.EXACTLY
    cell = row.cells[0]
    cell.width = Mm(box.right - box.left)
    lines = [ln for ln in recipient if ln.strip()]  # checked to fit when the survey started
    cell.paragraphs[0].text = lines[0] if lines else ""
    for line in lines[1:]:
        cell.add_paragraph(line)
    for p in cell.paragraphs:
        p.paragraph_format.left_indent = Mm(box.left - MARGIN_MM)
        p.paragraph_format.space_after = Pt(0)
    doc.add_paragraph(uk_date(today))
    _heading(doc, f"{q.service}: {'a reminder about ' if q.reminder else ''}"
                  f"our questionnaire {q.survey_name}", 13)
    doc.add_paragraph(f"{greeting},")
    doc.add_paragraph(
        "A reminder: we have not yet had your answers to our questionnaire." if q.reminder else
        f"As a {q.role_words} who took part in a looked after child's review this year, we "
        f"would value your view of the {q.service}. It takes about five minutes.")
    doc.add_paragraph("Your answers are anonymous: we record that you replied, not what you "
                      "said. The questionnaire does not carry your name.")
    doc.add_paragraph(f"Please answer by {uk_date(q.closes_on)}, in one of two ways:")
    doc.add_paragraph(f"online, at {q.link} (the link works once), or", style="List Bullet")
    envelope = ("in the reply-paid envelope" if q.reply_paid else f"with {q.postage}")
    doc.add_paragraph(f"on paper: fill in the enclosed questionnaire and post it back {envelope} "
                      f"to {', '.join(q.return_lines)}. Keep this letter.", style="List Bullet")
    doc.add_paragraph(f"Yours faithfully,\n\n{q.service}\n{q.council}")
    return _save(doc, f"{q.service}: stakeholder questionnaire {q.survey_name}")


def questionnaire(q: PaperQuestionnaire) -> bytes:
    """The pages that come back: the code, one row of tick boxes per question, the return."""
    doc = _document()
    _heading(doc, f"{q.service}: stakeholder questionnaire {q.survey_name}")
    _heading(doc, q.role_title, 12)
    if q.code:  # a posted one's; a blank form handed out carries none
        code = doc.add_paragraph()
        code.add_run("Return code: ").bold = True
        code.add_run(q.code).font.size = Pt(14)
    doc.add_paragraph(f"Tick one box for each question. Please return by {uk_date(q.closes_on)}."
                      " Leave a question blank if you would rather not answer it.")
    for n, item in enumerate(q.questions, start=1):
        asked = doc.add_paragraph()
        asked.paragraph_format.keep_with_next = True
        asked.paragraph_format.space_before = Pt(8)
        asked.add_run(f"{n}. {item['text']}").bold = True
        answers = list(item["answers"])
        # at 12pt five answers fit a line; more go on two rows (RNIB clear print: no smaller)
        per_row = len(answers) if len(answers) <= 5 else -(-len(answers) // 2)
        rows = [answers[i:i + per_row] for i in range(0, len(answers), per_row)]
        table = doc.add_table(rows=len(rows), cols=per_row)
        for row, chunk in zip(table.rows, rows, strict=True):
            for cell, answer in zip(row.cells, chunk, strict=False):
                cell.paragraphs[0].text = f"{BOX}\u00a0{answer}"  # the box stays with it
    doc.add_paragraph()
    doc.add_paragraph(f"Thank you. Please post this questionnaire back to: "
                      f"{', '.join(q.return_lines)}.")
    return _save(doc, f"Stakeholder questionnaire {q.survey_name}: {q.role_title}")
