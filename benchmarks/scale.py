"""The national scale (issue 14): a register of every municipality on one
PostgreSQL — about 1,741 municipalities × 300 services ≈ 520,000
applications and 16 million checklist rows — then the pages' times (p95),
each page's main query under ``EXPLAIN`` and the re-judge rate per worker.

Seeding: benchmarks/web.py's seeder makes a realistic template register of
``--template`` applications (every stage, its judgements and checklists);
the template is then copied in bulk with PostgreSQL ``COPY`` (psycopg's
``copy``: ``COPY ... TO STDOUT`` of the template rows, new ids, ``COPY ...
FROM STDIN``) until ``520,000 × --scale`` applications exist. The copies share
the template's judgements (the decision for the same facts is the same).

    .venv/bin/python benchmarks/scale.py --scale 0.01     # make bench: ~5,200 applications
    .venv/bin/python benchmarks/scale.py --scale 1        # the national size (see docs/scale.md)

Database: ``DATABASE_URL`` (PostgreSQL; a database ``cloudjudge_scale`` made
and dropped on it), else a cluster of its own on ``--pg-port`` (25347).
Printed, never asserted; the target is p95 < 300 ms per page.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
SCALE_DB = "cloudjudge_scale"
NATIONAL = 520_000
TARGET_MS = 300.0


def log(message: str) -> None:
    print(message, flush=True)


def pg_env(args) -> dict[str, str]:
    return {
        **os.environ,
        "CLOUDJUDGE_TEST_PG_PORT": str(args.pg_port),
        "CLOUDJUDGE_TEST_PG_DIR": args.pg_dir,
    }


def database(args) -> tuple[str, str]:
    url = os.environ.get("DATABASE_URL", "").strip()
    if args.reuse:
        return urlunsplit(urlsplit(url)._replace(path=f"/{SCALE_DB}")), url
    if not url.startswith(("postgres://", "postgresql://")):
        args.started_cluster = True
        env = {
            **os.environ,
            "CLOUDJUDGE_TEST_PG_PORT": str(args.pg_port),
            "CLOUDJUDGE_TEST_PG_DIR": args.pg_dir,
        }
        url = subprocess.run(
            [str(ROOT / "scripts" / "postgres-test-server"), "start"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCALE_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCALE_DB}"')
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCALE_DB}")), url


def columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def secondary_indexes(cursor, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's indexes other than its primary key (their CREATE statements),
    and its unique constraints (name, definition): dropped for the bulk load,
    made again after it (one sorted build each instead of 16 million inserts)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'u'",
        [table],
    )
    constraints = list(cursor.fetchall())
    cursor.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [table, table],
    )
    return [d for (d,) in cursor.fetchall()], constraints


def copy_register(template: int, total: int) -> dict[str, float]:
    """Copies of the template's applications and checklist rows, made by the
    database itself: ``INSERT … SELECT`` over the template × ``generate_series``
    (no row passes through Python), with the secondary indexes and the
    foreign-key triggers off during the load (``session_replication_role =
    replica``: the copies point at rows that exist by construction) and the
    indexes built once at the end. Copy k of template application t gets the
    id ``t + k × T`` (T = the template's largest id) and number ``CJ-N-…``."""
    from django.db import connection

    from cloudjudge.web.register.models import Application, ChecklistItem

    apps, items = Application._meta.db_table, ChecklistItem._meta.db_table
    timings = {"applications": 0.0, "checklist rows": 0.0, "indexes": 0.0}
    raw = connection.connection  # the psycopg connection under Django's
    with connection.cursor() as cursor:
        app_cols, item_cols = columns(cursor, apps), columns(cursor, items)
    with raw.cursor() as cur:
        cur.execute(f"SELECT max(id) FROM {apps}")
        span = cur.fetchone()[0]
        copies = -(-total // span) - 1  # copies beyond the template itself
        saved = {t: secondary_indexes(cur, t) for t in (apps, items)}
        cur.execute("SET session_replication_role = replica")
        cur.execute("SET work_mem = '256MB'")
        for table, (_indexes, constraints) in saved.items():
            for name, _definition in constraints:
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            cur.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
                "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
                [table, table],
            )
            for (name,) in cur.fetchall():
                cur.execute(f'DROP INDEX "{name}"')
        raw.commit()

        def shifted(col: str) -> str:
            if col == "id":
                return "t.id + k * %(span)s"
            if col == "number":
                return "'CJ-N-' || lpad((t.id + k * %(span)s)::text, 7, '0')"
            return f"t.{col}"

        item_copy = [c for c in item_cols if c != "id"]  # new ids from the sequence
        item_values = ", ".join(
            "t.application_id + k * %(span)s" if c == "application_id" else f"t.{c}"
            for c in item_copy
        )
        app_sql = (
            f"INSERT INTO {apps} ({', '.join(app_cols)}) "
            f"SELECT {', '.join(shifted(c) for c in app_cols)} "
            f"FROM {apps} t CROSS JOIN generate_series(%(first)s, %(last)s) k "
            f"WHERE t.id <= %(span)s AND t.id + k * %(span)s <= %(total)s"
        )
        item_sql = (
            f"INSERT INTO {items} ({', '.join(item_copy)}) "
            f"SELECT {item_values} "
            f"FROM {items} t CROSS JOIN generate_series(%(first)s, %(last)s) k "
            f"WHERE t.application_id <= %(span)s AND t.application_id + k * %(span)s <= %(total)s "
            f"ORDER BY k, t.application_id, t.position"
        )
        step = max(1, 50_000 // span)
        for first in range(1, copies + 1, step):
            last = min(copies, first + step - 1)
            params = {"first": first, "last": last, "span": span, "total": total}
            started = time.perf_counter()
            cur.execute(app_sql, params)
            timings["applications"] += time.perf_counter() - started
            started = time.perf_counter()
            cur.execute(item_sql, params)
            timings["checklist rows"] += time.perf_counter() - started
            raw.commit()
            log(f"  {min(total, (params['last'] + 1) * span):,} applications")
        started = time.perf_counter()
        cur.execute("SET max_parallel_maintenance_workers = 2")
        for table, (indexes, constraints) in saved.items():
            for definition in indexes:
                cur.execute(definition)
            for name, definition in constraints:
                cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cur.execute("SET session_replication_role = DEFAULT")
        for table in (apps, items):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        raw.commit()
        timings["indexes"] = time.perf_counter() - started
        # What autovacuum does on a live database soon after a bulk load: the
        # statistics, and the visibility map that lets index-only scans skip
        # the table (VACUUM runs outside a transaction).
        raw.autocommit = True
        started = time.perf_counter()
        cur.execute(f"VACUUM ANALYZE {apps}")
        cur.execute(f"VACUUM ANALYZE {items}")
        timings["vacuum analyze"] = time.perf_counter() - started
    return timings


def sizes() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "pg_size_pretty(pg_total_relation_size('register_application')), "
            "pg_size_pretty(pg_total_relation_size('register_checklistitem'))"
        )
        db, apps, items = cursor.fetchone()
    return f"database {db} (applications {apps}, checklist rows {items}, indexes included)"


class Existing:
    """What ``measure`` needs of the seeder, read back from a kept database."""

    def __init__(self) -> None:
        from cloudjudge.web.accounts.models import Department, Role, User

        self.departments = list(Department.objects.order_by("id"))
        self.users = {"auditor": User.objects.get(username="auditor")}
        self.ciso = User.objects.get(username="ciso")
        self.security = list(User.objects.filter(role=Role.SECURITY).order_by("username"))
        self.applicants = {
            d.pk: list(User.objects.filter(department=d, role=Role.APPLICANT).order_by("username"))
            for d in self.departments
        }


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def explain(sql: str, params) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return [line for (line,) in cursor.fetchall()]


def measure(seeder, n: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import cloudjudge
    from cloudjudge.web import figures
    from cloudjudge.web.register.models import Application, Judgement
    from web import client_for

    ciso = client_for(seeder.ciso)
    security = client_for(seeder.security[0])
    auditor = client_for(seeder.users["auditor"])
    applicant = seeder.applicants[seeder.departments[0].pk][0]
    mine = client_for(applicant)
    last = Application.objects.order_by("-pk").first()
    middle = n // 2
    pages = [
        ("register list, first page (CISO: all)", ciso, "/applications/"),
        ("register list, page 200, sorted by number", ciso, "/applications/?page=200&sort=number"),
        ("register list, search", ciso, "/applications/?q=%E4%BC%9A%E8%AD%B0"),
        ("register list, search, page 40", ciso, "/applications/?q=%E4%BC%9A%E8%AD%B0&page=40"),
        ("register list (a department)", mine, "/applications/"),
        ("dashboard (CISO: all)", ciso, "/"),
        ("dashboard (security office: all)", security, "/"),
        ("dashboard (auditor: all)", auditor, "/"),
        ("dashboard (a department's applicant)", mine, "/"),
        ("application page", ciso, f"/applications/{middle}/"),
        ("application page (last copy)", ciso, f"/applications/{last.pk}/"),
    ]
    log(f"\nload average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    log(
        f"\n{'page':42} {'median':>8} {'p95':>8} {'queries':>8} p95<{TARGET_MS:.0f}ms "
        "   cold  fresh in (the first request after a change; until a reload shows it: worst of 3)"
    )
    slowest: dict[str, list[tuple[float, str, tuple]]] = {}
    for label, client, path in pages:
        response = client.get(path)
        assert response.status_code == 200, (label, response.status_code)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as ctx:
            client.get(path)
        connection.force_debug_cursor = False
        queries = [(float(q["time"]) * 1000, q["sql"]) for q in ctx.captured_queries]
        slowest[label] = sorted(queries, reverse=True)[:1]
        # And the slowest query of a cold request (what the shared cache spares the others).
        figures.changed()
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as cold_ctx:
            client.get(path)
        connection.force_debug_cursor = False
        cold_queries = [(float(q["time"]) * 1000, q["sql"]) for q in cold_ctx.captured_queries]
        slowest[label + ", cold"] = sorted(cold_queries, reverse=True)[:1]
        # Cold: the first request after a change (the figures and counts are
        # counted again, in the request or in the background), and how long
        # until a reload shows the change (the background recount done).
        figures.wait_for_recounts()
        cold, fresh = [], []
        for _ in range(3):
            figures.changed()
            started = time.perf_counter()
            client.get(path)
            cold.append((time.perf_counter() - started) * 1000)
            figures.wait_for_recounts()
            fresh.append((time.perf_counter() - started) * 1000)
        verdict = "ok" if p95(times) < TARGET_MS else "MISSED"
        log(
            f"{label:42} {statistics.median(times):6.1f}ms {p95(times):6.1f}ms "
            f"{len(queries):>8} {verdict:6} {max(cold):7.1f}ms {max(fresh):9.1f}ms"
        )
    log("\nEXPLAIN ANALYZE of each page's slowest query:")
    for label, top in slowest.items():
        for ms, sql in top:
            log(f"\n-- {label}: {ms:.1f} ms\n{sql[:600]}")
            try:
                for line in explain(sql, None):
                    log("   " + line)
            except Exception as exc:  # a query with literal % in it, etc.
                log(f"   (EXPLAIN failed: {exc})")
                connection.rollback() if not connection.get_autocommit() else None

    # Re-judging: the engine over the stored requests, one process (one worker).
    requests = list(Judgement.objects.values_list("request", flat=True)[:500])
    started, done = time.perf_counter(), 0
    while time.perf_counter() - started < 5:
        for request in requests:
            cloudjudge.judge(request)
            done += 1
    rate = done / (time.perf_counter() - started)
    log(
        f"\nre-judge rate: {rate:,.0f} applications/s per worker (one process, engine only); "
        f"{n:,} applications in {n / rate / 60:.1f} min on one worker"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.01, help="share of 520,000 (default 0.01)")
    parser.add_argument("--template", type=int, default=2000)
    parser.add_argument("--pg-port", type=int, default=25347)
    parser.add_argument("--pg-dir", default="/tmp/cloudjudge-bench-pg")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the database a run with --keep left (DATABASE_URL's server): "
        "migrate it, ANALYZE, no seeding; implies --keep",
    )
    args = parser.parse_args(argv)
    if args.reuse:
        if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
            parser.error("--reuse needs DATABASE_URL (the server holding cloudjudge_scale)")
        args.keep = True
    total = max(args.template, int(NATIONAL * args.scale))
    url, admin_url = database(args)
    tmp = Path(tempfile.mkdtemp(prefix="cloudjudge-scale-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cloudjudge.web.settings",
            "DATABASE_URL": url,
            "CLOUDJUDGE_DEBUG": "0",
            "CLOUDJUDGE_SECRET_KEY": secrets.token_urlsafe(50),
            "CLOUDJUDGE_SSL_REDIRECT": "0",
            "CLOUDJUDGE_ALLOWED_HOSTS": "testserver",
            "CLOUDJUDGE_VAR_DIR": str(tmp),
            "CLOUDJUDGE_LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from web import Seeder

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        log(f"migrated in {time.perf_counter() - started:.1f} s")
        if args.reuse:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
                cursor.execute("SELECT count(*) FROM register_application")
                apps = cursor.fetchone()[0]
            log(f"reusing {SCALE_DB}: {apps:,} applications")
            log(sizes())
            measure(Existing(), apps)
            return 0
        log(f"template: {args.template:,} applications (benchmarks/web.py's seeder) ...")
        started = time.perf_counter()
        seeder = Seeder(args.template)
        seeder.people()
        seeder.services(max(50, args.template // 8))
        seeder.applications()
        log(f"  {time.perf_counter() - started:.0f} s; copying to {total:,} in the database ...")
        timings = copy_register(args.template, total)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM register_application")
            apps = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM register_checklistitem")
            rows = cursor.fetchone()[0]
        log(
            f"seeded: {apps:,} applications, {rows:,} checklist rows; "
            f"INSERT … SELECT {timings['applications']:.0f} s (applications) + "
            f"{timings['checklist rows']:.0f} s (checklist rows), "
            f"indexes {timings['indexes']:.0f} s, "
            f"VACUUM ANALYZE {timings['vacuum analyze']:.0f} s"
        )
        log(sizes())
        measure(seeder, apps)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)  # the var folder: nothing measured lives there
        if not args.keep:
            import psycopg

            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{SCALE_DB}" WITH (FORCE)')
            if getattr(args, "started_cluster", False):
                script = str(ROOT / "scripts" / "postgres-test-server")
                subprocess.run([script, "stop"], env=pg_env(args), check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
