"""The docs page in headless Chromium, with every request off this server
refused: Swagger UI must come entirely from our static files, run under the
site's Content-Security-Policy, and "Try it out" must work with the session
(and its CSRF token)."""

from __future__ import annotations

import shutil

import pytest
from django.test import Client, override_settings

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"


def documented_operations() -> int:
    """Every operation of the OpenAPI document is one block on the docs page."""
    from cloudjudge.web.api.api import api

    return sum(len(ops) for ops in api.get_openapi_schema()["paths"].values())


@pytest.fixture
def server():
    from pytest_django.live_server_helper import LiveServer

    # MEDIA_URL is None in the settings; the live server's media handler needs a URL.
    with override_settings(MEDIA_URL="http://media.invalid/"):
        live = LiveServer("127.0.0.1")
    yield live
    live.stop()


@pytest.fixture
def page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM must be
    # told that is deliberate. Only for this test, not the whole process (a
    # subprocess of another test would inherit it).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser.new_context()
        browser.close()


def test_swagger_ui_runs_offline_and_tries_the_judgement(server, page, applicant):
    client = Client()
    client.force_login(applicant)
    context = page
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    tab = context.new_page()
    outside, problems = [], []
    tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: problems.append(str(e)))

    def only_this_server(route):
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    tab.route("**/*", only_this_server)
    response = tab.goto(f"{server.url}/api/v1/docs")
    assert response.status == 200
    assert "script-src 'self'" in response.headers.get("content-security-policy", "")
    tab.wait_for_selector(".opblock", timeout=15_000)
    assert tab.locator(".opblock").count() == documented_operations()

    operation = tab.locator("#operations-judgements-judge")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status")
    status.first.wait_for(timeout=15_000)
    assert status.first.text_content().strip() == "200"
    assert '"verdict"' in operation.locator(".live-responses-table .microlight").first.inner_text()

    assert outside == []
    assert problems == []
