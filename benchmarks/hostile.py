"""Hostile and large list files, measured: wall time and peak resident memory
of a fresh process reading each (issue 14's targets: a bomb refused within
seconds, and memory well under 1 GiB for bombs and for lists at the bounds;
the time a legitimate large list takes is printed, not targeted).

    .venv/bin/python benchmarks/hostile.py

Each case runs in its own interpreter (``tests/support/bombs.measure``, which
reads the child's own peak, ``VmHWM``), so one case's memory never hides
another's. The files are built in a temporary folder first:

* the audit's bombs: an .xlsx whose sheet unpacks to 1 GiB, one whose single
  cell holds 1 GiB, and a questionnaire-sized Office file unpacking to 1 GiB;
* legitimate lists at the bounds: 20,000 rows as .xlsx, 5,000 rows as .ods
  (odfpy holds the whole document in memory), 20,000 rows as CSV.

It prints figures and whether each is under the target; it never fails.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.bombs import cell_bomb, measure, office_bomb, rows_bomb  # noqa: E402

TARGET_SECONDS = 10.0
TARGET_PEAK_MIB = 512.0

READ = """
    import json, sys
    from cloudjudge.registries import RegistryImportError, read_registry
    try:
        parsed = read_registry(sys.argv[1], sys.argv[2])
        print(json.dumps({"outcome": f"read {parsed.row_count} entries"}))
    except RegistryImportError as exc:
        print(json.dumps({"outcome": "refused: " + exc.problems[0].message[:60]}))
"""

SNIFF = """
    import json, sys, os
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloudjudge.web.settings")
    os.environ.setdefault("CLOUDJUDGE_DEBUG", "1")
    import django
    django.setup()
    from cloudjudge.web.files import uploads
    with open(sys.argv[1], "rb") as handle:
        print(json.dumps({"outcome": "sniffed: " + uploads.sniff(handle).kind}))
"""


def big_xlsx(path: Path, rows: int) -> Path:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ISMAP")
    ws.append(["登録番号", "クラウドサービスの名称", "事業者", "監査対象期間の末日", "備考"])
    for n in range(rows):
        ws.append([f"C21-{n:05d}-1", f"サービス{n}", f"事業者{n % 300}", "2024/3/31", ""])
    wb.save(path)
    return path


def big_csv(path: Path, rows: int) -> Path:
    lines = ["登録番号,クラウドサービスの名称,事業者,監査対象期間の末日"]
    lines += [f"C21-{n:05d}-1,サービス{n},事業者{n % 300},2024/3/31" for n in range(rows)]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def big_ods(path: Path, rows: int) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="LGWAN-ASP")
    for values in [
        ("サービスコード", "サービス名称", "事業者", "区分"),
        *(
            (f"A{n:06d}", f"サービス{n}", f"事業者{n % 300}", "ホスティングサービス")
            for n in range(rows)
        ),
    ]:
        row = TableRow()
        for value in values:
            cell = TableCell(valuetype="string")
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cloudjudge-hostile-") as tmp:
        folder = Path(tmp)
        evidence = folder / "evidence.xlsx"
        evidence.write_bytes(office_bomb("xlsx"))
        cases = [
            ("bomb: sheet unpacking to 1 GiB", READ, rows_bomb(folder / "rows.xlsx"), "ismap"),
            ("bomb: one 1 GiB cell", READ, cell_bomb(folder / "cell.xlsx"), "ismap"),
            ("bomb: evidence .xlsx unpacking to 1 GiB", SNIFF, evidence, ""),
            ("list: 20,000 rows .xlsx", READ, big_xlsx(folder / "big.xlsx", 20_000), "ismap"),
            ("list: 20,000 rows CSV", READ, big_csv(folder / "big.csv", 20_000), "ismap"),
            ("list: 5,000 rows .ods", READ, big_ods(folder / "big.ods", 5_000), "lgwan_asp"),
        ]
        print(
            f"targets: bombs refused under {TARGET_SECONDS:.0f} s; "
            f"every case under {TARGET_PEAK_MIB:.0f} MiB peak RSS (process start included)"
        )
        for label, code, path, kind in cases:
            measured = measure(code, str(path), kind, timeout=300)
            fast = measured.seconds < TARGET_SECONDS or not label.startswith("bomb")
            ok = fast and measured.peak_rss_mib < TARGET_PEAK_MIB
            print(
                f"{label:<42} {path.stat().st_size / 1e6:7.1f} MB file "
                f"{measured.seconds:7.2f} s  peak {measured.peak_rss_mib:6.0f} MiB  "
                f"{'ok' if ok else 'OVER TARGET'}  {measured.result['outcome']}"
            )


if __name__ == "__main__":
    main()
