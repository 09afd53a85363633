"""PostgreSQL stopped under a running server (issue 14): pages answer a 503
page in Japanese, the API a 503 JSON body, each at once (no hang, no
traceback), and the server serves again by itself once the database is back.

The server runs as in production (``CLOUDJUDGE_DEBUG=0``), with connections
opened per request and with connections kept for a minute: a kept
connection broken by the restart must not cost a failed request either."""

from __future__ import annotations

import time

import pytest

from support.site import Client, Server, Site, token_for

#: A session for the applicant, made server-side (see test_sigkill.py).
APPLICANT_SESSION = """
import time
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from cloudjudge.web.accounts.models import User
from cloudjudge.web.accounts.sessions import LAST_SEEN, LOGIN_AT
user = User.objects.get(username="hanako")
User.objects.filter(pk=user.pk).update(must_change_password=False)
session = SessionStore()
session.update({
    SESSION_KEY: str(user.pk), HASH_SESSION_KEY: user.get_session_auth_hash(),
    BACKEND_SESSION_KEY: "cloudjudge.web.accounts.backends.LocalBackend",
    LOGIN_AT: time.time(), LAST_SEEN: time.time(),
})
session.create()
print(json.dumps(session.session_key))
"""

#: Every request must be answered well within this (the database refuses at once).
PROMPT = 10


@pytest.fixture(scope="module")
def installation(cluster, tmp_path_factory) -> Site:
    cluster.create_database("cj_outage")
    site = Site(tmp_path_factory.mktemp("outage"), cluster.url("cj_outage"))
    site.ok("manage", "migrate", "-v0")
    site.ok("manage", "createuser", "hanako", "--role", "applicant", "--department", "shimin")
    return site


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("conn_max_age", ["0", "60"])
def test_a_stopped_database_is_a_503_and_the_server_recovers(
    cluster, installation, tmp_path, conn_max_age
):
    production = Site(
        installation.folder,
        installation.env["DATABASE_URL"],
        CLOUDJUDGE_DEBUG="0",
        CLOUDJUDGE_SSL_REDIRECT="0",
        CLOUDJUDGE_CONN_MAX_AGE=conn_max_age,
    )
    server = Server(production, tmp_path / "server.log").start()
    try:
        api = Client(server.base, token_for(installation, "hanako"))
        # Secure cookies are not sent over plain HTTP: the session goes by hand.
        pages = Client(server.base, cookies={"sessionid": installation.value(APPLICANT_SESSION)})
        assert api.get("/api/v1/me").status == 200
        assert pages.get("/").status == 200

        cluster.stop()

        page, took = timed(lambda: pages.get("/", timeout=PROMPT * 3))
        assert took < PROMPT
        assert page.status == 503
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.headers["Retry-After"] == "30"
        assert "データベースに接続できません" in page.text
        assert "一時的に利用できません" in page.text
        assert "Traceback" not in page.text and "OperationalError" not in page.text
        answer, took = timed(lambda: api.get("/api/v1/me", timeout=PROMPT * 3))
        assert took < PROMPT
        assert answer.status == 503
        assert answer.headers["Content-Type"].startswith("application/json")
        assert answer.json() == {
            "detail": "データベースに接続できません。しばらくしてから、もう一度お試しください。",
            "code": "database_unavailable",
        }
        judged = api.post_json("/api/v1/judgements", {"service": {}}, timeout=PROMPT * 3)
        assert judged.status == 503 and judged.json()["code"] == "database_unavailable"

        cluster.start()

        # Served again by itself: the very first requests, no restart of the server.
        assert api.get("/api/v1/me").status == 200
        assert pages.get("/").status == 200
        assert api.get("/api/v1/applications").status == 200
    finally:
        cluster.start()
        server.stop()
