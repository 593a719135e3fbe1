"""The questionnaire as a fillable PDF, and a returned one read back.

LibreOffice 7.4 exports no form fields from a .docx (neither legacy check boxes nor content
controls), so the printed questionnaire's PDF gets them afterwards: one radio group per question
(pypdf), a button over each ☐ where LibreOffice drew it, in the order the questions and answers
were written. Which survey and role it is rides in the document information (``/IroSurvey``);
a posted one's return code is in its text. Reading back takes the ticked button of each group.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workers.errors import BadInputError

BOX = "\u2610"
INFO_KEY = "/IroSurvey"  # "<survey name>/<role>"
_CODE = re.compile(r"Return code:\s*([A-Z2-7]{5}-[A-Z2-7]{5})")


@dataclass(frozen=True)
class Returned:
    survey: str
    role: str
    code: str | None  # a posted questionnaire's; None on a blank form handed out
    answers: dict[str, str]  # question key → answer as on the form


def _boxes(reader: Any) -> list[tuple[int, float, float, float]]:
    """Every ☐ LibreOffice drew: (page index, x, y, font size), in reading order."""
    found: list[tuple[int, float, float, float]] = []
    for index, page in enumerate(reader.pages):
        def visit(text: str, cm: Any, tm: Any, _font: Any, size: float, i: int = index) -> None:
            if text.startswith(BOX):
                scale = (tm[3] * cm[3]) or 1.0
                found.append((i, tm[4] * cm[0] + tm[5] * cm[2] + cm[4],
                              tm[4] * cm[1] + tm[5] * cm[3] + cm[5], size * scale))
        page.extract_text(visitor_text=visit)
    return found


def make_fillable(pdf: bytes, questions: Sequence[dict[str, Any]], *, survey: str,
                  role: str) -> bytes:
    """``pdf`` (the questionnaire as LibreOffice printed it) with a radio group per question."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    reader = PdfReader(io.BytesIO(pdf))
    boxes = _boxes(reader)
    wanted = sum(len(q["answers"]) for q in questions)
    if len(boxes) != wanted:
        raise BadInputError(f"the questionnaire shows {len(boxes)} boxes for {wanted} answers; "
                            "it cannot be made fillable")
    writer = PdfWriter(clone_from=reader)

    def stream(ops: str, size: float) -> Any:
        s = DecodedStreamObject()
        s.set_data(ops.encode())
        s.update({NameObject("/Type"): NameObject("/XObject"),
                  NameObject("/Subtype"): NameObject("/Form"),
                  NameObject("/BBox"): ArrayObject([FloatObject(0), FloatObject(0),
                                                    FloatObject(size), FloatObject(size)])})
        return writer._add_object(s)

    fields = ArrayObject()
    at = iter(boxes)
    for q in questions:
        kids = ArrayObject()
        group = DictionaryObject({
            NameObject("/FT"): NameObject("/Btn"), NameObject("/T"): TextStringObject(q["key"]),
            NameObject("/TU"): TextStringObject(q["text"]),  # what a screen reader says
            NameObject("/Ff"): NumberObject((1 << 15) | (1 << 14)),  # radio, one at most
            NameObject("/V"): NameObject("/Off"), NameObject("/Kids"): kids})
        group_ref = writer._add_object(group)
        for n, _answer in enumerate(q["answers"]):
            page_index, x, y, size = next(at)
            side = size * 0.8
            on = stream(f"0 g {side * .2:.2f} {side * .2:.2f} {side * .6:.2f} {side * .6:.2f} re f",
                        side)
            off = stream("", side)
            widget = DictionaryObject({
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Widget"),
                NameObject("/Parent"): group_ref, NameObject("/F"): NumberObject(4),
                NameObject("/Rect"): ArrayObject([FloatObject(x), FloatObject(y - size * .05),
                                                  FloatObject(x + side),
                                                  FloatObject(y - size * .05 + side)]),
                NameObject("/AS"): NameObject("/Off"),
                NameObject("/AP"): DictionaryObject({NameObject("/N"): DictionaryObject({
                    NameObject(f"/A{n}"): on, NameObject("/Off"): off})}),
            })
            widget_ref = writer._add_object(widget)
            kids.append(widget_ref)
            page = writer.pages[page_index]
            if "/Annots" not in page:
                page[NameObject("/Annots")] = ArrayObject()
            annots = page["/Annots"]
            assert isinstance(annots, ArrayObject)
            annots.append(widget_ref)
        fields.append(group_ref)
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): fields})
    writer.add_metadata({INFO_KEY: f"{survey}/{role}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_returned(pdf: bytes, questions_of: Any) -> Returned:
    """A returned fillable questionnaire's survey, role, code and answers. ``questions_of(survey,
    role)`` gives the questions as asked (to turn a ticked button back into its answer)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        info: dict[str, Any] = dict(reader.metadata or {})
        fields = reader.get_fields() or {}
        text = "".join(page.extract_text() for page in reader.pages)
    except (PdfReadError, ValueError) as exc:
        raise BadInputError(f"--file: not a PDF that can be read ({exc})") from None
    survey, _, role = str(info.get(INFO_KEY, "")).partition("/")
    if not survey or not role:
        raise BadInputError("--file: not one of the service's fillable questionnaires (it does "
                            "not say which survey it belongs to); key its answers with --answers")
    answers: dict[str, str] = {}
    for q in questions_of(survey, role):
        value = str((fields.get(q["key"]) or {}).get("/V", "/Off"))
        if value.startswith("/A") and value[2:].isdigit() and int(value[2:]) < len(q["answers"]):
            answers[q["key"]] = q["answers"][int(value[2:])]
    found = _CODE.search(text)
    return Returned(survey, role, found.group(1) if found else None, answers)
