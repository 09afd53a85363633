"""The pure part of the registry work, timed: no database.

Generates an ISMAP list of N rows (.xlsx, the fixture's layout: title rows, a
merged two-row heading, mixed date formats) and M service records, then prints
the seconds and peak memory of

* reading the .xlsx into entries (``read_registry``);
* building a ``RegistryIndex`` and looking up every service (``find``), a
  quarter by number, the rest by name and provider written differently;
* the expiry status of every matched entry (``status_on``);
* a snapshot diff against a list with 5 % changed, added and removed.

    .venv/bin/python benchmarks/registry_pure.py --rows 5000 --services 10000

Each step runs twice: once timed, once under tracemalloc for its peak.
It prints figures; it asserts nothing. ``benchmarks/registry.py`` (with the
database) is where the issue's targets are checked.
"""

from __future__ import annotations

import argparse
import io
import random
import time
import tracemalloc
from dataclasses import replace
from datetime import date, timedelta

from openpyxl import Workbook

from cloudjudge.registries import (
    RegistryIndex,
    diff_entries,
    read_registry,
    status_on,
)

PROVIDER_FORMS = ("株式会社{}", "{}株式会社", "（株）{}", "㈱{}", "{} Co., Ltd.", "{}合同会社")


def make_list(rng: random.Random, rows: int) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "クラウドサービスリスト"
    ws.append(["ISMAPクラウドサービスリスト（ベンチマーク用・架空データ）"])
    ws.append(["令和7年4月1日時点"])
    ws.append(["登録番号", "クラウドサービスの名称", "事業者", "監査対象期間", None, "登録日"])
    ws.append([None, None, None, "開始", "終了", None])
    for col in "ABCF":
        ws.merge_cells(f"{col}3:{col}4")
    ws.merge_cells("D3:E3")
    for i in range(rows):
        end = date(2023, 1, 1) + timedelta(days=rng.randrange(900))
        start = end - timedelta(days=364)
        registered = end + timedelta(days=rng.randrange(60, 200))
        style = i % 3
        end_text: object = (
            end
            if style == 0
            else end.strftime("%Y/%-m/%-d")
            if style == 1
            else (f"令和{end.year - 2018}年{end.month}月{end.day}日")
        )
        ws.append(
            [
                f"C{21 + i % 5}-{i:04d}-{1 + i % 3}",
                f"サービス{i:05d}クラウド",
                PROVIDER_FORMS[i % len(PROVIDER_FORMS)].format(f"事業者{i % 2000:04d}"),
                start,
                end_text,
                registered,
            ]
        )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def services(rng: random.Random, n: int, rows: int) -> list[tuple[str, str, str | None]]:
    out = []
    for k in range(n):
        i = rng.randrange(rows * 11 // 10)  # about 9 % name no entry
        provider = f"事業者{i % 2000:04d}"
        if k % 4 == 0:
            out.append(("", "", f"C{21 + i % 5}-{i:04d}-{1 + i % 3}"))
        elif k % 4 == 1:
            out.append((f"サービス{i:05d}クラウド", f"株式会社 {provider}", None))
        elif k % 4 == 2:
            wide = f"サービス{i:05d}クラウド".translate(
                str.maketrans("0123456789", "０１２３４５６７８９")
            )
            out.append((wide, f"{provider}（株）", None))
        else:
            out.append((f"サービス {i:05d} クラウド", "", None))
    return out


def timed(label: str, fn):
    """Run ``fn`` once for the time, once more under tracemalloc for peak memory."""
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:<40} {seconds:7.3f} s   peak {peak / 1e6:6.1f} MB (Python allocations)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--services", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    data = make_list(rng, args.rows)
    print(f"list: {args.rows} rows, {len(data) / 1e3:.0f} kB .xlsx; services: {args.services}")
    parsed = timed(f"read_registry ({args.rows} rows .xlsx)", lambda: read_registry(data, "ismap"))
    entries = parsed.entries
    index = timed(f"RegistryIndex ({len(entries)} entries)", lambda: RegistryIndex(entries))
    wanted = services(rng, args.services, args.rows)
    matches = timed(
        f"find × {len(wanted)}",
        lambda: [index.find(n, p, number=num, kind="ismap") for n, p, num in wanted],
    )
    day = date(2025, 4, 1)
    found = [m.entry for m in matches if m is not None]
    statuses = timed(f"status_on × {len(found)}", lambda: [status_on(e, day) for e in found])
    cut = len(entries) // 20
    newer = [replace(e, renewal_pending=True) for e in entries[:cut]] + list(entries[2 * cut :])
    changes = timed("diff_entries (5 % changed / removed)", lambda: diff_entries(entries, newer))
    print(
        f"matched {len(found)}/{len(wanted)}; "
        f"alerts {sum(s in {'expiring', 'expired'} for s in statuses)}; "
        f"diff: {changes.summary()}"
    )


if __name__ == "__main__":
    main()
