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
