"""Each role's main path clicked through in headless Chromium (Debian's package, driven by
Playwright), against `iro web --with-worker` in a subprocess on a free port, letters really sent
to the outbox. Screenshots go to tests/artifacts/web/ (look at them).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import missing_service
from factories import sqlite_url
from mailout_support import CAL, CONFIG, DIRECTORY, RULES
from web_seed import DEPUTY, IRO, IRO_MANAGER, PASSWORD, SUPPORT, Seeded, seed

from workers.core.clock import SYSTEM_CLOCK
from workers.store.session import open_store, upgrade

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts" / "web"
CHROMIUM = os.environ.get("IRO_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WAIT_MS = 180_000  # letters are rendered (and made PDF) by the worker before they go


@dataclass(frozen=True)
class Server:
    url: str
    seeded: Seeded
    outbox: Path
    database_url: str  # for a test that adds rows the seed has none of


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing_service(f"Chromium is not installed at {CHROMIUM}; `make system-deps` installs "
                        "Debian's chromium package")
    tmp = tmp_path_factory.mktemp("web")
    url = sqlite_url(tmp)
    upgrade(url)
    # `iro web` below runs on the machine's clock
    seeded = seed(open_store(url), RULES, DIRECTORY, CAL, SYSTEM_CLOCK.today())
    port = _free_port()
    env = {**os.environ, "IRO_DATABASE_URL": url, "IRO_OUTBOX_DIR": str(tmp / "outbox"),
           "IRO_DOCUMENTS_DIR": str(tmp / "documents"), "IRO_PRINT_DIR": str(tmp / "print"),
           "IRO_TEMPLATES_DIR": str(ROOT / "templates_docx"), "IRO_SCHEDULER_TICK_SECONDS": "1",
           "IRO_SCHEDULER_RECONCILE_AFTER_SECONDS": "5"}
    env.pop("IRO_REDIS_URL", None)
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "iro"), "--config", str(CONFIG), "web",
         "--port", str(port), "--with-worker"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                pytest.fail(f"iro web exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                httpx.get(f"{base}/sign-in", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Server(base, seeded, tmp / "outbox", url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()
    # no script errors, no blocked content (the pages' CSP allows only their own files); the
    # refusals (403) and the import's row errors (400) are pages the tests ask for
    expected = ("status of 400", "status of 403")
    assert [e for e in errors if not any(x in e for x in expected)] == []


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Any, server: Server, email: str) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_business_support_sends_invitations_and_records_a_return(page: Any,
                                                                 server: Server) -> None:
    from playwright.sync_api import expect

    s = server.seeded
    sign_in(page, server, SUPPORT)
    expect(page.get_by_role("heading", name="Upcoming reviews")).to_be_visible()
    shot(page, "support-1-upcoming")
    page.get_by_role("link", name=s.ready_review).click()
    expect(page.get_by_text("Preflight passed")).to_be_visible()
    shot(page, "support-2-review")
    page.get_by_role("link", name="Send invitations…").click()
    expect(page.get_by_role("heading", name=f"Send invitations for review {s.ready_review}?")
           ).to_be_visible()
    shot(page, "support-3-confirm")
    page.get_by_role("button", name="Yes, send 4 invitations").click()
    expect(page.get_by_text("queued: 4 letters")).to_be_visible()
    shot(page, "support-4-progress-started")
    # htmx polls the letters' states while the worker sends them
    expect(page.locator("#progress")).to_contain_text("finished", timeout=WAIT_MS)
    expect(page.locator("#progress")).to_contain_text("2 of 4 sent, 2 to print")
    shot(page, "support-5-progress-finished")
    sent = [f for f in server.outbox.rglob("*.eml") if s.ready_review in f.read_text("utf-8",
                                                                                  "replace")]
    assert len(sent) == 2  # the carer and the social worker; the child and parent by post

    page.get_by_role("link", name="Returns for this review").click()
    record = page.get_by_role("button", name=re.compile("Record the return of form")).first
    record.click()
    # what to check against the paper, then the confirmation (issue 16 §3)
    expect(page.get_by_role("heading", name="Check the form against the paper")).to_be_visible()
    shot(page, "support-6-return-check")
    page.get_by_role("button", name=re.compile("Yes, record the return")).click()
    expect(page.get_by_text("recorded as returned")).to_be_visible()
    shot(page, "support-6-returns")
    # a form that came by post, with its scan attached
    code = page.locator('form.inline input[name="code"]').first.get_attribute("value")
    page.get_by_label("Reference code on the form").fill(code)
    page.get_by_role("button", name="Check and record", exact=True).click()
    page.get_by_label(re.compile("Scanned form")).set_input_files(files=[{
        "name": "scan.pdf", "mimeType": "application/pdf",
        "buffer": b"%PDF-1.4\n%%EOF\n"}])
    page.get_by_role("button", name=re.compile("Yes, record the return")).click()
    expect(page.locator(".flash")).to_contain_text("the scan is kept with the case")
    shot(page, "support-6b-return-with-scan")
    page.get_by_role("link", name="Failed").click()
    expect(page.get_by_text("refused the address (550)")).to_be_visible()
    shot(page, "support-7-failed")
    page.get_by_role("button", name=f"Send letter {s.failed_dispatch_id} again").click()
    expect(page.get_by_text("will be sent again")).to_be_visible()
    page.get_by_role("link", name="Import").click()
    page.get_by_label("CSV file").set_input_files(files=[{
        "name": "export.csv", "mimeType": "text/csv",
        "buffer": (ROOT / "examples" / "reviews.csv").read_bytes().replace(
            b"2018-05-14", b"2018-13-45", 1)}])
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("line 2, column child_dob")).to_be_visible()
    shot(page, "support-8-import-errors")
    page.get_by_role("link", name="Print batch").click()
    shot(page, "support-9-print")
    # built in the background: the page polls its progress and says when it is done
    page.get_by_role("button", name="Build today's print batch").click()
    expect(page.locator("#print-job")).to_contain_text("2 letters", timeout=WAIT_MS)
    shot(page, "support-10-print-built")
    page.get_by_role("link", name="Show all batches").click()
    page.get_by_role("button", name="Mark printed and posted").first.click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()
    page.get_by_role("button", name=re.compile("Yes, record")).click()
    expect(page.get_by_text("recorded as posted")).to_be_visible()

    # another role's action: resolving an escalation is refused
    page.goto(f"{server.url}/iro/escalations/{s.escalation_id}")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, "support-10-refused")


def test_iro_sees_caseload_raises_and_advances_an_escalation(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    s = server.seeded
    sign_in(page, server, IRO)
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_text("overdue since").first).to_be_visible()
    shot(page, "iro-1-caseload")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download (.docx)").first.click()
    assert download.value.suggested_filename == f"{s.held_review}-draft-review-record.docx"
    page.get_by_role("link", name="My escalations").click()
    form = page.get_by_role("form", name="Raise an escalation")  # the list's filters are above
    form.get_by_label("Child").select_option(s.my_child)
    form.get_by_label("Category").select_option("sw_visits_out_of_timescale")
    form.get_by_label("The concern").fill("Statutory visits missed in October and November.")
    form.get_by_role("button", name="Raise escalation").click()
    expect(page.get_by_text("raised; the stage notice is on its way")).to_be_visible()
    shot(page, "iro-2-raised")
    page.get_by_role("button", name="Advance escalation").click()
    expect(page.get_by_text("This cannot be undone")).to_be_visible()  # asked once first
    shot(page, "iro-3a-confirm-advance")
    page.get_by_role("button", name=re.compile("Yes, advance")).click()
    expect(page.get_by_text("stage deputy manager, open")).to_be_visible()
    shot(page, "iro-3-advanced")
    # a manager's page is not an IRO's
    page.goto(f"{server.url}/manager")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


def test_manager_responds_and_reads_the_report(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    s = server.seeded
    sign_in(page, server, DEPUTY)
    expect(page.get_by_role("heading", name="Escalations awaiting my response")).to_be_visible()
    shot(page, "manager-1-awaiting")
    page.get_by_role("link", name=f"ESC-{s.escalation_id}", exact=True).click()
    page.get_by_label("Your response").fill("Team manager to update the pathway plan by Friday.")
    page.get_by_role("button", name="Record response").click()
    expect(page.get_by_text("Your response to")).to_be_visible()
    shot(page, "manager-2-responded")
    page.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Reviews held")).to_be_visible()
    charts = page.locator(".charts img")
    expect(charts).to_have_count(2)
    for i in range(2):
        expect(charts.nth(i)).to_have_js_property("complete", True)
        assert charts.nth(i).evaluate("img => img.naturalWidth") > 0
    shot(page, "manager-3-report")
    # a manager cannot send invitations
    page.goto(f"{server.url}/support/reviews/{s.broken_review}/send")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    shot(page, "manager-4-refused")


def test_iro_records_a_review_held_and_its_decisions(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    s = server.seeded
    sign_in(page, server, IRO)
    page.get_by_role("link", name=s.ready_review, exact=True).click()
    expect(page.get_by_role("heading", name="Record the review as held")).to_be_visible()
    page.get_by_label("How the child took part").select_option("PN1")
    page.get_by_label(re.compile(r"· child ·")).check()
    page.get_by_label(re.compile(r"· social worker ·")).check()
    shot(page, "iro-4-record-held")
    page.get_by_role("button", name="Record as held").click()
    expect(page.get_by_role("heading", name=re.compile("as held on"))).to_be_visible()
    page.get_by_role("button", name="Yes, record it as held").click()
    expect(page.get_by_text(f"Review {s.ready_review} recorded as held")).to_be_visible()
    shot(page, "iro-5-held")
    page.get_by_role("navigation").get_by_role("link", name="My caseload").click()
    page.get_by_role("link", name=s.held_review, exact=True).click()
    page.get_by_role("button", name="Record decisions sent").click()
    expect(page.get_by_text("Decisions sent on")).to_be_visible()
    shot(page, "iro-6-decisions-sent")


def test_the_iro_manager_resolves_an_escalation(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    s = server.seeded
    sign_in(page, server, IRO_MANAGER)
    expect(page.get_by_role("heading", name="Every other open escalation")).to_be_visible()
    shot(page, "manager-5-iro-manager-home")
    page.get_by_role("link", name=f"ESC-{s.escalation_id}", exact=True).click()
    page.get_by_label("Outcome").fill("Pathway plan updated and agreed with the IRO.")
    shot(page, "manager-6-resolve")
    page.get_by_role("button", name="Resolve escalation").click()
    expect(page.get_by_text(f"ESC-{s.escalation_id} resolved")).to_be_visible()
    shot(page, "manager-7-resolved")


def test_a_copied_cookie_stops_working_after_sign_out(page: Any, chromium: Any,
                                                      server: Server) -> None:
    from playwright.sync_api import expect

    sign_in(page, server, SUPPORT)
    expect(page.get_by_role("heading", name="Upcoming reviews")).to_be_visible()
    other = chromium.new_context()
    try:
        other.add_cookies(page.context.cookies())
        copy = other.new_page()
        copy.goto(server.url + "/support")
        expect(copy.get_by_role("heading", name="Upcoming reviews")).to_be_visible()
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        copy.goto(server.url + "/support")
        expect(copy.get_by_role("heading", name="Sign in")).to_be_visible()
        shot(copy, "sign-out-copied-cookie")
    finally:
        other.close()
