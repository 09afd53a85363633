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
and dropped on it), else a cluster of its own on ``--pg-port`` (54347).
Printed, never asserted; the target is p95 < 300 ms per page.
"""

from __future__ import annotations

import argparse
import os
import secrets
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


def copy_register(template: int, total: int) -> dict[str, float]:
    """Copies of the template's applications and checklist rows, by COPY."""
    from django.db import connection

    from cloudjudge.web.register.models import Application, ChecklistItem

    apps, items = Application._meta.db_table, ChecklistItem._meta.db_table
    timings = {"applications": 0.0, "checklist rows": 0.0}
    raw = connection.connection  # the psycopg connection under Django's
    with connection.cursor() as cursor:
        app_cols, item_cols = columns(cursor, apps), columns(cursor, items)
    a_id, a_number = app_cols.index("id"), app_cols.index("number")
    i_id, i_app = item_cols.index("id"), item_cols.index("application_id")
    with raw.cursor() as cur:
        cur.execute(f"SELECT {', '.join(app_cols)} FROM {apps} ORDER BY id")
        app_rows = cur.fetchall()
        cur.execute(f"SELECT {', '.join(item_cols)} FROM {items} ORDER BY id")
        item_rows = cur.fetchall()
        cur.execute(f"SELECT max(id) FROM {items}")
        next_item = cur.fetchone()[0] + 1
    by_app: dict[int, list[tuple]] = {}
    for row in item_rows:
        by_app.setdefault(row[i_app], []).append(row)
    next_app = max(r[a_id] for r in app_rows) + 1
    copies = 0
    with raw.cursor() as cur:
        while next_app <= total:
            batch_end = min(total, next_app + 50_000 - 1)
            started = time.perf_counter()
            made: list[tuple[int, int]] = []
            with cur.copy(f"COPY {apps} ({', '.join(app_cols)}) FROM STDIN") as copy:
                for pk in range(next_app, batch_end + 1):
                    row = list(app_rows[(pk - 1) % len(app_rows)])
                    made.append((pk, row[a_id]))
                    row[a_id] = pk
                    row[a_number] = f"CJ-N-{pk:07d}"
                    copy.write_row(row)
            timings["applications"] += time.perf_counter() - started
            started = time.perf_counter()
            with cur.copy(f"COPY {items} ({', '.join(item_cols)}) FROM STDIN") as copy:
                for pk, source in made:
                    for item in by_app.get(source, ()):
                        row = list(item)
                        row[i_id], row[i_app] = next_item, pk
                        next_item += 1
                        copy.write_row(row)
            timings["checklist rows"] += time.perf_counter() - started
            raw.commit()
            copies += len(made)
            next_app = batch_end + 1
            log(f"  {next_app - 1:,} applications")
        for table in (apps, items):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        raw.commit()
        # What autovacuum does on a live database soon after a bulk load: the
        # statistics, and the visibility map that lets index-only scans skip
        # the table (VACUUM runs outside a transaction).
        raw.commit()
        raw.autocommit = True
        started = time.perf_counter()
        cur.execute(f"VACUUM ANALYZE {apps}")
        cur.execute(f"VACUUM ANALYZE {items}")
        timings["vacuum analyze"] = time.perf_counter() - started
    return timings


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
    from cloudjudge.web.register.models import Application, Judgement
    from web import client_for

    ciso = client_for(seeder.ciso)
    applicant = seeder.applicants[seeder.departments[0].pk][0]
    mine = client_for(applicant)
    last = Application.objects.order_by("-pk").first()
    middle = n // 2
    pages = [
        ("register list, first page (CISO: all)", ciso, "/applications/"),
        ("register list, page 200, sorted", ciso, "/applications/?page=200&sort=-updated_at"),
        ("register list, search", ciso, "/applications/?q=%E4%BC%9A%E8%AD%B0"),
        ("register list (a department)", mine, "/applications/"),
        ("dashboard (CISO: all)", ciso, "/"),
        ("dashboard (a department)", mine, "/"),
        ("application page", ciso, f"/applications/{middle}/"),
        ("application page (last copy)", ciso, f"/applications/{last.pk}/"),
    ]
    log(f"\n{'page':42} {'median':>8} {'p95':>8} {'queries':>8} target p95 < {TARGET_MS:.0f} ms")
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
        verdict = "ok" if p95(times) < TARGET_MS else "MISSED"
        log(
            f"{label:42} {statistics.median(times):6.1f}ms {p95(times):6.1f}ms "
            f"{len(queries):>8} {verdict}"
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
    parser.add_argument("--pg-port", type=int, default=54347)
    parser.add_argument("--pg-dir", default="/tmp/cloudjudge-bench-pg")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
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
        call_command("migrate", verbosity=0)
        log(f"template: {args.template:,} applications (benchmarks/web.py's seeder) ...")
        started = time.perf_counter()
        seeder = Seeder(args.template)
        seeder.people()
        seeder.services(max(50, args.template // 8))
        seeder.applications()
        log(f"  {time.perf_counter() - started:.0f} s; copying to {total:,} by COPY ...")
        timings = copy_register(args.template, total)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM register_application")
            apps = cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM register_checklistitem")
            rows = cursor.fetchone()[0]
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cursor.fetchone()[0]
        log(
            f"seeded: {apps:,} applications, {rows:,} checklist rows, database {size}; "
            f"COPY {timings['applications']:.0f} s (applications) + "
            f"{timings['checklist rows']:.0f} s (checklist rows), "
            f"VACUUM ANALYZE {timings['vacuum analyze']:.0f} s"
        )
        measure(seeder, apps)
    finally:
        from django.db import connections

        connections.close_all()
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
