"""``cloudjudge manage send_reminders [--dry-run] [--date YYYY-MM-DD]``: the daily
reminder digests (see ``cloudjudge.web.register.reminders``), for cron, e.g.::

    0 7 * * *  cloudjudge manage send_reminders

Moves reviews that have come due to 見直し期限 first. Prints one line per
recipient and a total; exits 1 if any digest could not be sent (the next run
retries it). Running twice on one day sends nothing the second time.
"""

from __future__ import annotations

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError

from cloudjudge.web.register import reminders


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"日付は YYYY-MM-DD で指定してください: {value!r}"
        ) from None


def _who(digest: reminders.Digest) -> str:
    user = digest.user
    name = user.display_name
    if name != user.username:
        name = f"{name}（{user.username}）"
    return f"{name} <{user.email}>" if user.email else name


def _items(digest: reminders.Digest) -> str:
    return (
        f"審査待ち {len(digest.awaiting)}・期限超過 {len(digest.overdue)}・"
        f"見直し {len(digest.reviews_due)}、計 {digest.item_count} 件"
    )


class Command(BaseCommand):
    help = "Send each person one daily e-mail digest of what awaits them (once a day)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="show who would be sent what; send nothing and change nothing",
        )
        parser.add_argument(
            "--date",
            type=iso_date,
            default=None,
            help="the day to remind for, YYYY-MM-DD (default: today)",
        )

    def handle(self, *args, **options):
        report = reminders.run(options["date"], dry_run=options["dry_run"])
        dry = report.dry_run
        if dry:
            self.stdout.write(
                f"[--dry-run] {report.date:%Y-%m-%d} のリマインダーを確認します"
                "（送信も変更もしません）。"
            )
            self.stdout.write(f"見直し期限に移行する申請: {report.reviews_marked_due} 件")
        else:
            self.stdout.write(f"見直し期限に移行した申請: {report.reviews_marked_due} 件")
        for outcome in report.outcomes:
            self.stdout.write(self._line(outcome, report.date))
        self.stdout.write(self._total(report))
        failed = report.count(reminders.FAILED)
        if failed:
            raise CommandError(f"{failed} 通のリマインダーを送信できませんでした。")

    def _line(self, outcome: reminders.Outcome, date: datetime.date) -> str:
        who, items = _who(outcome.digest), _items(outcome.digest)
        match outcome.result:
            case reminders.SENT:
                return self.style.SUCCESS(f"送信しました: {who}（{items}）")
            case reminders.DRY_RUN:
                return f"送信予定: {who}（{items}）"
            case reminders.ALREADY_SENT:
                return f"スキップ（{date:%Y-%m-%d} 分は送信済み）: {who}（{items}）"
            case reminders.INACTIVE:
                return self.style.WARNING(f"スキップ（無効なユーザー）: {who}（{items}）")
            case reminders.NO_EMAIL:
                return self.style.WARNING(f"スキップ（メールアドレス未登録）: {who}（{items}）")
            case _:
                return self.style.ERROR(f"送信失敗: {who}（{items}）: {outcome.error}")

    def _total(self, report: reminders.Report) -> str:
        skipped = sum(
            report.count(r)
            for r in (reminders.ALREADY_SENT, reminders.INACTIVE, reminders.NO_EMAIL)
        )
        items = sum(o.digest.item_count for o in report.outcomes)
        people = len(report.outcomes)
        if report.dry_run:
            planned = report.count(reminders.DRY_RUN)
            return (
                f"合計（--dry-run、送信していません）: 送信予定 {planned} 通、"
                f"スキップ {skipped} 名（対象 {people} 名、{items} 件）"
            )
        return (
            f"合計: 送信 {report.count(reminders.SENT)} 通、スキップ {skipped} 名、"
            f"失敗 {report.count(reminders.FAILED)} 通（対象 {people} 名、{items} 件）"
        )
