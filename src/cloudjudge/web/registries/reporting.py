"""Plain-text output of the ``registry`` commands (tab-separated rows under a
summary line, so they read well in a terminal, in cron mail and in ``cut``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from django.utils import timezone

from cloudjudge import registries as core
from cloudjudge.web.registries.checking import CheckReport
from cloudjudge.web.registries.importing import ImportResult
from cloudjudge.web.registries.models import RegistryEntry, RegistrySnapshot


def write_json(out: TextIO, value: Any) -> None:
    out.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _value(v: Any) -> str:
    if v is None or v == "":
        return "—"
    if isinstance(v, list):
        return "、".join(map(str, v)) or "—"
    if isinstance(v, bool):
        return "○" if v else "—"
    return str(v)


def diff_lines(diff: dict[str, Any]) -> Iterator[str]:
    for e in diff.get("added", []):
        yield f"+ 追加\t{e['number']}\t{e['service_name']}\t{e['provider']}"
    for e in diff.get("removed", []):
        yield f"- 削除\t{e['number']}\t{e['service_name']}\t{e['provider']}"
    for c in diff.get("changed", []):
        for f in c["fields"]:
            label = core.FIELD_LABELS.get(f["field"], f["field"])
            yield f"~ 変更\t{c['number']}\t{label}\t{_value(f['before'])} → {_value(f['after'])}"


def snapshot_heading(snap: RegistrySnapshot) -> str:
    who = snap.importer.get_username() if snap.importer_id else "—"
    return (
        f"{snap.get_kind_display()}: {timezone.localtime(snap.imported_at):%Y-%m-%d %H:%M} 取込み "
        f"{snap.source_name or '—'}（{snap.row_count} 件、取込者 {who}）"
        f" 前回との差分: {snap.summary}"
    )


def write_import(out: TextIO, err: TextIO, result: ImportResult) -> None:
    if result.status == "rejected":
        err.write(
            f"{core.KIND_LABELS[result.kind]} の登録簿を取り込めません（何も変更していません）:\n"
        )
        for problem in result.problems:
            err.write(f"  {problem}\n")
        return
    out.write(result.message + "\n")
    if result.status == "imported" and result.snapshot is not None:
        for line in diff_lines(result.snapshot.diff):
            out.write(line + "\n")


def entry_line(entry: RegistryEntry, status_label: str) -> str:
    expiry = entry.expires_on.isoformat() if entry.expires_on else "—"
    return "\t".join(
        [
            entry.get_kind_display(),
            entry.number,
            status_label,
            expiry,
            entry.service_name,
            entry.provider,
        ]
    )


def write_check(out: TextIO, report: CheckReport) -> None:
    out.write(
        f"{report.today.isoformat()} 時点: 利用中のサービス {report.services} 件"
        f"（申請 {report.applications} 件）を確認しました。"
        f"注意が必要なもの {len(report.alerts)} 件"
        + (
            "（" + "、".join(f"{label} {n} 件" for _, label, n in report.by_status) + "）"
            if report.alerts
            else ""
        )
        + "\n"
    )
    for alert in report.alerts:
        apps = "、".join(number for _, number, _ in alert.applications)
        number = alert.entry.number if alert.entry else alert.check.number_given or "—"
        out.write(
            "\t".join(
                [
                    alert.status_label,
                    alert.kind_label,
                    number,
                    f"{alert.service_name}（{alert.provider}）"
                    if alert.provider
                    else alert.service_name,
                    alert.check.reason(),
                    apps,
                ]
            )
            + "\n"
        )


def progress(items: Iterable, total: int | None = None, desc: str = "") -> Iterable:
    """A tqdm bar on stderr when it is a terminal; the items untouched otherwise."""
    if not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit="件", file=sys.stderr, leave=False)
