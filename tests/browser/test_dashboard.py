"""The operations dashboard in a real browser: Debian's Chromium (headless, driven by Playwright) against
a running `emporion run` with a real Tryton and the sandbox shop.

One emporion serves the whole module (see conftest.py): a catalogue flow and an order flow, synced, one
shop order placed, and two products the shop refuses for good (a trashed product holds each SKU), i.e.
two real dead letters. The tests log in through the form, look at the flows, find a product and the
order, empty the shop's trash and retry a dead letter and watch it succeed without a reload, pause and
resume a flow, and check that a viewer can neither press nor force a retry. Every page is photographed
(EMPORION_SCREENSHOTS, default var/screenshots/); EMPORION_DOCS_SCREENSHOT=1 refreshes docs/dashboard.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.browser.support import DOCS_SCREENSHOT, PASSWORDS, Dashboard, empty_trash, shoot
from tests.integration.process_support import CATALOGUE, ORDERS

pytestmark = [pytest.mark.browser, pytest.mark.tryton]

STATES = {"running", "paused", "disabled", "lagging", "failing"}
NEEDS_OPERATOR = "needs the operator role"
LIVE = 20_000  # ms a live region may take to show a change (it refreshes every 2-3 s)


def mark_document(page: Page) -> None:
    """Put a marker on the window that a reload or a navigation would lose."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page: Page) -> bool:
    """Whether the page still is the document `mark_document` marked (no reload happened)."""
    return page.evaluate("window.__notReloaded === true")


def flow_row(page: Page, flow: str) -> Locator:
    """The overview's row of one flow."""
    return page.locator(f"[data-testid=flow-row][data-flow='{flow}']")


def dead_row(page: Page, sku: str) -> Locator:
    """The dead letters page's row of one record."""
    return page.locator(f"[data-testid=dead-row][data-record='{sku}']")


def search(page: Page, url: str, term: str) -> None:
    """Search the records page for a term through its search box."""
    page.goto(f"{url}/records")
    box = page.get_by_test_id("search")
    box.fill(term)
    box.press("Enter")
    expect(page.get_by_test_id("record-hit").first).to_be_visible()


def test_pages_need_a_login_and_a_wrong_password_shows_the_error(
    dashboard: Dashboard, new_context: Callable[[], BrowserContext]
) -> None:
    page = new_context().new_page()
    page.goto(f"{dashboard.url}/dead")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)dead$"))
    expect(page.locator("form#login")).to_be_visible()
    shoot(page, "login")

    page.fill("input[name=username]", "oscar")
    page.fill("input[name=password]", "not-the-password")
    with page.expect_response(
        lambda r: r.url.startswith(f"{dashboard.url}/login") and r.request.method == "POST"
    ) as answer:
        page.get_by_test_id("login-submit").click()
    assert answer.value.status == 401
    expect(page.get_by_test_id("login-error")).to_be_visible()
    expect(page.get_by_test_id("nav")).to_have_count(0)
    shoot(page, "login-error")

    page.fill("input[name=username]", "oscar")
    page.fill("input[name=password]", PASSWORDS["oscar"])
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{dashboard.url}/dead")  # back where the login was asked for
    expect(page.get_by_test_id("whoami")).to_contain_text("user:oscar (operator)")


def test_the_overview_shows_both_flows_live(dashboard: Dashboard, login: Callable[[str], Page]) -> None:
    page = login("oscar")
    expect(page.get_by_test_id("whoami")).to_contain_text("user:oscar (operator)")
    nav = page.get_by_test_id("nav")
    for path in ("/", "/dead", "/reports", "/alerts", "/records", "/events"):
        expect(nav.locator(f"a[href='{path}']")).to_have_count(1)

    expect(page.get_by_test_id("flows").get_by_test_id("flow-row")).to_have_count(2)
    for flow in dashboard.flows:
        state = flow_row(page, flow).get_by_test_id("flow-state")
        expect(state).to_have_text(re.compile("|".join(STATES)))
    # the two refused products are dead letters of the last minutes: the catalogue is failing
    expect(flow_row(page, CATALOGUE).get_by_test_id("flow-state")).to_have_text(re.compile("failing"))
    expect(flow_row(page, CATALOGUE).get_by_test_id("flow-errors")).to_have_text(re.compile(r"[1-9]"))
    expect(flow_row(page, ORDERS).get_by_test_id("flow-state")).to_have_text(re.compile("running|lagging"))
    expect(flow_row(page, ORDERS).get_by_test_id("pause")).to_be_enabled()
    expect(page.get_by_test_id("circuits")).to_be_visible()
    expect(page.get_by_test_id("events")).to_be_visible()

    # live: the rows are replaced by the refresh while the document stays the same
    mark_document(page)
    row = flow_row(page, ORDERS).element_handle()
    assert row is not None
    page.wait_for_function("row => !row.isConnected", arg=row, timeout=LIVE)
    assert not_reloaded(page)
    expect(flow_row(page, ORDERS)).to_be_visible()
    overview = shoot(page, "overview")
    if dashboard.docs_screenshot:
        page.screenshot(path=str(DOCS_SCREENSHOT))  # the viewport only: 1280x800 for the README
        assert DOCS_SCREENSHOT.stat().st_size > 10_000
    assert overview.exists()


