"""A posted letter shows its address and only its address through a window envelope.

A real print batch (LibreOffice) for postal recipients whose address blocks take 4 to 7 lines,
then the reminders' batch; every letter's first page is read word by word (pdftotext -bbox):
inside the window's reach at any slide (service.yaml ``post.window``) there is only the address,
the address sits whole where the window always shows it, and the child's name and "looked after"
print nowhere above ``post.body_top_mm``. Address blocks of 1 to 3 lines (a manager's notice,
a short address) are checked on the invitation template itself. An address too long for the
window is refused at preflight.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from factories import make_child, make_participant, make_review, sqlite_store
from mailout_support import TODAY, make_config
from pdf_boxes import Word, words

from workers.config.post import PostSettings
from workers.documents.examples import example_context
from workers.errors import PreflightError
from workers.mailout.documents import MailoutConfig, to_pdf
from workers.mailout.printing import build_batch
from workers.mailout.service import run_mailout

POST = PostSettings()  # the shipped geometry (config/service.yaml says the same)
CHILD = ("Zoë", "O'Neil")
# (role, organisation, address lines): blocks of 4, 5, 6 and 7 lines with name and postcode
PEOPLE: list[tuple[str, str, list[str]]] = [
    ("child", "", ["4 Łąka Road", "Bromley"]),
    ("parent", "", ["Flat 2", "9 Mill Lane", "Orpington"]),
    ("carer", "", ["The Old Forge", "17 Church Street", "St Mary Cray", "Orpington"]),
    ("other", "Virtual School", ["Room 3", "Civic Centre", "Stockwell Close", "Bromley"]),
]


def check_first_page(pdf: Path, page: int, address: list[str]) -> None:
    found = words(pdf, page)
    allowed = {token for line in address for token in line.split()}
    in_reach = [w for w in found if w.overlaps(POST.window_reach)]
    strangers = [w.text for w in in_reach if w.text not in allowed]
    assert not strangers, f"page {page}: the window can show {strangers}"
    shown = " ".join(w.text for w in in_reach)
    assert shown == " ".join(address), f"page {page}: the window shows {shown!r}"
    assert all(w.inside(POST.address_box) for w in in_reach), (
        f"page {page}: part of the address can slide out of the window: "
        f"{[(w.text, round(w.top, 1), round(w.bottom, 1)) for w in in_reach]}")
    high = [w.text for w in found if w.top < POST.body_top_mm and _telling(w)]
    assert not high, f"page {page}: {high} printed above {POST.body_top_mm} mm"


def _telling(word: Word) -> bool:
    """A word that says who the child is or that they are in care."""
    text = word.text.strip(",.:;")
    return any(name in text for name in CHILD) or text.lower() in ("looked", "care")


@pytest.mark.libreoffice
def test_print_batch_shows_only_the_address_through_the_window(tmp_path: Path,
                                                                soffice: str) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_review(s, make_child(s, given_name=CHILD[0], family_name=CHILD[1]))
        addresses: dict[str, list[str]] = {}
        for role, organisation, lines in PEOPLE:
            person = make_participant(s, review, role, channel="post", organisation=organisation,
                                      address="\n".join(lines), postcode="BR6 0AA")
            addresses[person.ref] = [person.name, *([organisation] if organisation else []),
                                     *lines, "BR6 0AA"]
        ref = review.ref
        s.commit()
    assert sorted(len(a) for a in addresses.values()) == [4, 5, 6, 7]
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    run_mailout(sessions, cfg, ref)
    checked = 0
    for day in (TODAY, dt.date(2027, 1, 1)):  # invitations, then the reminders' day
        result = build_batch(sessions, cfg, day)
        assert result.pdf_path is not None and result.manifest_path is not None
        with open(result.manifest_path, newline="") as fh:
            for row in csv.DictReader(fh):
                check_first_page(result.pdf_path, int(row["first_page"]),
                                 addresses[row["participant_ref"]])
                checked += 1
    assert checked == 7  # four invitations; reminders to the three with a form


@pytest.mark.libreoffice
@pytest.mark.parametrize("lines", [1, 2, 3, 7])
def test_short_and_long_address_blocks_on_the_invitation(tmp_path: Path, soffice: str,
                                                         lines: int) -> None:
    cfg = make_config(tmp_path, pdf=True, IRO_LIBREOFFICE_SOFFICE=soffice)
    block = ["Ms Ada Ng", "Fostering Team", "Flat 1", "2 High St", "Bromley", "Kent",
             "BR1 1AA"][:lines]
    ctx = _invitation(block)
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(to_pdf(cfg, cfg.engine.render("invitation", ctx), "invitation"))
    check_first_page(pdf, 1, block)


def _invitation(block: list[str]) -> dict[str, Any]:
    ctx = example_context("invitation")
    ctx["child"].update(given_name=CHILD[0], family_name=CHILD[1],
                        full_name=" ".join(CHILD))
    ctx["recipient"].update(name=block[0], organisation=block[1] if len(block) > 1 else "",
                            address_lines=block[2:-1], postcode=block[-1] if len(block) > 2 else "")
    return ctx


def test_an_address_too_long_for_the_window_is_refused(tmp_path: Path) -> None:
    sessions = sqlite_store(tmp_path)
    with sessions() as s:
        review = make_review(s)
        make_participant(s, review, "parent", channel="post", organisation="Care of Ms Ng",
                         address="Flat 9\nThe Towers\n1 Long Road\nEast Side\nBromley",
                         postcode="BR1 1AA")  # name, organisation, 5 lines, postcode: 8
        ref = review.ref
        s.commit()
    cfg: MailoutConfig = make_config(tmp_path)
    with pytest.raises(PreflightError, match="takes 8 lines .* shows 7"):
        run_mailout(sessions, cfg, ref)
