"""PDF reports through the web: the judgement report of an application and the
register report, read back with poppler; queries bounded."""

from __future__ import annotations

import datetime
import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cloudjudge.web.audit.models import Action, AuditEntry
from cloudjudge.web.documents import content as documents
from cloudjudge.web.register import checklist, evidence, workflow
from cloudjudge.web.register.models import Application, ItemStatus
from cloudjudge.web.registries.importing import import_registry

from ..registries.conftest import audit_end_for_expiry, ismap_csv
from .helpers import INTERNET_PC

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    """pdftotext output without the spaces and line breaks wrapping inserts.

    The built-in CID fonts' "_" reads back as U+0332 (combining low line): it is
    drawn as an underscore, poppler's Adobe-Japan1 map just names it so."""
    return re.sub(r"\s+", "", text).replace("\u0332", "_")


def pdf(response, path) -> bytes:
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    path.write_bytes(response.content)
    return response.content


@pytest.fixture
def reviewed_app(storage_app, applicant, security, ciso):
    """Submitted, approved by the security office and the CISO, with evidence."""
    rows = {row.item_id: row for row in storage_app.checklist_items.all()}
    checklist.update_item(rows["SEL-A1"], applicant, status=ItemStatus.DONE, note="ISMAP 登録確認")
    checklist.update_item(
        rows["EXIT-3"], applicant, status=ItemStatus.NOT_APPLICABLE, na_reason="機器の貸与なし"
    )
    for name in ("ISMAP登録通知書.pdf", "SLA契約書_第3条.pdf"):
        evidence.store(
            storage_app,
            SimpleUploadedFile(name, b"%PDF-1.4\n%%EOF\n"),
            applicant,
            checklist_item=rows["SEL-A1"],
        )
    workflow.perform(storage_app, workflow.Step.SUBMIT, applicant)
    workflow.perform(storage_app, workflow.Step.APPROVE, security, "別紙1②の対策を確認した。")
    workflow.perform(storage_app, workflow.Step.CISO_APPROVE, ciso)
    storage_app.refresh_from_db()
    return storage_app


def test_the_judgement_report_reads_back(login, security, reviewed_app, poppler, output_dir):
    response = login(security).get(reverse("documents:report_pdf", args=[reviewed_app.pk]))
    number = reviewed_app.number
    path = output_dir / "judgement-report.pdf"
    pdf(response, path)
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f'filename="judgement-report_{number}.pdf"' in disposition
    assert (
        f"filename*=UTF-8''{quote(f'クラウドサービス利用判断報告書_{number}.pdf')}" in disposition
    )

    text = flat(poppler.text(path))
    assert "クラウドサービス利用判断報告書" in text
    assert "承認が必要" in text  # the verdict, in Japanese
    for entry in reviewed_app.latest_judgement.decision["required"]:
        assert entry["id"] in text, entry["id"]
    for finding in reviewed_app.latest_judgement.decision["findings"]:
        assert flat(finding["clause"]) in text
    assert "オンラインストレージ" in text and "市民課" in text
    assert "申請花子" in text  # the applicant
    assert "ISMAP登録通知書.pdf" in text and "SLA契約書_第3条.pdf" in text
    assert "該当なしの理由:機器の貸与なし" in text
    for label in ("対応済", "該当なし", "未対応"):
        assert label in text
    # Approvals with names, roles, actions and times.
    assert "セキュリティ担当" in text and "統括承認" in text
    assert "別紙1②の対策を確認した。" in text
    assert reviewed_app.latest_judgement.criteria_version in text
    assert re.search(r"1/\d+", text), "page numbers"
    assert "情報システム管理者" in text  # the seal boxes

    png = poppler.render_first_page(path, output_dir / "judgement-report-page1")
    assert png.exists() and png.stat().st_size > 5_000
    assert png.read_bytes().startswith(b"\x89PNG")


def test_the_report_prints_japanese_labels_whatever_the_ui_language(
    login, applicant, reviewed_app, poppler, tmp_path
):
    client = login(applicant)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("documents:report_pdf", args=[reviewed_app.pk]))
    assert response["Content-Language"] == "en"
    pdf(response, tmp_path / "r.pdf")
    text = flat(poppler.text(tmp_path / "r.pdf"))
    assert "承認" in text and "申請中" not in text  # status 承認 (approved)
    assert "申請者" in text and "Applicant" not in text


def test_the_report_does_not_query_per_row(login, security, storage_app, applicant, tmp_path):
    client = login(security)
    url = reverse("documents:report_pdf", args=[storage_app.pk])
    client.get(url)  # warm caches (catalog, fonts, session)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = count()
    rows = list(storage_app.checklist_items.all())
    for n, row in enumerate(rows[:12]):
        checklist.update_item(row, applicant, status=ItemStatus.IN_PROGRESS, owner=applicant)
        evidence.store(
            storage_app,
            SimpleUploadedFile(f"証跡{n}.pdf", b"%PDF-1.4\n%%EOF\n"),
            applicant,
            checklist_item=row,
        )
    workflow.perform(storage_app, workflow.Step.SUBMIT, applicant)
    assert count() == few


