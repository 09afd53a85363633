"""End-to-end fixtures: Debian's headless Chromium driven by Playwright's sync
API against pytest-django's ``live_server`` (a real threaded HTTP server on
the test database), and helpers that act the way a user does: through the
login form, the buttons and the labels they read.

Playwright's sync API runs an event loop in the test's thread, so Django's
ORM (used to set up users and to compute TOTP tokens) must be told that this
is deliberate: ``DJANGO_ALLOW_ASYNC_UNSAFE``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from support.directory_fixtures import (  # noqa: F401 (fixtures: the directory sign-in test)
    directory,
    ldap_server,
    oidc_provider,
    provider,
)


@pytest.fixture(scope="session", autouse=True)
def _allow_orm_beside_playwright():
    """Only while the browser tests run: a subprocess started by another test
    (``check --deploy``, say) must not inherit it."""
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if before is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
#: How long a user waits for a page or the live verdict before the test fails (ms).
TIMEOUT_MS = 10_000

#: Where a second-factor page asks for the token (whatever the MFA work names it).
TOKEN_INPUTS = ", ".join(
    [
        'input[autocomplete="one-time-code"]',
        'input[name="otp_token"]',
        'input[name="token"]',
        'input[name$="-token"]',
        'input[name="otp"]',
        'input[name="code"]',
    ]
)


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server on 127.0.0.1, started with a MEDIA_URL.

    The settings have ``MEDIA_URL = None`` (evidence is only ever served by a
    permission-checked view), and Django's LiveServerThread wraps the app in a
    media-files handler that crashes on None (``urlparse(None)`` is bytes). A
    MEDIA_URL on another host makes that handler step aside for every request,
    so evidence still goes only through the application's own view."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "127.0.0.1"
    )
    with override_settings(MEDIA_URL="http://media.invalid/"):
        server = LiveServer(addr)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    from playwright.sync_api import expect

    context = browser.new_context(
        base_url=live_server.url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    # Any confirm() a future page adds is answered the way the user means it.
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


class Screenshots:
    """``shot(page, "step")`` saves ``var/screenshots/NN-step.png`` (full page)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("[0-9][0-9]-*.png"):
            old.unlink()
        self.n = 0
        self.saved: list[Path] = []

    def __call__(self, page, step: str) -> Path:
        self.n += 1
        path = self.folder / f"{self.n:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.saved.append(path)
        return path


@pytest.fixture
def shot() -> Screenshots:
    return Screenshots(SCREENSHOTS)


# --------------------------------------------------------------------------- second factor


def totp_installed() -> bool:
    from django.apps import apps

    return apps.is_installed("django_otp.plugins.otp_totp")


def give_totp_device(user):
    """A confirmed TOTP device for ``user`` if django-otp's TOTP plugin is
    installed (it is once the MFA work lands), else None."""
    if not totp_installed():
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)


def current_token(device) -> str:
    """The token an authenticator app would show now, never one the device has
    already accepted (django-otp refuses a replayed token: wait for the next)."""
    from django_otp.oath import totp

    device.refresh_from_db()
    while True:
        counter = int((time.time() - device.t0) // device.step)
        if device.last_t is None or counter > device.last_t:
            break
        time.sleep(0.5)
    token = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{token:0{device.digits}d}"


# --------------------------------------------------------------------------- acting as a user


def _log_in(page, username: str, password: str, *, device=None, shot=None, step=None) -> None:
    """Log in through the form; type the TOTP token if a token page appears."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    if shot and step:
        shot(page, step)
    page.get_by_role("button", name="ログイン", exact=True).click()
    page.wait_for_load_state()
    token_input = page.locator(TOKEN_INPUTS)
    if token_input.count():
        assert device is not None, f"{username} was asked for a token but has no TOTP device"
        token_input.first.fill(current_token(device))
        if shot and step:
            shot(page, f"{step}-totp")
        token_input.first.press("Enter")
        page.wait_for_load_state()
    expect(page.get_by_role("button", name="ログアウト")).to_be_visible()


def _log_out(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()


@pytest.fixture
def log_in():
    """``log_in(page, username, password, device=…, shot=…, step=…)``."""
    return _log_in


@pytest.fixture
def log_out():
    """``log_out(page)``: the header's log-out button, back to the login page."""
    return _log_out


@pytest.fixture
def totp_device():
    """``totp_device(user)``: a confirmed TOTP device once MFA is installed, else None."""
    return give_totp_device


@pytest.fixture
def certificate_pdf(tmp_path) -> Path:
    """A real (small) PDF: the vendor's data deletion certificate."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    path = tmp_path / "データ削除証明書.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setFont("HeiseiKakuGo-W5", 16)
    pdf.drawString(72, 770, "データ消去証明書")
    pdf.setFont("HeiseiKakuGo-W5", 11)
    pdf.drawString(72, 740, "貴市から預託されたデータは全て復元不可能な方法で消去しました。")
    pdf.drawString(72, 720, "株式会社サンプルクラウド")
    pdf.save()
    return path
