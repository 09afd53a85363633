"""Server-side time of the web application's busiest pages on a 10,000-row register.

Seeds a register of N applications (default 10,000) in a database of its own,
then requests pages through Django's test client, which runs the whole
middleware stack (sessions, authentication, MFA gate, CSRF, locale, audit…),
the views, the queries and the templates, without a network in between:

* the register list: first page; a filtered, sorted second page; a search;
* the dashboard with its action list (あなたの対応が必要な申請) for each role:
  the security office, an applicant's department, the CISO, the auditor;
* the review queue;
* the application page: the longest checklist, and one of the department's;
* ``POST /api/v1/judgements`` with the engine's request JSON (a stand-in view
  calling the engine, if the API is not installed: the output says which).

It prints median, p95 and max per page, the process's CPU time, the queries
each one issues, and "cold": the worst of three requests made right after a
change, when the dashboard's figures, its action list and the list's count
(kept in the shared cache, ``web/figures.py``) are counted again. It
never asserts; the targets of issue 3 are p95 < 150 ms per page and < 20 ms for
the judgement endpoint, and the output marks what misses them.

Database: a fresh SQLite file in a temporary folder under /tmp; or, when
``DATABASE_URL`` names a PostgreSQL server, a database of its own on that
server (``cloudjudge_bench``, created here and dropped at the end):

    .venv/bin/python benchmarks/web.py
    DATABASE_URL=$(scripts/postgres-test-server start) .venv/bin/python benchmarks/web.py

The data is realistic rather than random: departments with their applicants,
a pool of services with listings and certifications, facts weighted the way a
city's applications are, every lifecycle stage with its dates, status
history, reviews and exit steps, and each application's judgement (the engine
judges each distinct combination of facts once; the decision is reused) and
its checklist (one row per required measure, ~50 per application, worked
further the further the application has got). Evidence files are not seeded:
none of the measured pages reads them.

``--profile PATH`` prints the 25 most expensive functions (cProfile) of one
request to that path, after the figures.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

PAGE_TARGET_MS = 150.0
JUDGEMENT_TARGET_MS = 20.0
BENCH_DB = "cloudjudge_bench"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


# --------------------------------------------------------------------------- environment


def prepare_environment(tmp: Path) -> tuple[str, str | None]:
    """Point the settings at a database of our own, before Django starts.
    Returns (a label for the output, the PostgreSQL admin URL to drop it with)."""
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "cloudjudge.web.settings",
            # Production behaviour (cached templates, no query log), minus HTTPS.
            "CLOUDJUDGE_DEBUG": "0",
            "CLOUDJUDGE_SECRET_KEY": secrets.token_urlsafe(50),
            "CLOUDJUDGE_SSL_REDIRECT": "0",
            "CLOUDJUDGE_ALLOWED_HOSTS": "testserver",
            "CLOUDJUDGE_VAR_DIR": str(tmp),
            "CLOUDJUDGE_MEDIA_ROOT": str(tmp / "media"),
            "CLOUDJUDGE_STATIC_ROOT": str(tmp / "static"),
            "CLOUDJUDGE_LOG_LEVEL": "WARNING",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
    )
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        import psycopg

        parts = urlsplit(url)
        admin_url = url
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{BENCH_DB}"))
        host = parts.hostname or "local socket"
        return f"PostgreSQL database {BENCH_DB} on {host}:{parts.port or 5432}", admin_url
    if url:
        print(f"DATABASE_URL={url.split(':')[0]}:… is not PostgreSQL: using SQLite instead.")
    path = tmp / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    return f"SQLite {path}", None


def drop_database(admin_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


# --------------------------------------------------------------------------- seeding

DEPARTMENTS = [
    ("ict", "総務局 ICT イノベーション推進室"),
    ("security", "総務局 情報セキュリティ課"),
    ("jinji", "総務局 人事課"),
    ("zaisei", "財政局 財政課"),
    ("zeimu", "財政局 税務課"),
    ("shimin", "市民人権局 市民課"),
    ("koseki", "市民人権局 戸籍住民課"),
    ("kenko", "健康福祉局 健康医療課"),
    ("fukushi", "健康福祉局 福祉総務課"),
    ("kodomo", "子ども青少年局 子育て支援課"),
    ("kankyo", "環境局 環境政策課"),
    ("sangyo", "産業振興局 商工労働課"),
    ("toshi", "建築都市局 都市計画課"),
    ("doboku", "建設局 土木部"),
    ("koho", "市長公室 広報課"),
    ("bunka", "文化観光局 文化課"),
    ("shisetsu", "文化観光局 施設管理課"),
    ("shobo", "消防局 総務課"),
    ("kyoiku", "教育委員会事務局 学校教育課"),
    ("suido", "上下水道局 経営企画課"),
]
SERVICE_KINDS = [
    "グループウェア",
    "Web 会議",
    "オンラインストレージ",
    "電子申請",
    "電子契約",
    "施設予約",
    "アンケート集計",
    "ウイルス定義配信",
    "住民記録システム",
    "人事評価",
    "学習支援",
    "チャット",
    "地図情報",
    "議事録作成支援",
    "翻訳",
    "RPA",
]
PURPOSES = [
    "庁内外の会議と資料共有",
    "市民からの申請の電子受付",
    "事業者との契約書の電子締結",
    "委託先とのファイル共有",
    "職員の業務記録の管理",
    "施設の予約受付と利用料の管理",
    "市民アンケートの集計と分析",
    "窓口での外国語対応",
]
#: (weight, method, facts) — how a city's applications are spread.
PROFILES = [
    (30, "local_breakout", {"breakout_usage": "no_file_import"}),
    (15, "local_breakout", {"breakout_usage": "file_import"}),
    (5, "local_breakout", {"breakout_usage": "auth_only"}),
    (22, "lgwan_asp", {}),
    (12, "government_cloud", {"network": "government_cloud_line"}),
    (8, "internet_pc", {}),
    (5, "internet_pc", {"limited_external_sharing": True}),
    (3, "internet_pc", {"internet_only_function": True, "download_to_internet_terminal": True}),
]
CONFIDENTIALITY = [("3B", 40), ("3C", 25), ("2", 25), ("1", 5), ("3A", 5)]
#: Stage weights for applications the engine does not prohibit.
STAGES = [
    ("draft", 8),
    ("submitted", 8),
    ("returned", 3),
    ("rejected", 2),
    ("approved", 5),
    ("in_use", 57),
    ("review_due", 5),
    ("ending", 2),
    ("ended", 10),
]
PROHIBITED_STAGES = [("draft", 40), ("rejected", 40), ("returned", 20)]
#: Share of checklist rows resolved, by stage (low, high).
DONE_SHARE = {
    "draft": (0.0, 0.2),
    "submitted": (0.3, 0.7),
    "returned": (0.2, 0.6),
    "rejected": (0.0, 0.3),
    "approved": (0.7, 1.0),
    "in_use": (0.9, 1.0),
    "review_due": (0.85, 1.0),
    "ending": (0.95, 1.0),
    "ended": (1.0, 1.0),
}


def weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


class Seeder:
    def __init__(self, n: int, seed: int = 20260401):
        from django.utils import timezone

        self.n = n
        self.rng = random.Random(seed)
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.decisions: dict[str, dict] = {}
        self.listing_answers: dict[int, object] = {}
        self.engine_calls = 0

    # --- people and services

    def people(self) -> None:
        from cloudjudge.web.accounts.models import Department, Role, User

        Department.objects.bulk_create(Department(code=c, name=n) for c, n in DEPARTMENTS)
        self.departments = list(Department.objects.order_by("id"))
        users = []
        for dept in self.departments:
            for k in range(3):
                users.append(
                    User(
                        username=f"{dept.code}-{k}",
                        role=Role.APPLICANT,
                        department=dept,
                        last_name=dept.name.split()[-1],
                        first_name=f"職員{k + 1}",
                    )
                )
        security_dept = next(d for d in self.departments if d.code == "security")
        for k in range(3):
            users.append(
                User(username=f"sec-office-{k}", role=Role.SECURITY, department=security_dept)
            )
        users.append(User(username="ciso", role=Role.CISO, last_name="統括", first_name="責任"))
        users.append(User(username="auditor", role=Role.AUDITOR))
        for user in users:
            user.set_unusable_password()
        User.objects.bulk_create(users)
        self.users = {u.username: u for u in User.objects.all()}
        self.applicants = {
            d.pk: [self.users[f"{d.code}-{k}"] for k in range(3)] for d in self.departments
        }
        self.security = [self.users[f"sec-office-{k}"] for k in range(3)]
        self.ciso = self.users["ciso"]

    def services(self, count: int) -> None:
        from cloudjudge.web.register.models import Service

        services = []
        for i in range(count):
            kind = SERVICE_KINDS[i % len(SERVICE_KINDS)]
            service = Service(
                name=f"{kind}サービス {i // len(SERVICE_KINDS) + 1:03d}",
                provider=f"株式会社サンプル{i % 37:02d}",
                security_update_service=kind == "ウイルス定義配信",
            )
            listings = []
            if kind in {"電子申請", "施設予約", "住民記録システム"} or self.rng.random() < 0.2:
                listings.append("lgwan_asp")
            if self.rng.random() < 0.55:
                listings.append("ismap")
            elif self.rng.random() < 0.3:
                listings.append("ismap_liu")
            service.listings = listings
            service.isms_certifications = [
                c for c in ("iso27001", "iso27017", "iso27018") if self.rng.random() < 0.45
            ]
            services.append(service)
        Service.objects.bulk_create(services)
        self.service_pool = list(Service.objects.all())

    # --- judgements

    def listings(self, service):
        """The registry's answer for a service, asked once per service."""
        from cloudjudge.web.registries.listings import effective_listings

        answer = self.listing_answers.get(service.pk)
        if answer is None:
            answer = self.listing_answers[service.pk] = effective_listings(service)
        return answer

    def listing_check(self, judgement_id: int, service, when: datetime.datetime):
        """What ``judge_application`` keeps next to each judgement."""
        from cloudjudge.web.registries.models import ListingCheck

        answer = self.listings(service)
        return ListingCheck(
            judgement_id=judgement_id,
            checked_on=when.date(),
            results=answer.results(),
            findings=answer.findings,
            created_at=when,
        )

    def decide(self, request: dict) -> dict:
        """The engine's decision, once per distinct combination of facts (the
        decision does not depend on the service's name)."""
        import cloudjudge

        facts = {**request, "service": {**request["service"], "name": "", "provider": ""}}
        key = json.dumps(facts, sort_keys=True)
        decision = self.decisions.get(key)
        if decision is None:
            decision = cloudjudge.judge(request)
            self.engine_calls += 1
            self.decisions[key] = decision
        return decision

    def facts(self):
        rng = self.rng
        method, extra = weighted(rng, [((m, f), w) for w, m, f in PROFILES])
        facts = {
            "purpose": f"{rng.choice(PURPOSES)}（{rng.randint(1, 999)}）",
            "confidentiality": weighted(rng, CONFIDENTIALITY),
            "my_number": method in {"lgwan_asp", "government_cloud"} and rng.random() < 0.15,
            "administrative_documents": rng.random() < 0.9,
            "critical_to_citizens": rng.random() < 0.15,
            "method": method,
            "breakout_usage": "",
            "internet_virtual_pc": method == "internet_pc" and rng.random() < 0.3,
            "network": "",
            "download_to_internet_terminal": False,
            "internet_only_function": False,
            "limited_external_sharing": False,
            "council_approved_legacy": False,
            "exception_note": "",
            **extra,
        }
        if facts["limited_external_sharing"] or facts["internet_only_function"]:
            facts["exception_note"] = "他に実現手段がないため（例外の根拠）。"
        return facts

    # --- applications

    def applications(self) -> Counter:
        from django.db import transaction

        from cloudjudge.engine import RequestError
        from cloudjudge.web.register import judging
        from cloudjudge.web.register.models import (
            Application,
            ExitStep,
            Judgement,
            Review,
            StatusChange,
        )
        from cloudjudge.web.registries.models import ListingCheck

        rng, now = self.rng, self.now
        started = time.perf_counter()
        apps, judgements, checks, items, changes, reviews, exits = [], [], [], [], [], [], []
        stages: Counter = Counter()
        judgement_id = 0
        for pk in range(1, self.n + 1):
            dept = rng.choice(self.departments)
            applicant = rng.choice(self.applicants[dept.pk])
            service = rng.choice(self.service_pool)
            while True:
                facts = self.facts()
                app = Application(
                    id=pk, department=dept, applicant=applicant, service=service, **facts
                )
                try:
                    request = judging.request_for(app, service, listings=self.listings(service))
                    decision = self.decide(request)
                    break
                except RequestError:
                    continue
            verdict = decision["verdict"]
            stage = weighted(rng, PROHIBITED_STAGES if verdict == "prohibited" else STAGES)
            stages[stage] += 1
            created = now - datetime.timedelta(days=rng.uniform(5, 1100))
            app.created_at = created
            app.number = f"CJ-{created.astimezone().year}-{pk:05d}"
            app.status = stage
            app.verdict = verdict
            app.needs_ciso_approval = "ciso" in decision["approvals"]
            app.pia_required = decision["pia_required"]

            # An earlier judgement for some (facts corrected before submitting).
            if rng.random() < 0.15:
                earlier = {**request, "data": {**request["data"], "confidentiality": "2"}}
                try:
                    old = self.decide(earlier)
                except RequestError:
                    old = None
                if old is not None and earlier != request:
                    judgement_id += 1
                    judgements.append(
                        Judgement(
                            id=judgement_id,
                            application_id=pk,
                            request=earlier,
                            decision=old,
                            criteria_version=old["criteria_version"],
                            verdict=old["verdict"],
                            actor=applicant,
                            created_at=created,
                        )
                    )
                    checks.append(self.listing_check(judgement_id, service, created))
            judgement_id += 1
            judgements.append(
                Judgement(
                    id=judgement_id,
                    application_id=pk,
                    request=request,
                    decision=decision,
                    criteria_version=decision["criteria_version"],
                    verdict=verdict,
                    actor=applicant,
                    created_at=created + datetime.timedelta(minutes=5),
                )
            )
            checks.append(self.listing_check(judgement_id, service, created))
            app.latest_judgement_id = judgement_id
            updated = self.lifecycle(app, stage, created, applicant, changes, reviews, exits)
            app.updated_at = updated
            apps.append(app)
            self.checklist(app, decision["required"], stage, applicant, items)

        self.timings = {"generated": time.perf_counter() - started}
        with transaction.atomic():
            # FKs are deferred on both SQLite and PostgreSQL: applications may
            # name their latest judgement before it is inserted.
            steps = [
                ("applications", lambda: Application.objects.bulk_create(apps, batch_size=1000)),
                ("judgements", lambda: Judgement.objects.bulk_create(judgements, batch_size=500)),
                ("listing checks", lambda: ListingCheck.objects.bulk_create(checks, 1000)),
                ("checklist", lambda: self.insert_checklist(items)),
                ("history", lambda: StatusChange.objects.bulk_create(changes, batch_size=2000)),
                ("reviews", lambda: Review.objects.bulk_create(reviews, batch_size=2000)),
                ("exit steps", lambda: ExitStep.objects.bulk_create(exits, batch_size=2000)),
                # auto_now stamped every row with the same time: spread them out.
                ("dates", lambda: Application.objects.bulk_update(apps, ["updated_at"], 1000)),
            ]
            for name, step in steps:
                start = time.perf_counter()
                step()
                self.timings[name] = time.perf_counter() - start
        self.counts = {
            "judgements": len(judgements),
            "listing checks": len(checks),
            "checklist rows": len(items),
            "status changes": len(changes),
            "reviews": len(reviews),
            "exit steps": len(exits),
        }
        self.reset_sequences()
        return stages

    def lifecycle(self, app, stage, created, applicant, changes, reviews, exits):
        """Dates, status changes, reviews and exit steps up to ``stage``; the
        time of the last change."""
        from cloudjudge.web.register.models import ExitStep, Review, StatusChange

        rng, today = self.rng, self.today
        security = rng.choice(self.security)
        t = created
        path = ["draft"]

        def step(to, actor, comment="", days=(1, 10)):
            nonlocal t
            t = t + datetime.timedelta(days=rng.uniform(*days))
            changes.append(
                StatusChange(
                    application_id=app.pk,
                    action=to,
                    from_status=path[-1],
                    to_status=to,
                    actor=actor,
                    comment=comment,
                    created_at=t,
                )
            )
            path.append(to)

        def review(action, actor, comment=""):
            reviews.append(
                Review(
                    application_id=app.pk,
                    judgement_id=app.latest_judgement_id,
                    actor=actor,
                    action=action,
                    comment=comment,
                    created_at=t,
                )
            )

        if stage == "draft":
            return created
        step("submitted", applicant)
        app.submitted_at = t
        if stage == "submitted":
            return t
        if stage in {"returned", "rejected"}:
            action = "return" if stage == "returned" else "reject"
            comment = (
                "根拠資料を補足してください。" if action == "return" else "要件を満たしません。"
            )
            step(stage, security, comment)
            review(action, security, comment)
            return t
        step("approved", security, "確認しました。")
        review("approve", security, "確認しました。")
        app.approved_at, app.approved_by = t, security
        if app.needs_ciso_approval:
            step("approved", self.ciso, "承認します。", days=(1, 5))
            review("ciso_approve", self.ciso, "承認します。")
            app.ciso_approved_at, app.ciso_approved_by = t, self.ciso
        if stage == "approved":
            return t
        step("in_use", applicant, days=(1, 14))
        app.in_use_since = t.date()
        if stage == "in_use":
            app.review_due = today + datetime.timedelta(days=rng.randint(1, 365))
            return t
        if stage == "review_due":
            app.review_due = today - datetime.timedelta(days=rng.randint(0, 60))
            step("review_due", None, days=(0, 1))
            return t
        app.review_due = today + datetime.timedelta(days=rng.randint(30, 300))
        step("ending", applicant, days=(30, 300))
        done = 3 if stage == "ended" else rng.randint(0, 2)
        for k, code in enumerate(("EXIT-1", "EXIT-2", "EXIT-3")):
            exits.append(
                ExitStep(
                    application_id=app.pk,
                    step=code,
                    done_at=t + datetime.timedelta(days=k + 1) if k < done else None,
                    done_by=applicant if k < done else None,
                    note="完了" if k < done else "",
                )
            )
        if stage == "ended":
            step("ended", applicant, days=(4, 20))
            app.ended_at = t
        return t

    #: Checklist columns, in the order of the rows ``checklist`` makes.
    CHECKLIST_FIELDS = (
        "application",
        "item_id",
        "clause",
        "title",
        "reason",
        "position",
        "active",
        "status",
        "na_reason",
        "owner",
        "due_date",
        "note",
        "open_under_condition",
        "updated_at",
        "updated_by",
    )

    def checklist(self, app, required, stage, applicant, items) -> None:
        """One row (a tuple, in ``CHECKLIST_FIELDS`` order) per required measure."""
        from django.db import connection

        rng, today, ops = self.rng, self.today, connection.ops
        low, high = DONE_SHARE[stage]
        share = rng.uniform(low, high)
        owners = [applicant.pk, rng.choice(self.security).pk]
        stamp = ops.adapt_datetimefield_value(self.now)
        for position, entry in enumerate(required):
            roll = rng.random()
            if roll < share:
                status = "not_applicable" if roll < share * 0.05 else "done"
            else:
                status = "in_progress" if rng.random() < 0.3 else "todo"
            due = None
            if status in {"todo", "in_progress"} and rng.random() < 0.6:
                due = today + datetime.timedelta(days=rng.randint(-60, 90))
            na_reason = "事業者の標準機能で担保されるため。" if status == "not_applicable" else ""
            note = "確認済み。" if status == "done" and rng.random() < 0.3 else ""
            items.append(
                (
                    app.pk,
                    entry["id"],
                    entry["clause"],
                    entry["title"],
                    entry["reason"],
                    position,
                    True,
                    status,
                    na_reason,
                    rng.choice(owners) if status != "todo" or due else None,
                    ops.adapt_datefield_value(due),
                    note,
                    False,
                    stamp,
                    applicant.pk,
                )
            )

    def insert_checklist(self, rows: list[tuple]) -> None:
        """~50 rows per application: straight ``executemany``, not the ORM's
        per-value preparation (ten times faster, same rows)."""
        from django.db import connection

        from cloudjudge.web.register.models import ChecklistItem

        meta, quote = ChecklistItem._meta, connection.ops.quote_name
        columns = ", ".join(quote(meta.get_field(f).column) for f in self.CHECKLIST_FIELDS)
        marks = ", ".join(["%s"] * len(self.CHECKLIST_FIELDS))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), 5000):
                cursor.executemany(sql, rows[start : start + 5000])

    def reset_sequences(self) -> None:
        from django.core.management.color import no_style
        from django.db import connection

        from cloudjudge.web.register.models import Application, Judgement

        sql = connection.ops.sequence_reset_sql(no_style(), [Application, Judgement])
        with connection.cursor() as cursor:
            for statement in sql:
                cursor.execute(statement)


