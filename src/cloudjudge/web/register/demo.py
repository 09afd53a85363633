"""Demo data: departments, one user per role, and applications in every stage.

Everything is made through the real code paths (``applications``,
``workflow``, ``checklist``, ``evidence``), so the demo obeys the same guards
as real use. Passwords are random, returned once to be printed, never stored
anywhere but as hashes.
"""

from __future__ import annotations

import datetime
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.audit import trail
from cloudjudge.web.audit.models import Action as AuditAction
from cloudjudge.web.register import applications, checklist, evidence, workflow
from cloudjudge.web.register.models import Application, ItemStatus, Service, Status
from cloudjudge.web.register.workflow import Step

DEPARTMENTS = [
    ("ict", "総務局 ICT イノベーション推進室"),
    ("security", "総務局 情報セキュリティ課"),
    ("shimin", "市民人権局 市民課"),
    ("koseki", "市民人権局 戸籍住民課"),
    ("toshi", "建築都市局 都市計画課"),
    ("jinji", "総務局 人事課"),
    ("koho", "市長公室 広報課"),
    ("shisetsu", "文化観光局 施設管理課"),
    ("kyoiku", "教育委員会事務局 学校教育課"),
]


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    department: str | None
    last_name: str
    first_name: str
    login: bool = True  # demo users log in; staff only own applications


USERS = [
    DemoUser("applicant", Role.APPLICANT, "shimin", "市民", "花子"),
    DemoUser("security", Role.SECURITY, "security", "安全", "守"),
    DemoUser("ciso", Role.CISO, None, "統括", "責任"),
    DemoUser("auditor", Role.AUDITOR, None, "監査", "正"),
    DemoUser("admin", Role.ADMIN, "ict", "管理", "太郎"),
]
STAFF = [
    DemoUser("ict-staff", Role.APPLICANT, "ict", "情報", "一郎", login=False),
    DemoUser("koseki-staff", Role.APPLICANT, "koseki", "戸籍", "二郎", login=False),
    DemoUser("toshi-staff", Role.APPLICANT, "toshi", "都市", "三郎", login=False),
    DemoUser("jinji-staff", Role.APPLICANT, "jinji", "人事", "四郎", login=False),
    DemoUser("koho-staff", Role.APPLICANT, "koho", "広報", "五郎", login=False),
    DemoUser("shisetsu-staff", Role.APPLICANT, "shisetsu", "施設", "六郎", login=False),
    DemoUser("kyoiku-staff", Role.APPLICANT, "kyoiku", "教育", "七子", login=False),
]


@dataclass(frozen=True)
class DemoApplication:
    applicant: str
    service: dict[str, Any]
    facts: dict[str, Any]
    stage: str
    done_share: float = 0.0  # share of checklist rows resolved
    overdue: bool = False  # leave an open row past its due date
    review_in_days: int | None = None  # move the review date (in use)
    comment: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


