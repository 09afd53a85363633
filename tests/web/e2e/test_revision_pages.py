"""A criteria revision in a real browser, the way the security office meets
it: the versions page, what the example revision changes (the text diff and
the fact combinations whose verdict changes), the re-judging report, and
applying it, after which the application whose verdict got worse stands at
見直しが必要. The revision is test data (tests/fixtures/catalogs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register import applications, workflow
from cloudjudge.web.register.models import Service
from cloudjudge.web.register.workflow import Step

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-e2e!"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "catalogs"
NEW = "sakai-cloud-usage-criteria@1.1-example"


@pytest.fixture
def office(transactional_db, totp_device, monkeypatch):
    monkeypatch.setenv("CLOUDJUDGE_CATALOG_DIRS", str(FIXTURES))
    shimin = Department.objects.create(code="shimin", name="市民人権局 市民課")
    applicant = User.objects.create_user(
        username="hanako", password=PASSWORD, role=Role.APPLICANT, department=shimin
    )
    ciso = User.objects.create_user(username="sekinin", password=PASSWORD, role=Role.CISO)
    security = User.objects.create_user(
        username="mamoru", password=PASSWORD, role=Role.SECURITY, last_name="安全"
    )
    service = Service(name="ISMS のみのチャット", provider="試験株式会社")
    service.listings, service.isms_certifications = [], ["iso27001"]
    app = applications.create_application(
        applicant,
        service,
        purpose="庁内連絡",
        confidentiality="3B",
        method="local_breakout",
        breakout_usage="file_import",
    )
    workflow.perform(app, Step.SUBMIT, applicant)
    workflow.perform(app, Step.APPROVE, ciso, "承認")
    app.checklist_items.update(status="done")  # 利用開始 needs them resolved
    workflow.perform(app, Step.START_USE, applicant)
    return {"security": (security, totp_device(security)), "application": app}


def test_the_security_office_reads_the_revision_and_applies_it(
    page, office, log_in, shot, settings
):
    security, device = office["security"]
    app = office["application"]
    log_in(page, security.username, PASSWORD, device=device)
    page.get_by_role("navigation").get_by_role("link", name="判断基準の版").click()
    expect(page.get_by_role("heading", name="判断基準の版")).to_be_visible()
    expect(page.locator("#current-version")).to_have_text("sakai-cloud-usage-criteria@1.0")
    row = page.get_by_role("row").filter(has_text=NEW)
    expect(row).to_contain_text("2027-04-01")
    shot(page, "revision-versions")

    row.get_by_role("link", name="変わること").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("改定で変わること")
    expect(page.locator("ins", has_text="サーバ証明書により")).to_be_visible()
    expect(page.locator("ul.effects li.worse").first).to_contain_text("承認が必要 → 禁止")
    expect(page.locator("ul.added")).to_contain_text("SEL-G3")
    expect(page.locator("ul.removed")).to_contain_text("S1-10")
    shot(page, "revision-diff")

    page.get_by_role("link", name="再判定の報告").first.click()
    expect(page.locator("#rejudge-summary")).to_contain_text("1 件が変わり")
    report_row = page.locator("table.rejudge tbody tr").first
    expect(report_row).to_contain_text(app.number)
    expect(report_row).to_contain_text("承認が必要 → 禁止")
    # not in force until 2027-04-01: the page says so instead of offering to apply
    expect(page.locator(".notice")).to_contain_text("2027-04-01")
    expect(page.get_by_role("button", name="台帳に適用する")).to_have_count(0)
    shot(page, "revision-report")

    settings.CLOUDJUDGE_CATALOG_VERSION = NEW  # the city pins the revision
    page.reload()
    page.get_by_role("button", name="台帳に適用する").click()
    expect(page.locator("#rejudge-done")).to_contain_text("見直しが必要へ 1 件")
    shot(page, "revision-applied")

    page.goto(f"/applications/{app.pk}/")
    expect(page.locator("#status-line .state")).to_contain_text("見直しが必要")
    expect(page.locator("#judged-version")).to_contain_text(NEW)
