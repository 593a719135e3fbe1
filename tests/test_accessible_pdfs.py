"""Accessible PDFs (Public Sector Bodies Accessibility Regulations 2018; PDF/UA): every letter
pack and print batch is tagged, in British English, titled for its reader, with its fonts
embedded, and keeps all of that when documents are joined (real LibreOffice, read with pypdf)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from factories import make_case, sqlite_store
from mailout_support import TODAY, make_config
from pypdf import PdfReader
from sqlalchemy import select

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
        for font in (page["/Resources"].get("/Font") or {}).values():
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
        for dispatch, role in letters:
            attachment = pack(cfg, s, dispatch)[3][0]
            pdf = PdfReader(io.BytesIO(attachment.content))
            titles[role] = pdf.metadata.title if pdf.metadata else None
            check_accessible(pdf, titles[role] or "", documents=3)
    # the child's own pack by given name; the parent's, which may travel, by reference and
    # initials only
    assert titles["child"] == "Invitation to Zoë's review, 12 January 2027"
    assert titles["parent"] == f"Invitation to review {ref} (Z.O.), 12 January 2027"
    result = build_batch(sessions, cfg, TODAY)
    assert result.pdf_path is not None and result.batch_id is not None
    batch = PdfReader(str(result.pdf_path))
    check_accessible(batch, f"Print batch {result.batch_id}, 1 December 2026", documents=6)
    assert "O'Neil" not in (batch.metadata.title or "")  # type: ignore[union-attr]
