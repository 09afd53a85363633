"""The checklist worked where it is shown, in Chromium: a row changed in
place (htmx) without the page moving, 該当なし refused without its reason next
to the row, and several selected rows changed at once. Screenshots of each
step under ``var/screenshots/checklist-inline/``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from cloudjudge.web.accounts.models import Department, Role, User
from cloudjudge.web.register import applications
from cloudjudge.web.register.models import ItemStatus, Service

from .conftest import SCREENSHOTS, Screenshots

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kumo-no-Ue-2026-checklist!"


@pytest.fixture
def applicant(transactional_db):
    shimin = Department.objects.create(code="shimin", name="市民人権局 市民課")
    return User.objects.create_user(
        username="hanako",
        password=PASSWORD,
        role=Role.APPLICANT,
        department=shimin,
        last_name="市民",
        first_name="花子",
    )


@pytest.fixture
def application(applicant):
    service = Service(name="クラウド型ファイル共有", provider="サンプル株式会社")
    service.listings = ["ismap"]
    service.save()
    return applications.create_application(
        applicant,
        service,
        purpose="図面ファイルの共有",
        confidentiality="3B",
        method="local_breakout",
        breakout_usage="file_import",
    )


def scroll_y(page: Page) -> float:
    return page.evaluate("window.scrollY")


def test_the_checklist_is_worked_in_place(page: Page, applicant, application, log_in):
    shot = Screenshots(SCREENSHOTS / "checklist-inline")
    items = list(application.checklist_items.filter(active=True).order_by("position"))
    assert len(items) >= 6
    log_in(page, applicant.username, PASSWORD)
    page.goto(f"/applications/{application.pk}/")
    target = items[5]
    row = page.locator(f"#item-{target.pk}")
    row.scroll_into_view_if_needed()
    shot(page, "checklist")
    before = scroll_y(page)
    assert before > 0

    # one row, in place
    row.get_by_label(f"{target.item_id} 状態").select_option(label="対応中")
    row.get_by_label(f"{target.item_id} 担当者").select_option(label="市民 花子")
    row.get_by_label(f"{target.item_id} 期限").fill("2027-01-31")
    row.get_by_label(f"{target.item_id} メモ").fill("業者に確認中")
    row.get_by_role("button", name="保存").click()
    expect(row.get_by_role("status")).to_have_text("保存しました")
    shot(page, "row-saved")
    assert scroll_y(page) == before  # the page stayed where the user was
    target.refresh_from_db()
    assert target.status == ItemStatus.IN_PROGRESS and target.owner == applicant
    assert str(target.due_date) == "2027-01-31" and target.note == "業者に確認中"

    # 該当なし without its reason: the message is next to the row, nothing saved
    other = items[6]
    other_row = page.locator(f"#item-{other.pk}")
    other_row.get_by_label(f"{other.item_id} 状態").select_option(label="該当なし")
    other_row.get_by_role("button", name="保存").click()
    expect(other_row.get_by_role("alert")).to_contain_text("該当しない理由を記入してください。")
    shot(page, "reason-missing")
    other.refresh_from_db()
    assert other.status == ItemStatus.TODO
    other_row.get_by_label(f"{other.item_id} 該当しない理由").fill("紙の運用がない")
    other_row.get_by_role("button", name="保存").click()
    expect(other_row.get_by_role("status")).to_have_text("保存しました")
    other.refresh_from_db()
    assert other.status == ItemStatus.NOT_APPLICABLE

    # several rows at once
    chosen = items[:3]
    for item in chosen:
        page.get_by_label(f"{item.item_id} を選択").check()
    bulk = page.locator("form#bulk")
    bulk.get_by_label("状態").select_option(label="対応済")
    bulk.get_by_role("button", name="選択した行に適用").click()
    expect(page.locator("#checklist").get_by_role("status").first).to_contain_text(
        "3 行を更新しました"
    )
    shot(page, "bulk-done")
    for item in chosen:
        item.refresh_from_db()
        assert item.status == ItemStatus.DONE
    resolved = application.checklist_items.filter(
        active=True, status__in=["done", "not_applicable"]
    ).count()
    expect(page.locator("#checklist")).to_contain_text(f"{len(items)} 件中 {resolved} 件対応済")