# --------------------------------------------------------------------------- measuring


def client_for(user):
    """A test client logged in as ``user``, past the second factor if MFA is installed."""
    from django.apps import apps
    from django.test import Client

    client = Client()
    client.force_login(user)
    if apps.is_installed("django_otp"):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(call, n: int, warmup: int = 3) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of ``n`` calls. On a busy machine the
    wall clock includes waiting for a core; the process's CPU time does not
    (but it leaves out a PostgreSQL server's own work)."""
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(n):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


def count_queries(call) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


def check(response, what: str):
    if response.status_code != 200:
        where = response.get("Location", "")
        raise SystemExit(f"{what}: HTTP {response.status_code} {where}".rstrip())
    return response


def judgement_endpoint():
    """(URL, label, extra URLconf or None): the API's endpoint if it is there,
    else a stand-in that does what it must do (parse, judge, serialise)."""
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/v1/judgements")
        return "/api/v1/judgements", "POST /api/v1/judgements", None
    except Resolver404:
        pass
    from django.contrib.auth.decorators import login_not_required
    from django.http import JsonResponse
    from django.urls import include, path
    from django.views.decorators.csrf import csrf_exempt

    import cloudjudge
    from cloudjudge.engine import RequestError

    @csrf_exempt
    @login_not_required
    def stand_in(request):
        try:
            decision = cloudjudge.judge(json.loads(request.body))
        except RequestError as exc:
            return JsonResponse({"detail": str(exc)}, status=422)
        return JsonResponse(decision, json_dumps_params={"ensure_ascii": False})

    module = type(sys)("bench_urls")
    module.urlpatterns = [
        path("bench/judgements", stand_in),
        path("", include("cloudjudge.web.urls")),
    ]
    return "/bench/judgements", "stand-in for POST /api/v1/judgements (API not installed)", module


def api_headers(user) -> dict[str, str]:
    try:
        from cloudjudge.web.api.models import ApiToken
    except ImportError:
        return {}
    _, token = ApiToken.issue(user, name="benchmark")
    return {"Authorization": f"Bearer {token}"}


def example_requests() -> list[bytes]:
    import yaml

    bodies = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        bodies.append(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8"))).encode())
    return bodies


def report(rows, target_of) -> None:
    print(
        f"\n{'':46} {'median':>8} {'p95':>8} {'max':>8} {'cpu p50':>8} {'queries':>7} "
        f"{'cold':>8}  target"
    )
    for label, (times, cpu), queries, cold in rows:
        target = target_of(label)
        p95 = percentile(times, 95)
        verdict = "ok" if p95 < target else "MISSED"
        print(
            f"{label:46} {statistics.median(times):6.1f}ms {p95:6.1f}ms {max(times):6.1f}ms "
            f"{statistics.median(cpu):6.1f}ms {queries:>7} "
            f"{'' if cold is None else f'{cold:6.1f}ms':>8}  p95 < {target:.0f} ms: {verdict}"
        )
    print(
        "(median/p95/max: wall clock per request; cpu p50: this process's CPU time, "
        "which leaves out waiting for a busy CPU and the PostgreSQL server's work; "
        "cold: the worst of 3 requests right after a change, when the dashboard's figures "
        "and the list's count are counted again instead of read from the shared cache)"
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def measure(seeder: Seeder, pages: int, judgements: int, profile: str | None) -> None:
    from django.db.models import Count
    from django.test import Client, override_settings

    from cloudjudge.web import figures
    from cloudjudge.web.register.models import Application

    security = seeder.security[0]
    dept = max(seeder.departments, key=lambda d: Application.objects.filter(department=d).count())
    applicant = seeder.applicants[dept.pk][0]
    reviewer = client_for(security)
    dept_client = client_for(applicant)
    ciso = client_for(seeder.ciso)
    auditor = client_for(seeder.users["auditor"])
    # The application pages: the one with the longest checklist, and one of the department's.
    busiest = (
        Application.objects.annotate(rows=Count("checklist_items"))
        .order_by("-rows", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    own = (
        Application.objects.filter(department=dept)
        .annotate(rows=Count("checklist_items"))
        .order_by("-rows", "pk")
        .values_list("pk", flat=True)
        .first()
    )

    page_cases = [
        ("register list, page 1 (security office)", reviewer, "/applications/"),
        (
            "register list, filtered+sorted, page 2",
            reviewer,
            f"/applications/?department={dept.pk}&status=in_use&method=local_breakout"
            "&sort=-review_due&page=2",
        ),
        (
            "register list, search, sorted by service",
            reviewer,
            "/applications/?q=グループウェア&sort=service",
        ),
        ("register list, page 1 (applicant's dept)", dept_client, "/applications/"),
        ("dashboard (security office)", reviewer, "/"),
        ("dashboard (applicant's department)", dept_client, "/"),
        ("review queue (CISO)", ciso, "/reviews/"),
        # The dashboard opens with the role's action list (あなたの対応が必要な申請).
        ("dashboard with action list (CISO)", ciso, "/"),
        ("dashboard (auditor)", auditor, "/"),
        ("application page, longest checklist", reviewer, f"/applications/{busiest}/"),
        ("application page (applicant's dept)", dept_client, f"/applications/{own}/"),
    ]
    # As cloudjudge/web/wsgi.py does once the application is loaded: what
    # start-up (and here the seeding) made is left out of the full collections.
    import gc

    gc.collect()
    gc.freeze()
    rows = []
    for label, client, url in page_cases:
        check(client.get(url), label)
        queries = count_queries(lambda c=client, u=url: c.get(u))
        times = timed(lambda c=client, u=url, lab=label: check(c.get(u), lab), pages)
        # Cold: right after a change, the cached figures and counts are counted again.
        cold = []
        for _ in range(3):
            figures.changed()
            start = time.perf_counter()
            check(client.get(url), label)
            cold.append((time.perf_counter() - start) * 1000)
        rows.append((label, times, queries, max(cold)))
        print(f"  measured {label}", flush=True)

    url, label, urlconf = judgement_endpoint()
    headers = api_headers(applicant) if urlconf is None else {}
    client = Client() if headers else client_for(applicant)
    bodies = example_requests()
    counter = iter(range(10**9))

    def post():
        body = bodies[next(counter) % len(bodies)]
        return check(
            client.post(url, body, content_type="application/json", headers=headers), label
        )

    with override_settings(**({"ROOT_URLCONF": urlconf} if urlconf else {})):
        response = post()
        decision = response.json()
        assert "verdict" in decision, decision
        queries = count_queries(post)
        times = timed(post, judgements, warmup=20)
    rows.append((label, times, queries, None))

    report(rows, lambda lab: JUDGEMENT_TARGET_MS if "judgements" in lab else PAGE_TARGET_MS)

    if profile:
        target = next((c for lab, c, u in page_cases if u == profile), reviewer)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(10):
            check(target.get(profile), profile)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
        print(f"\ncProfile of 10 requests to {profile}:\n{out.getvalue()}")


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--services", type=int, default=800)
    parser.add_argument("--page-requests", type=int, default=50)
    parser.add_argument("--judgement-requests", type=int, default=1_000)
    parser.add_argument("--profile", metavar="PATH", help="cProfile one page, e.g. /")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="cloudjudge-bench-", dir="/tmp"))
    (tmp / "static").mkdir()
    label, admin_url = prepare_environment(tmp)
    try:
        import django
        from django.core.management import call_command
        from django.db import connection

        django.setup()
        from cloudjudge.web.register.models import Application

        print(f"database: {label}", flush=True)
        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in {time.perf_counter() - start:.1f} s", flush=True)

        start = time.perf_counter()
        seeder = Seeder(args.applications)
        seeder.people()
        seeder.services(args.services)
        stages = seeder.applications()
        with connection.cursor() as cursor:
            # Fresh statistics, as a live database has; on PostgreSQL also the
            # visibility map that autovacuum keeps (index-only scans need it).
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        print(
            f"seeded {args.applications:,} applications in {time.perf_counter() - start:.1f} s "
            f"({seeder.engine_calls} distinct fact combinations judged by the engine)"
        )
        print("  " + ", ".join(f"{k}: {v:,}" for k, v in seeder.counts.items()))
        print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seeder.timings.items()))
        print("  stages: " + ", ".join(f"{k} {v}" for k, v in stages.most_common()))
        verdicts = Counter(Application.objects.values_list("verdict", flat=True))
        print("  verdicts: " + ", ".join(f"{k} {v}" for k, v in verdicts.most_common()))
        print(
            f"\nserver-side time through the test client, {args.page_requests} requests per page, "
            f"{args.judgement_requests} judgements:",
            flush=True,
        )
        measure(seeder, args.page_requests, args.judgement_requests, args.profile)
    finally:
        try:
            if args.keep:
                print(f"\nkept: {os.environ['DATABASE_URL']}")
            elif admin_url:
                drop_database(admin_url)
                print(f"\ndropped database {BENCH_DB}")
        finally:
            # The folder holds the SQLite file (kept with --keep) and nothing else.
            if not (args.keep and admin_url is None):
                shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
