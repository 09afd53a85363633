"""``cloudjudge manage load_demo``: demo departments, users and applications.

Idempotent: if the demo users exist, nothing is done. Each demo user's
password is random and printed here once; it is stored only as a hash."""

from django.core.management.base import BaseCommand

from cloudjudge.web.register import demo


class Command(BaseCommand):
    help = "Load demo data (departments, one user per role, applications) unless present."

    def handle(self, *args, **options):
        credentials = demo.load()
        if credentials is None:
            self.stdout.write("デモデータは既にあります。何もしません。")
            return
        self.stdout.write(
            self.style.SUCCESS(f"デモデータを作成しました（申請 {len(demo.APPLICATIONS)} 件）。")
        )
        self.stdout.write("デモ用ユーザー（パスワードはこの一度だけ表示します。控えてください）:")
        width = max(len(spec.username) for spec, _ in credentials)
        for spec, password in credentials:
            role = spec.role.label
            self.stdout.write(f"  {spec.username.ljust(width)}  {password}  {role}")
