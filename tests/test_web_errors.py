"""Every error a person can meet is a page in the service's layout with the security headers
(404, 405, 413, 422, 500, ids that cannot exist, an out-of-range report period), and HEAD
answers as GET does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_client import STORES, Browser, make_app, store_url
from web_seed import DEPUTY, IRO, SUPPORT, Seeded

HEADERS = ("content-security-policy", "x-frame-options", "x-content-type-options",
           "cache-control", "referrer-policy")


@pytest.fixture(params=STORES)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Seeded]:
    app, seeded = make_app(tmp_path, database_url=store_url(request))

    @app.get("/support/boom")
    def boom() -> None:
        raise RuntimeError("a fault in the page's code")

    return app, seeded


def _browser(app: Any, email: str | None) -> Browser:
    browser = Browser(app)
    browser.client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    if email:
        browser.sign_in(email)
    return browser


def _is_page(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    for name in HEADERS:
        assert name in response.headers, (status, name)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    text = response.text
    assert '<link rel="stylesheet" href="/static/style.css">' in text  # the layout
    assert "Independent Reviewing Service" in text and "OFFICIAL-SENSITIVE" in text
    for word in words:
        assert word in text, (status, word)
    assert "Traceback" not in text and '{"detail"' not in text


def test_every_error_is_a_page_in_the_layout(site: tuple[Any, Seeded]) -> None:
    app, _ = site
    iro, support, manager = _browser(app, IRO), _browser(app, SUPPORT), _browser(app, DEPUTY)
    _is_page(iro.get("/no/such/page"), 404, "Not found", "no page at this address")
    _is_page(_browser(app, None).get("/no/such/page"), 404, "Sign in")
    _is_page(iro.client.put("/iro"), 405, "cannot be used that way")
    _is_page(support.client.post("/support/import", content=b"x",
                                 headers={"content-length": str(30 * 2**20)}), 413, "20 MB")
    _is_page(iro.get("/iro/escalations/abc"), 404, "no such record")
    _is_page(iro.get("/iro/escalations/99999999999999999999"), 404, "no such record")
    _is_page(manager.get("/manager/escalations/0"), 404)
    _is_page(support.get("/support/print/99999999999999999999/pdf"), 404)
    _is_page(iro.post("/iro/escalations", {}), 422, "child_ref", "Field required")
    _is_page(support.get("/support/boom"), 500, "unexpected error", "was logged")
    _is_page(support.get("/iro"), 403, "Not allowed")
    _is_page(manager.get("/manager/report?start=0001-01-01&end=9999-12-31"), 400,
             "at most ten years long")


def test_head_answers_like_get(site: tuple[Any, Seeded]) -> None:
    app, seeded = site
    support = _browser(app, SUPPORT)
    for path in ("/support", f"/support/reviews/{seeded.ready_review}", "/sign-in",
                 "/no/such/page", "/static/style.css"):
        get, head = support.client.get(path), support.client.head(path)
        assert head.status_code == get.status_code, path
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
        assert head.headers.get("location") == get.headers.get("location"), path
        assert head.content == b"", path
        assert "content-security-policy" in head.headers
    assert _browser(app, None).client.head("/support").headers["location"] == "/sign-in"


def test_a_refused_form_is_drawn_again_with_what_was_typed(site: tuple[Any, Seeded]) -> None:
    app, seeded = site
    iro = _browser(app, IRO)
    iro.get("/iro/escalations")
    concern = "Contact with siblings <not> arranged & not reviewed since the move."
    refused = iro.post("/iro/escalations", {"child_ref": seeded.my_child, "category": "nonsense",
                                            "concern": concern})
    _is_page(refused, 400, "Nothing was saved; what you typed is kept below")
    assert ">Contact with siblings &lt;not&gt; arranged &amp; not reviewed since the move.<" \
        in refused.text  # kept, and escaped
    assert f'<option value="{seeded.my_child}" selected>' in refused.text
    manager = _browser(app, DEPUTY)
    path = f"/manager/escalations/{seeded.escalation_id}"
    manager.get(path)
    said = manager.post(f"{path}/respond", {"text": "   "})
    assert said.status_code == 400 and "Record response" in said.text
