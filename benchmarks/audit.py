"""What ``cloudjudge audit verify`` costs: the hash chain and the reconciliation
of the register with its history (issue 14).

Builds N applications (default 300) through the register's own functions —
each created and judged, submitted, approved by the security office; every
second one put in use with an evidence file — so the audit log holds exactly
what production writes. Then times, best of three runs, the chain check
(``verify_chain``) and the reconciliation (``reconcile``, in one snapshot),
and prints the entries and rows checked, seconds, throughput and the peak
resident memory. It never asserts: the issue sets no target for
verification; the figures say what a daily cron run costs, and
docs/reliability.md records them.

Database: a fresh SQLite file in a temporary folder; or, when ``DATABASE_URL``
names a PostgreSQL server, a database of its own there
(``cloudjudge_bench_audit``, created here and dropped at the end):

    .venv/bin/python benchmarks/audit.py [--n 300]
    DATABASE_URL=$(scripts/postgres-test-server start) .venv/bin/python benchmarks/audit.py
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "cloudjudge_bench_audit"


def prepare_environment(tmp: Path) -> str | None:
    """Settings pointed at a database of our own; the PostgreSQL admin URL, if any."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cloudjudge.web.settings",
            "CLOUDJUDGE_DEBUG": "0",
            "CLOUDJUDGE_SECRET_KEY": secrets.token_urlsafe(50),
            "CLOUDJUDGE_SSL_REDIRECT": "0",
            "CLOUDJUDGE_VAR_DIR": str(tmp),
            "CLOUDJUDGE_MEDIA_ROOT": str(tmp / "media"),
        }
    )
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + BENCH_DB))
        return url
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    return None


def pg_admin(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(statement)


def build(n: int) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from cloudjudge.web.accounts.models import Department, Role, User
    from cloudjudge.web.audit import trail
    from cloudjudge.web.audit.models import Action
    from cloudjudge.web.register import applications, evidence, workflow
    from cloudjudge.web.register.models import Service

    call_command("migrate", verbosity=0)
    department = Department.objects.create(code="shimin", name="市民課")

    def user(name: str, role: str, dept=None) -> User:
        made = User.objects.create_user(name, role=role, department=dept, password="x" * 16)
        trail.record(Action.CREATE, obj=made, after=trail.snapshot(made))
        return made

    applicant = user("applicant", Role.APPLICANT, department)
    security = user("security", Role.SECURITY)
    facts = {
        "purpose": "業務での利用",
        "confidentiality": "3B",
        "method": "local_breakout",
        "breakout_usage": "file_import",
    }
    for i in range(n):
        service = Service(name=f"サービス {i}", provider="ベンチマーク株式会社")
        service.listings = ["ismap"]
        app = applications.create_application(applicant, service, **facts)
        workflow.perform(app, "submit", applicant)
        workflow.perform(app, "approve", security, "確認しました")
        if i % 2 == 0:
            app.checklist_items.update(status="done")  # 利用開始 needs them resolved
            workflow.perform(app, "start_use", applicant)
            upload = SimpleUploadedFile(f"証跡{i}.pdf", b"%PDF-1.4\n%" + os.urandom(64) + b"\n")
            evidence.store(app, upload, applicant)


def best_of(runs: int, function):
    best, result = None, None
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="applications (default 300)")
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="cloudjudge-bench-audit-"))
    admin_url = prepare_environment(tmp)
    if admin_url:
        pg_admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        pg_admin(admin_url, f"CREATE DATABASE {BENCH_DB}")
    try:
        import django

        django.setup()
        from django.db import connection

        from cloudjudge.web.audit import reconcile
        from cloudjudge.web.audit.chain import in_snapshot, verify_chain

        started = time.perf_counter()
        build(args.n)
        built = time.perf_counter() - started
        chain_s, chain = best_of(3, verify_chain)
        rec_s, found = best_of(3, lambda: in_snapshot(reconcile.reconcile))
        rows = sum(found.counts.values())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"database: {connection.vendor}; {args.n} applications built in {built:.1f} s")
        print(
            f"chain:     {chain.checked:>7,} entries  {chain_s:7.3f} s  "
            f"{chain.checked / chain_s:>9,.0f} entries/s  ok={chain.ok}"
        )
        print(
            f"reconcile: {rows:>7,} rows     {rec_s:7.3f} s  {rows / rec_s:>9,.0f} rows/s  "
            f"findings={len(found.findings)}  ({reconcile.count_text(found.counts)})"
        )
        print(f"peak resident memory: {peak:.0f} MiB")
    finally:
        if admin_url:
            from django.db import connections

            connections.close_all()
            pg_admin(admin_url, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
