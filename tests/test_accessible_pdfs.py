"""Accessible PDFs (Public Sector Bodies Accessibility Regulations 2018; PDF/UA): every letter
pack and print batch is tagged, in British English, titled for its reader, with its fonts
embedded, and keeps all of that when documents are joined (real LibreOffice, read with pypdf)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from factories import make_case, sqlite_store
from mailout_support import TODAY, make_config
from pypdf import PdfReader
from sqlalchemy import select

from workers.documents.tagged import TaggedJoin
from workers.mailout.codes import find_codes
from workers.mailout.compose import pack
from workers.mailout.plan import INVITATION_KIND
from workers.mailout.printing import build_batch
from workers.mailout.service import run_mailout
from workers.store.models import Dispatch, Participant


def check_accessible(pdf: PdfReader, title: str, documents: int) -> None:
    root: Any = pdf.trailer["/Root"]
    assert root["/Lang"] == "en-GB"
    assert root["/MarkInfo"]["/Marked"]
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert pdf.metadata is not None and pdf.metadata.title == title
    tree = root["/StructTreeRoot"]
    assert len(tree["/K"]) == documents  # one tagged document element per document joined
    pages = {page.indirect_reference.idnum: n for n, page in enumerate(pdf.pages)}
    # each page's marked content finds its structure elements: keys line up, no clashes
    nums = tree["/ParentTree"]["/Nums"]
    keys = [int(nums[i]) for i in range(0, len(nums), 2)]
    parents = [page["/StructParents"] for page in pdf.pages if "/StructParents" in page]
    assert len(set(keys)) == len(keys) and set(parents) <= set(keys)
    assert len(parents) >= documents and len(set(parents)) == len(parents)
    assert int(tree["/ParentTreeNextKey"]) > max(keys)
    # and every element sits on a page of this file
    stack = list(tree["/K"])
    while stack:
        element = stack.pop().get_object()
        if not hasattr(element, "keys"):
            continue
        if "/Pg" in element:
            assert element.raw_get("/Pg").idnum in pages
        kids = element.get("/K")
        if kids is not None:
            kids = kids.get_object() if hasattr(kids, "get_object") else kids
            stack += [k for k in (kids if isinstance(kids, list) else [kids])
                      if hasattr(k, "get_object")]
    for page in pdf.pages:
        stream = page.get_contents()  # a blank back of a sheet has none
        content = stream.get_data() if stream is not None else b""
        for name, font in (page["/Resources"].get("/Font") or {}).items():
            # every font the page draws with; the form fields' default font (Helvetica, in the
            # resources for text a reader types) draws nothing on the page
            if f"{name} ".encode() not in content:
                continue
            font = font.get_object()
            if font["/Subtype"] == "/Type0":
                font = font["/DescendantFonts"][0].get_object()
            descriptor = font["/FontDescriptor"]
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), (
                f"font {font['/BaseFont']} is not embedded")


@pytest.mark.libreoffice
def test_packs_and_print_batches_are_tagged_titled_and_british(tmp_path: Path,
                                                               soffice: str) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s)  # Zoë O'Neil; the child and a parent by post
        ref = review.ref
        s.commit()
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    with sessions() as s:
        letters = s.execute(select(Dispatch, Participant.role).join(
            Participant, Dispatch.participant_id == Participant.id).where(
            Dispatch.kind == INVITATION_KIND, Participant.role.in_(("child", "parent")))).all()
        titles = {}
        fields: dict[str, dict[str, str]] = {}
        packs: dict[str, bytes] = {}
        for dispatch, role in letters:
            attachment = pack(cfg, s, dispatch)[3][0]
            pdf = PdfReader(io.BytesIO(attachment.content))
            titles[role] = pdf.metadata.title if pdf.metadata else None
            check_accessible(pdf, titles[role] or "", documents=3)
            fields[role] = form_fields(pdf)
            # the code prints unbroken (U+2011) and the returns matcher still reads it from
            # the PDF's text, as someone copying it out of the PDF would quote it
            path = tmp_path / f"{role}.pdf"
            path.write_bytes(attachment.content)
            text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                                  capture_output=True, text=True).stdout
            assert dispatch.reference_code and dispatch.reference_code in find_codes(text)
            assert dispatch.reference_code in text  # pdftotext gives U+2011 back as "-"
            packs[role] = attachment.content
    # the child's own pack by given name; the parent's, which may travel, by reference and
    # initials only
    assert titles["child"] == "Invitation to Zoë's review, 12 January 2027"
    assert titles["parent"] == f"Invitation to review {ref} (Z.O.), 12 January 2027"
    result = build_batch(sessions, cfg, TODAY)
    assert result.pdf_path is not None and result.batch_id is not None
    batch = PdfReader(str(result.pdf_path))
    check_accessible(batch, f"Print batch {result.batch_id}, 1 December 2026", documents=6)
    assert "O'Neil" not in (batch.metadata.title or "")  # type: ignore[union-attr]
    # the forms can be filled in on a computer: text boxes to type in, boxes to tick
    assert fields["parent"]["will_you_come_to_the_review_yes"] == "/Btn"
    assert fields["parent"]["do_you_agree_with_the_care"] == "/Tx"
    assert fields["parent"]["do_you_need_an_interpreter_which"] == "/Tx"
    assert fields["child"]["who_helped_me_fill_this_in"] == "/Tx"
    assert fields["child"]["would_you_like_to_come_to_yes"] == "/Btn"
    in_batch = form_fields(batch)
    assert len(in_batch) == len(fields["parent"]) + len(fields["child"])
    # two parents' forms in one file stay two forms: the second's fields are renamed
    join = TaggedJoin()
    for _ in range(2):
        join.append(PdfReader(io.BytesIO(packs["parent"])))
    twice = form_fields(PdfReader(io.BytesIO(join.finish("two packs"))))
    assert len(twice) == 2 * len(fields["parent"])
    assert "will_you_come_to_the_review_yes_2" in twice



def form_fields(pdf: PdfReader) -> dict[str, str]:
    """Every form field on the pages, by name: its type (/Tx a text box, /Btn a tick box).
    Each is a widget on a page of this file, and no two share a name."""
    found: dict[str, str] = {}
    for page in pdf.pages:
        for annot in page.get("/Annots") or []:
            widget = annot.get_object()
            if widget.get("/Subtype") != "/Widget":
                continue
            name, kind = str(widget["/T"]), str(widget["/FT"])
            assert name not in found, f"two fields called {name}"
            found[name] = kind
    assert set(found) == set(pdf.get_fields() or {})  # all in the catalogue's /AcroForm
    return found


def figures(pdf: PdfReader) -> list[str]:
    """The alternative text of every figure in the structure tree, in no particular order."""
    found, stack = [], [pdf.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        element = stack.pop().get_object()
        if not hasattr(element, "keys"):
            continue
        if element.get("/S") == "/Figure":
            found.append(str(element.get("/Alt", "")))
        kids = element.get("/K")
        if kids is not None:
            kids = kids.get_object() if hasattr(kids, "get_object") else kids
            stack += [k for k in (kids if isinstance(kids, list) else [kids])
                      if hasattr(k, "get_object")]
    return found


@pytest.mark.libreoffice
def test_the_youngest_childs_booklet_has_pictures_with_alt_text_and_no_banner(
        tmp_path: Path, soffice: str) -> None:
    from workers.mailout.documents import render_letter, to_pdf

    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_case(s, date_of_birth=dt.date(2021, 6, 1))  # 5 at the meeting
        ref = review.ref
        s.commit()
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    with sessions() as s:
        dispatch = s.execute(select(Dispatch).join(
            Participant, Dispatch.participant_id == Participant.id).where(
            Dispatch.kind == INVITATION_KIND, Participant.role == "child")).scalar_one()
        review, child, person, attachments = pack(cfg, s, dispatch)
        booklet = dict(render_letter(cfg, child, review, person, form="consultation_child_4_7",
                                     code=dispatch.reference_code, return_by=TODAY))
    alone = PdfReader(io.BytesIO(to_pdf(cfg, booklet["consultation_child_4_7"], "booklet")))
    drawn = ["A happy face", "A face that feels OK", "A sad face", "A drawing of a house",
             "A drawing of a school"]
    assert set(drawn) <= set(figures(alone)) and all(figures(alone))
    text = "".join(page.extract_text() for page in alone.pages)
    assert "OFFICIAL-SENSITIVE" not in text and "Please send it back by" not in text
    for words in ("Would you like to come to your meeting?", "Who helped me fill this in?",
                  "Draw a circle round a face"):
        assert words in " ".join(text.split()), words
    assert not alone.get_fields()  # for drawing on paper with a grown-up: nothing to type in
    # and the pictures keep their words when the booklet is joined into the child's pack
    joined = PdfReader(io.BytesIO(attachments[0].content))
    assert set(drawn) <= set(figures(joined))
