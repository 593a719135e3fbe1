"""The questionnaire as a Word form, and a returned one read back (issue 20 §1).

The printed questionnaire (``paper.questionnaire``) with each ☐ turned into a Word check-box
content control (``w14:checkbox``), so it can be ticked in Word and emailed back. Each box is
tagged ``<question key>/<answer index>``: the boxes of one question are its group, and reading
back needs no layout. Which survey and role it is rides in the document's identifier property
(``iro-survey:<name>/<role>``), as the fillable PDF's rides in its information. Word has no
"one of these" rule for check boxes, so two ticks in a question are refused on reading back.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

from workers.errors import BadInputError
from workers.survey.fillable import Returned
from workers.survey.paper import BOX

W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
TICKED = "\u2612"  # ☒, what Word shows in a ticked box
ID_PREFIX = "iro-survey:"
_FONT = "MS Gothic"  # Word's own choice for its check boxes (it has both glyphs)


def _w14(tag: str) -> str:
    return f"{{{W14}}}{tag}"


def _checkbox(tag: str, alias: str) -> Any:
    """An unticked check-box content control, as Word writes one."""
    sdt = OxmlElement("w:sdt")
    pr = OxmlElement("w:sdtPr")
    for name, value in (("w:alias", alias), ("w:tag", tag)):
        el = OxmlElement(name)
        el.set(qn("w:val"), value)
        pr.append(el)
    box = etree.SubElement(pr, _w14("checkbox"))
    etree.SubElement(box, _w14("checked")).set(_w14("val"), "0")
    for state, glyph in (("checkedState", "2612"), ("uncheckedState", "2610")):
        el = etree.SubElement(box, _w14(state))
        el.set(_w14("val"), glyph)
        el.set(_w14("font"), _FONT)
    sdt.append(pr)
    content = OxmlElement("w:sdtContent")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = BOX
    run.append(text)
    content.append(run)
    sdt.append(content)
    return sdt


def make_word_form(questionnaire: bytes, questions: Sequence[dict[str, Any]], *, survey: str,
                   role: str) -> bytes:
    """``questionnaire`` (the printed one, .docx) with a check box for each ☐, in the order the
    questions and answers were written."""
    doc = Document(io.BytesIO(questionnaire))
    boxes = [p for t in doc.tables for row in t.rows for cell in row.cells
             for p in cell.paragraphs if p.text.startswith(BOX)]
    wanted = [(q["key"], n, answer) for q in questions for n, answer in enumerate(q["answers"])]
    if len(boxes) != len(wanted):
        raise BadInputError(f"the questionnaire shows {len(boxes)} boxes for {len(wanted)} "
                            "answers; it cannot be made a Word form")
    for paragraph, (key, n, answer) in zip(boxes, wanted, strict=True):
        [run] = paragraph.runs
        run.text = run.text[len(BOX):]  # the answer, after a no-break space
        run._r.addprevious(_checkbox(f"{key}/{n}", answer))
    doc.core_properties.identifier = f"{ID_PREFIX}{survey}/{role}"
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _parts(data: bytes) -> tuple[str, Any]:
    """The form's identifier and its document XML; a clear refusal when it is no Word file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            body = etree.fromstring(package.read("word/document.xml"))
            core = etree.fromstring(package.read("docProps/core.xml"))
    except (zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        raise BadInputError(f"--file: not a Word document that can be read ({exc})") from None
    found = core.find("{http://purl.org/dc/elements/1.1/}identifier")
    return (found.text or "") if found is not None else "", body


def read_word_form(data: bytes,
                   questions_of: Callable[[str, str], Sequence[dict[str, Any]]]) -> Returned:
    """A returned Word questionnaire's survey, role and answers (no code: a form handed out
    marks no one). Refuses, naming the question, two ticks in one question or a box this
    survey did not ask; nothing is read half."""
    identifier, body = _parts(data)
    survey, _, role = identifier.removeprefix(ID_PREFIX).partition("/")
    if not identifier.startswith(ID_PREFIX) or not survey or not role:
        raise BadInputError("--file: not one of the service's Word questionnaires (it does not "
                            "say which survey it belongs to); key its answers with --answers")
    questions = {q["key"]: (n, q) for n, q in enumerate(questions_of(survey, role), start=1)}
    ticked: dict[str, list[str]] = {}
    for sdt in body.iter(f"{{{W}}}sdt"):
        box = sdt.find(f"{{{W}}}sdtPr/{_w14('checkbox')}")
        if box is None:
            continue
        tag = sdt.find(f"{{{W}}}sdtPr/{{{W}}}tag")
        key, _, index = (tag.get(f"{{{W}}}val", "") if tag is not None else "").partition("/")
        checked = box.find(_w14("checked"))
        if checked is None or checked.get(_w14("val")) not in ("1", "true"):
            continue
        n, q = questions.get(key, (0, None))
        if q is None or not index.isdigit() or int(index) >= len(q["answers"]):
            raise BadInputError(f"--file: a ticked box ({key or 'untagged'}/{index}) is not an "
                                f"answer survey {survey} asked {role}s; was the form edited?")
        ticked.setdefault(key, []).append(q["answers"][int(index)])
    for key, answers in ticked.items():
        if len(answers) > 1:
            n, q = questions[key]
            raise BadInputError(
                f"--file: question {n} ({key}, {q['text']!r}) has {len(answers)} boxes ticked "
                f"({', '.join(answers)}); one at most. Ask which they meant, or key the others "
                "with --answers")
    return Returned(survey, role, None, {k: v[0] for k, v in ticked.items()})
