"""Re-judging the register against a criteria revision: 10,000 applications,
dry run (target < 10 s) and apply (target < 60 s), printed figures.

The register is seeded as ``benchmarks/web.py`` seeds it (same seeder, same
mix of stages); the revision is the example one of the tests
(``tests/fixtures/catalogs/sakai-1.1-example.yaml``: test data, not real
criteria), pinned as the version judged with so that it can be applied.

    .venv/bin/python benchmarks/rejudge.py                     # SQLite
    DATABASE_URL=$(scripts/postgres-test-server start) .venv/bin/python benchmarks/rejudge.py
"""

from __future__ import annotations

import argparse
import cProfile
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from web import Seeder, drop_database, prepare_environment

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "catalogs"
NEW = "sakai-cloud-usage-criteria@1.1-example"
DRY_RUN_TARGET_S = 10.0
APPLY_TARGET_S = 60.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=800)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--queries", type=int, default=0, metavar="N", help="print the N costliest statements"
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="write a cProfile of the apply step to FILE"
    )
    args = parser.parse_args(argv)

    os.environ["CLOUDJUDGE_CATALOG_DIRS"] = str(FIXTURES)
    tmp = Path(tempfile.mkdtemp(prefix="cloudjudge-bench-", dir="/tmp"))
    (tmp / "static").mkdir()
    label, admin_url = prepare_environment(tmp)
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        from cloudjudge.catalog.versions import find_catalog
        from cloudjudge.web.register import rejudge
        from cloudjudge.web.register.models import Application

        print(f"database: {label}", flush=True)
        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        seeder = Seeder(args.applications)
        seeder.people()
        seeder.services(args.services)
        seeder.applications()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        print(f"seeded {args.applications:,} applications in {time.perf_counter() - start:.1f} s")
        catalog = find_catalog(NEW)

        start = time.perf_counter()
        report = rejudge.report(catalog)
        dry = time.perf_counter() - start
        verdicts = Counter(f"{c.old_verdict}→{c.new_verdict}" for c in report.changed)
        print(
            f"dry run: {report.total:,} applications not ended in {dry:.2f} s "
            f"(target < {DRY_RUN_TARGET_S:.0f} s): {len(report.changed):,} would change, "
            f"{report.worse:,} worse"
        )
        print("  " + ", ".join(f"{k} {v}" for k, v in verdicts.most_common()))

        settings.CLOUDJUDGE_CATALOG_VERSION = NEW
        profiler = cProfile.Profile() if args.profile else None
        queries = [0]
        by_statement: Counter[str] = Counter()

        def count(execute, sql, params, many, context):
            queries[0] += 1
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                by_statement[" ".join(sql.split()[:4])[:70]] += time.perf_counter() - begun

        with connection.execute_wrapper(count):
            start = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            run = rejudge.apply(catalog, None, batch_size=args.batch_size)
            applied = time.perf_counter() - start
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile)
        print(
            f"apply: {run.done:,} applications in {applied:.1f} s "
            f"(target < {APPLY_TARGET_S:.0f} s, batches of {args.batch_size}): "
            f"{run.changed:,} changed, {run.worsened:,} moved to needs review"
        )
        print(
            f"  {queries[0]:,} queries, {queries[0] / max(run.done, 1):.1f} per application; "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        if args.queries:
            for statement, seconds in by_statement.most_common(args.queries):
                print(f"  {seconds:6.2f} s  {statement}")
        statuses = Counter(Application.objects.values_list("status", flat=True))
        print("  statuses after: " + ", ".join(f"{k} {v}" for k, v in statuses.most_common()))
    finally:
        if admin_url:
            drop_database(admin_url)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
