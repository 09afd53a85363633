"""Two ``cloudjudge serve`` on two loopback ports against one PostgreSQL
database and one media folder (issue 14), as behind a reverse proxy that
sends each request to either: a login made on one continues on the other, a
lockout made on one holds on the other, the dashboard's cached figures are
one cache (the database table ``cloudjudge_cache``, not each process's
memory), and evidence uploaded through one is downloaded through the other."""

from __future__ import annotations

import hashlib
import html
import re

import pytest

from support.site import Client, Server

PASSWORD = "Two-servers-2026-pass"

#: The applicant of the demo data, with a password of the test's own.
APPLICANT = f"""
from cloudjudge.web.accounts.models import User
from cloudjudge.web.register.models import Application
user = User.objects.get(username="applicant")
user.set_password({PASSWORD!r})
user.must_change_password = False
user.save()
app = Application.objects.filter(
    department=user.department, status="in_use", checklist_items__active=True
).first()
print(json.dumps([app.pk, app.number, app.checklist_items.filter(active=True).first().pk]))
"""


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def log_in(client: Client, username: str, password: str):
    token = csrf_token(client.get("/accounts/login/").text)
    return client.post_form(
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"},
    )


@pytest.fixture
def two(site, tmp_path):
    servers = [Server(site, tmp_path / f"server-{n}.log") for n in (1, 2)]
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()


def test_a_login_on_one_server_continues_on_the_other(site, two):
    first, second = two
    pk, number, item = site.value(APPLICANT)
    browser = Client(first.base)
    signed_in = log_in(browser, "applicant", PASSWORD)
    assert signed_in.status == 302 and signed_in.headers["Location"] == "/"

    # The same cookies, the other server: the same session, no new login.
    other = Client(second.base)
    for cookie in browser.jar:
        other.jar.set_cookie(cookie)
    page = other.get(f"/applications/{pk}/")
    assert page.status == 200, page.status
    assert number in page.text

    # A checklist row edited through the second server (its CSRF token came from
    # the first server's session) ...
    token = csrf_token(browser.get(f"/applications/{pk}/").text)
    edited = other.post_form(
        f"/applications/{pk}/checklist/{item}/",
        {"csrfmiddlewaretoken": token, "status": "in_progress", "note": "二台目から更新"},
    )
    assert edited.status in {200, 302}, edited.text[-500:]
    # ... is what the first server shows.
    assert "二台目から更新" in browser.get(f"/applications/{pk}/").text

    # Evidence uploaded through the first server is served by the second.
    body = b"%PDF-1.4\n% two servers\n%%EOF\n"
    uploaded = browser.post_form(
        f"/applications/{pk}/checklist/{item}/evidence/",
        {"csrfmiddlewaretoken": token},
        files={"file": ("二台の証跡.pdf", body, "application/pdf")},
    )
    assert uploaded.status in {200, 302}, uploaded.text[-500:]
    evidence = site.value(
        "from cloudjudge.web.register.models import Evidence\n"
        "e = Evidence.objects.order_by('-pk').first()\n"
        "print(json.dumps([e.pk, e.sha256]))"
    )
    assert evidence[1] == hashlib.sha256(body).hexdigest()
    download = other.get(f"/evidence/{evidence[0]}/")
    assert download.status == 200
    assert download.body == body

    # Logged out on the second: the first no longer knows the session either.
    token = csrf_token(other.get("/").text)
    other.post_form("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert browser.get("/").status == 302


def test_a_lockout_made_on_one_server_holds_on_the_other(site, two):
    first, second = two
    site.value(APPLICANT)
    for attempt in range(1, 5):
        failed = log_in(Client(first.base), "applicant", f"wrong-{attempt}")
        assert failed.status == 200
        assert "ユーザー名またはパスワードが正しくありません。" in failed.text
    # The fifth failure, on the other server, is the one that locks ...
    locked = log_in(Client(second.base), "applicant", "wrong-5")
    assert locked.status == 429
    assert "ログインがロックされています" in locked.text
    # ... and now the right password is refused on both.
    for server in two:
        refused = log_in(Client(server.base), "applicant", PASSWORD)
        assert refused.status == 429
        assert "ログインがロックされています" in refused.text


def cached_alert_keys(site) -> list[str]:
    return site.value(
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        '    c.execute("SELECT cache_key FROM cloudjudge_cache WHERE cache_key LIKE %s",'
        " ['%registry-alerts:%'])\n"
        "    keys = sorted(k for (k,) in c.fetchall())\n"
        "print(json.dumps(keys))"
    )


def test_the_dashboard_figures_are_cached_once_for_every_server(site, two):
    first, second = two
    site.value(APPLICANT)
    browser = Client(first.base)
    assert log_in(browser, "applicant", PASSWORD).status == 302
    assert browser.get("/").status == 200
    keys = cached_alert_keys(site)
    assert len(keys) == 1, keys  # in the database table, not in the worker's memory

    # Another process (here the CLI) changes the cached figure: the second
    # server shows it, so it read the entry the first server wrote.
    key = keys[0].split(":", 2)[2]  # Django's ":version:" prefix
    site.shell(
        "import dataclasses\n"
        "from django.core.cache import cache\n"
        f"kept = cache.get({key!r})\n"  # a figures.Counted: the alerts and their version
        "alerts = dataclasses.replace(kept.value, count=4321, rows=(), by_status=())\n"
        f"cache.set({key!r}, dataclasses.replace(kept, value=alerts), 600)\n"
        "print('ok')"
    )
    other = Client(second.base)
    for cookie in browser.jar:
        other.jar.set_cookie(cookie)
    page = html.unescape(other.get("/").text)
    assert '<span class="num">4321</span>' in page
    assert cached_alert_keys(site) == keys
