"""Acting as a user through the real pages: the login form, the token page."""

from __future__ import annotations

import datetime
import html
import re
from urllib.parse import urljoin

from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

#: A password that satisfies the policy (make_user's "x" * 16 does not matter:
#: passwords set directly are not validated, only those set through forms).
PASSWORD = "Kumo-no-Ue-2026!"


def log_in(client: Client, username: str, password: str = PASSWORD, **extra):
    """POST the real login form; the response is not followed."""
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def token(device, ahead: int = 0) -> str:
    """The code an authenticator app shows now (``ahead`` steps later).

    django-otp refuses a code of a time step it has already accepted, so a
    second login within the same 30 seconds uses ``ahead=1`` (accepted within
    the tolerance of one step)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return f"{value:0{device.digits}d}"


def wrong(code: str) -> str:
    """A six-digit code that is not ``code`` (nor, in practice, its neighbours)."""
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def unthrottle(device) -> None:
    """Pretend the few seconds django-otp asks to wait after a failure have passed."""
    device.refresh_from_db()
    if device.throttling_failure_timestamp is not None:
        device.throttling_failure_timestamp = timezone.now() - datetime.timedelta(minutes=10)
        device.save()


def path_of(response) -> str:
    return response.url.split("?", 1)[0]


def recovery_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)


def oidc_sign_in(client: Client, username: str, password: str, browser=None, follow=True):
    """Sign in through the OpenID Connect provider as a browser would:
    cloudjudge's button, the provider's login form, its redirect back to the
    callback. ``browser`` (a ``requests.Session``) holds the provider's
    cookies; the response is cloudjudge's answer to the callback."""
    import requests

    browser = browser or requests.Session()
    response = client.get(reverse("oidc_login"))
    assert response.status_code == 302, response
    answer = browser.get(response.url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if answer.is_redirect:
            target = urljoin(answer.url, answer.headers["Location"])
            if target.startswith("http://testserver/"):
                return client.get(target.removeprefix("http://testserver"), follow=follow)
            answer = browser.get(target, allow_redirects=False, timeout=10)
            continue
        form = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text)
        assert answer.status_code == 200 and form, answer.text[:500]
        nxt = re.search(r'name="next" value="([^"]*)"', answer.text)
        answer = browser.post(
            answer.url,
            {
                "csrfmiddlewaretoken": form.group(1),
                "username": username,
                "password": password,
                "next": html.unescape(nxt.group(1)) if nxt else "",
            },
            headers={"Referer": answer.url},
            allow_redirects=False,
            timeout=10,
        )
    raise AssertionError("the provider never sent the browser back")
