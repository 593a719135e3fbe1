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