def test_the_summary_adapter_is_bounded(storage_app, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        application = documents.report_application(Application.objects.all(), storage_app.pk)
        summary = documents.application_summary(application)
    assert len(summary.checklist) == storage_app.checklist_items.filter(active=True).count()
    assert summary.status == "下書き・申請者"


def test_another_department_cannot_get_the_report(login, outsider, storage_app):
    response = login(outsider).get(reverse("documents:report_pdf", args=[storage_app.pk]))
    assert response.status_code == 404


# --------------------------------------------------------------------------- register report


@pytest.fixture
def register(make_application, make_service, outsider, storage_app):
    """Two applications of 市民課 and one of 税務課."""
    groupware = make_application(service=make_service(name="グループウェア"))
    tax = make_application(
        user=outsider, service=make_service(name="電子申告連携サービス"), **INTERNET_PC
    )
    return storage_app, groupware, tax


def test_the_register_report_lists_the_visible_applications(
    login, applicant, security, register, poppler, output_dir
):
    storage, groupware, tax = register
    response = login(security).get(reverse("documents:register_pdf"))
    path = output_dir / "register-report.pdf"
    pdf(response, path)
    assert response["Content-Disposition"].startswith(
        'attachment; filename="cloud-service-register_'
    )
    assert (
        "filename*=UTF-8''" + quote("クラウドサービス利用台帳_") in response["Content-Disposition"]
    )
    text = flat(poppler.text(path))
    assert "クラウドサービス利用台帳" in text
    for application in register:
        assert application.number in text
        assert flat(application.service.name) in text
    assert "全3件" in text
    png = poppler.render_first_page(path, output_dir / "register-report-page1")
    assert png.read_bytes().startswith(b"\x89PNG")

    # An applicant's register has only their department's applications.
    response = login(applicant).get(reverse("documents:register_pdf"))
    pdf(response, path)
    text = flat(poppler.text(path))
    assert storage.number in text and groupware.number in text
    assert tax.number not in text and "電子申告連携サービス" not in text


def test_the_register_report_honours_the_list_filters(login, security, register, poppler, tmp_path):
    storage, groupware, tax = register
    path = tmp_path / "filtered.pdf"
    response = login(security).get(reverse("documents:register_pdf"), {"method": "internet_pc"})
    pdf(response, path)
    text = flat(poppler.text(path))
    assert storage.number in text and tax.number in text
    assert groupware.number not in text
    assert "全2件" in text

    response = login(security).get(reverse("documents:register_pdf"), {"q": "グループウェア"})
    pdf(response, path)
    text = flat(poppler.text(path))
    assert groupware.number in text and storage.number not in text


def test_the_list_page_links_to_the_pdf_with_its_filters(login, security, register):
    page = login(security).get(reverse("register:list"), {"method": "internet_pc", "page": "1"})
    html = page.content.decode()
    assert f"{reverse('documents:register_pdf')}?method=internet_pc" in html
    assert "PDF 出力" in html


def test_downloads_are_recorded_as_exports(login, security, register):
    login(security).get(reverse("documents:register_pdf"), {"verdict": "approval_required"})
    entry = AuditEntry.objects.filter(action=Action.EXPORT).get()
    assert entry.extra["document"] == "register_report"
    assert entry.extra["filters"] == "verdict=approval_required"
    assert entry.extra["rows"] == 2


def test_the_register_report_shows_each_services_registry_status(
    login, security, make_application, make_service, poppler, tmp_path
):
    """Withdrawn and expired list entries are printed beside the application,
    in the registries' matching and words, with the expiry date in 和暦."""
    today = timezone.localdate()
    expired_end = audit_end_for_expiry(today - datetime.timedelta(days=30))
    result = import_registry(
        "ismap",
        ismap_csv(
            ("C21-0001-1", "取下げクラウド", "サンプル株式会社", today, False, True),
            ("C21-0002-1", "失効クラウド", "サンプル株式会社", expired_end, False, False),
        ),
        security,
        filename="ismap.csv",
    )
    assert result.ok, result.message
    withdrawn = make_application(service=make_service(name="取下げクラウド"))
    expired = make_application(service=make_service(name="失効クラウド"))
    unlisted = make_application(service=make_service(name="台帳だけのサービス", listings=()))
    path = tmp_path / "register.pdf"
    pdf(login(security).get(reverse("documents:register_pdf")), path)
    text = flat(poppler.text(path))
    assert "登録簿の状態" in text
    assert "ISMAP取下げ・登録取消（有効期限令和" in text
    assert "ISMAP期限切れ（有効期限令和" in text
    for application in (withdrawn, expired, unlisted):
        assert application.number in text
