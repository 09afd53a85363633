"""The registry with the database, timed: importing a list and re-checking the
services in use (issue #5's targets: both under 5 s on this machine).

On a temporary SQLite database (migrated first; or ``--database-url``):

1. import a generated ISMAP list of N rows (.xlsx with title rows, a merged
   two-row heading and mixed date formats) — the first import, every entry new;
2. import the same list with 5 % of the entries changed, 5 % removed and 5 %
   added — the diff, the upserts and the removal flags;
3. seed M applications in use (``bulk_create``), each with its own service:
   a quarter carry their registration number, the rest are matched by name and
   provider written differently (full-width, 株式会社 / （株）), about 9 % name
   no entry;
4. ``check_in_use`` over all of them (what ``cloudjudge registry check`` and
   the dashboard run).

    .venv/bin/python benchmarks/registry.py --rows 5000 --services 10000

Each step runs twice: once under tracemalloc for its peak Python allocations
(inside a transaction that is rolled back, for the imports), then once timed
for real. It prints figures and whether each is under the target.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

TARGET_SECONDS = 5.0
PROVIDER_FORMS = ("株式会社{}", "{}株式会社", "（株）{}", "㈱{}", "{} Co., Ltd.", "{}合同会社")
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def setup_django(database_url: str | None, workdir: Path) -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("CLOUDJUDGE_DEBUG", "1")
    os.environ["CLOUDJUDGE_VAR_DIR"] = str(workdir / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "cloudjudge.web.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def number_of(i: int) -> str:
    return f"C{21 + i % 5}-{i:05d}-{1 + i % 3}"


def make_list(rows: int, today: date, *, seed: int, changed: float = 0.0) -> bytes:
    """An ISMAP list; ``changed`` > 0: that share changed, removed and added."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "クラウドサービスリスト"
    ws.append(["ISMAPクラウドサービスリスト（ベンチマーク用・架空データ）"])
    ws.append([f"{today:%Y年%m月%d日}時点"])
    ws.append(["登録番号", "クラウドサービスの名称", "事業者", "監査対象期間", None, "更新申請中"])
    ws.append([None, None, None, "開始", "終了", None])
    for col in "ABCF":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("D3:E3")
    cut = int(rows * changed)
    for i in range(rows + cut):
        end = today - timedelta(days=rng.randrange(60, 700))  # drawn for every row
        if changed and i < cut:
            continue  # removed
        start = end - timedelta(days=364)
        style = i % 3
        end_value: object = (
            end
            if style == 0
            else f"{end.year}/{end.month}/{end.day}"
            if style == 1
            else f"令和{end.year - 2018}年{end.month}月{end.day}日"
        )
        pending = "○" if (changed and cut <= i < 2 * cut) or i % 17 == 0 else ""
        ws.append(
            [
                number_of(i),
                f"サービス{i:05d}クラウド",
                PROVIDER_FORMS[i % len(PROVIDER_FORMS)].format(f"事業者{i % 2000:04d}"),
                start,
                end_value,
                pending,
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def seed_in_use(n: int, rows: int, seed: int) -> None:
    """``n`` services, each with one application in use, in a few bulk inserts."""
    from collections import Counter

    from django.db import transaction

    from cloudjudge.web.accounts.models import Department, User
    from cloudjudge.web.register.models import Application, Service
    from cloudjudge.web.registries.models import RegistryLink

    rng = random.Random(seed)
    seen: Counter[tuple[str, str]] = Counter()
    services, numbers = [], {}
    for k in range(n):
        i = rng.randrange(rows * 11 // 10)  # about 9 % name no entry
        provider = f"事業者{i % 2000:04d}"
        name = f"サービス{i:05d}クラウド"
        if k % 4 == 0:  # known by its registration number only
            name, provider = f"社内での呼び名{k:05d}", ""
            numbers[k] = number_of(i)
        elif k % 4 == 1:
            name, provider = name.translate(WIDE), f"{provider}（株）"
        elif k % 4 == 2:
            name, provider = f"サービス {i:05d} クラウド", f"株式会社 {provider}"
        # (name, provider) is unique in the register: repeat with trailing spaces,
        # which matching ignores
        dup = seen[(name, provider)]
        seen[(name, provider)] += 1
        services.append(Service(name=name, provider=provider + " " * dup, listed_ismap=True))

    with transaction.atomic():
        dept = Department.objects.create(code="bench", name="ベンチマーク課")
        user = User.objects.create(username="bench", role="applicant", department=dept)
        Service.objects.bulk_create(services, batch_size=2000)
        RegistryLink.objects.bulk_create(
            [
                RegistryLink(service=services[k], kind="ismap", number=number)
                for k, number in numbers.items()
            ],
            batch_size=2000,
        )
        year = date.today().year
        Application.objects.bulk_create(
            [
                Application(
                    number=f"CJ-{year}-{k + 1:06d}",
                    department=dept,
                    applicant=user,
                    service=service,
                    purpose="ベンチマーク",
                    confidentiality="3B",
                    method="local_breakout",
                    breakout_usage="file_import",
                    status="in_use",
                )
                for k, service in enumerate(services)
            ],
            batch_size=2000,
        )


class Rollback(Exception):
    pass


def measure(label: str, fn, *, rollback: bool) -> tuple[object, float]:
    """Peak under tracemalloc (rolled back if asked), then the timed real run."""
    from django.db import transaction

    tracemalloc.start()
    try:
        with transaction.atomic():
            fn()
            if rollback:
                raise Rollback
    except Rollback:
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    verdict = "ok" if seconds < TARGET_SECONDS else "OVER TARGET"
    print(
        f"{label:<52} {seconds:7.3f} s   peak {peak / 1e6:6.1f} MB (Python allocations)  {verdict}"
    )
    return result, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cloudjudge-bench-") as tmp:
        t0 = time.perf_counter()
        setup_django(args.database_url, Path(tmp))
        from django.db import connection
        from django.utils import timezone

        from cloudjudge.web.registries.checking import check_in_use
        from cloudjudge.web.registries.importing import import_registry

        today = timezone.localdate()
        print(f"database: {connection.vendor} (migrated in {time.perf_counter() - t0:.1f} s)")
        first = make_list(args.rows, today, seed=args.seed)
        second = make_list(args.rows, today, seed=args.seed, changed=0.05)
        print(f"list: {args.rows} rows, {len(first) / 1e3:.0f} kB .xlsx")

        result, _ = measure(
            f"import {args.rows} rows (all new)",
            lambda: import_registry("ismap", first, None, filename="first.xlsx"),
            rollback=True,
        )
        assert result.status == "imported", result.problems
        result, _ = measure(
            "re-import (5 % changed, removed, added)",
            lambda: import_registry("ismap", second, None, filename="second.xlsx"),
            rollback=True,
        )
        print(f"  diff: {result.diff.summary()}")

        t0 = time.perf_counter()
        seed_in_use(args.services, args.rows, args.seed)
        print(
            f"seeded {args.services} applications in use (bulk_create) in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        report, _ = measure(
            f"registry check of {args.services} services in use",
            lambda: check_in_use(today=today),
            rollback=False,
        )
        counts = ", ".join(f"{label} {n}" for _, label, n in report.by_status)
        print(f"  {report.services} services, {len(report.alerts)} alerts: {counts}")
        connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