def test_find_a_product_by_sku_and_open_its_record(
    dashboard: Dashboard, login: Callable[[str], Page]
) -> None:
    sku = dashboard.synced_sku
    page = login("oscar")
    search(page, dashboard.url, sku)
    hits = page.get_by_test_id("record-hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text(sku)
    shoot(page, "records-sku")

    hits.first.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/records/{CATALOGUE}/product/[^/]+$"))
    expect(page.get_by_test_id("source-side")).to_contain_text(sku)
    expect(page.get_by_test_id("target-side")).to_contain_text(sku)
    expect(page.get_by_test_id("link-state")).to_have_text(re.compile("synced"))
    journal = page.get_by_test_id("journal")
    expect(journal.get_by_test_id("journal-row").first).to_contain_text("created")
    expect(page.get_by_test_id("resync-record")).to_be_enabled()
    shoot(page, "record-product")


def test_find_the_order_by_number_and_by_email(dashboard: Dashboard, login: Callable[[str], Page]) -> None:
    number = str(dashboard.order["number"])
    email = dashboard.order["billing"]["email"]
    page = login("oscar")
    search(page, dashboard.url, number)
    order_hit = page.get_by_test_id("record-hit").filter(has_text=re.compile(rf"\b{number}\b"))
    expect(order_hit.first).to_be_visible()
    shoot(page, "records-order-number")

    search(page, dashboard.url, email)
    hits = page.get_by_test_id("record-hit")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text(number)
    hits.first.locator("a").first.click()
    expect(page).to_have_url(re.compile(rf"/records/{ORDERS}/order/{number}$"))
    expect(page.get_by_test_id("source-side")).to_contain_text(email)
    expect(page.get_by_test_id("target-side")).to_contain_text(f"WEB-{number}")  # the sale in Tryton
    expect(page.get_by_test_id("link-state")).to_have_text(re.compile("synced"))
    expect(page.get_by_test_id("journal-row").first).to_contain_text("created")
    shoot(page, "record-order")


def test_retry_a_dead_letter_after_its_cause_is_gone_and_watch_it_succeed(
    dashboard: Dashboard, login: Callable[[str], Page]
) -> None:
    sku = dashboard.retried_sku
    letter = dashboard.dead_letter(sku)
    assert letter.status == "open" and "product_invalid_sku" in letter.reason
    page = login("oscar")
    events = page.context.new_page()  # the live event stream, in a second tab
    events.goto(f"{dashboard.url}/events")
    expect(events.get_by_test_id("event-list")).to_be_attached()

    page.goto(f"{dashboard.url}/records/{CATALOGUE}/product/{letter.key}")
    expect(page.get_by_test_id("link-state")).not_to_have_text(re.compile("synced"))  # never written
    shoot(page, "record-dead-before")

    page.goto(f"{dashboard.url}/dead?status=all")
    row = dead_row(page, sku)
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text("product_invalid_sku")
    shoot(page, "dead-letters")
    page.locator(f"a[href='/dead/{letter.id}']").first.click()
    expect(page).to_have_url(f"{dashboard.url}/dead/{letter.id}")
    expect(page.locator("body")).to_contain_text("product_invalid_sku")
    shoot(page, "dead-letter-detail")

    empty_trash(dashboard.shop, dashboard.trashed[sku])  # the shop manager empties the trash: SKU free
    page.goto(f"{dashboard.url}/dead?status=all")
    mark_document(page)
    dead_row(page, sku).get_by_test_id("retry").click()
    expect(page.get_by_test_id("flash")).to_contain_text("retried 1 dead letter")
    expect(dead_row(page, sku).get_by_test_id("dead-status")).to_have_text(
        re.compile("retried"), timeout=LIVE
    )
    expect(dead_row(page, sku)).to_have_attribute("data-status", "retried")
    assert not_reloaded(page)
    shoot(page, "dead-letters-retried")

    # the record is written this time: its event arrives live, its link is synced
    expect(
        events.get_by_test_id("event-list").locator("li", has_text=f"product/{letter.key}")
    ).not_to_have_count(0, timeout=LIVE)
    shoot(events, "events")
    page.goto(f"{dashboard.url}/records/{CATALOGUE}/product/{letter.key}")
    expect(page.get_by_test_id("link-state")).to_have_text(re.compile("synced"))
    expect(page.get_by_test_id("target-side")).to_contain_text(sku)
    shoot(page, "record-dead-after")
    assert dashboard.state.link(CATALOGUE, "product", letter.key).state == "synced"
    assert not [d for d in dashboard.state.dead(CATALOGUE) if d.record == sku and d.status == "open"]


def test_pause_and_resume_a_flow(dashboard: Dashboard, login: Callable[[str], Page]) -> None:
    page = login("oscar")
    mark_document(page)
    row = flow_row(page, ORDERS)
    row.get_by_test_id("pause").click()
    expect(page.get_by_test_id("flash")).to_contain_text(f"paused {ORDERS}")
    expect(flow_row(page, ORDERS).get_by_test_id("flow-state")).to_have_text(re.compile("paused"))
    expect(flow_row(page, ORDERS).get_by_test_id("resume")).to_be_visible()
    assert dashboard.state.paused(ORDERS)
    shoot(page, "overview-paused")

    flow_row(page, ORDERS).get_by_test_id("resume").click()
    expect(page.get_by_test_id("flash")).to_contain_text(f"resumed {ORDERS}")
    expect(flow_row(page, ORDERS).get_by_test_id("flow-state")).not_to_have_text(re.compile("paused"))
    expect(flow_row(page, ORDERS).get_by_test_id("pause")).to_be_visible()
    assert not dashboard.state.paused(ORDERS)
    assert not_reloaded(page)
    audit = dashboard.state.audit("user:oscar")
    assert ("flow.pause", ORDERS, "ok") in audit and ("flow.resume", ORDERS, "ok") in audit, audit


def test_a_viewer_cannot_retry(dashboard: Dashboard, login: Callable[[str], Page]) -> None:
    sku = dashboard.open_sku
    letter = dashboard.dead_letter(sku)
    page = login("vera")
    expect(page.get_by_test_id("whoami")).to_contain_text("user:vera (viewer)")
    expect(flow_row(page, ORDERS).get_by_test_id("pause")).to_be_disabled()

    page.goto(f"{dashboard.url}/dead")
    retry = dead_row(page, sku).get_by_test_id("retry")
    expect(retry).to_be_disabled()
    expect(retry).to_have_attribute("title", re.compile(NEEDS_OPERATOR))
    expect(dead_row(page, sku).get_by_test_id("discard")).to_be_disabled()
    shoot(page, "dead-letters-viewer")

    # forced from the page with the session's CSRF token: the server says no all the same (and audits it)
    action = retry.get_attribute("hx-post") or f"/ui/dead/{letter.id}/retry"
    forced = page.evaluate(
        """async ([action, ident]) => {
            const token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"];
            const post = (url, headers, body) => fetch(url, {method: "POST", headers, body});
            const json = {"X-CSRF-Token": token, "Content-Type": "application/json"};
            return {
                token: token || "",
                page: (await post(action, {"X-CSRF-Token": token, "HX-Request": "true"})).status,
                api: (await post("/api/v1/dead-letters/retry", json, JSON.stringify({ids: [ident]}))).status,
                noToken: (await post(action, {"HX-Request": "true"})).status,
            };
        }""",
        [action, letter.id],
    )
    assert forced["token"], "no CSRF token in the body's hx-headers"
    assert forced == {"token": forced["token"], "page": 403, "api": 403, "noToken": 403}, forced
    audit = dashboard.state.audit("user:vera")
    assert ("denied", f"POST {action}", "denied") in audit, audit
    assert ("denied", "POST /api/v1/dead-letters/retry", "denied") in audit, audit
    assert ("csrf", action, "denied") in audit, audit
    assert dashboard.dead_letter(sku).status == "open"


def test_every_page_renders_and_logout_ends_the_session(
    dashboard: Dashboard, login: Callable[[str], Page]
) -> None:
    page = login("oscar")
    for path, testid, name in (
        ("/reports", "nav", "reports"),
        ("/alerts", "nav", "alerts"),
        ("/records", "search", "records"),
        ("/events", "event-list", "events-page"),
    ):
        page.get_by_test_id("nav").locator(f"a[href='{path}']").click()
        expect(page).to_have_url(f"{dashboard.url}{path}")
        expect(page.get_by_test_id(testid)).to_be_attached()
        shoot(page, name)
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto(f"{dashboard.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
