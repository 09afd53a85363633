"""Which database errors are an outage (503) and which stay the program's
errors (500). The outage itself, against a real PostgreSQL stopped under a
real server: tests/faults/test_database_outage.py."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from django.db import DatabaseError, InterfaceError, OperationalError, connection

from cloudjudge.web.outage import is_outage


def raised(statement: str) -> BaseException:
    with pytest.raises(DatabaseError) as caught, connection.cursor() as cursor:
        cursor.execute(statement)
    return caught.value


@pytest.mark.django_db
def test_a_missing_table_is_not_an_outage():
    """SQLite says OperationalError, PostgreSQL ProgrammingError: both are the program's."""
    assert not is_outage(raised("SELECT * FROM no_such_table_here"))


def test_a_refused_connection_is_an_outage():
    try:
        psycopg.connect("postgresql://nobody@127.0.0.1:9/none", connect_timeout=2)
    except psycopg.OperationalError as cause:
        error = OperationalError(str(cause))
        error.__cause__ = cause
    assert is_outage(error)


def test_a_closed_connection_and_a_locked_database_are_outages():
    assert is_outage(InterfaceError("connection already closed"))
    locked = OperationalError("database is locked")
    locked.__cause__ = sqlite3.OperationalError("database is locked")
    assert is_outage(locked)
    assert not is_outage(ValueError("not a database error"))


def _backend_pid() -> int:
    connection.ensure_connection()
    return connection.connection.info.backend_pid


@pytest.mark.django_db(transaction=True)
def test_a_kept_connection_the_database_dropped_is_replaced_before_the_request(applicant, settings):
    """A restart or an administrator's ``pg_terminate_backend`` ends the kept
    connection: the next request is served (on a new connection), not a 503,
    without asking the server ``SELECT 1`` before every request."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL connection (DATABASE_URL) is needed")
    from django.test import Client

    from cloudjudge.web.api.models import ApiToken
    from cloudjudge.web.outage import drop_dead_connections

    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is False
    _, token = ApiToken.issue(applicant, name="test")
    api = Client(headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/me").status_code == 200

    kept = _backend_pid()
    drop_dead_connections()  # a live connection is kept, not reopened
    assert _backend_pid() == kept

    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s, 5000)", [kept]).fetchone()[0]

    answer = api.get("/api/v1/me")
    assert answer.status_code == 200, answer.content
    assert answer.json()["username"] == applicant.username
    assert _backend_pid() != kept
