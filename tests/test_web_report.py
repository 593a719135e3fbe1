"""The manager's report page: a period with no data says so instead of drawing empty axes."""

from __future__ import annotations

from pathlib import Path

from web_client import Browser, make_app
from web_seed import DEPUTY


def test_a_period_with_no_data_shows_no_figures_and_no_empty_charts(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    empty = b.get("/manager/report?start=2010-04-01&end=2011-03-31")
    assert empty.status_code == 200
    assert "No figures for this period" in empty.text
    assert "<img" not in empty.text and "<table" not in empty.text
    chart = b.get("/manager/report/chart/reviews.png?start=2010-04-01&end=2011-03-31")
    assert chart.status_code == 404
    full = b.get("/manager/report?start=2026-04-01&end=2027-03-31").text
    assert "No figures for this period" not in full
    assert full.count('<img src="/manager/report/chart/') == 2


def test_a_chart_with_nothing_to_draw_is_replaced_by_a_sentence(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    # November 2026: the seeded review was held (30 days before 1 December); no escalation yet
    page = b.get("/manager/report?start=2026-11-01&end=2026-11-30").text
    assert "No escalations raised in this period." in page
    assert "/manager/report/chart/reviews.png" in page
    assert "/manager/report/chart/escalations.png" not in page


def test_the_figures_download_as_word_and_csv(tmp_path: Path) -> None:
    import csv
    import io

    from docx import Document

    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    page = b.get("/manager/report?start=2026-04-01&end=2027-03-31").text
    assert "/manager/report/download.docx?start=2026-04-01&amp;end=2027-03-31" in page
    word = b.get("/manager/report/download.docx?start=2026-04-01&end=2027-03-31")
    assert word.status_code == 200
    assert 'filename="iro-annual-report-2026-04-01-to-2027-03-31.docx"' in (
        word.headers["content-disposition"])
    doc = Document(io.BytesIO(word.content))
    assert "Independent Reviewing Officer service: figures for 2026/27" in [
        p.text for p in doc.paragraphs]
    sheet = b.get("/manager/report/download.csv?start=2026-04-01&end=2027-03-31")
    rows = list(csv.DictReader(io.StringIO(sheet.text)))
    held = next(r for r in rows if (r["table"], r["row"]) == ("reviews", "Reviews held"))
    assert int(held["value"]) >= 1
    assert b.get("/manager/report/download.pdf").status_code == 404


def test_a_date_out_of_range_is_a_message_not_a_crash(tmp_path: Path) -> None:
    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    for start, end in (("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31")):
        page = b.get(f"/manager/report?start={start}&end={end}")
        assert page.status_code == 400, page.text
        assert "from and to: a period between" in page.text


def test_the_page_draws_its_charts_at_screen_size(tmp_path: Path) -> None:
    """Drawn about the width they are shown at (600 px, labels 9.5 pt at 100 dpi: 13 px), not
    shrunk from the Word report's 1,200 px with 7 pt labels (which came out at 6-7 px)."""
    import struct

    from workers.report import charts

    app, _ = make_app(tmp_path)
    b = Browser(app)
    b.sign_in(DEPUTY)
    png = b.get("/manager/report/chart/reviews.png?start=2026-04-01&end=2027-03-31").content
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR
    assert (width, height) == (600, 270)
    assert charts.SCREEN.small * charts.SCREEN.dpi / 72 >= 12  # label size in px