APPLICATIONS = [
    DemoApplication(
        "applicant",
        {
            "name": "クラウド型グループウェア",
            "provider": "株式会社サンプルクラウド",
            "listings": ["ismap"],
            "isms_certifications": ["iso27001", "iso27017"],
        },
        {
            "purpose": "庁内外の Web 会議、メール、ファイル共有。外部団体とのファイル送受信あり。",
            "confidentiality": "3B",
            "method": "local_breakout",
            "breakout_usage": "file_import",
        },
        Status.IN_USE,
        done_share=0.7,
        overdue=True,
        review_in_days=20,
    ),
    DemoApplication(
        "ict-staff",
        {
            "name": "ウイルス定義ファイル配信サービス",
            "provider": "サンプルセキュリティ株式会社",
            "security_update_service": True,
        },
        {
            "purpose": "LGWAN 接続系端末のウイルス対策ソフトの定義ファイル更新。",
            "confidentiality": "3C",
            "administrative_documents": False,
            "method": "local_breakout",
            "breakout_usage": "auth_only",
        },
        Status.IN_USE,
        done_share=1.0,
        review_in_days=200,
    ),
    DemoApplication(
        "applicant",
        {
            "name": "LGWAN-ASP 電子申請サービス",
            "provider": "株式会社サンプル行政システム",
            "listings": ["lgwan_asp"],
        },
        {
            "purpose": "市民からの各種届出・申請の電子受付。",
            "confidentiality": "3B",
            "critical_to_citizens": True,
            "method": "lgwan_asp",
        },
        Status.APPROVED,
        done_share=0.9,
    ),
    DemoApplication(
        "koseki-staff",
        {
            "name": "住民記録システム（標準準拠）",
            "provider": "サンプル情報システム株式会社",
            "listings": ["ismap"],
            "isms_certifications": ["iso27001"],
        },
        {
            "purpose": "ガバメントクラウド上の標準準拠システムによる住民記録事務。",
            "confidentiality": "3B",
            "my_number": True,
            "critical_to_citizens": True,
            "method": "government_cloud",
            "network": "government_cloud_line",
        },
        Status.IN_USE,
        done_share=0.8,
        overdue=True,
        review_in_days=120,
    ),
    DemoApplication(
        "toshi-staff",
        {
            "name": "オンラインストレージ",
            "provider": "Example Storage Inc.",
            "isms_certifications": ["iso27001"],
        },
        {
            "purpose": "設計事業者との図面ファイルの共有。",
            "confidentiality": "3B",
            "method": "internet_pc",
            "network": "internet",
            "limited_external_sharing": True,
            "exception_note": "委託先の設計事業者が LGWAN に接続できず、共有手段が限られるため。",
        },
        Status.SUBMITTED,
        done_share=0.4,
    ),
    DemoApplication(
        "applicant",
        {"name": "無料オンライン翻訳サービス", "provider": "Example Translate"},
        {
            "purpose": "窓口での外国語対応文書の翻訳。",
            "confidentiality": "3B",
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.REJECTED,
        comment="ISMAP 等への掲載も ISMS 認証もないため、重要情報資産は取り扱えません。",
    ),
    DemoApplication(
        "jinji-staff",
        {
            "name": "人事評価クラウド",
            "provider": "株式会社サンプル HR",
            "listings": ["ismap"],
        },
        {
            "purpose": "職員の人事評価記録の管理。",
            "confidentiality": "3A",
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.DRAFT,
    ),
    DemoApplication(
        "ict-staff",
        {
            "name": "電子契約サービス",
            "provider": "株式会社サンプルサイン",
            "isms_certifications": ["iso27001", "iso27017"],
        },
        {
            "purpose": "事業者との契約書の電子締結。",
            "confidentiality": "3B",
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.IN_USE,
        done_share=1.0,
        review_in_days=300,
    ),
    DemoApplication(
        "applicant",
        {
            "name": "給付金申請受付サービス",
            "provider": "株式会社サンプル",
            "listings": ["ismap"],
        },
        {
            "purpose": "給付金のオンライン申請受付（マイナンバーを含む）。",
            "confidentiality": "3B",
            "my_number": True,
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.RETURNED,
        comment=(
            "特定個人情報をインターネット回線で扱えません。"
            "LGWAN-ASP 版か接続方式を見直してください。"
        ),
    ),
    DemoApplication(
        "koho-staff",
        {
            "name": "公式ウェブサイト CMS",
            "provider": "株式会社サンプルウェブ",
            "listings": ["ismap_liu"],
        },
        {
            "purpose": "市公式ウェブサイトの記事作成・公開（旧 CMS の廃止）。",
            "confidentiality": "2",
            "method": "internet_pc",
            "download_to_internet_terminal": True,
        },
        Status.ENDING,
        done_share=1.0,
    ),
    DemoApplication(
        "shisetsu-staff",
        {
            "name": "施設予約システム",
            "provider": "サンプル自治体サービス株式会社",
            "listings": ["lgwan_asp"],
        },
        {
            "purpose": "市民センター等の施設予約（後継システムへ移行済み）。",
            "confidentiality": "3C",
            "method": "lgwan_asp",
        },
        Status.ENDED,
        done_share=1.0,
    ),
    DemoApplication(
        "applicant",
        {
            "name": "住民アンケート集計サービス",
            "provider": "株式会社サンプルリサーチ",
            "listings": ["ismap_liu"],
        },
        {
            "purpose": "市民意識調査の Web アンケート集計。",
            "confidentiality": "2",
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.REVIEW_DUE,
        done_share=0.9,
        review_in_days=-5,
    ),
    DemoApplication(
        "applicant",
        {
            "name": "Web 会議サービス",
            "provider": "Example Meetings Inc.",
            "listings": ["ismap"],
        },
        {
            "purpose": "外部団体との打合せ（ファイルは庁内に取り込まない）。",
            "confidentiality": "2",
            "method": "local_breakout",
            "breakout_usage": "no_file_import",
        },
        Status.DRAFT,
    ),
    DemoApplication(
        "kyoiku-staff",
        {
            "name": "学習支援クラウド",
            "provider": "株式会社サンプル教育",
            "listings": ["ismap"],
            "isms_certifications": ["iso27001", "iso27018"],
        },
        {
            "purpose": "児童生徒の学習記録と教材の共有。",
            "confidentiality": "3C",
            "method": "local_breakout",
            "breakout_usage": "file_import",
        },
        Status.SUBMITTED,
        done_share=0.5,
    ),
]

_ALPHABET = string.ascii_letters + string.digits


def generate_password(length: int = 16) -> str:
    """Random, with upper and lower case letters and digits."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
        ):
            return password


def exists() -> bool:
    return User.objects.filter(username__in=[u.username for u in USERS]).exists()


def _service(spec: dict[str, Any]) -> Service:
    service = Service.objects.filter(name=spec["name"], provider=spec.get("provider", "")).first()
    if service:
        return service
    service = Service(
        name=spec["name"],
        provider=spec.get("provider", ""),
        security_update_service=spec.get("security_update_service", False),
    )
    service.listings = spec.get("listings", [])
    service.isms_certifications = spec.get("isms_certifications", [])
    service.save()
    return service


def _work_checklist(app: Application, spec: DemoApplication, owner: User, today) -> None:
    items = list(app.checklist_items.filter(active=True))
    done = round(len(items) * spec.done_share)
    for n, item in enumerate(items):
        if n < done:
            status = ItemStatus.DONE
            if item.item_id in {"S1-01"} and spec.done_share < 1:
                status = ItemStatus.NOT_APPLICABLE
            checklist.update_item(
                item,
                owner,
                status=status,
                owner=owner,
                due_date=today - datetime.timedelta(days=30 - n % 20),
                note="契約書・仕様書で確認済み。" if status == ItemStatus.DONE else "",
                na_reason="冗長構成は事業者標準で提供されるため。"
                if status == ItemStatus.NOT_APPLICABLE
                else "",
            )
        elif n == done and spec.overdue:
            checklist.update_item(
                item,
                owner,
                status=ItemStatus.IN_PROGRESS,
                owner=owner,
                due_date=today - datetime.timedelta(days=7),
                note="事業者に資料を依頼中。",
            )
        elif n < done + 3:
            checklist.update_item(
                item, owner, owner=owner, due_date=today + datetime.timedelta(days=14 + n)
            )
    first = items[0] if items else None
    if first is not None and spec.done_share > 0:
        upload = SimpleUploadedFile(
            f"{first.item_id}_確認資料.txt",
            f"{app.service.name}: {first.item_id} {first.title} の確認記録（デモ）\n".encode(),
            content_type="text/plain",
        )
        evidence.store(app, upload, owner, checklist_item=first)


def _advance(app: Application, spec: DemoApplication, users: dict[str, User]) -> None:
    applicant = users[spec.applicant]
    security, ciso = users["security"], users["ciso"]
    stage = spec.stage
    if stage == Status.DRAFT:
        return
    workflow.perform(app, Step.SUBMIT, applicant)
    if stage == Status.SUBMITTED:
        return
    if stage == Status.RETURNED:
        workflow.perform(app, Step.RETURN, security, spec.comment)
        return
    if stage == Status.REJECTED:
        workflow.perform(app, Step.REJECT, security, spec.comment)
        return
    workflow.perform(app, Step.APPROVE, security, "選定条件・対策を確認しました。")
    if app.needs_ciso_approval:
        workflow.perform(app, Step.CISO_APPROVE, ciso, "リスク対応を確認し、承認します。")
    if stage == Status.APPROVED:
        return
    open_rows = workflow.open_rows(app)
    if open_rows:
        # The demo's services went live on a conditional approval: the rows
        # still open have an owner and a due date, as 利用開始 requires.
        due = timezone.localdate() + datetime.timedelta(days=30)
        workflow.approve_conditionally(
            app,
            ciso if app.needs_ciso_approval else security,
            [workflow.Condition(item, applicant, due) for item in open_rows],
            "残りの対策は期限までに完了すること。",
        )
    workflow.perform(app, Step.START_USE, applicant)
    if spec.review_in_days is not None:
        due = timezone.localdate() + datetime.timedelta(days=spec.review_in_days)
        Application.objects.filter(pk=app.pk).update(review_due=due)
        app.refresh_from_db()
    if stage == Status.REVIEW_DUE:
        workflow.mark_reviews_due()
        return
    if stage == Status.IN_USE:
        return
    workflow.perform(app, Step.BEGIN_EXIT, applicant)
    workflow.complete_exit_step(app, "EXIT-1", applicant, "CSV でデータを出力し、後継へ移行。")
    if stage == Status.ENDING:
        return
    certificate = SimpleUploadedFile(
        "データ消去証明書.txt",
        f"{app.service.name} のデータ消去証明書（デモ）\n".encode(),
        content_type="text/plain",
    )
    evidence.store(app, certificate, applicant, exit_step="EXIT-2")
    workflow.complete_exit_step(app, "EXIT-2", applicant, "事業者から消去証明書を受領。")
    workflow.complete_exit_step(app, "EXIT-3", applicant, "機器の物理破壊を確認。")
    workflow.perform(app, Step.END, applicant)


@transaction.atomic
def load() -> list[tuple[DemoUser, str]] | None:
    """Create the demo data; None if it exists already. Returns each login
    user with the password to print once."""
    if exists():
        return None
    departments = {
        code: Department.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in DEPARTMENTS
    }
    users: dict[str, User] = {}
    credentials: list[tuple[DemoUser, str]] = []
    for spec in [*USERS, *STAFF]:
        user = User(
            username=spec.username,
            role=spec.role,
            department=departments.get(spec.department) if spec.department else None,
            last_name=spec.last_name,
            first_name=spec.first_name,
            email=f"{spec.username}@city.example.jp",
            is_staff=spec.role == Role.ADMIN,
            is_superuser=spec.role == Role.ADMIN,
        )
        if spec.login:
            password = generate_password()
            user.set_password(password)
            credentials.append((spec, password))
        else:
            user.set_unusable_password()
        user.save()
        trail.record(
            AuditAction.CREATE, obj=user, after=trail.snapshot(user), extra={"via": "load_demo"}
        )
        users[spec.username] = user
    today = timezone.localdate()
    for spec in APPLICATIONS:
        applicant = users[spec.applicant]
        app = applications.create_application(applicant, _service(spec.service), **spec.facts)
        if spec.done_share:
            _work_checklist(app, spec, applicant, today)
        _advance(app, spec, users)
    return credentials
