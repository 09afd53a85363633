"""Tampering done the way an attacker with database access would: raw SQL
that bypasses the model. And running management commands."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cloudjudge.web.audit import chain
from cloudjudge.web.audit.models import AuditEntry


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


TABLE = AuditEntry._meta.db_table


def raw(sql: str, params=()) -> int:
    """Run SQL on the audit table (``{t}`` is its quoted name); the row count."""
    with connection.cursor() as cursor:
        cursor.execute(sql.format(t=quote(TABLE)), params)
        return cursor.rowcount


def raw_update(sequence: int, **columns) -> None:
    sets = ", ".join(f"{quote(name)} = %s" for name in columns)
    count = raw(
        f"UPDATE {{t}} SET {sets} WHERE {quote('sequence')} = %s", [*columns.values(), sequence]
    )
    assert count == 1


def raw_delete(sequence: int) -> None:
    assert raw(f"DELETE FROM {{t}} WHERE {quote('sequence')} = %s", [sequence]) == 1


def row(sequence: int) -> dict:
    return AuditEntry.objects.filter(sequence=sequence).values(*chain.CONTENT_FIELDS, "hash").get()


def run(command: str, *args) -> tuple[int, str, str]:
    """Run a management command: (exit status, stdout, stderr or the error)."""
    out, err = StringIO(), StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue()
