"""Security headers on every response, cookie flags, and templates that keep
to the Content-Security-Policy (no inline script or style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from .helpers import PASSWORD, log_in

pytestmark = pytest.mark.django_db


def check_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in csp.split("; ") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_the_security_headers(login, applicant, security):
    check_headers(Client().get("/accounts/login/"))
    check_headers(login(applicant).get("/"))
    check_headers(login(security).get("/accounts/settings/"))
    check_headers(Client().get("/"))  # the redirect to the login page too


def test_static_files_carry_them_too(client):
    response = client.get("/static/cloudjudge/app.css")
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_cookie_flags(applicant):
    applicant.set_password(PASSWORD)
    applicant.save()
    client = Client()
    client.get("/accounts/login/")
    csrf = client.cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["samesite"] == "Lax"
    log_in(client, applicant.username)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert settings.CSRF_COOKIE_HTTPONLY and settings.SESSION_COOKIE_HTTPONLY


def test_csrf_is_enforced_on_the_login_form(applicant):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/accounts/login/", {"username": applicant.username, "password": "x" * 16}
    )
    assert response.status_code == 403


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\shx-on", re.I), "hx-on (needs eval)"),
]


def test_no_template_has_inline_script_or_style():
    """The CSP forbids them: they would silently not work in the browser."""
    found = []
    for path in sorted(Path(settings.WEB_DIR).rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(settings.WEB_DIR)}:{line}: {what}")
    assert found == []
